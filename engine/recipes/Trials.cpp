#include "recipes/Trials.h"

#include "base/Folders.h"
#include "recipes/Processes.h"
#include "train/RunFolder.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <sstream>
#include <thread>

#include <unistd.h>

namespace fs = std::filesystem;

namespace particle {

namespace {

using Clock = std::chrono::steady_clock;

// The last line of a trial's stderr that is not a warning (the check's warnings come after its
// errors).
std::string lastError(const std::string &errFile) {
  std::istringstream lines(tailOfFile(errFile, 20));
  std::string line, last;
  while (std::getline(lines, line))
    if (!line.empty() && line.find(": warning: ") == std::string::npos)
      last = line;
  return last;
}

struct Running {
  std::size_t index = 0;
  pid_t pid = 0;
  Clock::time_point started;
};

TrialOutcome outcomeOf(const TrialSpec &spec, const ChildExit &end, double seconds) {
  TrialOutcome o;
  o.seconds = seconds;
  std::string unreadable;
  if (end.code == 0 && !spec.runDir.empty()) {
    try {
      const RunSummary summary = readRunSummary(spec.runDir).summary;
      const std::string status = statusName(summary.status);
      o.status = status == "completed" || status == "early-stopped" ? "completed"
                 : status == "diverged"                             ? "diverged"
                                                                    : "failed";
      o.message = summary.message;
      o.summary = summary;
      return o;
    } catch (const std::exception &e) {
      unreadable = e.what();
    }
  } else if (end.code == 0) {
    o.status = "completed";
    return o;
  }
  const std::string tail = unreadable.empty() ? lastError(spec.logStem + ".err") : unreadable;
  o.status = tail.find("diverged") != std::string::npos ? "diverged" : "failed";
  o.message =
      (end.signalled ? "ended by signal " + std::to_string(end.code - 128) : "exit " + std::to_string(end.code)) +
      (tail.empty() ? "" : ": " + tail);
  return o;
}

} // namespace

std::string dataCacheFolder(const std::string &outDir) {
  return (fs::path(outDir) / "data-cache").string();
}

std::vector<std::string> trainArgs(const std::string &projectFile, const std::string &runDir, int threads,
                                   const std::string &dataCache, int epochs, std::optional<uint64_t> seed) {
  std::vector<std::string> args = {
      "train",   projectFile, "--out",        runDir,   "--force", "--threads", std::to_string(std::max(1, threads)),
      "--nproc", "1",         "--data-cache", dataCache};
  if (epochs > 0) {
    args.emplace_back("--epochs");
    args.push_back(std::to_string(epochs));
  }
  if (seed) {
    args.emplace_back("--seed");
    args.push_back(std::to_string(*seed));
  }
  return args;
}

std::vector<TrialOutcome> runTrials(const std::string &program, const std::vector<TrialSpec> &specs, int jobs,
                                    const std::function<void(std::size_t, const TrialOutcome &)> &finished) {
  std::vector<TrialOutcome> outcomes(specs.size());
  std::vector<Running> running;
  std::size_t next = 0;
  const auto start = [&](std::size_t i) {
    const TrialSpec &t = specs[i];
    SpawnSpec s;
    s.program = program;
    s.args = t.args;
    if (!t.logStem.empty()) {
      fs::create_directories(fs::path(t.logStem).parent_path());
      s.stdoutFile = t.logStem + ".log";
      s.stderrFile = t.logStem + ".err";
    }
    // A trial is a single process of its own, whatever the environment this one was started in.
    s.unset = {"RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT", kClaimedByParentVariable};
    s.env = {std::string(kParentPidVariable) + "=" + std::to_string(::getpid())}; // a killed parent ends its trials
    Running r;
    r.index = i;
    r.started = Clock::now();
    try {
      r.pid = spawnProcess(s);
    } catch (const Error &e) {
      // Failed with why (the program being relinked, a log that cannot be written); the other
      // trials go on, as they do after one that fails once started.
      outcomes[i].status = "failed";
      outcomes[i].message = e.what();
      outcomes[i].seconds = std::chrono::duration<double>(Clock::now() - r.started).count();
      if (finished)
        finished(i, outcomes[i]);
      return;
    }
    running.push_back(r);
  };
  while (next < specs.size() || !running.empty()) {
    while (next < specs.size() && static_cast<int>(running.size()) < std::max(1, jobs))
      start(next++);
    for (auto it = running.begin(); it != running.end();) {
      const auto end = waitForChild(it->pid, Clock::now());
      if (!end) {
        ++it;
        continue;
      }
      const std::size_t i = it->index;
      outcomes[i] = outcomeOf(specs[i], *end, std::chrono::duration<double>(Clock::now() - it->started).count());
      it = running.erase(it);
      if (finished)
        finished(i, outcomes[i]);
    }
    if (!running.empty())
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return outcomes;
}

} // namespace particle
