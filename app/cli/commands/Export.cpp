// `particle export`: plain PyTorch (and ONNX) from a project and a checkpoint.

#include "Commands.h"
#include "Common.h"

#include "export/PythonExport.h"
#include "recipes/RunPlan.h"
#include "train/Runtime.h"

#include <cstdlib>
#include <filesystem>
#include <iostream>

namespace fs = std::filesystem;

namespace particle::cli {

int runExport(int argc, char **argv) {
  const Args args(argc, argv, 2, {"--checkpoint", "--to", "--out"}, {"--force", "--keep-adapters"});
  if (args.positional.size() != 1)
    throw UsageError("export takes one project file");
  const std::string to = args.get("--to").value_or("pytorch");
  if (to != "pytorch" && to != "onnx")
    throw UsageError("--to needs pytorch or onnx, got \"" + to + "\"");
  const std::string file = args.positional[0];
  Project project;
  Validation v;
  if (auto code = loadValid(file, project, v))
    return *code;
  ExportOptions options;
  options.checkpoint = args.get("--checkpoint").value_or("");
  options.keepAdapters = args.get("--keep-adapters").has_value();
  if (auto out = args.get("--out"))
    options.outDir = *out;
  else
    options.outDir = options.checkpoint.empty() ? newRunFolder("runs", safeRunName(project.name) + "-export")
                                                : (fs::path(options.checkpoint).parent_path() / to).string();
  const auto claim = prepareOutFolder(options.outDir, args.get("--force").has_value(), false, "export");
  configureThreads(0);
  const ExportResult r = exportPyTorch(project, options, [](const std::string &step) { std::cout << step << "\n"; });
  std::cout << "exported " << project.name << " ("
            << (options.checkpoint.empty() ? "initial weights" : options.checkpoint) << ", " << r.dataDescription
            << ") to " << options.outDir << ":";
  for (const auto &f : r.files)
    std::cout << " " << fs::path(f).filename().string();
  std::cout << "\n";
  if (to == "onnx") {
    std::cout << exportOnnx(options.outDir);
  }
  // The check runs model.onnx too, with the ONNX Runtime this export found (model.py alone looks
  // only at $PARTICLE_ONNXRUNTIME and Node's own search).
  const std::string runtime = findOnnxRuntime();
  const bool withRuntime = to == "onnx" && !runtime.empty() && !std::getenv("PARTICLE_ONNXRUNTIME");
  std::cout << "check it: " << (withRuntime ? "PARTICLE_ONNXRUNTIME=" + runtime + " " : "") << "python3 "
            << options.outDir << "/model.py --check\n";
  return kExitOk;
}

} // namespace particle::cli
