#include "project/ProjectCheck.h"

#include "data/DatasetSpec.h"
#include "data/TextLengths.h"
#include "project/TrainingSpec.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>

#include <sys/resource.h>
#include <unistd.h>

namespace particle {

namespace {
int64_t memoryOverride() {
  const char *env = std::getenv("PARTICLE_MEMORY_BYTES");
  if (!env || !*env)
    return 0;
  char *end = nullptr;
  const long long v = std::strtoll(env, &end, 10);
  return end && *end == '\0' && v > 0 ? static_cast<int64_t>(v) : 0;
}

// A number from a one-line file ("max" or missing: 0).
int64_t numberIn(const char *path) {
  std::ifstream in(path);
  long long v = 0;
  return in >> v && v > 0 ? static_cast<int64_t>(v) : 0;
}

// A field of /proc's "Key:  N kB" files, in bytes (0: absent).
int64_t kibField(const char *path, const std::string &name) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (line.compare(0, name.size(), name) == 0)
      return static_cast<int64_t>(std::strtoll(line.c_str() + name.size(), nullptr, 10)) * 1024;
  return 0;
}

// The smaller of two limits, 0 meaning none.
int64_t tighter(int64_t a, int64_t b) {
  return a <= 0 ? b : (b <= 0 ? a : std::min(a, b));
}

// What this process may map at most (ulimit -v), 0 when unlimited.
int64_t addressSpaceLimit() {
  rlimit r{};
  return getrlimit(RLIMIT_AS, &r) == 0 && r.rlim_cur != RLIM_INFINITY ? static_cast<int64_t>(r.rlim_cur) : 0;
}
} // namespace

int64_t machineMemoryBytes() {
  if (const int64_t v = memoryOverride())
    return v;
  const long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGE_SIZE);
  int64_t bytes = pages > 0 && size > 0 ? static_cast<int64_t>(pages) * size : 0;
  // A container's limit (cgroup v2) and the process's address-space limit are the machine too.
  bytes = tighter(bytes, numberIn("/sys/fs/cgroup/memory.max"));
  return tighter(bytes, addressSpaceLimit());
}

int64_t availableMemoryBytes() {
  if (const int64_t v = memoryOverride())
    return v;
  int64_t bytes = tighter(kibField("/proc/meminfo", "MemAvailable:"), machineMemoryBytes());
  if (const int64_t max = numberIn("/sys/fs/cgroup/memory.max"))
    bytes = tighter(bytes, std::max<int64_t>(1, max - numberIn("/sys/fs/cgroup/memory.current")));
  if (const int64_t limit = addressSpaceLimit())
    bytes = tighter(bytes, std::max<int64_t>(1, limit - kibField("/proc/self/status", "VmSize:")));
  return bytes;
}

std::string memoryText(int64_t bytes) {
  const char *units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  auto v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 6) {
    v /= 1024;
    ++u;
  }
  char text[32];
  if (u == 0)
    std::snprintf(text, sizeof text, "%lld bytes", static_cast<long long>(bytes));
  else
    std::snprintf(text, sizeof text, v < 10 ? "%.1f %s" : "%.0f %s", v, units[u]);
  return text;
}

std::string memoryBreakdown(const Validation::Memory &m) {
  std::string out = "weights " + memoryText(m.weights) + ", gradients " + memoryText(m.gradients);
  if (m.optimizer > 0)
    out += ", optimizer state " + memoryText(m.optimizer);
  out += ", activations " + memoryText(m.activations);
  if (m.data > 0)
    out += ", data set " + memoryText(m.data);
  return out;
}

namespace {

// The checks that need more than the graph: the sections, the data set's probe, and what the
// data and the training settings say about the graph the graph checks inferred.
class ProjectCheck {
public:
  ProjectCheck(const Project &project, const DataInfo *data)
      : project_(project), graph_(project.graph), input_(inputNodeId(project.graph)) {
    if (data) {
      v_.data = *data;
      v_.dataKnown = true;
    }
  }

