#include "data/Images.h"

#include "data/Cache.h"
#include "data/DatasetSpec.h"
#include "base/Json.h"

#include <stb_image.h>
#include <stb_image_resize.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <sys/stat.h>
#include <thread>

namespace fs = std::filesystem;

namespace particle {

namespace {

constexpr double kMaxPixels = 1 << 28; // one image: 268 million pixels

bool hasExtension(const fs::path &p, const std::vector<std::string> &extensions) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return std::find(extensions.begin(), extensions.end(), ext) != extensions.end();
}

bool hidden(const fs::path &p) {
  const std::string name = p.filename().string();
  return !name.empty() && name[0] == '.';
}

std::vector<fs::path> subfolders(const fs::path &dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto &e : fs::directory_iterator(dir, ec))
    if (e.is_directory(ec) && !hidden(e.path()))
      out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

// The files with one of `extensions` under one class folder (recursively, hidden folders skipped), sorted.
std::vector<std::string> filesUnder(const fs::path &dir, const std::vector<std::string> &extensions) {
  std::vector<std::string> files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec)
      break;
    if (it->is_directory(ec) && hidden(it->path())) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file(ec) && hasExtension(it->path(), extensions) && !hidden(it->path()))
      files.push_back(it->path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Adds the class folders of `dir` to `list`, their names looked up in `classes`.
void collect(const fs::path &dir, const std::vector<std::string> &classes, const std::vector<std::string> &extensions,
             const std::string &what, ImageList &list) {
  for (const auto &folder : subfolders(dir)) {
    const std::string name = folder.filename().string();
    const auto at = std::find(classes.begin(), classes.end(), name);
    if (at == classes.end())
      throw Error(ErrorKind::File, folder.string() + ": class folder \"" + name +
                                       "\" is not among the training classes (" + dir.parent_path().string() +
                                       "/train/)");
    const auto files = filesUnder(folder, extensions);
    if (files.empty())
      throw Error(ErrorKind::File, folder.string() + ": no " + what + " in this class folder");
    for (const auto &f : files) {
      list.files.push_back(f);
      list.labels.push_back(at - classes.begin());
    }
  }
}

// What the cache file is keyed by: every file's path, size and modification time, and the options.
std::string cacheKey(const ImageList &list, const DecodeOptions &o) {
  uint64_t h = kFnvStart;
  const int64_t opts[] = {o.height, o.width, o.channels, o.skipBad ? 1 : 0};
  h = fnv(h, opts, sizeof opts);
  for (std::size_t i = 0; i < list.files.size(); ++i) {
    const std::string &f = list.files[i];
    h = fnv(h, f.data(), f.size() + 1);
    struct stat st {};
    if (::stat(f.c_str(), &st) != 0)
      st = {};
    const int64_t meta[] = {static_cast<int64_t>(st.st_size), static_cast<int64_t>(st.st_mtim.tv_sec),
                            static_cast<int64_t>(st.st_mtim.tv_nsec), list.labels[i]};
    h = fnv(h, meta, sizeof meta);
  }
  return hex16(h);
}

// Decodes one file into `dest` ([channels, height, width]); the reason it could not, else empty.
std::string decodeOne(const std::string &file, const DecodeOptions &o, uint8_t *dest) {
  int w = 0, h = 0, comp = 0;
  // The header's size against the file's before decoding: PNG and JPEG compress at most about
  // 1,000 pixels into a byte, BMP not at all; a header that claims more (a damaged or hostile
  // file) would have stb walk millions of rows.
  if (!stbi_info(file.c_str(), &w, &h, &comp)) {
    const char *why = stbi_failure_reason();
    return std::string("cannot decode the image (") + (why ? why : "unknown reason") + ")";
  }
  std::error_code ec;
  const auto bytes = static_cast<double>(fs::file_size(file, ec));
  const double claimed = static_cast<double>(w) * static_cast<double>(h);
  if (w < 1 || h < 1) // stb_image_resize asserts (aborts) on an empty image
    return "the header claims " + std::to_string(w) + "×" + std::to_string(h) + " pixels";
  if (claimed > kMaxPixels || claimed > 1100.0 * bytes + 65536.0)
    return "the header claims " + std::to_string(w) + "×" + std::to_string(h) + " pixels, more than its " +
           std::to_string(static_cast<int64_t>(bytes)) + " bytes can hold (or than " +
           std::to_string(static_cast<int64_t>(kMaxPixels)) + ")";
  std::unique_ptr<stbi_uc, void (*)(void *)> data(stbi_load(file.c_str(), &w, &h, &comp, o.channels), stbi_image_free);
  if (!data) {
    const char *why = stbi_failure_reason();
    return std::string("cannot decode the image (") + (why ? why : "unknown reason") + ")";
  }
  const stbi_uc *pixels = data.get();
  std::vector<uint8_t> resized;
  if (w != o.width || h != o.height) {
    resized.resize(static_cast<std::size_t>(o.width) * static_cast<std::size_t>(o.height) *
                   static_cast<std::size_t>(o.channels));
    if (!stbir_resize_uint8(pixels, w, h, 0, resized.data(), o.width, o.height, 0, o.channels))
      return "cannot resize the image";
    pixels = resized.data();
  }
  const std::size_t plane = static_cast<std::size_t>(o.width) * static_cast<std::size_t>(o.height);
  for (std::size_t p = 0; p < plane; ++p)
    for (int c = 0; c < o.channels; ++c)
      dest[static_cast<std::size_t>(c) * plane + p] =
          pixels[p * static_cast<std::size_t>(o.channels) + static_cast<std::size_t>(c)];
  return {};
}

} // namespace

