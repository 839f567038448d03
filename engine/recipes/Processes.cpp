#include "recipes/Processes.h"

#include "base/Json.h" // Error

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <deque>
#include <fstream>
#include <thread>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

namespace particle {

int freeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof addr;
  int port = 29500;
  if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr *>(&addr), &size) == 0)
    port = ntohs(addr.sin_port);
  if (fd >= 0)
    ::close(fd);
  return port;
}

namespace {
std::string keyOf(const std::string &entry) {
  return entry.substr(0, entry.find('='));
}
} // namespace

pid_t spawnProcess(const SpawnSpec &spec) {
  std::vector<std::string> env;
  for (char **e = environ; *e; ++e) {
    const std::string v = *e, key = keyOf(v);
    const auto replaced = [&](const std::string &x) { return keyOf(x) == key; };
    if (std::none_of(spec.env.begin(), spec.env.end(), replaced) &&
        std::find(spec.unset.begin(), spec.unset.end(), key) == spec.unset.end())
      env.push_back(v);
  }
  env.insert(env.end(), spec.env.begin(), spec.env.end());
  std::vector<std::string> args = spec.args;
  args.insert(args.begin(), spec.program);
  std::vector<char *> argv, envp;
  for (auto &a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto &e : env)
    envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (!spec.stdoutFile.empty())
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, spec.stdoutFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
  if (!spec.stderrFile.empty())
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, spec.stderrFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, spec.program.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0)
    throw Error(ErrorKind::Training, kCouldNotStart + spec.program + ": " + std::strerror(rc));
  return pid;
}

namespace {
ChildExit exitOf(pid_t pid, int status) {
  ChildExit e;
  e.pid = pid;
  if (WIFEXITED(status)) {
    e.code = WEXITSTATUS(status);
  } else {
    e.signalled = true;
    e.code = 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  }
  return e;
}
} // namespace

std::optional<ChildExit> waitForChild(pid_t pid, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    int status = 0;
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid)
      return exitOf(pid, status);
    if (done < 0 && errno != EINTR)
      return ChildExit{pid, 127, false}; // not our child (already reaped)
    if (std::chrono::steady_clock::now() >= deadline)
      return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::vector<ChildExit> reapChildren(const std::vector<pid_t> &pids, std::chrono::milliseconds grace) {
  const auto deadline = std::chrono::steady_clock::now() + grace;
  std::vector<ChildExit> out;
  for (pid_t pid : pids) {
    auto e = waitForChild(pid, deadline);
    if (!e) {
      ::kill(pid, SIGKILL);
      e = waitForChild(pid, std::chrono::steady_clock::now() + std::chrono::seconds(10));
    }
    if (e)
      out.push_back(*e);
  }
  return out;
}

std::vector<std::string> localWorkerEnv(int rank, int world, int port) {
  return {"RANK=" + std::to_string(rank), "LOCAL_RANK=" + std::to_string(rank), "WORLD_SIZE=" + std::to_string(world),
          "MASTER_ADDR=127.0.0.1", "MASTER_PORT=" + std::to_string(port)};
}

std::string tailOfFile(const std::string &path, int lines) {
  std::ifstream in(path);
  std::deque<std::string> last;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty())
      continue;
    last.push_back(line);
    if (static_cast<int>(last.size()) > lines)
      last.pop_front();
  }
  std::string out;
  for (const auto &l : last)
    out += (out.empty() ? "" : "\n") + l;
  return out;
}

} // namespace particle
