// `particle`: the headless command line (docs/FORMAT.md, "Command line"). Links the engine only, no
// Qt. This file only dispatches: each command is one file in commands/ (listed in Commands.h), the
// options are parsed by Args.h.

#include "Args.h"
#include "Commands.h"

#include "base/Error.h"
#include "recipes/Processes.h"

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>
#include <sys/prctl.h>
#include <unistd.h>

using namespace particle;
using namespace particle::cli;

int main(int argc, char **argv) {
  // A trial or worker started by another particle process ends with it (a killed search leaves
  // no orphan training in its folders).
  if (const char *parent = std::getenv(kParentPidVariable)) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (std::to_string(::getppid()) != parent)
      return static_cast<int>(ErrorKind::Training); // the parent is gone already
  }
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h" || std::string(argv[1]) == "help") {
    std::cout << kUsage;
    return argc < 2 ? kExitUsage : kExitOk;
  }
  const std::string command = argv[1];
  try {
    for (const Command &c : kCommands)
      if (command == c.name)
        return c.run(argc, argv);
    throw UsageError("unknown command \"" + command + "\"");
  } catch (const UsageError &e) {
    std::cerr << "particle: " << e.what() << "\n\n" << kUsage;
    return kExitUsage;
  } catch (const Error &e) {
    std::cerr << e.what() << "\n";
    return static_cast<int>(e.kind());
  } catch (const c10::Error &e) {
    std::cerr << "particle: " << e.what_without_backtrace() << "\n";
    return static_cast<int>(ErrorKind::Training);
  } catch (const std::exception &e) {
    std::cerr << "particle: " << e.what() << "\n";
    return static_cast<int>(ErrorKind::File);
  }
}