ImageTree scanImageTree(const std::string &rootPath, const std::vector<std::string> &extensions,
                        const std::string &what) {
  ImageTree tree;
  tree.root = rootPath;
  const fs::path root(rootPath);
  std::error_code ec;
  if (!fs::is_directory(root, ec))
    throw Error(ErrorKind::File, rootPath + ": no such folder (expected one folder per class)");
  const fs::path train = root / "train", test = root / "test";
  tree.ownTest = fs::is_directory(train, ec) && fs::is_directory(test, ec);
  const fs::path classRoot = tree.ownTest ? train : root;
  for (const auto &folder : subfolders(classRoot))
    tree.classes.push_back(folder.filename().string());
  if (tree.classes.empty())
    throw Error(ErrorKind::File, classRoot.string() + ": no class folders (expected one folder of " + what +
                                     " per class, or train/ "
                                     "and test/ folders of them)");
  if (tree.classes.size() < 2)
    throw Error(ErrorKind::File, classRoot.string() + ": only one class folder (\"" + tree.classes.front() +
                                     "\"); a classifier needs at least two");
  collect(classRoot, tree.classes, extensions, what, tree.train);
  if (tree.ownTest) {
    collect(test, tree.classes, extensions, what, tree.test);
    if (tree.test.files.empty())
      throw Error(ErrorKind::File, test.string() + ": no class folders with " + what);
  }
  return tree;
}

std::vector<std::string> loadedNames(const ImageList &list, const std::vector<std::string> &skipped,
                                     const std::string &root) {
  std::vector<std::string> names;
  names.reserve(list.files.size());
  const fs::path base(root);
  for (const auto &f : list.files) {
    if (!skipped.empty() && std::find(skipped.begin(), skipped.end(), f) != skipped.end())
      continue;
    const std::string relative = fs::path(f).lexically_relative(base).generic_string();
    names.push_back(relative.empty() || relative.rfind("..", 0) == 0 ? f : relative);
  }
  return names;
}

ImageHeader readImageHeader(const std::string &path) {
  ImageHeader h;
  if (!stbi_info(path.c_str(), &h.width, &h.height, &h.channels)) {
    const char *why = stbi_failure_reason();
    throw Error(ErrorKind::File, path + ": cannot read the image header (" + (why ? why : "unknown reason") + ")");
  }
  return h;
}

std::vector<std::string> decodeEach(std::size_t count, int threads, const std::atomic<bool> *cancel,
                                    const std::function<std::string(std::size_t)> &decode) {
  std::vector<std::string> problems(count);
  std::atomic<std::size_t> next{0};
  std::atomic<bool> cancelled{false};
  auto work = [&] {
    for (std::size_t i = next++; i < count; i = next++) {
      if (cancel && cancel->load()) {
        cancelled = true;
        return;
      }
      try {
        problems[i] = decode(i);
      } catch (const std::exception &e) {
        problems[i] = e.what();
      }
    }
  };
  const unsigned cores = std::max(1U, std::thread::hardware_concurrency());
  const auto pool = static_cast<std::size_t>(std::clamp<int64_t>(threads > 0 ? threads : cores, 1, 64));
  std::vector<std::thread> helpers;
  for (std::size_t t = 1; t < std::min(pool, std::max<std::size_t>(count, 1)); ++t)
    helpers.emplace_back(work);
  work();
  for (auto &t : helpers)
    t.join();
  if (cancelled)
    throw LoadCancelled();
  return problems;
}

DecodedImages decodeImages(const std::string &root, const ImageList &list, const DecodeOptions &o) {
  DecodedImages out;
  const std::string key = "images-" + cacheKey(list, o) + ".u8";
  const auto folders = cacheFolders(root, "images");
  const SampleCacheFormat format{{'P', 'S', 'I', 'M', 'A', 'G', 'E', '1'}, {o.height, o.width, o.channels}, 1};
  const auto pixelsOut = [&out](std::size_t bytes) {
    out.pixels.resize(bytes);
    return static_cast<void *>(out.pixels.data());
  };
  if (o.useCache)
    for (const auto &folder : folders)
      if (readSampleCache(folder / key, format, list.files.size(), out.labels, out.skipped, pixelsOut)) {
        out.height = o.height;
        out.width = o.width;
        out.channels = o.channels;
        out.fromCache = true;
        out.cacheFile = (folder / key).string();
        return out;
      }

  const std::size_t n = list.files.size();
  const std::size_t stride =
      static_cast<std::size_t>(o.height) * static_cast<std::size_t>(o.width) * static_cast<std::size_t>(o.channels);
  std::vector<uint8_t> pixels(n * stride);
  const auto problems = decodeEach(
      n, o.threads, o.cancel, [&](std::size_t i) { return decodeOne(list.files[i], o, pixels.data() + i * stride); });

  // Keep the decoded ones in order (in place: a bad file's slot is overwritten by the next good one).
  out.height = o.height;
  out.width = o.width;
  out.channels = o.channels;
  std::size_t kept = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!problems[i].empty()) {
      if (!o.skipBad)
        throw Error(ErrorKind::File,
                    list.files[i] + ": " + problems[i] + " (set dataset.skip_bad to true to skip unreadable images)");
      out.skipped.push_back(list.files[i]);
      continue;
    }
    if (kept != i)
      std::memmove(pixels.data() + kept * stride, pixels.data() + i * stride, stride);
    out.labels.push_back(list.labels[i]);
    ++kept;
  }
  pixels.resize(kept * stride);
  out.pixels = std::move(pixels);
  if (o.useCache)
    for (const auto &folder : folders)
      if (writeSampleCache(folder / key, format, out.labels, out.skipped, out.pixels.data())) {
        out.cacheFile = (folder / key).string();
        break;
      }
  return out;
}

} // namespace particle