  Validation run() {
    // The sections' problems and the data's come first, as a reader meets them in the file.
    checkSections();
    checkClassCounts();
    Validation sections = std::move(v_);
    v_ = validateGraph(graph_, sections.dataKnown ? &sections.data : nullptr);
    for (const auto &p : sections.problems)
      if (p.isError() && !p.node.empty())
        v_.nodes.at(p.node).ok = false;
    v_.problems.insert(v_.problems.begin(), sections.problems.begin(), sections.problems.end());
    checkClasses();
    checkPaddingParts();
    estimateMemory();
    return std::move(v_);
  }

private:
  Problem &report(Problem::Severity severity, ProblemCode code, const std::string &node, const std::string &message) {
    Problem p;
    p.severity = severity;
    p.code = code;
    p.node = node;
    p.message = message;
    if (severity == Problem::Severity::Error && !node.empty())
      if (auto it = v_.nodes.find(node); it != v_.nodes.end())
        it->second.ok = false;
    v_.problems.push_back(p);
    return v_.problems.back();
  }
  Problem &error(ProblemCode code, const std::string &node, const std::string &message) {
    return report(Problem::Severity::Error, code, node, message);
  }
  Problem &warning(ProblemCode code, const std::string &node, const std::string &message) {
    return report(Problem::Severity::Warning, code, node, message);
  }

  void checkSections() {
    // A data problem belongs to the node that reads the data, so the editor can show it there.
    if (!v_.dataKnown) {
      try {
        v_.data = probeDataset(parseDatasetSpec(project_.dataset, project_.baseDir()));
        v_.dataKnown = true;
      } catch (const Error &e) {
        // The message starts with "dataset.key: " or a file name; keep it whole.
        const auto *key = dynamic_cast<const KeyError *>(&e);
        const bool file = e.kind() == ErrorKind::File;
        ProblemCode code = file ? ProblemCode::DataUnavailable : ProblemCode::BadDataset;
        if (key)
          code = key->code();
        Problem &p = error(code, input_, e.what());
        p.kind = file ? ErrorKind::File : ErrorKind::Invalid;
        if (key)
          p.param = key->key();
      }
    }
    try {
      parseTrainingSpec(project_.training);
    } catch (const KeyError &e) {
      error(e.code(), std::string(), e.what()).param = e.key();
    } catch (const Error &e) {
      error(ProblemCode::BadTraining, std::string(), e.what());
    }
  }

  // Classes with very few samples (a label cut short or misspelt makes a class of its own): said on
  // the data source, when the probe counted the labels.
  void checkClassCounts() {
    constexpr int64_t kFewSamples = 5;
    if (!v_.dataKnown || v_.data.classCounts.empty())
      return;
    const auto &counts = v_.data.classCounts;
    int64_t total = 0;
    for (int64_t c : counts)
      total += c;
    auto samples = [](int64_t n) { return std::to_string(n) + (n == 1 ? " sample" : " samples"); };
    std::string few, one;
    int rare = 0;
    for (std::size_t c = 0; c < counts.size(); ++c) {
      if (counts[c] >= kFewSamples)
        continue;
      const std::string name = "\"" + className(v_.data, static_cast<int64_t>(c)) + "\"";
      if (rare == 0)
        one = "class " + name + " has " + samples(counts[c]);
      if (rare++ < 8)
        few += (few.empty() ? "" : ", ") + name + " (" + std::to_string(counts[c]) + ")";
    }
    if (rare == 0)
      return;
    if (rare > 8)
      few += " and " + std::to_string(rare - 8) + " more";
    warning(ProblemCode::RareClass, input_,
            (rare == 1 ? one : "classes " + few + " have fewer than " + samples(kFewSamples)) + " of " +
                std::to_string(total) +
                ": too few to learn or to measure (a label cut short or misspelt makes a class of its own)");
  }

  void checkClasses() {
    const std::string output = outputNodeId(graph_);
    if (output.empty() || !v_.dataKnown || v_.data.classes < 2)
      return;
    const NodeInfo &info = v_.nodes.at(output);
    if (!info.params.is_object() || !info.params.contains("classes") || !info.params["classes"].is_number())
      return;
    const auto classes = static_cast<int64_t>(info.params["classes"].get<double>());
    if (classes > 0 && classes < v_.data.classes)
      error(ProblemCode::ClassCountMismatch, output,
            "classes = " + std::to_string(classes) + " but the data set has " + std::to_string(v_.data.classes) +
                " classes (labels 0.." + std::to_string(v_.data.classes - 1) + "); set classes to 0 (from data) or ≥ " +
                std::to_string(v_.data.classes))
          .param = "classes";
  }

