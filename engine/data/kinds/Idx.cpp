// Kind "idx": IDX image and label files (gz or raw), with an optional test pair.

#include "data/kinds/Idx.h"

#include "data/Idx.h"

namespace particle::kinds {

namespace {
Shape sampleShapeOf(const std::vector<int64_t> &dims, const std::string &path) {
  if (dims.size() == 3)
    return {1, dims[1], dims[2]};
  if (dims.size() == 4)
    return {dims[1], dims[2], dims[3]};
  if (dims.size() == 2)
    return {dims[1]};
  throw Error(ErrorKind::File, path + ": expected 2 to 4 dimensions, the header has " + std::to_string(dims.size()));
}

torch::Tensor images(const IdxData &d) {
  auto t =
      torch::from_blob(const_cast<uint8_t *>(d.bytes.data()), {static_cast<int64_t>(d.bytes.size())}, torch::kUInt8)
          .to(torch::kFloat)
          .div_(255.0);
  std::vector<int64_t> shape = d.dims;
  if (shape.size() == 3)
    shape.insert(shape.begin() + 1, 1); // [N,H,W] → [N,1,H,W]
  return t.reshape(shape);
}

torch::Tensor labels(const IdxData &d, const std::string &path) {
  if (d.dims.size() != 1)
    throw Error(ErrorKind::File, path + ": labels must be a 1-dimensional IDX file");
  return torch::from_blob(const_cast<uint8_t *>(d.bytes.data()), {d.dims[0]}, torch::kUInt8).to(torch::kLong);
}

std::vector<std::string> classNames(const DatasetSpec &spec) {
  std::vector<std::string> names;
  for (const auto &n : spec.value("class_names"))
    names.push_back(n.get<std::string>());
  return names;
}
} // namespace

DataInfo probeIdx(const DatasetSpec &spec, const IdxFiles &files, double testFraction) {
  DataInfo info;
  const auto dims = readIdxDims(files.images);
  info.sampleShape = sampleShapeOf(dims, files.images);
  if (dims[0] == 0)
    throw Error(ErrorKind::File, files.images + ": holds no images");
  if (dims[0] < 2)
    throw Error(ErrorKind::File,
                files.images + ": holds " + std::to_string(dims[0]) + " image(s); training needs at least 2");
  const auto labelDims = readIdxDims(files.labels);
  if (labelDims.size() != 1 || labelDims[0] != dims[0])
    throw Error(ErrorKind::File, files.labels + ": label count does not match " + files.images);
  int64_t testCount = -1;
  if (!files.testImages.empty()) {
    const auto testDims = readIdxDims(files.testImages);
    if (sampleShapeOf(testDims, files.testImages) != info.sampleShape)
      throw Error(ErrorKind::File, files.testImages + ": sample shape differs from " + files.images);
    testCount = testDims[0];
  }
  // The header does not say how many classes there are: the names, else the largest label + 1
  // (the labels are one byte per image, quick to read).
  info.classNames = classNames(spec);
  if (info.classNames.empty()) {
    int64_t largest = 1;
    for (const std::string &file : {files.labels, files.testLabels}) {
      if (file.empty())
        continue;
      const IdxData y = readIdx(file, spec.cancel.get());
      spec.checkCancelled();
      for (uint8_t label : y.bytes)
        largest = std::max<int64_t>(largest, label);
    }
    info.classes = largest + 1;
  } else {
    info.classes = static_cast<int64_t>(info.classNames.size());
  }
  setSplitCounts(info, spec, dims[0], testFraction, testCount);
  return info;
}

void loadIdx(const DatasetSpec &spec, const IdxFiles &files, double testFraction, Dataset &d) {
  const std::atomic<bool> *stop = spec.cancel.get();
  const IdxData xi = readIdx(files.images, stop);
  spec.checkCancelled();
  const IdxData yi = readIdx(files.labels, stop);
  spec.checkCancelled();
  auto x = images(xi);
  auto y = labels(yi, files.labels);
  if (y.size(0) != x.size(0))
    throw Error(ErrorKind::File, files.labels + ": " + std::to_string(y.size(0)) + " labels for " +
                                     std::to_string(x.size(0)) + " images in " + files.images);
  if (x.size(0) < 2)
    throw Error(ErrorKind::File,
                files.images + ": holds " + std::to_string(x.size(0)) + " image(s); training needs at least 2");
  const bool ownTest = !files.testImages.empty();
  assignSplits(d, x, y, spec, !ownTest, testFraction);
  if (ownTest) {
    const IdxData txi = readIdx(files.testImages, stop);
    spec.checkCancelled();
    const IdxData tyi = readIdx(files.testLabels, stop);
    spec.checkCancelled();
    d.testX = images(txi);
    d.testY = labels(tyi, files.testLabels);
    if (d.testY.size(0) != d.testX.size(0))
      throw Error(ErrorKind::File, files.testLabels + ": label count does not match " + files.testImages);
  }
  int64_t maxLabel = d.trainY.numel() ? d.trainY.max().item<int64_t>() : 0;
  if (d.testY.numel())
    maxLabel = std::max(maxLabel, d.testY.max().item<int64_t>());
  if (!d.info.classNames.empty() && maxLabel >= d.info.classes)
    throw Error(ErrorKind::File, files.labels + ": label " + std::to_string(maxLabel) +
                                     " has no name in class_names (" + std::to_string(d.info.classes) + " names)");
  d.info.classes = std::max<int64_t>(d.info.classes, maxLabel + 1);
}

} // namespace particle::kinds

namespace particle {

DataKind idxDataKind() {
  DataKind k;
  k.name = "idx";
  k.doc = "IDX image and label files (the MNIST family's format), gz-compressed or raw.";
  const std::string filter = "IDX files (*.gz *ubyte *.idx*);;All files (*)";
  k.keys = {required(pathField("images", "Training images (IDX, gz or raw)", false, filter)),
            required(pathField("labels", "Training labels (IDX)", false, filter)),
            pathField("test_images", "Test images (optional; else test_fraction is carved)", false, filter),
            pathField("test_labels", "Test labels (with test_images)", false, filter),
            floatField("test_fraction", 0.2, 0.0, 0.9, "Share held out for testing when there are no test files"),
            listField("class_names", FieldKind::TextList, nullptr, 0, 0, "Names of the classes, in label order")};
  k.check = [](const DatasetSpec &s) {
    if (s.text("test_images").empty() != s.text("test_labels").empty())
      badDatasetKey("test_images", "give both \"test_images\" and \"test_labels\", or neither");
  };
  auto files = [](const DatasetSpec &s) {
    return kinds::IdxFiles{s.text("images"), s.text("labels"), s.text("test_images"), s.text("test_labels")};
  };
  k.probe = [files](const DatasetSpec &s) { return kinds::probeIdx(s, files(s), s.number("test_fraction")); };
  k.load = [files](const DatasetSpec &s, Dataset &d) { kinds::loadIdx(s, files(s), s.number("test_fraction"), d); };
  return k;
}

} // namespace particle
