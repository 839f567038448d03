// Kind "npy": NumPy arrays — samples `x` [N, …] and labels `y` [N] as .npy files, or both in one
// .npz archive (arrays named by `x_array` and `y_array`). Any float, integer or bool dtype, C
// order; the sample shape is the array's. Parsed by data/Npy.h (bounds-checked, fuzzed).

#include "data/Dataset.h"
#include "data/Npy.h"

#include <cmath>

namespace particle {

namespace npy {

bool isNpz(const std::string &path) {
  return path.size() > 4 && path.compare(path.size() - 4, 4, ".npz") == 0;
}

// The two arrays, from one archive or two files.
struct Arrays {
  NpyArray x, y;
  std::string xName, yName;
};

Arrays read(const DatasetSpec &spec) {
  Arrays a;
  const std::string x = spec.text("x"), y = spec.text("y");
  if (isNpz(x)) {
    a.xName = x + ": " + spec.text("x_array") + ".npy";
    a.yName = x + ": " + spec.text("y_array") + ".npy";
    a.x = readNpz(x, spec.text("x_array"));
    a.y = readNpz(x, spec.text("y_array"));
  } else {
    a.xName = x;
    a.yName = y;
    a.x = readNpy(x);
    a.y = readNpy(y);
  }
  if (a.x.shape.size() < 2)
    throw Error(ErrorKind::File, a.xName +
                                     ": samples must be an array [N, …] of at least 2 dimensions; it has shape [" +
                                     std::to_string(a.x.shape.empty() ? 0 : a.x.shape[0]) + "]");
  const bool column = a.y.shape.size() == 2 && a.y.shape[1] == 1;
  if (a.y.shape.size() != 1 && !column)
    throw Error(ErrorKind::File, a.yName + ": labels must be an array [N] of class indices");
  if (a.y.shape[0] != a.x.shape[0])
    throw Error(ErrorKind::File, a.yName + ": " + std::to_string(a.y.shape[0]) + " labels for " +
                                     std::to_string(a.x.shape[0]) + " samples in " + a.xName);
  if (a.y.kind == 'f')
    for (int64_t i = 0; i < a.y.count(); ++i)
      if (const double v = a.y.at(i); std::floor(v) != v) {
        throw Error(ErrorKind::File, a.yName + ": label " + std::to_string(v) + " (element " + std::to_string(i) +
                                         ") is not a whole number");
      }
  return a;
}

std::vector<std::string> classNames(const DatasetSpec &spec) {
  std::vector<std::string> names;
  if (const Json &n = spec.value("class_names"); n.is_array())
    for (const auto &name : n)
      names.push_back(name.get<std::string>());
  return names;
}

// The classes: the names when given, else the largest label + 1. Labels outside are errors.
int64_t classCount(const DatasetSpec &spec, const Arrays &a) {
  int64_t maxLabel = 0;
  for (int64_t i = 0; i < a.y.count(); ++i) {
    const double v = a.y.at(i);
    if (v < 0 || v > 1e9)
      throw Error(ErrorKind::File, a.yName + ": label " + std::to_string(static_cast<int64_t>(v)) + " (element " +
                                       std::to_string(i) + ") is not a class index");
    maxLabel = std::max(maxLabel, static_cast<int64_t>(v));
  }
  const auto names = classNames(spec);
  if (!names.empty() && maxLabel >= static_cast<int64_t>(names.size()))
    throw Error(ErrorKind::File, a.yName + ": label " + std::to_string(maxLabel) + " has no name in class_names (" +
                                     std::to_string(names.size()) + " names)");
  return std::max<int64_t>(2, names.empty() ? maxLabel + 1 : static_cast<int64_t>(names.size()));
}

DataInfo probe(const DatasetSpec &spec) {
  const Arrays a = read(spec);
  DataInfo info;
  info.sampleShape.assign(a.x.shape.begin() + 1, a.x.shape.end());
  info.classNames = classNames(spec);
  info.classes = classCount(spec, a);
  setSplitCounts(info, spec, a.x.shape[0], spec.number("test_fraction"));
  return info;
}

torch::Tensor floats(const NpyArray &a) {
  auto t = torch::empty(a.shape, torch::kFloat);
  float *p = t.data_ptr<float>();
  const int64_t n = a.count();
  if (a.kind == 'f' && a.itemSize == 4) {
    std::memcpy(p, a.data.data(), static_cast<std::size_t>(n) * 4);
    return t;
  }
  for (int64_t i = 0; i < n; ++i)
    p[i] = static_cast<float>(a.at(i));
  return t;
}

void load(const DatasetSpec &spec, Dataset &d) {
  const Arrays a = read(spec);
  d.info.sampleShape.assign(a.x.shape.begin() + 1, a.x.shape.end());
  d.info.classNames = classNames(spec);
  d.info.classes = classCount(spec, a);
  if (a.x.shape[0] < 10)
    throw Error(ErrorKind::File, a.xName + ": only " + std::to_string(a.x.shape[0]) + " samples; need at least 10");
  auto x = floats(a.x);
  if (!torch::isfinite(x).all().item<bool>())
    throw Error(ErrorKind::File, a.xName + ": holds NaN or infinite values");
  std::vector<int64_t> labels(static_cast<std::size_t>(a.y.count()));
  for (int64_t i = 0; i < a.y.count(); ++i)
    labels[static_cast<std::size_t>(i)] = static_cast<int64_t>(a.y.at(i));
  assignSplits(d, x, torch::tensor(labels, torch::kLong), spec, true, spec.number("test_fraction"));
}

} // namespace npy

DataKind npyDataKind() {
  DataKind k;
  k.name = "npy";
  k.doc = "NumPy arrays: samples [N, …] and labels [N] as two .npy files, or one .npz archive holding both "
          "(any float, integer or bool dtype, C order).";
  const std::string filter = "NumPy arrays (*.npy *.npz);;All files (*)";
  k.keys = {required(pathField("x", "Samples: a .npy file [N, …], or an .npz archive holding samples and labels", false,
                               filter)),
            pathField("y", "Labels: a .npy file [N] of class indices (not with an .npz)", false, filter),
            textField("x_array", "x", "In an .npz: the samples' array name"),
            textField("y_array", "y", "In an .npz: the labels' array name"),
            floatField("test_fraction", 0.2, 0.0, 0.9, "Share held out for testing"),
            listField("class_names", FieldKind::TextList, nullptr, 0, 0, "Names of the classes, in label order")};
  k.check = [](const DatasetSpec &s) {
    if (!npy::isNpz(s.text("x")) && s.text("y").empty())
      badDatasetKey("y", "give the labels' .npy file (or put both arrays in one .npz as x)");
  };
  k.probe = npy::probe;
  k.load = npy::load;
  k.loadSetsInfo = true; // the probe reads the whole arrays already
  return k;
}

} // namespace particle
