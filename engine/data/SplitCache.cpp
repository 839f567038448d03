#include "data/SplitCache.h"

#include "base/Error.h"
#include "data/Cache.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace particle {

namespace {

// Bumped whenever the layout or the header's fields change: an older file is then another key's.
constexpr char kMagic[8] = {'P', 'S', 'P', 'L', 'I', 'T', '0', '1'};
constexpr uint64_t kAlign = 64;

uint64_t aligned(uint64_t n) {
  return (n + kAlign - 1) / kAlign * kAlign;
}

Json infoToJson(const DataInfo &i) {
  return {{"sample_shape", i.sampleShape},
          {"classes", i.classes},
          {"class_names", i.classNames},
          {"feature_names", i.featureNames},
          {"class_counts", i.classCounts},
          {"vocabulary", i.vocabulary},
          {"audio",
           {{"features", i.audio.features},
            {"sample_rate", i.audio.sampleRate},
            {"seconds", i.audio.seconds},
            {"hop_seconds", i.audio.hopSeconds},
            {"band_hz", i.audio.bandHz}}},
          {"counts", {i.trainCount, i.validationCount, i.testCount}},
          {"project_folder", i.projectFolder}};
}

DataInfo infoFromJson(const Json &j) {
  DataInfo i;
  i.sampleShape = j.at("sample_shape").get<Shape>();
  i.classes = j.at("classes").get<int64_t>();
  i.classNames = j.at("class_names").get<std::vector<std::string>>();
  i.featureNames = j.at("feature_names").get<std::vector<std::string>>();
  i.classCounts = j.at("class_counts").get<std::vector<int64_t>>();
  i.vocabulary = j.at("vocabulary").get<std::vector<std::string>>();
  const Json &a = j.at("audio");
  i.audio.features = a.at("features").get<std::string>();
  i.audio.sampleRate = a.at("sample_rate").get<int64_t>();
  i.audio.seconds = a.at("seconds").get<double>();
  i.audio.hopSeconds = a.at("hop_seconds").get<double>();
  i.audio.bandHz = a.at("band_hz").get<std::vector<double>>();
  const Json &c = j.at("counts");
  i.trainCount = c.at(0).get<int64_t>();
  i.validationCount = c.at(1).get<int64_t>();
  i.testCount = c.at(2).get<int64_t>();
  i.projectFolder = j.at("project_folder").get<std::string>();
  return i;
}

std::vector<std::pair<const char *, torch::Tensor *>> tensorsOf(Dataset &d) {
  return {{"train_x", &d.trainX}, {"train_y", &d.trainY}, {"val_x", &d.valX},
          {"val_y", &d.valY},     {"test_x", &d.testX},   {"test_y", &d.testY}};
}

// Every path-like value of the section's keys, stamped (size and time), folders too.
void stampPaths(const Json &value, std::string &key) {
  if (value.is_string()) {
    const std::string s = value.get<std::string>();
    std::error_code ec;
    if (!s.empty() && s.front() == '/' && fs::exists(s, ec))
      key += "|" + fileStamp(s);
  } else if (value.is_structured()) {
    for (const auto &v : value)
      stampPaths(v, key);
  }
}

// The file mapped read-only; unmapped when the last tensor made from it goes.
struct Mapping {
  void *base = MAP_FAILED;
  std::size_t size = 0;
  ~Mapping() {
    if (base != MAP_FAILED)
      ::munmap(base, size);
  }
};

} // namespace

std::string splitCacheKey(const DatasetSpec &spec) {
  std::string key = spec.kind + "|" + spec.params.dump() + "|" + std::to_string(spec.validationFraction) + "|" +
                    std::to_string(spec.seed) + "|" + std::to_string(spec.limit) + "|" +
                    std::to_string(spec.limitSeed) + "|" + spec.selectClasses.dump();
  // Kinds that find their files without a key (fashion-mnist: $PARTICLE_DATA or Debian's folder).
  if (const char *data = std::getenv("PARTICLE_DATA"); data && *data)
    key += "|PARTICLE_DATA=" + std::string(data);
  stampPaths(spec.params, key);
  return key;
}

void writeSplitCache(const std::string &file, const Dataset &data, const std::string &key) {
  Dataset d = data; // shallow: the same tensors
  Json tensors = Json::array();
  std::vector<torch::Tensor> parts;
  uint64_t offset = 0;
  for (auto [name, t] : tensorsOf(d)) {
    if (!t->defined())
      continue;
    const torch::Tensor c = t->cpu().contiguous();
    const uint64_t bytes = static_cast<uint64_t>(c.numel()) * c.element_size();
    tensors.push_back({{"name", name},
                       {"dtype", static_cast<int>(c.scalar_type())},
                       {"element_size", c.element_size()},
                       {"shape", c.sizes().vec()},
                       {"offset", offset},
                       {"bytes", bytes}});
    parts.push_back(c);
    offset = aligned(offset + bytes);
  }
  const std::string head =
      Json{{"key", key},       {"info", infoToJson(d.info)},          {"description", d.description},
           {"notes", d.notes}, {"tokenizer_model", d.tokenizerModel}, {"tensors", tensors}}
          .dump();
  const uint64_t headSize = head.size(), dataStart = aligned(sizeof kMagic + sizeof headSize + headSize);
  fs::create_directories(fs::path(file).parent_path());
  const std::string temporary = file + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out.write(kMagic, sizeof kMagic);
    out.write(reinterpret_cast<const char *>(&headSize), sizeof headSize);
    out.write(head.data(), static_cast<std::streamsize>(head.size()));
    uint64_t at = sizeof kMagic + sizeof headSize + headSize;
    const std::string zeros(kAlign, '\0');
    const auto padTo = [&](uint64_t to) {
      out.write(zeros.data(), static_cast<std::streamsize>(to - at));
      at = to;
    };
    padTo(dataStart);
    for (std::size_t i = 0; i < parts.size(); ++i) {
      padTo(dataStart + tensors[i]["offset"].get<uint64_t>());
      const uint64_t bytes = tensors[i]["bytes"].get<uint64_t>();
      out.write(static_cast<const char *>(parts[i].data_ptr()), static_cast<std::streamsize>(bytes));
      at += bytes;
    }
    out.close();
    if (!out) {
      const std::string why = std::strerror(errno);
      fs::remove(temporary);
      throw Error(ErrorKind::File, file + ": cannot write the data cache (" + why + ")");
    }
  }
  std::error_code ec;
  fs::rename(temporary, file, ec);
  if (ec) {
    fs::remove(temporary);
    throw Error(ErrorKind::File, file + ": cannot write the data cache (" + ec.message() + ")");
  }
}

