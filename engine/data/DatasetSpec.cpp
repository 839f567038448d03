#include "data/DatasetSpec.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>

namespace particle {

namespace fs = std::filesystem;

void badDatasetKey(const std::string &key, const std::string &message, ErrorKind kind) {
  throw KeyError(kind, kind == ErrorKind::File ? ProblemCode::DataUnavailable : ProblemCode::BadDataset, "dataset", key,
                 message);
}

namespace {
[[noreturn]] void bad(const std::string &key, const std::string &message) {
  badDatasetKey(key, message);
}

// A list of class names or indices: a column list's form (names or 0-based indices, comma
// separated) with a message about classes (checkClassSelection).
Field classSelectionField() {
  Field f = columnListField("select_classes", "Keep only these classes (names or 0-based indices), relabelled "
                                              "0..k-1 in this order; their names stay (empty: all)");
  f.placeholder = "e.g. 0, 1, 2 or Sandal, Shirt (empty: all)";
  return f;
}

std::string checkClassSelection(const Json &value) {
  const auto item = [](const Json &x) {
    return (x.is_string() && !x.get<std::string>().empty()) || (x.is_number_integer() && x.get<int64_t>() >= 0) ||
           (x.is_number_float() && x.get<double>() >= 0 && x.get<double>() == std::floor(x.get<double>()));
  };
  if (!value.is_array() || value.size() < 2 || !std::all_of(value.begin(), value.end(), item))
    return "must list at least two classes (names or 0-based indices), got " + value.dump();
  for (std::size_t i = 0; i < value.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (value[i] == value[j])
        return "lists " + value[i].dump() + " twice";
  return {};
}

std::string resolve(const std::string &path, const std::string &baseDir) {
  if (path.empty() || fs::path(path).is_absolute() || baseDir.empty())
    return path;
  return (fs::path(baseDir) / path).lexically_normal().string();
}
} // namespace

void DatasetSpec::checkCancelled() const {
  if (cancel && cancel->load())
    throw LoadCancelled();
}

std::string DatasetSpec::text(const char *key) const {
  const Json &v = value(key);
  return v.is_string() ? v.get<std::string>() : std::string();
}

int64_t DatasetSpec::integer(const char *key) const {
  const Json &v = value(key);
  return v.is_number() ? static_cast<int64_t>(v.get<double>()) : 0;
}

double DatasetSpec::number(const char *key) const {
  const Json &v = value(key);
  return v.is_number() ? v.get<double>() : 0.0;
}

bool DatasetSpec::flag(const char *key) const {
  const Json &v = value(key);
  return v.is_boolean() && v.get<bool>();
}

const Json &DatasetSpec::value(const char *key) const {
  static const Json null;
  if (!params.is_object())
    return null;
  auto it = params.find(key);
  return it == params.end() ? null : *it;
}

const Schema &commonDatasetKeys() {
  static const Schema keys = {
      floatField("validation_fraction", 0.1, 0.0, 0.9,
                 "Share of the training data held out for validation (carved deterministically from the seed)"),
      advanced(intField("seed", 0, 0, 9.2e18, "Seed of the split (and of generated data)")),
      zeroMeans(intField("limit", 0, 0, 9.2e18, "Use at most this many training samples (quick trials)"), "all"),
      advanced(zeroMeans(intField("limit_seed", 0, 0, 9.2e18,
                                  "Which `limit` training samples: drawn at random with this seed (the same "
                                  "validation and test splits); 0 takes the first of the training split"),
                         "the first")),
      advanced(classSelectionField()),
  };
  return keys;
}

Schema datasetSchema(const DataKind &kind) {
  Schema s;
  for (const auto &f : kind.keys.fields())
    s.add(f);
  for (const auto &f : commonDatasetKeys().fields())
    s.add(f);
  return s;
}

DatasetSpec parseDatasetSpec(const Json &section, const std::string &baseDir) {
  const DataKinds &kinds = DataKinds::instance();
  if (!section.is_object())
    throw Error(ErrorKind::Invalid, "dataset: must be an object with a \"kind\"");
  if (!section.contains("kind"))
    bad("kind", "missing (" + kinds.names(" or ") + ")");
  const Json &kindValue = section["kind"];
  if (!kindValue.is_string() || kindValue.get<std::string>().empty())
    bad("kind", "must be the name of a data kind (" + kinds.names(" or ") + ")");
  DatasetSpec s;
  s.kind = kindValue.get<std::string>();
  s.type = kinds.find(s.kind);
  if (!s.type)
    bad("kind", "unknown kind \"" + s.kind + "\"; use " + kinds.names(" or "));
  s.baseDir = baseDir;
  const Schema schema = datasetSchema(*s.type);
  for (auto it = section.begin(); it != section.end(); ++it) {
    if (it.key() == "kind")
      continue;
    const Field *field = schema.find(it.key());
    if (!field)
      bad(it.key(), "unknown key for kind \"" + s.kind + "\" (known: kind, " + schema.names() + ")");
    const std::string problem =
        it.key() == "select_classes" ? checkClassSelection(it.value()) : Schema::check(*field, it.value());
    if (!problem.empty())
      bad(it.key(), problem);
  }
  for (const auto &f : schema.fields())
    if (f.required && (!section.contains(f.name) || section[f.name].is_null()))
      bad(f.name, "missing: kind " + s.kind + " needs \"" + f.name + "\"");
  const Json effective = schema.effective(section);
  s.validationFraction = effective["validation_fraction"].get<double>();
  const auto whole = [](const Json &v) {
    return v.is_number_integer() ? v.get<int64_t>() : static_cast<int64_t>(v.get<double>());
  };
  s.seed = static_cast<uint64_t>(whole(effective["seed"]));
  s.limit = whole(effective["limit"]);
  s.limitSeed = static_cast<uint64_t>(whole(effective["limit_seed"]));
  if (effective.contains("select_classes") && effective["select_classes"].is_array())
    s.selectClasses = effective["select_classes"];
  s.params = s.type->keys.effective(section);
  for (const auto &f : s.type->keys.fields())
    if (f.kind == FieldKind::Path && s.params[f.name].is_string()) {
      s.params[f.name] = resolve(s.params[f.name].get<std::string>(), baseDir);
      // A device or a pipe (/dev/zero, a FIFO) would be read without end: files and folders only.
      std::error_code ec;
      const std::string path = s.params[f.name].get<std::string>();
      if (std::filesystem::exists(path, ec) && !std::filesystem::is_regular_file(path, ec) &&
          !std::filesystem::is_directory(path, ec))
        bad(f.name, path + ": not a regular file or folder (a device or a pipe)");
    }
  const double test = s.params.contains("test_fraction") ? s.params["test_fraction"].get<double>() : 0.0;
  if (s.validationFraction + test >= 0.95)
    bad("validation_fraction", "validation and test fractions leave almost no training data");
  if (s.type->check)
    s.type->check(s);
  return s;
}

Json withAbsolutePaths(const Json &section, const std::string &baseDir) {
  Json out = section;
  if (!section.is_object() || !section.contains("kind") || !section["kind"].is_string())
    return out;
  const DataKind *kind = DataKinds::instance().find(section["kind"].get<std::string>());
  if (!kind)
    return out;
  for (const auto &f : kind->keys.fields())
    if (f.kind == FieldKind::Path && out.contains(f.name) && out[f.name].is_string())
      out[f.name] = resolve(out[f.name].get<std::string>(), baseDir);
  return out;
}

namespace {
const DataKind *kindOf(const Json &section) {
  if (!section.is_object() || !section.contains("kind") || !section["kind"].is_string())
    return nullptr;
  return DataKinds::instance().find(section["kind"].get<std::string>());
}
} // namespace

void keepDataWithRun(const Dataset &data, Json &section, const std::string &runDir) {
  if (const DataKind *kind = kindOf(section); kind && kind->keepWithRun)
    kind->keepWithRun(data, section, runDir);
}

void useRunData(Json &section, const std::string &checkpoint) {
  const DataKind *kind = kindOf(section);
  if (!kind || !kind->fromRun || checkpoint.empty())
    return;
  std::error_code ec;
  kind->fromRun(section, std::filesystem::absolute(checkpoint, ec).parent_path().string());
}

std::vector<std::string> datasetColumns(const Json &section, const std::string &baseDir) {
  if (!section.is_object() || !section.contains("kind") || !section["kind"].is_string())
    return {};
  const DataKind *kind = DataKinds::instance().find(section["kind"].get<std::string>());
  if (!kind || !kind->columns)
    return {};
  Json keys = Json::object();
  for (const auto &f : kind->keys.fields())
    if (section.contains(f.name)) {
      if (!Schema::check(f, section[f.name]).empty())
        return {}; // a bad path (too long, not text) is never handed to the reader
      keys[f.name] = section[f.name];
      if (f.kind == FieldKind::Path && keys[f.name].is_string())
        keys[f.name] = resolve(keys[f.name].get<std::string>(), baseDir);
    }
  try {
    return kind->columns(keys);
  } catch (const std::exception &) {
    return {};
  }
}

DataInfo probeDataset(const DatasetSpec &spec) {
  if (!spec.type || !spec.type->probe)
    bad("kind", "\"" + spec.kind + "\" cannot be probed");
  // As loadDataset: with a class selection or a drawn limit the kind sees its whole training split
  // (what it learns from it, a text kind's vocabulary, is the same whichever N samples train).
  if (spec.selectClasses.empty() && spec.limitSeed == 0)
    return spec.type->probe(spec);
  DatasetSpec whole = spec;
  whole.limit = 0;
  DataInfo info = spec.type->probe(whole);
  applyClassSelection(info, selectedClasses(spec, info));
  if (spec.limit > 0 && info.trainCount > spec.limit)
    info.trainCount = spec.limit;
  return info;
}

std::vector<int64_t> selectedClasses(const DatasetSpec &spec, const DataInfo &info) {
  std::vector<int64_t> kept;
  for (const Json &item : spec.selectClasses) {
    int64_t index = -1;
    if (item.is_string()) {
      const std::string name = item.get<std::string>();
      for (int64_t c = 0; c < info.classes && index < 0; ++c)
        if (className(info, c) == name)
          index = c;
      if (index < 0) {
        std::string message = "no class \"" + name + "\" in the data set (its classes: ";
        for (int64_t c = 0; c < info.classes; ++c) {
          if (c)
            message += ", ";
          message += className(info, c);
        }
        message += ')';
        bad("select_classes", message);
      }
    } else {
      index = static_cast<int64_t>(item.get<double>());
      if (index >= info.classes)
        bad("select_classes", "class " + std::to_string(index) + " is out of range: the data set has " +
                                  std::to_string(info.classes) + " classes (0.." + std::to_string(info.classes - 1) +
                                  ")");
    }
    if (std::find(kept.begin(), kept.end(), index) != kept.end())
      bad("select_classes", "names class " + std::to_string(index) + " (" + className(info, index) + ") twice");
    kept.push_back(index);
  }
  return kept;
}

void applyClassSelection(DataInfo &info, const std::vector<int64_t> &kept) {
  if (kept.empty())
    return;
  std::vector<std::string> names;
  std::vector<int64_t> counts;
  for (int64_t c : kept) {
    names.push_back(className(info, c));
    if (c < static_cast<int64_t>(info.classCounts.size()))
      counts.push_back(info.classCounts[static_cast<std::size_t>(c)]);
  }
  info.classes = static_cast<int64_t>(kept.size());
  info.classNames = std::move(names);
  info.classCounts = counts.size() == kept.size() ? counts : std::vector<int64_t>{};
  info.trainCount = info.validationCount = info.testCount = -1;
}

void setSplitCounts(DataInfo &info, const DatasetSpec &spec, int64_t samples, double testFraction,
                    int64_t ownTestSamples) {
  // The same arithmetic as the loaders' carving (data/Splits.cpp): each held-out part is
  // round(fraction × all samples), taken in order, the rest trains.
  const auto part = [&](double f) { return static_cast<int64_t>(std::llround(f * static_cast<double>(samples))); };
  int64_t rest = samples;
  if (ownTestSamples >= 0) {
    info.testCount = ownTestSamples;
  } else {
    info.testCount = std::min(rest, part(testFraction));
    rest -= info.testCount;
  }
  info.validationCount = std::min(rest, part(spec.validationFraction));
  rest -= info.validationCount;
  info.trainCount = spec.limit > 0 ? std::min(rest, spec.limit) : rest;
}

std::string fashionMnistFolder(const DatasetSpec &spec) {
  std::string path = spec.text("path");
  if (!path.empty())
    return path;
  if (const char *env = std::getenv("PARTICLE_DATA"); env && *env)
    return env;
  return "/usr/share/datasets/fashion-mnist";
}

} // namespace particle
