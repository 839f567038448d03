#include "data/DatasetSpec.h"

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
    const std::string problem = Schema::check(*field, it.value());
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
  return spec.type->probe(spec);
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