  // Whether node `id` reads nothing but the data source (one edge in, from the Input).
  bool readsOnlyTheInput(const std::string &id) const {
    int in = 0;
    bool fromInput = false;
    for (const auto &e : graph_.edges)
      if (e.to.node == id) {
        ++in;
        fromInput = e.from.node == input_;
      }
    return in == 1 && fromInput;
  }

  // Text: a part of a Split over the token ids that is only padding for most training texts
  // (max_tokens far beyond their lengths) sees nothing in most samples.
  void checkPaddingParts() {
    const Json &section = project_.dataset;
    if (input_.empty() || !v_.dataKnown || v_.data.vocabulary.empty() || !section.is_object() ||
        section.value("kind", std::string()) != "text")
      return;
    std::optional<TokenLengths> lengths;
    try {
      lengths = textTokenLengths(parseDatasetSpec(section, project_.baseDir()));
    } catch (const std::exception &) {
      return; // the data's own problem is reported where it is probed
    }
    if (!lengths || lengths->lengths.empty() || lengths->lengths.front().empty() || lengths->maxTokens <= 0)
      return;
    const int64_t t = lengths->maxTokens;
    const auto fields = static_cast<int64_t>(lengths->lengths.size());
    const auto texts = static_cast<int64_t>(lengths->lengths.front().size());
    for (const auto &id : v_.order) {
      const NodeType *type = Catalogue::instance().find(graph_.find(id)->type);
      const NodeInfo &info = v_.nodes.at(id);
      if (!type || type->role != NodeRole::Decomposer || !type->partIndices || !info.shapesKnown ||
          info.inputs.size() != 1 || info.inputs[0] != Shape{t * fields} || !readsOnlyTheInput(id))
        continue;
      // Parts cut at each text's own length have no fixed positions to be padding.
      if (type->cutsEachSample && type->cutsEachSample(info.params))
        continue;
      const auto parts = type->partIndices(info.params, info.inputs[0]);
      for (std::size_t k = 0; k < parts.size(); ++k) {
        // Per field, the part's first position: a text no longer than that gives the part only padding.
        std::vector<int64_t> first(static_cast<std::size_t>(fields), std::numeric_limits<int64_t>::max());
        int64_t lo = std::numeric_limits<int64_t>::max(), hi = -1;
        for (int64_t idx : parts[k]) {
          auto &f = first[static_cast<std::size_t>(idx / t)];
          f = std::min(f, idx % t);
          lo = std::min(lo, idx);
          hi = std::max(hi, idx);
        }
        int64_t padding = 0;
        for (int64_t s = 0; s < texts; ++s) {
          bool empty = true;
          for (std::size_t f = 0; f < first.size() && empty; ++f)
            empty = first[f] == std::numeric_limits<int64_t>::max() ||
                    lengths->lengths[f][static_cast<std::size_t>(s)] <= first[f];
          padding += empty ? 1 : 0;
        }
        if (2 * padding <= texts)
          continue;
        std::vector<int64_t> all;
        for (const auto &field : lengths->lengths)
          all.insert(all.end(), field.begin(), field.end());
        const LengthSummary sum = summarizeLengths(all, t);
        warning(ProblemCode::PartMostlyPadding, id,
                "output " + std::to_string(k) + " (token positions " + std::to_string(lo) + "–" + std::to_string(hi) +
                    ") is only padding for " + std::to_string((100 * padding + texts / 2) / texts) + "% of the " +
                    std::to_string(texts) + " training texts (median length " + std::to_string(sum.median) +
                    " tokens, 95th percentile " + std::to_string(sum.p95) + ", dataset.max_tokens " +
                    std::to_string(t) + "); lower dataset.max_tokens (e.g. to " + std::to_string(sum.suggested) +
                    ") or use mode \"proportional\", which cuts each text at its own length")
            .param = "mode";
      }
    }
  }

