#include "train/TrainingSpec.h"

#include <cmath>
#include <regex>

namespace particle {

namespace {
[[noreturn]] void bad(const std::string &key, const std::string &message) {
  throw Error(ErrorKind::Invalid, "training." + key + ": " + message);
}

double number(const Json &v, const std::string &key, double min, double max) {
  if (!v.is_number())
    bad(key, "must be a number, got " + v.dump());
  const double x = v.get<double>();
  if (!(x >= min && x <= max))
    bad(key, "is " + v.dump() + ", outside the allowed range [" + Json(min).dump() + ", " + Json(max).dump() + "]");
  return x;
}

int64_t integer(const Json &v, const std::string &key, int64_t min, int64_t max) {
  if (!v.is_number_integer())
    bad(key, "must be an integer, got " + v.dump());
  const int64_t x = v.get<int64_t>();
  if (x < min || x > max)
    bad(key,
        "is " + v.dump() + ", outside the allowed range [" + std::to_string(min) + ", " + std::to_string(max) + "]");
  return x;
}

std::string word(const Json &v, const std::string &key, std::initializer_list<const char *> choices) {
  std::string list;
  for (auto c : choices)
    list += (list.empty() ? "" : ", ") + std::string(c);
  if (!v.is_string())
    bad(key, "must be one of: " + list);
  for (auto c : choices)
    if (v.get<std::string>() == c)
      return c;
  bad(key, "is " + v.dump() + "; choose one of: " + list);
}
} // namespace

TrainingSpec parseTrainingSpec(const Json &section) {
  TrainingSpec s;
  if (section.is_null())
    return s;
  if (!section.is_object())
    throw Error(ErrorKind::Invalid, "training: must be an object");
  for (auto it = section.begin(); it != section.end(); ++it) {
    const std::string &k = it.key();
    const Json &v = it.value();
    if (k == "optimizer")
      s.optimizer = word(v, k, {"sgd", "adam", "adamw"});
    else if (k == "lr")
      s.lr = number(v, k, 0.0, 1e9);
    else if (k == "momentum")
      s.momentum = number(v, k, 0.0, 1.0);
    else if (k == "nesterov") {
      if (!v.is_boolean())
        bad(k, "must be true or false");
      s.nesterov = v.get<bool>();
    } else if (k == "weight_decay")
      s.weightDecay = number(v, k, 0.0, 10.0);
    else if (k == "batch_size")
      s.batchSize = integer(v, k, 1, 1 << 20);
    else if (k == "epochs")
      s.epochs = static_cast<int>(integer(v, k, 1, 100000));
    else if (k == "seed")
      s.seed = static_cast<uint64_t>(integer(v, k, 0, INT64_MAX));
    else if (k == "device") {
      static const std::regex pattern("auto|cpu|cuda(:[0-9]+)?");
      if (!v.is_string() || !std::regex_match(v.get<std::string>(), pattern))
        bad(k, "is " + v.dump() + "; use auto, cpu, cuda or cuda:N");
      s.device = v.get<std::string>();
    } else if (k == "threads")
      s.threads = static_cast<int>(integer(v, k, 0, 1024));
    else if (k == "schedule")
      s.schedule = word(v, k, {"constant", "step", "cosine"});
    else if (k == "step_size")
      s.stepSize = static_cast<int>(integer(v, k, 1, 100000));
    else if (k == "gamma")
      s.gamma = number(v, k, 0.0, 1.0);
    else if (k == "warmup_steps")
      s.warmupSteps = integer(v, k, 0, INT64_MAX);
    else if (k == "grad_clip")
      s.gradClip = number(v, k, 0.0, 1e9);
    else if (k == "early_stopping_patience")
      s.earlyStoppingPatience = static_cast<int>(integer(v, k, 0, 100000));
    else if (k == "contribution_samples")
      s.contributionSamples = integer(v, k, 0, 100000);
    else
      throw Error(ErrorKind::Invalid, "training." + k +
                                          ": unknown key (known: optimizer, lr, momentum, nesterov, weight_decay, "
                                          "batch_size, epochs, seed, device, threads, schedule, step_size, gamma, "
                                          "warmup_steps, grad_clip, early_stopping_patience, contribution_samples)");
  }
  return s;
}

double scheduledLr(const TrainingSpec &spec, int64_t step, int64_t stepsPerEpoch) {
  double lr = spec.lr;
  const int64_t total = std::max<int64_t>(1, stepsPerEpoch * spec.epochs);
  if (spec.schedule == "step") {
    const int64_t epoch = stepsPerEpoch > 0 ? step / stepsPerEpoch : 0;
    lr *= std::pow(spec.gamma, static_cast<double>(epoch / spec.stepSize));
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
