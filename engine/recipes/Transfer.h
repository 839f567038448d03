#pragma once
// The transfer experiment (`particle transfer`, the Experiments tab): a particle trained on task A
// reused on task B with few labels. The source project is trained once (or its checkpoint given);
// then for each number N of labelled target samples (drawn per seed with the data set's
// limit_seed; the validation and test splits stay the same) and each seed, the target project is
// trained in five modes — the particle frozen, the particle with LoRA adapters, the particle
// fine-tuned, the same graph from scratch, and the monolithic baseline (recipes/Variants.h) from
// scratch. Every trial is a `particle train` process, as in the search, so one that fails is
// recorded and the others go on; transfer.json is written after every trial, and a transfer run
// again in the same folder with the same settings takes the trials it finished. Torch-free.

#include "project/Project.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace particle {

// The modes, in the order they are run and shown.
inline const std::vector<std::string> &transferModes() {
  static const std::vector<std::string> modes = {"frozen", "lora", "finetune", "scratch", "monolithic"};
  return modes;
}

struct TransferOptions {
  std::string program; // the `particle` CLI, which trials run
  std::string outDir;  // source/, projects/, trials/, logs/, transfer.json, transfer.csv
  // Target node ids that take the particle, each "ID" (the source's node of the same id) or
  // "ID=SOURCE_ID"; every member of a target node's share group takes it too.
  std::vector<std::string> nodes;
  std::vector<int64_t> sizes = {50, 200, 1000, 5000};
  int seeds = 3;
  int epochs = 0; // of each target trial (0: the target project's)
  // At least this many optimiser steps per trial: a small N gets more epochs (ceil(steps ÷ its
  // batches per epoch)), so that 50 samples are not one step. 0: the epochs alone.
  int minSteps = 0;
  int sourceEpochs = 0;         // of the source run (0: the source project's)
  std::string sourceCheckpoint; // given: the source is not trained
  std::vector<std::string> modes = transferModes();
  int64_t loraRank = 4;
  double loraAlpha = 8;
  int jobs = 1; // trials at once (each with cores/jobs threads)
};

struct TransferTrial {
  std::string mode;
  int64_t size = 0;
  int seed = 0;
  std::string status;  // completed, failed, diverged
  std::string message; // why it failed
  double testAccuracy = 0, valAccuracy = 0, seconds = 0;
  int64_t trainedParameters = 0;
  std::string runDir;
  bool ok() const { return status == "completed"; }
};

// One cell of the table: a mode at one size over its completed seeds.
struct TransferCell {
  std::string mode;
  int64_t size = 0;
  int runs = 0; // completed seeds
  double mean = 0, sd = 0;
  std::vector<double> values; // per seed, in seed order
};

struct TransferResult {
  std::string source, target; // project names
  std::string sourceCheckpoint;
  double sourceTestAccuracy = 0; // of the source run (0 when the checkpoint was given without one)
  std::vector<std::string> nodes, modes;
  std::vector<int64_t> sizes;
  int seeds = 0, epochs = 0;
  std::map<std::string, int64_t> trainedParameters; // by mode
  std::vector<TransferTrial> trials;                // in the order they finished
  std::string notes;                                // e.g. why a mode was left out
  Json settings;                                    // compared when a transfer continues
  std::vector<TransferCell> table() const;          // modes × sizes, in that order
};

struct TransferObserver {
  virtual ~TransferObserver() = default;
  virtual void onSourceStarted(const std::string & /*runDir*/) {}
  virtual void onSourceFinished(double /*testAccuracy*/, double /*seconds*/) {}
  virtual void onPlan(int /*trials*/) {} // how many trials in all, the earlier ones included
  virtual void onTrialFinished(const TransferTrial & /*trial*/, bool /*reused*/) {}
};

// The target project in `mode` for one trial: N samples drawn with seed `seed`, the particle's
// nodes initialised from `checkpoint` (frozen, with adapters or fine-tuned), its epochs (and
// minSteps) written in, without the per-epoch contribution shares, paths absolute.
// Throws Error(Invalid) naming the node when a --nodes entry is not in either graph, and for
// "monolithic" when the target graph has nothing to make a monolithic baseline of.
Project transferProject(const Project &target, const std::string &mode, const TransferOptions &options,
                        const std::string &checkpoint, int64_t size, int seed);

// Runs (or continues) the experiment. Throws Error(Usage) for bad options, Error(Training) when
// the source run fails.
TransferResult runTransfer(const Project &source, const Project &target, const TransferOptions &options,
                           TransferObserver *observer = nullptr);

// transfer.json's body and transfer.csv ("mode,size,seed,test_accuracy,trained_parameters,status").
Json transferJson(const TransferResult &r);
std::string transferCsv(const TransferResult &r);
// transfer.json read back (the Experiments tab); a field of the wrong shape throws Error(File)
// naming the file and the field.
TransferResult readTransferFile(const std::string &path);

} // namespace particle
