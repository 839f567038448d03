#include "project/TrainingSpec.h"

#include "project/AugmentSpec.h"
#include "schema/Range.h"

#include <cmath>
#include <algorithm>

namespace particle {

const Schema &trainingSchema() {
  static const Schema schema = {
      enumField("optimizer", {"adam", "adamw", "sgd"}, "Optimiser"),
      positiveFloatField("lr", 1e-3, "Learning rate (the schedule scales it)"),
      when(floatField("momentum", 0.9, 0.0, 1.0, "SGD momentum"), "optimizer", {"sgd"}),
      when(boolField("nesterov", false, "Nesterov momentum"), "optimizer", {"sgd"}),
      advanced(floatField("weight_decay", 0.0, 0.0, 10.0, "L2 penalty (decoupled for adamw)")),
      advanced(zeroMeans(floatField("label_smoothing", 0.0, 0.0, 0.9,
                                    "The training loss's target gives the true class 1 − this and spreads this over "
                                    "every class (validation and test losses stay plain cross-entropy)"),
                         "off")),
      intField("batch_size", 128, 1, 1 << 20, "Samples per optimiser step"),
      intField("epochs", 5, 1, 100000, "Passes over the training data"),
      intField("seed", 0, 0, 9.2e18, "Seed of initialisation, shuffling and dropout"),
      textField("device", "auto", "auto (first CUDA device, else CPU), cpu, cuda or cuda:N"),
      enumField("precision", {"fp32", "bf16", "fp16"},
                "Arithmetic of the forward and backward passes (bf16: CPUs with AVX512_BF16 or AMX, and CUDA; fp16: "
                "CUDA); weights stay float32"),
      advanced(zeroMeans(intField("threads", 0, 0, 1024, "CPU threads"), "all cores")),
      advanced(
          intField("workers", 1, 1, 64, "Data-parallel worker processes on this machine (batch_size is per worker)")),
      enumField("schedule", {"constant", "step", "cosine"}, "Learning-rate schedule"),
      when(intField("step_size", 1, 1, 100000, "Epochs between decays"), "schedule", {"step"}),
      when(floatField("gamma", 0.1, 0.0, 1.0, "Decay factor"), "schedule", {"step"}),
      advanced(zeroMeans(intField("warmup_steps", 0, 0, 9.2e18, "Linear warm-up steps"), "none")),
      advanced(zeroMeans(floatField("grad_clip", 0.0, 0.0, 1e9, "Maximum global gradient norm"), "off")),
      advanced(zeroMeans(intField("early_stopping_patience", 0, 0, 100000,
                                  "Epochs without validation-loss improvement before stopping"),
                         "off")),
      advanced(zeroMeans(
          intField("contribution_samples", 256, 0, 100000, "Validation samples for the per-epoch contribution shares"),
          "off")),
      advanced(
          zeroMeans(intField("augment_time_shift", 0, 0, 100000,
                             "Training samples shifted along time (a spectrogram's frames, an image's columns) by a "
                             "random number of positions up to ± this, circularly: what leaves one end comes in at "
                             "the other (a word's end may wrap to the clip's start); fresh each epoch"),
                    "off")),
      advanced(
          zeroMeans(floatField("augment_freq_warp", 0.0, 0.0, 0.5,
                               "Training samples stretched along frequency (a spectrogram's rows from the lowest, an "
                               "image's rows from the top) by a random factor in [1 − this, 1 + this]"),
                    "off")),
      advanced(zeroMeans(intField("augment_time_masks", 0, 0, 100,
                                  "Masks (set to 0) across time per training sample, SpecAugment-style"),
                         "off")),
      advanced(intField("augment_time_mask_width", 10, 1, 100000,
                        "Widest time mask, in positions (frames, columns); at most the samples' width")),
      advanced(zeroMeans(intField("augment_freq_masks", 0, 0, 100,
                                  "Masks (set to 0) across frequency per training sample, SpecAugment-style"),
                         "off")),
      advanced(intField("augment_freq_mask_width", 8, 1, 100000,
                        "Widest frequency mask, in rows; at most the samples' height (a spectrogram's mels)")),
  };
  return schema;
}

namespace {
[[noreturn]] void bad(const std::string &key, const std::string &message) {
  throw KeyError(ErrorKind::Invalid, ProblemCode::BadTraining, "training", key, message);
}

int64_t whole(const Json &v) {
  return v.is_number_integer() ? v.get<int64_t>() : static_cast<int64_t>(v.get<double>());
}
} // namespace

TrainingSpec parseTrainingSpec(const Json &section) {
  TrainingSpec s;
  if (section.is_null())
    return s;
  if (!section.is_object())
    throw Error(ErrorKind::Invalid, "training: must be an object");
  const Schema &schema = trainingSchema();
  for (auto it = section.begin(); it != section.end(); ++it) {
    const Field *field = schema.find(it.key());
    if (!field)
      bad(it.key(), "unknown key (known: " + schema.names() + ")");
    const std::string problem = Schema::check(*field, it.value());
    if (!problem.empty())
      bad(it.key(), problem);
  }
  const Json v = schema.effective(section);
  s.optimizer = v["optimizer"].get<std::string>();
  s.lr = v["lr"].get<double>();
  s.momentum = v["momentum"].get<double>();
  s.nesterov = v["nesterov"].get<bool>();
  s.weightDecay = v["weight_decay"].get<double>();
  s.labelSmoothing = v["label_smoothing"].get<double>();
  s.batchSize = whole(v["batch_size"]);
  s.epochs = static_cast<int>(whole(v["epochs"]));
  s.seed = static_cast<uint64_t>(whole(v["seed"]));
  s.device = v["device"].get<std::string>();
  const bool cudaIndex = s.device.size() > 5 && s.device.size() <= 8 && s.device.rfind("cuda:", 0) == 0 &&
                         std::all_of(s.device.begin() + 5, s.device.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (s.device != "auto" && s.device != "cpu" && s.device != "cuda" && !cudaIndex)
    bad("device", "is " + v["device"].dump() + "; use auto, cpu, cuda or cuda:N");
  s.threads = static_cast<int>(whole(v["threads"]));
  s.workers = static_cast<int>(whole(v["workers"]));
  s.schedule = v["schedule"].get<std::string>();
  s.stepSize = static_cast<int>(whole(v["step_size"]));
  s.gamma = v["gamma"].get<double>();
  s.warmupSteps = whole(v["warmup_steps"]);
  s.gradClip = v["grad_clip"].get<double>();
  s.earlyStoppingPatience = static_cast<int>(whole(v["early_stopping_patience"]));
  s.contributionSamples = whole(v["contribution_samples"]);
  s.precision = v["precision"].get<std::string>();
  return s;
}

const char *AugmentSpec::firstKey() const {
  if (freqWarp > 0)
    return "augment_freq_warp";
  if (timeShift > 0)
    return "augment_time_shift";
  if (timeMasks > 0)
    return "augment_time_masks";
  return freqMasks > 0 ? "augment_freq_masks" : "";
}

std::string AugmentSpec::widthProblem(const std::vector<int64_t> &sample) const {
  if (sample.size() != 3)
    return {};
  auto tooWide = [&](const char *key, int64_t width, int64_t axis, const char *what, const char *letter) {
    std::string dims;
    for (int64_t d : sample)
      dims += (dims.empty() ? "" : ", ") + std::to_string(d);
    return std::string("training.") + key + ": " + std::to_string(width) + " is wider than the samples' " +
           std::to_string(axis) + " " + what + " (" + letter + " of [" + dims + "]); use at most " +
           std::to_string(axis);
  };
  if ((freqMasks > 0 || freqMaskWidthGiven) && freqMaskWidth > sample[1])
    return tooWide("augment_freq_mask_width", freqMaskWidth, sample[1], "frequency rows", "H");
  if ((timeMasks > 0 || timeMaskWidthGiven) && timeMaskWidth > sample[2])
    return tooWide("augment_time_mask_width", timeMaskWidth, sample[2], "time frames", "W");
  return {};
}

AugmentSpec parseAugmentSpec(const Json &section) {
  AugmentSpec a;
  if (section.is_null())
    return a;
  parseTrainingSpec(section); // every key checked, with its messages
  const Json v = trainingSchema().effective(section);
  a.timeShift = whole(v["augment_time_shift"]);
  a.freqWarp = v["augment_freq_warp"].get<double>();
  a.timeMasks = static_cast<int>(whole(v["augment_time_masks"]));
  a.timeMaskWidth = whole(v["augment_time_mask_width"]);
  a.freqMasks = static_cast<int>(whole(v["augment_freq_masks"]));
  a.freqMaskWidth = whole(v["augment_freq_mask_width"]);
  a.timeMaskWidthGiven = section.contains("augment_time_mask_width") && !section["augment_time_mask_width"].is_null();
  a.freqMaskWidthGiven = section.contains("augment_freq_mask_width") && !section["augment_freq_mask_width"].is_null();
  return a;
}

double scheduledLr(const TrainingSpec &spec, int64_t step, int64_t stepsPerEpoch) {
  double lr = spec.lr;
  const int64_t total = std::max<int64_t>(1, stepsPerEpoch * spec.epochs);
  if (spec.schedule == "step") {
    const int64_t epoch = stepsPerEpoch > 0 ? step / stepsPerEpoch : 0;
    const int64_t drops = epoch / spec.stepSize; // whole periods completed
    lr *= std::pow(spec.gamma, static_cast<double>(drops));
  } else if (spec.schedule == "cosine") {
    const int64_t after = std::max<int64_t>(0, step - spec.warmupSteps);
    const int64_t span = std::max<int64_t>(1, total - spec.warmupSteps);
    const double progress = std::min(1.0, static_cast<double>(after) / static_cast<double>(span));
    lr *= 0.5 * (1.0 + std::cos(M_PI * progress));
  }
  if (spec.warmupSteps > 0 && step < spec.warmupSteps)
    lr *= static_cast<double>(step + 1) / static_cast<double>(spec.warmupSteps);
  return lr;
}

} // namespace particle
