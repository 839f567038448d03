#pragma once
// What several commands of `particle` share: loading a project that must validate (and, for
// `explain` and `robustness`, its checkpoint), and numbers as the commands print them.

#include "Args.h"

#include "graph/Validator.h"
#include "project/Project.h"

#include <cstdint>
#include <optional>
#include <string>

namespace particle::cli {

// 1234567 → "1,234,567".
std::string withCommas(int64_t v);
// Seconds as "42s", "3m07s", "1h05m".
std::string duration(double seconds);
// A fraction as a percentage with two decimals ("97.25%").
std::string percent(double v);

void printProblems(const Validation &v, const std::string &file);
// Loads a project that must validate: on problems, prints them and returns the exit code.
std::optional<int> loadValid(const std::string &file, Project &project, Validation &validation);

// What `explain` and `robustness` start from: a project that validates, a checkpoint of it, and
// the folder to write into (by default the checkpoint's run folder).
struct CheckpointInput {
  Project project;
  std::string checkpoint;
  std::string outDir;
};

// Reads the command's project and --checkpoint and --out; on problems with the project, prints
// them and returns the exit code.
std::optional<int> loadCheckpointInput(const std::string &command, const Args &args, CheckpointInput &in);

} // namespace particle::cli
