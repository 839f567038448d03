#include "recipes/RunPlan.h"

#include "graph/Json.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
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

std::string safeRunName(const std::string &projectName) {
  std::string name;
  for (char c : projectName) {
    const auto u = static_cast<unsigned char>(c);
    name += (std::isalnum(u) || c == '-' || c == '_' || c == '.') ? c : '-';
    if (name.size() >= 80)
      break;
  }
  // No name made only of dots ("." or ".." would name a folder above), no leading dot (hidden)
  // and no leading '-' (a command given the path would read it as an option).
  while (!name.empty() && (name.front() == '.' || name.front() == '-'))
    name.erase(name.begin());
  if (name.empty())
    name = "run";
  return name;
}

// ---- folder claims -------------------------------------------------------------------------

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
      "checkpoint.pt", "weights.pt",   "metrics.csv",  "summary.json", "search.json",     "trials.csv",
      "pareto.json",   "explain.json", "tokens.jsonl", "tokens.html",  "robustness.json", "robustness.csv",
      "model.py",      "train.py",     "data.pt",      "reference.pt", "model.onnx",      "tokenizer.model"};
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

std::string newRunFolder(const std::string &runsRoot, const std::string &projectName) {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const std::time_t t = system_clock::to_time_t(now);
  std::tm local{};
  localtime_r(&t, &local);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &local);
  const auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  char millis[8];
  std::snprintf(millis, sizeof millis, "-%03d", static_cast<int>(ms));
  const std::string base = (fs::path(runsRoot) / (safeRunName(projectName) + "-" + stamp + millis)).string();
  std::error_code ec;
  fs::create_directories(runsRoot, ec);
  for (int n = 1; n < 1000; ++n) {
    std::string dir = n == 1 ? base : base + "-" + std::to_string(n);
    if (fs::create_directory(dir, ec)) {
      (void)claimFolder(dir, "run"); // the marker: particle made this folder (the claim ends here)
      return dir;
    }
    if (ec)
      throw Error(ErrorKind::File, dir + ": cannot create the run folder (" + ec.message() + ")");
  }
  throw Error(ErrorKind::File, base + ": cannot create a fresh run folder");
}

namespace {
bool inside(const fs::path &path, const fs::path &root) {
  if (root.empty())
    return false;
  std::error_code ec;
  const fs::path p = fs::weakly_canonical(path, ec), r = fs::weakly_canonical(root, ec);
  auto pi = p.begin();
  for (auto ri = r.begin(); ri != r.end(); ++ri, ++pi)
    if (pi == p.end() || *pi != *ri)
      return false;
  return true;
}
} // namespace

std::string defaultRunsRoot(const std::string &projectPath, const std::string &fallbackRoot,
                            const std::string &protectedRoot) {
  if (projectPath.empty())
    return fallbackRoot;
  const fs::path folder = fs::absolute(projectPath).parent_path();
  if (inside(folder, protectedRoot) || ::access(folder.c_str(), W_OK) != 0)
    return fallbackRoot;
  return (folder / "runs").string();
}

namespace {
// Whether the folder holds anything but particle's marker.
bool holdsFiles(const std::string &dir) {
  std::error_code ec;
  for (const auto &entry : fs::directory_iterator(dir, ec))
    if (entry.path().filename() != kFolderMarker)
      return true;
  return false;
}
} // namespace

std::shared_ptr<FolderClaim> prepareOutFolder(const std::string &dir, bool force, bool resume,
                                              const std::string &what) {
  std::error_code ec;
  std::shared_ptr<FolderClaim> claim;
  bool full = false; // holds anything but the marker (a folder made here holds nothing)
  if (fs::exists(dir, ec) || fs::is_symlink(dir, ec)) {
    if (!fs::is_directory(dir, ec))
      throw Error(ErrorKind::Usage, dir + ": --out names a file, not a folder");
    // A folder another process works in is refused first, whatever it holds.
    const bool ours = isParticleFolder(dir);
    if (ours)
      claim = claimFolder(dir, what);
    full = holdsFiles(dir);
    if (full && resume && !ours && !fs::exists(fs::path(dir) / "checkpoint.pt", ec))
      throw Error(ErrorKind::Usage, dir + ": --resume continues in a run folder, and this one holds files but no "
                                          "run (no checkpoint.pt): choose a new --out");
    if (full && !resume) {
      if (!force)
        throw Error(ErrorKind::Usage, dir + ": the output folder is not empty; choose a new --out, add --force to "
                                            "clear it, or --resume a checkpoint in it");
      if (!ours)
        throw Error(ErrorKind::Usage, dir + ": --force empties only a folder particle wrote (it holds a " +
                                          std::string(kFolderMarker) +
                                          " file), and this one does not: choose a new --out, or empty it yourself");
    }
    if (::access(dir.c_str(), W_OK) != 0)
      throw Error(ErrorKind::File, dir + ": the output folder is not writable");
  }
  if (!claim)
    claim = claimFolder(dir, what);
  if (force && !resume && full) {
    for (const auto &entry : fs::directory_iterator(dir, ec))
      if (entry.path().filename() != kFolderMarker)
        fs::remove_all(entry.path(), ec);
    if (ec)
      throw Error(ErrorKind::File, dir + ": cannot clear the folder (" + ec.message() + ")");
  }
  return claim;
}

std::vector<RunEpoch> readRunEpochs(const std::string &metricsCsv) {
  std::vector<RunEpoch> out;
  std::ifstream in(metricsCsv);
  std::string line;
  std::getline(in, line); // epoch,step,train_loss,train_accuracy,val_loss,val_accuracy,…
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::stringstream row(line);
    for (std::string c; std::getline(row, c, ',');)
      cells.push_back(c);
    if (cells.size() >= 6)
      out.push_back({std::atoi(cells[0].c_str()), std::atof(cells[3].c_str()), std::atof(cells[5].c_str())});
  }
  return out;
}

} // namespace particle
