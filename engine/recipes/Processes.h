#pragma once
// Child processes of this program's tools: the data-parallel workers that `particle train
// --nproc N` and the app's Train tab start, and the trials of `particle search`. POSIX only;
// neither Qt nor LibTorch.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace particle {

// Set in the environment of a worker or trial to its parent's pid: the `particle` program then
// asks the kernel to end it when the parent dies (no orphan keeps training after a kill).
constexpr const char *kParentPidVariable = "PARTICLE_PARENT_PID";

// A TCP port on 127.0.0.1 that was free a moment ago (the kernel picks it).
int freeLoopbackPort();

struct SpawnSpec {
  std::string program;            // absolute path of the executable
  std::vector<std::string> args;  // argv[1…]
  std::vector<std::string> env;   // "KEY=VALUE": replaces that key of this process's environment
  std::vector<std::string> unset; // keys (no '=') left out of the child's environment
  std::string stdoutFile;         // empty: inherit; "/dev/null" or a file (truncated)
  std::string stderrFile;         // empty: inherit
};

// Starts the program; throws Error(Training) naming it when it cannot be started, its message
// beginning with kCouldNotStart.
constexpr const char *kCouldNotStart = "could not start ";
pid_t spawnProcess(const SpawnSpec &spec);

// How a child ended: its exit code, or 128 + the signal that ended it.
struct ChildExit {
  pid_t pid = 0;
  int code = 0;
  bool signalled = false;
};

// Waits for `pid` until `deadline`; nothing when it is still running then.
std::optional<ChildExit> waitForChild(pid_t pid, std::chrono::steady_clock::time_point deadline);
// Waits up to `grace` for each child, then kills (SIGKILL) and reaps the ones still running.
std::vector<ChildExit> reapChildren(const std::vector<pid_t> &pids, std::chrono::milliseconds grace);

// The data-parallel variables of worker `rank` of `world` on this machine (RANK, LOCAL_RANK,
// WORLD_SIZE, MASTER_ADDR=127.0.0.1, MASTER_PORT).
std::vector<std::string> localWorkerEnv(int rank, int world, int port);

// The last `lines` lines of a text file ("" when it cannot be read).
std::string tailOfFile(const std::string &path, int lines = 5);

} // namespace particle
