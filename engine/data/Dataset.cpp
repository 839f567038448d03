#include "data/Dataset.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <zlib.h>

namespace particle {

namespace {

// Whole IDX file (gz or raw): dims and the unsigned-byte payload.
struct IdxData {
  std::vector<int64_t> dims;
  std::vector<uint8_t> bytes;
};

IdxData readIdx(const std::string &path) {
  if (!std::filesystem::exists(path))
    throw Error(ErrorKind::File, path + ": file not found");
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f)
    throw Error(ErrorKind::File, path + ": cannot open");
  IdxData d;
  unsigned char magic[4];
  auto fail = [&](const std::string &why) {
    gzclose(f);
    throw Error(ErrorKind::File, path + ": " + why);
  };
  if (gzread(f, magic, 4) != 4 || magic[0] != 0 || magic[1] != 0 || magic[2] != 0x08 || magic[3] < 1 || magic[3] > 4)
    fail("not an unsigned-byte IDX file (bad header)");
  int64_t total = 1;
  for (int i = 0; i < magic[3]; ++i) {
    unsigned char b[4];
    if (gzread(f, b, 4) != 4)
      fail("truncated header");
    d.dims.push_back((int64_t(b[0]) << 24) | (int64_t(b[1]) << 16) | (int64_t(b[2]) << 8) | int64_t(b[3]));
    total *= d.dims.back();
  }
  d.bytes.resize(static_cast<std::size_t>(total));
  int64_t done = 0;
  while (done < total) {
    const unsigned chunk = static_cast<unsigned>(std::min<int64_t>(total - done, 1 << 24));
    const int got = gzread(f, d.bytes.data() + done, chunk);
    if (got <= 0)
      break;
    done += got;
  }
  if (done != total)
    fail("truncated: the header promises " + std::to_string(total) + " bytes of data, the file has " +
         std::to_string(done));
  gzclose(f);
  return d;
}

torch::Tensor idxImages(const IdxData &d) {
  auto t =
      torch::from_blob(const_cast<uint8_t *>(d.bytes.data()), {static_cast<int64_t>(d.bytes.size())}, torch::kUInt8)
          .to(torch::kFloat)
          .div_(255.0);
  std::vector<int64_t> shape = d.dims;
  if (shape.size() == 3)
    shape.insert(shape.begin() + 1, 1); // [N,H,W] → [N,1,H,W]
  return t.reshape(shape);
}

torch::Tensor idxLabels(const IdxData &d, const std::string &path) {
  if (d.dims.size() != 1)
    throw Error(ErrorKind::File, path + ": labels must be a 1-dimensional IDX file");
  return torch::from_blob(const_cast<uint8_t *>(d.bytes.data()), {d.dims[0]}, torch::kUInt8).to(torch::kLong);
}

// Deterministic permutation from the dataset seed (std::mt19937_64 is the same everywhere).
std::vector<int64_t> permutation(int64_t n, uint64_t seed) {
  std::vector<int64_t> idx(n);
  for (int64_t i = 0; i < n; ++i)
    idx[i] = i;
  std::mt19937_64 rng(seed);
  for (int64_t i = n - 1; i > 0; --i) {
    std::uniform_int_distribution<int64_t> pick(0, i);
    std::swap(idx[i], idx[pick(rng)]);
  }
  return idx;
}

// Splits (x, y) into parts of the given fractions (in order), the rest last.
std::vector<std::pair<torch::Tensor, torch::Tensor>> carve(const torch::Tensor &x, const torch::Tensor &y,
                                                           const std::vector<double> &fractions, uint64_t seed) {
  const int64_t n = x.size(0);
  auto perm = torch::tensor(permutation(n, seed), torch::kLong);
  std::vector<std::pair<torch::Tensor, torch::Tensor>> out;
  int64_t start = 0;
  for (double f : fractions) {
    const int64_t count = static_cast<int64_t>(std::llround(f * static_cast<double>(n)));
    auto idx = perm.narrow(0, start, count);
    out.emplace_back(x.index_select(0, idx), y.index_select(0, idx));
    start += count;
  }
  auto idx = perm.narrow(0, start, n - start);
  out.emplace_back(x.index_select(0, idx), y.index_select(0, idx));
  return out;
}

void assignSplits(Dataset &d, const torch::Tensor &x, const torch::Tensor &y, const DatasetSpec &spec, bool needsTest) {
  if (needsTest) {
    auto parts = carve(x, y, {spec.testFraction, spec.validationFraction}, spec.seed);
    std::tie(d.testX, d.testY) = parts[0];
    std::tie(d.valX, d.valY) = parts[1];
    std::tie(d.trainX, d.trainY) = parts[2];
  } else {
    auto parts = carve(x, y, {spec.validationFraction}, spec.seed);
    std::tie(d.valX, d.valY) = parts[0];
    std::tie(d.trainX, d.trainY) = parts[1];
  }
  if (spec.limit > 0 && d.trainX.size(0) > spec.limit) {
    d.trainX = d.trainX.narrow(0, 0, spec.limit).contiguous();
    d.trainY = d.trainY.narrow(0, 0, spec.limit).contiguous();
  }
}

Dataset loadCsv(const DatasetSpec &spec) {
  std::ifstream in(spec.path);
  if (!in)
    throw Error(ErrorKind::File, spec.path + ": cannot open CSV file");
  const DataInfo info = probeDataset(spec); // validates the header and columns
  std::string line;
  std::getline(in, line);
  const auto header = splitCsvLine(line);
  auto column = [&](const std::string &name) -> int64_t {
    if (!name.empty() && name[0] == '#')
      return std::stoll(name.substr(1));
    for (std::size_t i = 0; i < header.size(); ++i)
      if (header[i] == name)
        return static_cast<int64_t>(i);
    return -1;
  };
  const int64_t label = column(spec.labelColumn);
  std::vector<int64_t> features;
  if (spec.featureColumns.empty()) {
    for (int64_t i = 0; i < static_cast<int64_t>(header.size()); ++i)
      if (i != label)
        features.push_back(i);
  } else {
    for (const auto &c : spec.featureColumns)
      features.push_back(column(c));
  }
  std::vector<float> xs;
  std::vector<int64_t> ys;
  int64_t lineNo = 1;
  while (std::getline(in, line)) {
    ++lineNo;
    if (line.empty() || line == "\r")
      continue;
    const auto cells = splitCsvLine(line);
    if (cells.size() != header.size())
      throw Error(ErrorKind::File, spec.path + ":" + std::to_string(lineNo) + ": has " + std::to_string(cells.size()) +
                                       " columns, the header has " + std::to_string(header.size()));
    auto number = [&](int64_t col) {
      const std::string &cell = cells[col];
      char *end = nullptr;
      const double v = std::strtod(cell.c_str(), &end);
      if (cell.empty() || end == cell.c_str() || *end != '\0' || !std::isfinite(v))
        throw Error(ErrorKind::File, spec.path + ":" + std::to_string(lineNo) + ": column \"" + header[col] + "\": \"" +
                                         cell + "\" is not a number");
      return v;
    };
    for (auto c : features)
      xs.push_back(static_cast<float>(number(c)));
    const double y = number(label);
    if (y < 0 || std::floor(y) != y || y >= static_cast<double>(info.classes))
      throw Error(ErrorKind::File, spec.path + ":" + std::to_string(lineNo) + ": label " + cells[label] +
                                       " is not a class index in [0, " + std::to_string(info.classes) + ")");
    ys.push_back(static_cast<int64_t>(y));
  }
  if (ys.size() < 10)
    throw Error(ErrorKind::File, spec.path + ": only " + std::to_string(ys.size()) + " data rows; need at least 10");
  Dataset d;
  d.info = info;
  auto x = torch::tensor(xs).reshape({static_cast<int64_t>(ys.size()), static_cast<int64_t>(features.size())});
  auto y = torch::tensor(ys, torch::kLong);
  assignSplits(d, x, y, spec, true);
  return d;
}

Dataset makeSynthetic(const DatasetSpec &spec) {
  auto gen = at::detail::createCPUGenerator(spec.seed);
  const int64_t n = spec.samples, d = spec.partDim, k = spec.classes;
  auto x = torch::randn({n, spec.parts * d}, gen);
  auto scores = torch::zeros({n, k});
  for (auto p : spec.informative) {
    auto w = torch::randn({d, k}, gen);
    scores += x.narrow(1, p * d, d).matmul(w);
  }
  if (spec.noise > 0)
    scores += spec.noise * torch::randn({n, k}, gen);
  Dataset out;
  out.info = probeDataset(spec);
  assignSplits(out, x, scores.argmax(1), spec, true);
  return out;
}

} // namespace