  // Training's memory at the batch size: 4-byte weights, as many gradients, the optimizer's state
  // (Adam: two moments; SGD with momentum: one), every node's outputs kept for the backward pass
  // (and their gradients), and the data set, which the trainer holds whole on the device.
  // Compared with the machine's memory; a CUDA device's is checked by the trainer.
  void estimateMemory() {
    TrainingSpec spec;
    try {
      spec = parseTrainingSpec(project_.training);
    } catch (const Error &) {
      return; // reported by checkSections
    }
    constexpr double kFloat = 4;
    const double optimizerCopies = spec.optimizer == "sgd" ? (spec.momentum > 0 ? 1 : 0) : 2;
    const auto batch = static_cast<double>(spec.batchSize);
    double weights = 0, activations = 0, largest = 0;
    std::string largestNode;
    for (const auto &n : graph_.nodes) {
      if (!v_.sharing.nodes.count(n.id))
        continue;
      const NodeInfo &info = v_.nodes.at(n.id);
      const auto own = static_cast<double>(v_.sharing.ownParameters(n.id, info.parameters, info.trunkParameters));
      double outputs = 0;
      for (const Shape &shape : info.outputs)
        outputs += static_cast<double>(shapeNumel(shape));
      weights += own;
      const double act = outputs * batch * kFloat * 2;
      activations += act;
      const double mine = own * kFloat * (2 + optimizerCopies) + act;
      if (mine > largest) {
        largest = mine;
        largestNode = n.id;
      }
    }
    double data = 0;
    if (v_.dataKnown && v_.data.trainCount >= 0)
      data = static_cast<double>(shapeNumel(v_.data.sampleShape)) * kFloat *
             static_cast<double>(v_.data.trainCount + std::max<int64_t>(0, v_.data.validationCount) +
                                 std::max<int64_t>(0, v_.data.testCount));
    const auto bytes = [](double v) {
      return v >= 9.2e18 ? std::numeric_limits<int64_t>::max() : static_cast<int64_t>(v);
    };
    Validation::Memory &m = v_.memory;
    m.weights = bytes(weights * kFloat);
    m.gradients = m.weights;
    m.optimizer = bytes(weights * kFloat * optimizerCopies);
    m.activations = bytes(activations);
    m.data = bytes(data);
    if (spec.device.rfind("cuda", 0) == 0)
      return; // the device's memory, not the machine's: the trainer checks it
    const int64_t total = m.total(), machine = machineMemoryBytes(), available = availableMemoryBytes();
    if (machine <= 0 || total <= 0)
      return;
    const std::string needs = "training needs about " + memoryText(total) + " of memory at batch size " +
                              std::to_string(spec.batchSize) + " (" + memoryBreakdown(m) + ")";
    std::string largestText;
    if (!largestNode.empty() && v_.nodes.at(largestNode).parameters > 0)
      largestText = "; the largest part is this node, " + std::to_string(v_.nodes.at(largestNode).parameters) +
                    " parameters (" + memoryText(bytes(largest)) +
                    " with its gradients, optimizer state and activations)";
    if (total > machine) {
      Problem &p = error(ProblemCode::MemoryTooLarge, largestNode,
                         needs + ", more than the " + memoryText(machine) + " this machine has" + largestText +
                             ": make the model narrower or lower training.batch_size");
      p.kind = ErrorKind::Invalid;
    } else if (static_cast<double>(total) > 0.8 * static_cast<double>(available)) {
      warning(ProblemCode::MemoryHigh, largestNode,
              needs + ", " +
                  std::to_string(static_cast<int>(100.0 * static_cast<double>(total) /
                                                  static_cast<double>(std::max<int64_t>(1, available)))) +
                  "% of the " + memoryText(available) + " free on this machine now" + largestText);
    }
  }

  const Project &project_;
  const Graph &graph_;
  const std::string input_; // the data source, empty when the graph has none
  Validation v_;
};

} // namespace

Validation validate(const Project &project, const DataInfo *data) {
  return ProjectCheck(project, data).run();
}

} // namespace particle
