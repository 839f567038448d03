#include "recipes/WorkerGroup.h"

#include "base/Error.h"

#include <algorithm>
#include <csignal>
#include <thread>

#include <unistd.h>

namespace particle {

int workerThreads(int asked, int workers) {
  if (asked > 0)
    return asked;
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return std::max(1, cores / std::max(1, workers));
}

int WorkerGroupEnd::exitCode() const {
  if (!firstFailure)
    return 0;
  const ChildExit &e = workers[*firstFailure].exit;
  return e.signalled ? static_cast<int>(ErrorKind::Training) : e.code;
}

std::string WorkerGroupEnd::problem() const {
  if (!firstFailure)
    return {};
  const Worker &w = workers[*firstFailure];
  const std::string tail = w.log.empty() ? std::string() : tailOfFile(w.log, 2);
  return "worker " + std::to_string(w.rank) + (w.exit.signalled ? " was killed" : " failed") +
         (tail.empty() ? "" : ": " + tail) + (w.log.empty() ? "" : " (log: " + w.log + ")");
}

WorkerGroup::WorkerGroup(const WorkerGroupSpec &spec) : port_(freeLoopbackPort()) {
  for (int rank = spec.firstRank; rank < spec.world; ++rank) {
    SpawnSpec s;
    s.program = spec.program;
    s.args = spec.args;
    if (spec.threads > 0) {
      s.args.emplace_back("--threads");
      s.args.push_back(std::to_string(spec.threads));
    }
    s.env = localWorkerEnv(rank, spec.world, port_);
    s.env.insert(s.env.end(), spec.env.begin(), spec.env.end());
    s.env.push_back(std::string(kParentPidVariable) + "=" + std::to_string(::getpid())); // ends with its parent
    if (rank > 0) // only rank 0 reports progress; every worker's errors reach stderr or its log
      s.stdoutFile = "/dev/null";
    if (!spec.logFolder.empty())
      s.stderrFile = spec.logFolder + "/worker-" + std::to_string(rank) + ".log";
    try {
      pids_.push_back(spawnProcess(s));
    } catch (const Error &) {
      kill();
      throw;
    }
    workers_.push_back({rank, ChildExit{pids_.back(), 0, false}, s.stderrFile});
  }
}

WorkerGroup::~WorkerGroup() {
  kill();
}

void WorkerGroup::kill() {
  for (pid_t p : pids_)
    if (p > 0)
      ::kill(p, SIGKILL);
  std::vector<pid_t> running;
  std::copy_if(pids_.begin(), pids_.end(), std::back_inserter(running), [](pid_t p) { return p > 0; });
  reapChildren(running, std::chrono::milliseconds(0));
  pids_.clear();
}

WorkerGroupEnd WorkerGroup::wait(std::chrono::milliseconds grace,
                                 std::optional<std::chrono::steady_clock::time_point> deadline) {
  using Clock = std::chrono::steady_clock;
  WorkerGroupEnd end;
  end.workers = workers_;
  auto running = static_cast<std::size_t>(std::count_if(pids_.begin(), pids_.end(), [](pid_t p) { return p > 0; }));
  while (running > 0) {
    for (std::size_t i = 0; i < pids_.size(); ++i) {
      if (pids_[i] <= 0)
        continue;
      const auto e = waitForChild(pids_[i], Clock::time_point::min());
      if (!e)
        continue;
      pids_[i] = 0;
      --running;
      end.workers[i].exit = *e;
      if (e->code != 0 && !end.firstFailure) {
        end.firstFailure = i;
        const auto killAt = Clock::now() + grace;
        deadline = deadline ? std::min(*deadline, killAt) : killAt;
      }
    }
    if (running > 0 && deadline && Clock::now() >= *deadline) {
      // Killed ones report 128 + SIGKILL, as a worker killed from outside does.
      for (std::size_t i = 0; i < pids_.size(); ++i)
        if (pids_[i] > 0) {
          ::kill(pids_[i], SIGKILL);
          if (const auto e = waitForChild(pids_[i], Clock::now() + std::chrono::seconds(10))) {
            end.workers[i].exit = *e;
            if (!end.firstFailure)
              end.firstFailure = i;
          }
          pids_[i] = 0;
        }
      running = 0;
    } else if (running > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  pids_.clear();
  workers_ = end.workers;
  return end;
}

} // namespace particle
