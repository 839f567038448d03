#include "recipes/RunPlan.h"

#include "graph/Json.h"

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
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
  // No name made only of dots ("." or ".." would name a folder above), and no leading dot.
  while (!name.empty() && name.front() == '.')
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
    if (fs::create_directory(dir, ec))
      return dir;
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

void prepareOutFolder(const std::string &dir, bool force, bool resume) {
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec))
      throw Error(ErrorKind::Usage, dir + ": --out names a file, not a folder");
    const bool empty = fs::is_empty(dir, ec);
    if (!empty && !resume) {
      if (!force)
        throw Error(ErrorKind::Usage, dir + ": the output folder is not empty; choose a new --out, add --force to "
                                            "clear it, or --resume a checkpoint in it");
      for (const auto &entry : fs::directory_iterator(dir, ec))
        fs::remove_all(entry.path(), ec);
      if (ec)
        throw Error(ErrorKind::File, dir + ": cannot clear the folder (" + ec.message() + ")");
    }
  } else {
    fs::create_directories(dir, ec);
    if (ec)
      throw Error(ErrorKind::File, dir + ": cannot create the output folder (" + ec.message() + ")");
  }
  if (::access(dir.c_str(), W_OK) != 0)
    throw Error(ErrorKind::File, dir + ": the output folder is not writable");
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
