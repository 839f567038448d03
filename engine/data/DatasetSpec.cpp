#include "data/DatasetSpec.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <zlib.h>

namespace particle {

namespace fs = std::filesystem;

namespace {
[[noreturn]] void bad(const std::string &key, const std::string &message) {
  throw Error(ErrorKind::Invalid, "dataset." + key + ": " + message);
}

double fraction(const Json &v, const std::string &key) {
  if (!v.is_number() || v.get<double>() < 0.0 || v.get<double>() >= 1.0)
    bad(key, "must be a number in [0, 1), got " + v.dump());
  return v.get<double>();
}

int64_t integer(const Json &v, const std::string &key, int64_t min, int64_t max) {
  if (!v.is_number_integer() || v.get<int64_t>() < min || v.get<int64_t>() > max)
    bad(key, "must be an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "], got " + v.dump());
  return v.get<int64_t>();
}

std::string text(const Json &v, const std::string &key) {
  if (!v.is_string() || v.get<std::string>().empty())
    bad(key, "must be a non-empty string, got " + v.dump());
  return v.get<std::string>();
}

std::string resolve(const std::string &path, const std::string &baseDir) {
  if (path.empty() || fs::path(path).is_absolute() || baseDir.empty())
    return path;
  return (fs::path(baseDir) / path).lexically_normal().string();
}

std::string columnName(const Json &v, const std::string &key) {
  if (v.is_string())
    return v.get<std::string>();
  if (v.is_number_integer() && v.get<int64_t>() >= 0)
    return "#" + std::to_string(v.get<int64_t>());
  bad(key, "must be a column name or a 0-based column index, got " + v.dump());
}

// IDX header: magic (0x0000 type ndims), then ndims big-endian uint32 sizes.
std::vector<int64_t> idxDims(const std::string &path) {
  if (!fs::exists(path))
    throw Error(ErrorKind::File, path + ": file not found");
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f)
    throw Error(ErrorKind::File, path + ": cannot open");
  unsigned char magic[4];
  std::vector<int64_t> dims;
  bool ok =
      gzread(f, magic, 4) == 4 && magic[0] == 0 && magic[1] == 0 && magic[2] == 0x08 && magic[3] >= 1 && magic[3] <= 4;
  for (int i = 0; ok && i < magic[3]; ++i) {
    unsigned char b[4];
    ok = gzread(f, b, 4) == 4;
    dims.push_back((int64_t(b[0]) << 24) | (int64_t(b[1]) << 16) | (int64_t(b[2]) << 8) | int64_t(b[3]));
  }
  gzclose(f);
  if (!ok)
    throw Error(ErrorKind::File, path + ": not an unsigned-byte IDX file (bad or truncated header)");
  return dims;
}
} // namespace

std::vector<std::string> splitCsvLine(const std::string &line) {
  std::vector<std::string> cells;
  std::string cell;
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cell += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cell += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      cells.push_back(cell);
      cell.clear();
    } else if (c != '\r') {
      cell += c;
    }
  }
  cells.push_back(cell);
  return cells;
}

DatasetSpec parseDatasetSpec(const Json &section, const std::string &baseDir) {
  if (!section.is_object())
    throw Error(ErrorKind::Invalid, "dataset: must be an object with a \"kind\"");
  if (!section.contains("kind"))
    throw Error(ErrorKind::Invalid, "dataset.kind: missing (fashion-mnist, idx, csv or synthetic)");
  DatasetSpec s;
  s.kind = text(section["kind"], "kind");
  std::set<std::string> allowed = {"kind", "validation_fraction", "seed", "limit"};
  if (s.kind == "fashion-mnist")
    allowed.insert({"path"});
  else if (s.kind == "idx")
    allowed.insert({"images", "labels", "test_images", "test_labels", "test_fraction"});
  else if (s.kind == "csv")
    allowed.insert({"path", "label_column", "feature_columns", "test_fraction", "classes"});
  else if (s.kind == "synthetic")
    allowed.insert({"parts", "part_dim", "informative", "classes", "samples", "noise", "test_fraction"});
  else
    bad("kind", "unknown kind \"" + s.kind + "\"; use fashion-mnist, idx, csv or synthetic");

  for (auto it = section.begin(); it != section.end(); ++it) {
    const std::string &k = it.key();
    const Json &v = it.value();
    if (!allowed.count(k)) {
      std::string list;
      for (const auto &a : allowed)
        list += (list.empty() ? "" : ", ") + a;
      bad(k, "unknown key for kind \"" + s.kind + "\" (known: " + list + ")");
    }
    if (k == "validation_fraction")
      s.validationFraction = fraction(v, k);
    else if (k == "test_fraction")
      s.testFraction = fraction(v, k);
    else if (k == "seed")
      s.seed = static_cast<uint64_t>(integer(v, k, 0, INT64_MAX));
    else if (k == "limit")
      s.limit = integer(v, k, 0, INT64_MAX);
    else if (k == "path")
      s.path = resolve(text(v, k), baseDir);
    else if (k == "images")
      s.images = resolve(text(v, k), baseDir);
    else if (k == "labels")
      s.labels = resolve(text(v, k), baseDir);
    else if (k == "test_images")
      s.testImages = resolve(text(v, k), baseDir);
    else if (k == "test_labels")
      s.testLabels = resolve(text(v, k), baseDir);
    else if (k == "label_column")
      s.labelColumn = columnName(v, k);
    else if (k == "feature_columns") {
      if (!v.is_array() || v.empty())
        bad(k, "must be a non-empty list of column names or indices");
      for (const auto &c : v)
        s.featureColumns.push_back(columnName(c, k));
    } else if (k == "classes")
      s.classes = integer(v, k, 2, 100000);
    else if (k == "parts")
      s.parts = integer(v, k, 1, 1024);
    else if (k == "part_dim")
      s.partDim = integer(v, k, 1, 1 << 16);
    else if (k == "samples")
      s.samples = integer(v, k, 10, 10000000);
    else if (k == "noise") {
      if (!v.is_number() || v.get<double>() < 0)
        bad(k, "must be a number ≥ 0, got " + v.dump());
      s.noise = v.get<double>();
    } else if (k == "informative") {
      if (!v.is_array() || v.empty())
        bad(k, "must be a non-empty list of part indices");
      for (const auto &i : v)
        s.informative.push_back(integer(i, k, 0, 1023));
    }
  }
  if (s.kind == "idx" && (s.images.empty() || s.labels.empty()))
    bad(s.images.empty() ? "images" : "labels", "missing: kind idx needs \"images\" and \"labels\"");
  if (s.kind == "idx" && (s.testImages.empty() != s.testLabels.empty()))
    bad("test_images", "give both \"test_images\" and \"test_labels\", or neither");
  if (s.kind == "csv" && s.path.empty())
    bad("path", "missing: kind csv needs \"path\"");
  if (s.kind == "csv" && s.labelColumn.empty())
    bad("label_column", "missing: kind csv needs \"label_column\"");
  if (s.kind == "synthetic") {
    if (!section.contains("classes"))
      s.classes = 2;
    if (s.informative.empty())
      s.informative = {0};
    for (auto i : s.informative)
      if (i >= s.parts)
        bad("informative", "part " + std::to_string(i) + " does not exist (parts = " + std::to_string(s.parts) + ")");
  }
  if (s.validationFraction + (s.kind == "fashion-mnist" ? 0.0 : s.testFraction) >= 0.95)
    bad("validation_fraction", "validation and test fractions leave almost no training data");
  return s;
}

