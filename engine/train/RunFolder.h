#pragma once
// A run's folder, written by the trainer and read back by both front ends (the Train tab's run
// history, `particle search`, `particle robustness`): project.particle.json (the project as it
// trained, data paths absolute), metrics.csv (one row per epoch), summary.json (how the run
// ended), checkpoint.pt and weights.pt. One writer and one reader, so that a column or a key is
// named once. Torch-free.

#include "base/Json.h"
#include "project/Project.h"
#include "train/Events.h"

#include <cstdint>
#include <utility>
#include <string>
#include <vector>

namespace particle {

struct Dataset;

// One epoch of a run: a row of metrics.csv, and of the metrics a checkpoint carries (which also
// keep the branch shares).
struct RunEpoch {
  int epoch = 0; // 1-based
  int64_t step = 0;
  double trainLoss = 0, trainAccuracy = 0, valLoss = 0, valAccuracy = 0, lr = 0, seconds = 0, samplesPerSecond = 0;
  std::vector<std::pair<std::string, double>> shares; // "combine/branch" → share, when an epoch hook computed them
};
RunEpoch toRunEpoch(const EpochEvent &ev);
// The row as a checkpoint keeps it, and back: every field type-checked, a wrong one is an
// Error(File) naming `file` and the field under `where` ("metadata.metrics[2]").
Json runEpochJson(const RunEpoch &epoch);
RunEpoch runEpochFromJson(const Json &row, const std::string &file, const std::string &where);

// summary.json: how a run ended and what it trained.
struct RunRecord {
  // Status, message, accuracies, losses, counts, timings, parameters, device and threads (the
  // error kind and the checkpoint's path are not kept).
  RunSummary summary;
  std::string name; // the project's
  // The project file the run trained (absolute; empty for a project never saved): the Train tab's
  // history leaves out a run of another project of the same name in the same runs folder.
  std::string projectFile;
  int workers = 1;
  uint64_t seed = 0;
  std::string graphHash;
  std::string dataset; // the data set's description
  std::vector<std::string> classNames;
};

// Where a run writes. An empty folder writes nothing (a run without outputs, or a data-parallel
// worker other than rank 0).
class RunFolder {
public:
  explicit RunFolder(std::string dir = {}) : dir_(std::move(dir)) {}
  bool empty() const { return dir_.empty(); }
  const std::string &dir() const { return dir_; }
  std::string checkpoint() const { return file("checkpoint.pt"); } // empty without a folder
  std::string weights() const { return file("weights.pt"); }

  // The project as the run trained it, its data paths absolute so that the copy still names the
  // data, with what its data kind keeps of the loaded `data` (explaining and resuming read the
  // data as this run did).
  void writeProject(const Project &project, const Dataset &data) const;
  void writeMetrics(const std::vector<RunEpoch> &epochs) const;
  void writeSummary(const RunRecord &record) const;

private:
  std::string file(const char *name) const { return dir_.empty() ? std::string() : dir_ + "/" + name; }
  std::string dir_;
};

// Sets summary.json's peak_gflops of the run in `runDir` (rewritten whole, atomically; the other
// fields as they were): the app measures the peak after a run that found none cached, or a stale
// one, and the file keeps the figure the Train tab shows the run's fraction of. Throws Error(File).
void writeRunPeak(const std::string &runDir, double peakGflops);
// The run's summary.json. Throws Error(File) naming the file, and the field when one is of the
// wrong type (only the status is required; the other fields default to zero or empty).
RunRecord readRunSummary(const std::string &runDir);
// Every epoch of the run's metrics.csv, in order; columns are found by their header names (a
// missing one reads as 0); empty when there is no such file. A cell that is not a number is an
// Error(File) naming the file, the line and the column.
std::vector<RunEpoch> readRunMetrics(const std::string &runDir);

} // namespace particle
