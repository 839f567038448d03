#include "Common.h"

#include "project/ProjectCheck.h"

#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>

namespace fs = std::filesystem;

namespace particle::cli {

std::string withCommas(int64_t v) {
  std::string s = std::to_string(v), out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i && (s.size() - i) % 3 == 0 && s[i - 1] != '-')
      out += ',';
    out += s[i];
  }
  return out;
}

std::string duration(double seconds) {
  const int64_t s = std::llround(seconds);
  std::ostringstream out;
  if (s >= 3600)
    out << s / 3600 << "h" << std::setw(2) << std::setfill('0') << (s % 3600) / 60 << "m";
  else if (s >= 60)
    out << s / 60 << "m" << std::setw(2) << std::setfill('0') << s % 60 << "s";
  else
    out << s << "s";
  return out.str();
}

std::string percent(double v) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(2) << 100 * v << "%";
  return s.str();
}

void printProblems(const Validation &v, const std::string &file) {
  for (const auto &p : v.problems)
    std::cerr << p.format(file) << "\n";
}

std::optional<int> loadValid(const std::string &file, Project &project, Validation &validation) {
  project = loadProject(file);
  validation = validate(project);
  if (validation.ok())
    return std::nullopt;
  printProblems(validation, file);
  return validation.exitCode();
}

std::optional<int> loadCheckpointInput(const std::string &command, const Args &args, CheckpointInput &in) {
  if (args.positional.size() != 1)
    throw UsageError(command + " takes one project file");
  const auto checkpoint = args.get("--checkpoint");
  if (!checkpoint)
    throw UsageError(command + " needs --checkpoint CKPT (from `particle train`)");
  Validation validation;
  if (auto code = loadValid(args.positional[0], in.project, validation))
    return code;
  in.checkpoint = *checkpoint;
  const std::string out = args.get("--out").value_or(fs::path(in.checkpoint).parent_path().string());
  in.outDir = out.empty() ? "." : out;
  return std::nullopt;
}

} // namespace particle::cli