std::optional<Dataset> readSplitCache(const std::string &file, const std::string &key, std::string *why) {
  const auto fail = [&](const std::string &reason) -> std::optional<Dataset> {
    if (why)
      *why = reason;
    return std::nullopt;
  };
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return fail(errno == ENOENT ? "" : "cannot be read (" + std::string(std::strerror(errno)) + ")");
  struct stat st {};
  auto map = std::make_shared<Mapping>();
  if (::fstat(fd, &st) == 0 && st.st_size > 0) {
    map->size = static_cast<std::size_t>(st.st_size);
    map->base = ::mmap(nullptr, map->size, PROT_READ, MAP_SHARED, fd, 0);
  }
  ::close(fd);
  if (map->base == MAP_FAILED)
    return fail("cannot be mapped");
  const auto *bytes = static_cast<const char *>(map->base);
  uint64_t headSize = 0;
  if (map->size < sizeof kMagic + sizeof headSize || std::memcmp(bytes, kMagic, sizeof kMagic) != 0)
    return fail("is not a data cache of this version");
  std::memcpy(&headSize, bytes + sizeof kMagic, sizeof headSize);
  if (headSize > map->size - sizeof kMagic - sizeof headSize)
    return fail("is damaged (its header is cut short)");
  const uint64_t dataStart = aligned(sizeof kMagic + sizeof headSize + headSize);
  Dataset d;
  try {
    const Json head = Json::parse(std::string(bytes + sizeof kMagic + sizeof headSize, headSize));
    if (head.at("key").get<std::string>() != key)
      return fail("holds another data set or split");
    d.info = infoFromJson(head.at("info"));
    d.description = head.at("description").get<std::string>();
    d.notes = head.at("notes").get<std::string>();
    d.tokenizerModel = head.at("tokenizer_model").get<std::string>();
    const auto slots = tensorsOf(d);
    for (const auto &t : head.at("tensors")) {
      const std::string name = t.at("name").get<std::string>();
      const int dtype = t.at("dtype").get<int>();
      const auto shape = t.at("shape").get<std::vector<int64_t>>();
      const uint64_t offset = t.at("offset").get<uint64_t>(), size = t.at("bytes").get<uint64_t>();
      if (dtype < 0 || dtype >= static_cast<int>(c10::ScalarType::NumOptions))
        return fail("is damaged (tensor " + name + " has an unknown type)");
      const auto type = static_cast<c10::ScalarType>(dtype);
      int64_t numel = 1;
      for (int64_t s : shape)
        numel *= s;
      if (static_cast<int64_t>(c10::elementSize(type)) != t.at("element_size").get<int64_t>() ||
          static_cast<uint64_t>(numel) * c10::elementSize(type) != size || dataStart + offset + size > map->size)
        return fail("is damaged (tensor " + name + " is cut short)");
      const auto slot = std::find_if(slots.begin(), slots.end(), [&](const auto &s) { return name == s.first; });
      if (slot == slots.end())
        return fail("is damaged (unknown tensor " + name + ")");
      // Read-only pages: nothing in training writes into its data (batches are index_select
      // copies); a write would end the process, not change the file another trial reads.
      *slot->second = torch::from_blob(
          const_cast<char *>(bytes + dataStart + offset), shape, [map](void *) {}, torch::TensorOptions(type));
    }
  } catch (const Json::exception &e) {
    return fail(std::string("is damaged (") + e.what() + ")");
  }
  return d;
}

CachedLoad loadDatasetCached(const DatasetSpec &spec, const std::string &folder) {
  const std::string key = splitCacheKey(spec);
  const std::string file = (fs::path(folder) / (hex16(fnv(kFnvStart, key)) + ".split")).string();
  CachedLoad out;
  std::string why;
  if (auto d = readSplitCache(file, key, &why)) {
    out.data = std::move(*d);
    out.how = "read from the data cache " + file;
    return out;
  }
  const std::string replaced = why.empty() ? "" : " in place of one that " + why;
  out.data = loadDataset(spec);
  try {
    writeSplitCache(file, out.data, key);
    out.how = "loaded; wrote the data cache " + file + replaced;
  } catch (const Error &e) {
    out.how = "loaded (" + std::string(e.what()) + ")";
  }
  return out;
}

} // namespace particle
