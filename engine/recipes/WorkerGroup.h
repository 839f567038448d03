#pragma once
// The data-parallel workers of one run on this machine, the one recipe `particle train --nproc N`
// and the app's Train tab (training.workers) start: each worker is a `particle train` process with
// the variables torchrun would set (RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT) and
// ends with the process that started it. POSIX only; neither Qt nor LibTorch.

#include "recipes/Processes.h"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace particle {

// Each worker's CPU threads, one rule for both front ends: the number asked for (--threads, or
// training.threads when it is not 0), else the machine's cores shared among the workers.
int workerThreads(int asked, int workers);

struct WorkerGroupSpec {
  std::string program;           // the `particle` program
  std::vector<std::string> args; // argv[1…] of every worker: `train PROJECT …`
  int world = 1;                 // workers in the run
  int firstRank = 0;             // 1 when rank 0 is the caller itself (the app's engine thread)
  int threads = 0;               // passed as --threads when not 0
  std::vector<std::string> env;  // more "KEY=VALUE" for every worker
  std::string logFolder;         // empty: the workers write to this process's stderr; else worker-<rank>.log there
};

// How the group ended, workers in rank order.
struct WorkerGroupEnd {
  struct Worker {
    int rank = 0;
    ChildExit exit;
    std::string log; // empty when it wrote to this process's stderr
  };
  std::vector<Worker> workers;
  std::optional<std::size_t> firstFailure; // the worker that failed first (the others fail after it)

  bool ok() const { return !firstFailure; }
  // The first failure's exit code (a killed worker: ErrorKind::Training); 0 when every worker ended well.
  int exitCode() const;
  // "worker R failed: <the last lines of its log> (log: FILE)"; "" when every worker ended well.
  std::string problem() const;
};

class WorkerGroup {
public:
  // Starts ranks firstRank … world − 1 (rank 0 prints, the others' output goes to /dev/null);
  // throws Error(Training) when one cannot be started, leaving none running.
  explicit WorkerGroup(const WorkerGroupSpec &spec);
  // Kills and reaps the workers still running.
  ~WorkerGroup();
  WorkerGroup(const WorkerGroup &) = delete;
  WorkerGroup &operator=(const WorkerGroup &) = delete;

  int port() const { return port_; } // MASTER_PORT

  // Waits until every worker has ended. Once one fails, the others have `grace` to end on their
  // own (their next collective fails, or times out) before they are killed; so have all of them
  // once `deadline` passes.
  WorkerGroupEnd wait(std::chrono::milliseconds grace,
                      std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt);

private:
  void kill();

  int port_ = 0;
  std::vector<pid_t> pids_; // the ones not reaped yet
  std::vector<WorkerGroupEnd::Worker> workers_;
};

} // namespace particle
