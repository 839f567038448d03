#include "recipes/RunPlan.h"

#include "base/Json.h"

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
      if (!force && ours && !fs::exists(fs::path(dir) / "checkpoint.pt", ec))
        throw Error(ErrorKind::Usage, dir + ": the output folder is not empty: it holds a run that stopped before "
                                            "its first checkpoint, so there is nothing to resume; add --force to "
                                            "start afresh in it, or choose a new --out");
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

} // namespace particle
