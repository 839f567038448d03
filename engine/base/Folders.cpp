#include "base/Folders.h"

#include "base/Json.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace particle {

namespace fs = std::filesystem;

FolderClaim::~FolderClaim() {
  if (fd_ >= 0)
    ::close(fd_); // releases the flock
}

namespace {
std::mutex &claimsMutex() {
  static std::mutex m;
  return m;
}
std::map<std::string, std::weak_ptr<FolderClaim>> &claims() {
  static std::map<std::string, std::weak_ptr<FolderClaim>> c;
  return c;
}
std::string readAll(int fd) {
  std::string text;
  char buf[512];
  ssize_t n = 0;
  off_t at = 0;
  while ((n = ::pread(fd, buf, sizeof buf, at)) > 0 && text.size() < 4096) {
    text.append(buf, static_cast<std::size_t>(n));
    at += n;
  }
  return text;
}
} // namespace

namespace {
// The marker's JSON when it is a regular file (not a link); null when missing or unreadable.
Json readMarker(const std::string &dir) {
  std::error_code ec;
  const fs::path marker = fs::path(dir) / kFolderMarker;
  if (!fs::is_regular_file(fs::symlink_status(marker, ec)))
    return Json();
  std::ifstream in(marker);
  std::string line;
  std::getline(in, line);
  try {
    const Json j = Json::parse(line);
    return j.is_object() ? j : Json();
  } catch (const std::exception &) {
    return Json();
  }
}
} // namespace

bool isParticleFolder(const std::string &dir) {
  // The marker as particle writes it: saying who wrote it, and which process.
  const Json j = readMarker(dir);
  return j.is_object() && j.value("written_by", Json()) == "particle" && j.contains("pid") &&
         j["pid"].is_number_integer();
}

std::string folderKind(const std::string &dir) {
  const Json j = readMarker(dir);
  return j.is_object() && j.contains("what") && j["what"].is_string() ? j["what"].get<std::string>() : "";
}

namespace {
// Whether `name` is a file particle writes into a run, search or export folder (through a
// temporary NAME.tmp-<pid>): only such temporaries are ever removed.
bool writtenByParticle(const std::string &name) {
  static const char *const kNames[] = {
      "checkpoint.pt", "weights.pt",   "metrics.csv", "summary.json",    "search.json",    "trials.csv", "pareto.json",
      "explain.json",  "tokens.jsonl", "tokens.html", "robustness.json", "robustness.csv", "model.py",   "train.py",
      "data.pt",       "reference.pt", "model.onnx",  "tokenizer.model", "onnx_run.mjs"};
  const auto endsWith = [&](const std::string &suffix) {
    return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return std::find(std::begin(kNames), std::end(kNames), name) != std::end(kNames) || endsWith(".particle.json") ||
         ((name.rfind("class_branch_", 0) == 0 || name.rfind("saliency_", 0) == 0) && endsWith(".png"));
}
} // namespace

int removeStaleTemporaries(const std::string &dir) {
  int removed = 0;
  std::error_code ec;
  for (const auto &entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    const auto at = name.rfind(".tmp-");
    if (at == std::string::npos || at + 5 >= name.size() ||
        name.find_first_not_of("0123456789", at + 5) != std::string::npos || name.size() - at - 5 > 9 ||
        !writtenByParticle(name.substr(0, at)))
      continue;
    const pid_t pid = static_cast<pid_t>(std::stol(name.substr(at + 5)));
    if (pid <= 0 || pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH)
      continue; // its process is alive (or not ours to ask about): it may still be writing
    std::error_code rm;
    if (fs::is_regular_file(entry.symlink_status(rm)) && fs::remove(entry.path(), rm))
      ++removed;
  }
  return removed;
}

std::shared_ptr<FolderClaim> claimFolder(const std::string &dir, const std::string &what) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir, ec))
    throw Error(ErrorKind::File, dir + ": cannot create the folder (" + (ec ? ec.message() : "not a folder") + ")");
  const std::string key = fs::weakly_canonical(fs::absolute(dir), ec).string();
  std::lock_guard<std::mutex> lock(claimsMutex());
  if (auto held = claims()[key].lock())
    return held;
  const bool ours = isParticleFolder(dir); // before the claim rewrites the marker
  const std::string marker = (fs::path(dir) / kFolderMarker).string();
  // O_NOFOLLOW: a marker planted as a link to another file is not followed (nor written through).
  const int fd = ::open(marker.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0)
    throw Error(ErrorKind::File, dir + ": cannot claim the folder (" + marker + ": " + std::strerror(errno) + ")");
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    std::string holder;
    int64_t holderPid = 0;
    try {
      const Json j = Json::parse(readAll(fd));
      if (j.is_object() && j.contains("pid") && j["pid"].is_number_integer()) {
        holderPid = j["pid"].get<int64_t>();
        holder = " (" + (j.contains("what") && j["what"].is_string() ? j["what"].get<std::string>() + ", " : "") +
                 "pid " + std::to_string(holderPid) + ")";
      }
    } catch (const std::exception &) {
    }
    ::close(fd);
    // A worker that `particle train --nproc N` started works in the folder its launcher claimed.
    const char *parent = std::getenv(kClaimedByParentVariable);
    if (parent && holderPid == ::getppid() && std::to_string(::getppid()) == parent) {
      auto shared = std::make_shared<FolderClaim>(dir, -1);
      claims()[key] = shared;
      return shared;
    }
    throw Error(ErrorKind::File, dir + ": another particle process is working in this folder" + holder +
                                     "; wait for it to end, or choose another folder");
  }
  const std::string text = Json{{"written_by", "particle"}, {"what", what}, {"pid", ::getpid()}}.dump() + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
    const int err = errno;
    ::close(fd);
    throw Error(ErrorKind::File, dir + ": cannot claim the folder (" + marker + ": " + std::strerror(err) + ")");
  }
  auto claim = std::make_shared<FolderClaim>(dir, fd);
  claims()[key] = claim;
  if (ours) // only in a folder particle wrote before, and only its own files' temporaries
    removeStaleTemporaries(dir);
  return claim;
}

} // namespace particle