void Dataset::to(const torch::Device &device) {
  for (auto *t : {&trainX, &trainY, &valX, &valY, &testX, &testY})
    if (t->defined())
      *t = t->to(device);
}

Dataset loadDataset(const DatasetSpec &spec) {
  Dataset d;
  if (spec.kind == "fashion-mnist" || spec.kind == "idx") {
    std::string images = spec.images, labels = spec.labels, testImages = spec.testImages, testLabels = spec.testLabels;
    if (spec.kind == "fashion-mnist") {
      const std::string dir = fashionMnistFolder(spec);
      images = dir + "/train-images-idx3-ubyte.gz";
      labels = dir + "/train-labels-idx1-ubyte.gz";
      testImages = dir + "/t10k-images-idx3-ubyte.gz";
      testLabels = dir + "/t10k-labels-idx1-ubyte.gz";
    }
    const IdxData xi = readIdx(images), yi = readIdx(labels);
    auto x = idxImages(xi);
    auto y = idxLabels(yi, labels);
    if (y.size(0) != x.size(0))
      throw Error(ErrorKind::File, labels + ": " + std::to_string(y.size(0)) + " labels for " +
                                       std::to_string(x.size(0)) + " images in " + images);
    d.info = probeDataset(spec);
    const bool ownTest = !testImages.empty();
    assignSplits(d, x, y, spec, !ownTest);
    if (ownTest) {
      const IdxData txi = readIdx(testImages), tyi = readIdx(testLabels);
      d.testX = idxImages(txi);
      d.testY = idxLabels(tyi, testLabels);
      if (d.testY.size(0) != d.testX.size(0))
        throw Error(ErrorKind::File, testLabels + ": label count does not match " + testImages);
    }
    const int64_t maxLabel = std::max(d.trainY.max().item<int64_t>(), d.testY.max().item<int64_t>());
    d.info.classes = std::max<int64_t>(d.info.classes, maxLabel + 1);
  } else if (spec.kind == "csv") {
    d = loadCsv(spec);
  } else {
    d = makeSynthetic(spec);
  }
  d.description = spec.kind + ": " + std::to_string(d.trainX.size(0)) + " train, " + std::to_string(d.valX.size(0)) +
                  " validation, " + std::to_string(d.testX.size(0)) + " test, sample " +
                  shapeToString(d.info.sampleShape) + ", " + std::to_string(d.info.classes) + " classes";
  return d;
}

} // namespace particle