std::string fashionMnistFolder(const DatasetSpec &spec) {
  if (!spec.path.empty())
    return spec.path;
  if (const char *env = std::getenv("PARTICLE_DATA"); env && *env)
    return env;
  return "/usr/share/datasets/fashion-mnist";
}

DataInfo probeDataset(const DatasetSpec &spec) {
  DataInfo info;
  if (spec.kind == "fashion-mnist") {
    const std::string folder = fashionMnistFolder(spec);
    const auto dims = idxDims(folder + "/train-images-idx3-ubyte.gz");
    if (dims.size() != 3)
      throw Error(ErrorKind::File, folder + "/train-images-idx3-ubyte.gz: expected 3 dimensions");
    info.sampleShape = {1, dims[1], dims[2]};
    info.classes = 10;
  } else if (spec.kind == "idx") {
    const auto dims = idxDims(spec.images);
    if (dims.size() == 3)
      info.sampleShape = {1, dims[1], dims[2]};
    else if (dims.size() == 4)
      info.sampleShape = {dims[1], dims[2], dims[3]};
    else if (dims.size() == 2)
      info.sampleShape = {dims[1]};
    else
      throw Error(ErrorKind::File, spec.images + ": expected 2 to 4 dimensions");
    const auto labelDims = idxDims(spec.labels);
    if (labelDims.size() != 1 || labelDims[0] != dims[0])
      throw Error(ErrorKind::File, spec.labels + ": label count does not match " + spec.images);
    // Class count: the IDX header does not say; 10 unless the loader finds more.
    info.classes = 10;
  } else if (spec.kind == "csv") {
    std::ifstream in(spec.path);
    if (!in)
      throw Error(ErrorKind::File, spec.path + ": cannot open CSV file");
    std::string header;
    if (!std::getline(in, header))
      throw Error(ErrorKind::File, spec.path + ":1: empty file (a header line is required)");
    const auto columns = splitCsvLine(header);
    auto find = [&](const std::string &name) -> int64_t {
      if (!name.empty() && name[0] == '#') {
        const int64_t i = std::stoll(name.substr(1));
        if (i >= static_cast<int64_t>(columns.size()))
          throw Error(ErrorKind::File, spec.path + ":1: column index " + name.substr(1) + " out of range (" +
                                           std::to_string(columns.size()) + " columns)");
        return i;
      }
      for (std::size_t i = 0; i < columns.size(); ++i)
        if (columns[i] == name)
          return static_cast<int64_t>(i);
      throw Error(ErrorKind::File, spec.path + ":1: no column named \"" + name + "\" in the header");
    };
    const int64_t label = find(spec.labelColumn);
    int64_t features = static_cast<int64_t>(columns.size()) - 1;
    if (!spec.featureColumns.empty()) {
      for (const auto &c : spec.featureColumns)
        if (find(c) == label)
          throw Error(ErrorKind::Invalid, "dataset.feature_columns: includes the label column");
      features = static_cast<int64_t>(spec.featureColumns.size());
    }
    info.sampleShape = {features};
    if (spec.classes > 0) {
      info.classes = spec.classes;
    } else {
      // Scan the label column: classes = max label + 1.
      std::string line;
      int64_t maxLabel = -1, lineNo = 1;
      while (std::getline(in, line)) {
        ++lineNo;
        if (line.empty() || line == "\r")
          continue;
        const auto cells = splitCsvLine(line);
        if (label < static_cast<int64_t>(cells.size())) {
          char *end = nullptr;
          const double v = std::strtod(cells[label].c_str(), &end);
          if (end != cells[label].c_str() && v >= 0)
            maxLabel = std::max<int64_t>(maxLabel, static_cast<int64_t>(v));
        }
      }
      info.classes = std::max<int64_t>(2, maxLabel + 1);
    }
  } else if (spec.kind == "synthetic") {
    info.sampleShape = {spec.parts * spec.partDim};
    info.classes = spec.classes;
  }
  return info;
}

} // namespace particle
