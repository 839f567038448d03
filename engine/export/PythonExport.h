#pragma once
// PyTorch export: a project (and a checkpoint of it) as plain Python that runs without Particle
// Studio — model.py (one nn.Module per node, named by node id, the same state-dict names as the
// engine's), weights.pt, reference.pt (an input batch and the engine's logits for it), data.pt
// (the splits as the engine loaded them), train.py (the same training with plain PyTorch, and
// DistributedDataParallel under torchrun) and onnx_run.mjs (model.onnx through ONNX Runtime's Node.js
// binding). ONNX goes through the exported module: see exportOnnx.
// Torch-free header: the app includes it.

#include "project/Project.h"

#include <functional>
#include <string>
#include <vector>

namespace particle {

struct ExportOptions {
  std::string checkpoint;        // empty: the model as a run would start it (seeded initial weights)
  std::string outDir;            // created; files in it are replaced
  int64_t referenceSamples = 16; // test samples in reference.pt
  bool writeData = true;         // data.pt, which train.py trains on
  // Low-rank adapters as model.py modules of their own (`adapt`), instead of merged into the
  // weights they adapt (W0 + (alpha/rank)·B·A, the default: model.py is then the plain network).
  bool keepAdapters = false;
};

struct ExportResult {
  std::vector<std::string> files; // what was written, in order
  int64_t referenceSamples = 0;
  std::string dataDescription;
};

// Writes the PyTorch export (model.py: every node's class from its NodeType::pythonClass). Throws Error: Invalid for an
// invalid project, File for data, a checkpoint of another graph or a damaged one, or a folder that cannot be written.
// `progress` hears each step ("loading data", "writing data.pt", …).
ExportResult exportPyTorch(const Project &project, const ExportOptions &options,
                           const std::function<void(const std::string &)> &progress = {});

// A Python 3 with PyTorch: $PARTICLE_PYTHON, else the first of python3 on PATH and /usr/bin/python3
// that imports torch. Empty when there is none.
std::string findPythonWithTorch();

// ONNX Runtime for the export check: the folder an `npm install --prefix DIR onnxruntime-node` went
// to (DIR/node_modules/onnxruntime-node, which onnx_run.mjs loads with Node.js). $PARTICLE_ONNXRUNTIME
// when set (as it is: a wrong folder is reported by the check, not passed over), else the checkout's
// .deps/onnxruntime where scripts/setup.sh installs it. Empty when neither applies.
std::string findOnnxRuntime();

// Runs `python model.py --onnx model.onnx` in an export folder: model.onnx, checked by onnx.checker
// where the onnx package is installed, then run on reference.pt by ONNX Runtime (findOnnxRuntime;
// without it the output says the logits were not compared, with the install command). Returns the
// script's output; throws Error(File) with that output when it fails (logits off by more than 1e-4,
// a model the runtime refuses), or when no Python with PyTorch is found.
std::string exportOnnx(const std::string &exportDir);

} // namespace particle
