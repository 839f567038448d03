#pragma once
// Explaining a checkpoint, the one recipe `particle explain` and the app's Explain tab share:
// load the data and the checkpoint's weights once, then explain test samples over every Combine,
// and per sample the integrated-gradients saliency of each branch and the attention maps.

#include "data/Dataset.h"
#include "explain/Explainer.h"
#include "project/Project.h"
#include "model/Model.h"

#include <string>
#include <vector>

namespace particle {

// What a branch reads of an audio (logmel) sample, from its region (ExplainSession::branchRegions):
// "120–560 Hz" for a band (the centres of its lowest and highest mel rows), "0.25–0.50 s" for a
// time window, both for a part cut both ways; empty for the whole sample and for other data.
std::string audioPartRange(const std::vector<int64_t> &region, const DataInfo &data);

// The order test samples are explained in, as indices into the test split: each class's samples in
// their stored order, the classes taken in turn in proportion to their size (a sample's place is
// its rank within its class over the class's size; ties go to the class seen first). Any first N
// thus cover the classes in proportion to the split, however it is sorted (a folder data set's
// test split is class by class), and the same N every time; test sample 0 comes first.
std::vector<int64_t> explainOrder(const torch::Tensor &labels);

class ExplainSession {
public:
  // Loads the data set and the checkpoint (refused when damaged or of another graph) without
  // disturbing a training run on another thread (RngIsolation). Throws Error.
  ExplainSession(const Project &project, const std::string &checkpoint);

  const Project &project() const { return project_; }
  const Dataset &data() const { return data_; }
  const DataInfo &info() const { return data_.info; }
  ParticleModel model() const { return model_; }
  const std::string &checkpoint() const { return checkpoint_; }

  // The first `samples` test samples in explainOrder (fewer when the test split is smaller): the
  // explained samples, which the CLI and the app both take from here.
  torch::Tensor samples(int64_t samples) const;
  torch::Tensor labels(int64_t samples) const;
  // What the first `samples` explained samples are: "200 of 480 test samples, drawn across the 10
  // classes" (or "all 480 test samples, …").
  std::string samplesText(int64_t samples) const;
  // Where the first `samples` explained samples came from (their files, for image and audio
  // folders: "test/eight/en-029-m3.wav"); empty when the data does not say.
  std::vector<std::string> sampleNames(int64_t samples) const;

  // Attributions over every Combine for the first `samples` explained samples.
  Explanation explain(const ExplainOptions &options, int64_t samples);
  // explain.json's body (with the class names, the checkpoint and the accuracy on these samples).
  Json toJson(const Explanation &e) const;

  // Integrated gradients of the target logit w.r.t. each branch's own input of `combine`,
  // stitched into the sample (one sample: index into the explained samples).
  std::vector<Explainer::Saliency> saliency(int64_t sample, int64_t target, const std::string &combine,
                                            int points = 32);
  // The same for the first `count` explained samples, each toward its explained class (every
  // branch's map holds `count` samples).
  std::vector<Explainer::Saliency> saliency(const Explanation &e, const std::string &combine, int64_t count);
  // The files `particle explain` writes beside explain.json, whose body `j` gains their names: per
  // Combine the class × branch heat map (class_branch_<combine>.png) and, with Shapley values, for
  // images each branch's mean |saliency| over up to 16 samples (saliency_<branch>.png, with the
  // integrated gradients' largest completeness error), for audio (logmel) spectrograms with axes in
  // s and Hz — test sample 0 with each branch's band (spectrogram_<combine>), the branches'
  // saliency over up to 16 samples stitched into one time × frequency map with each band's share
  // (saliency_<combine>) and the shares as bars (shares_<combine>), each as .png and .svg — and for
  // text the words that drove each decision over up to 20 samples (tokens.jsonl, one line per
  // sample, and tokens.html).
  void writeFiles(const Explanation &e, const ExplainOptions &options, const std::string &dir, Json &j);
  // Attention maps of every Attention sub-model for one explained sample: per layer [1, heads, T, T].
  std::map<std::string, std::vector<torch::Tensor>> attention(int64_t sample);

  // For each branch of `combine`: the flat indices of the input sample it reads (through the
  // Decomposer upstream), or empty when it reads the whole input. The app draws part borders and
  // token boundaries from these.
  std::vector<std::vector<int64_t>> branchRegions(const std::string &combine) const;

private:
  Project project_;
  std::string checkpoint_;
  Dataset data_;
  ParticleModel model_{nullptr};
  torch::Tensor order_; // explainOrder of the test labels
};

} // namespace particle
