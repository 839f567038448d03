// Kind "image_folder": a folder with one sub-folder of images per class (PNG, JPEG, BMP), or
// train/ and test/ folders of that shape. Decoded in parallel and cached beside the data
// (data/Images.h); every image is resized to `size` and converted to `channels`.

#include "data/Dataset.h"
#include "data/Images.h"

namespace particle {

namespace imagefolder {

struct Geometry {
  int height = 0, width = 0, channels = 0;
};

// The size and channel count every image becomes: the keys, else the first training image's.
Geometry geometry(const DatasetSpec &spec, const ImageTree &tree) {
  Geometry g;
  const Json &size = spec.value("size");
  g.channels = static_cast<int>(spec.integer("channels"));
  if (size.is_array() && g.channels > 0) {
    g.height = size[0].get<int>();
    g.width = size[1].get<int>();
    return g;
  }
  const ImageHeader first = readImageHeader(tree.train.files.front());
  if (size.is_array()) {
    g.height = size[0].get<int>();
    g.width = size[1].get<int>();
  } else {
    g.height = first.height;
    g.width = first.width;
  }
  if (g.channels == 0)
    g.channels = first.channels <= 2 ? 1 : 3; // grey (with or without alpha), else colour
  return g;
}

DataInfo infoOf(const DatasetSpec &spec, const ImageTree &tree, const Geometry &g) {
  DataInfo info;
  info.sampleShape = {g.channels, g.height, g.width};
  info.classNames = tree.classes;
  info.classes = static_cast<int64_t>(tree.classes.size());
  setSplitCounts(info, spec, static_cast<int64_t>(tree.train.files.size()), spec.number("test_fraction"),
                 tree.ownTest ? static_cast<int64_t>(tree.test.files.size()) : -1);
  info.ownTestSplit = tree.ownTest;
  return info;
}

DataInfo probe(const DatasetSpec &spec) {
  const ImageTree tree = scanImageTree(spec.text("path"));
  return infoOf(spec, tree, geometry(spec, tree));
}

// The pixels as uint8 [N, C, H, W] (a view of `images`) and the labels.
std::pair<torch::Tensor, torch::Tensor> tensors(const DecodedImages &images) {
  const auto n = static_cast<int64_t>(images.labels.size());
  auto x = torch::from_blob(const_cast<uint8_t *>(images.pixels.data()),
                            {n, images.channels, images.height, images.width}, torch::kUInt8);
  auto y = torch::tensor(images.labels, torch::kLong);
  return {x, y};
}

// uint8 pixels as floats in [0, 1].
torch::Tensor scaled(const torch::Tensor &x) {
  return x.defined() ? x.to(torch::kFloat).div_(255.0) : x;
}

void load(const DatasetSpec &spec, Dataset &d) {
  const ImageTree tree = scanImageTree(spec.text("path"));
  const Geometry g = geometry(spec, tree);
  d.info = infoOf(spec, tree, g);
  DecodeOptions options;
  options.height = g.height;
  options.width = g.width;
  options.channels = g.channels;
  options.skipBad = spec.flag("skip_bad");
  options.cancel = spec.cancel.get();
  std::vector<std::string> skipped;
  {
    const DecodedImages train = decodeImages(tree.root, tree.train, options);
    spec.checkCancelled();
    if (train.labels.size() < 2)
      throw Error(ErrorKind::File, tree.root + ": only " + std::to_string(train.labels.size()) +
                                       " readable training image(s); training needs at least 2");
    skipped = train.skipped;
    auto [x, y] = tensors(train);
    // Split while the pixels are bytes (a quarter of the copying), then scale each part.
    const auto names = loadedNames(tree.train, train.skipped, tree.root);
    assignSplits(d, x, y, spec, !tree.ownTest, spec.number("test_fraction"), &names);
    d.trainX = scaled(d.trainX);
    d.valX = scaled(d.valX);
    d.testX = scaled(d.testX);
  }
  if (tree.ownTest) {
    const DecodedImages test = decodeImages(tree.root, tree.test, options);
    spec.checkCancelled();
    skipped.insert(skipped.end(), test.skipped.begin(), test.skipped.end());
    auto [x, y] = tensors(test);
    d.testX = scaled(x);
    d.testY = y;
    d.testNames = loadedNames(tree.test, test.skipped, tree.root);
  }
  if (!skipped.empty())
    d.notes = std::to_string(skipped.size()) + " unreadable image(s) skipped, the first " + skipped.front();
}

} // namespace imagefolder

DataKind imageFolderDataKind() {
  DataKind k;
  k.name = "image_folder";
  k.doc = "A folder of images (PNG, JPEG, BMP), one sub-folder per class, or train/ and test/ folders of that "
          "shape; decoded on every core and cached beside the data.";
  k.keys = {
      required(pathField("path", "The folder: one sub-folder of images per class (or train/ and test/ of them)", true)),
      listField("size", FieldKind::IntList, nullptr, 1, 4096,
                "[height, width] every image is resized to (default: the first image's size)"),
      zeroMeans(intField("channels", 0, 0, 3, "1 (grey) or 3 (colour); 0: from the first image"),
                "from the first image"),
      boolField("skip_bad", false, "Skip images that cannot be decoded (counted in the summary) instead of stopping"),
      floatField("test_fraction", 0.2, 0.0, 0.9, "Share held out for testing when there is no test/ folder")};
  k.check = [](const DatasetSpec &s) {
    if (s.integer("channels") == 2)
      badDatasetKey("channels", "1 (grey) or 3 (colour), or 0 for the first image's");
    const Json &size = s.value("size");
    if (size.is_array() && size.size() != 2)
      badDatasetKey("size", "give [height, width]");
  };
  k.probe = imagefolder::probe;
  k.load = imagefolder::load;
  k.loadSetsInfo = true;
  return k;
}

} // namespace particle
