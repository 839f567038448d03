// `particle report`: one self-contained HTML file of a run, search, claims, transfer or
// learning-curve folder (recipes/Report).

#include "Commands.h"
#include "Common.h"

#include "base/Files.h"
#include "recipes/Report.h"
#include "train/Runtime.h"

#include <filesystem>
#include <iostream>

namespace fs = std::filesystem;

namespace particle::cli {

int runReport(int argc, char **argv) {
  const Args args(argc, argv, 2, {"--out", "--samples"});
  if (args.positional.size() != 1)
    throw UsageError("report needs one folder: a run, search, claims, transfer or learning-curve folder");
  const std::string dir = args.positional[0];
  const std::string out = args.get("--out").value_or((fs::path(dir) / "report.html").string());
  ReportOptions options;
  options.explainSamples = args.integer("--samples", 1, 10000).value_or(options.explainSamples);
  // The app reads these lines as the export's progress.
  options.progress = [](const std::string &stage) { std::cout << "report: " << stage << "…" << std::endl; };
  const ReportKind kind = reportKind(dir);
  std::cout << "report: " << reportKindName(kind) << " folder " << dir << std::endl;
  configureThreads(0);
  const std::string html = reportHtml(dir, options);
  if (const fs::path parent = fs::path(out).parent_path(); !parent.empty())
    fs::create_directories(parent);
  writeFileAtomically(out, html);
  std::cout << "wrote " << out << " (" << (html.size() + 1023) / 1024 << " KiB)\n";
  return kExitOk;
}

} // namespace particle::cli
