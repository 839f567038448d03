#pragma once
// Trials: `particle train` processes run a few at a time for the experiments that train many
// models (learning curves, claims). Each trial is a process of its own, as in the search and the
// transfer, so one that fails is recorded with its last error line and the others go on; a
// killed parent ends its trials (kParentPidVariable). Torch-free.

#include "train/Events.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace particle {

struct TrialSpec {
  std::string name;              // for logs and messages
  std::vector<std::string> args; // argv[1…] of the `particle` program, e.g. {"train", file, "--out", dir, ...}
  std::string logStem;           // <logStem>.log / .err
  std::string runDir;            // the run folder it writes (summary.json read back), empty: none
};

struct TrialOutcome {
  std::string status;  // completed, failed, diverged
  std::string message; // why it failed (its last error line)
  double seconds = 0;
  std::optional<RunSummary> summary; // read from runDir when completed
  bool ok() const { return status == "completed"; }
};

// Where the trials of a search, curve, claims run or transfer writing into `outDir` keep the split
// data they share (<outDir>/data-cache, `particle train --data-cache`): the first trial of a data
// set loads it and writes its cache file, the others map that file instead of loading again.
std::string dataCacheFolder(const std::string &outDir);

// `particle train` args for a project file (--out runDir --force --threads T --nproc 1
// --data-cache dataCache [--epochs E] [--seed S]).
std::vector<std::string> trainArgs(const std::string &projectFile, const std::string &runDir, int threads,
                                   const std::string &dataCache, int epochs = 0,
                                   std::optional<uint64_t> seed = std::nullopt);

// Runs the specs `jobs` at a time (children end with this process: kParentPidVariable), calling
// `finished` on this thread after each; outcomes in spec order. A trial that cannot be started
// (the program missing or being relinked) is failed with spawnProcess's message, and the others run.
std::vector<TrialOutcome> runTrials(const std::string &program, const std::vector<TrialSpec> &specs, int jobs,
                                    const std::function<void(std::size_t index, const TrialOutcome &)> &finished = {});

} // namespace particle
