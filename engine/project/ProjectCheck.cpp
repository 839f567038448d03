#include "project/ProjectCheck.h"

#include "data/DatasetSpec.h"
#include "data/TextLengths.h"
#include "project/AugmentSpec.h"
#include "project/PartFile.h"
#include "project/Precision.h"
#include "project/TrainingSpec.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>

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

std::string flopsText(double flops) {
  const char *prefixes[] = {"", " k", " M", " G", " T", " P"};
  int u = 0;
  while (flops >= 999.5 && u < 5) {
    flops /= 1000;
    ++u;
  }
  char text[32];
  std::snprintf(text, sizeof text, u == 0 ? "%.0f%s" : "%.3g%s", flops, prefixes[u]);
  return text;
}

std::string flopsSummary(const Graph &graph, const Validation &validation) {
  if (validation.flopsKnown)
    return flopsText(validation.flopsPerSample);
  if (!validation.ok())
    return {};
  for (const Node &n : graph.nodes)
    if (const NodeInfo *info = validation.info(n.id); info && info->shapesKnown && !info->flopsKnown)
      return "not counted: node \"" + n.id + "\" is a " + n.type + " module";
  return {};
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

// The node an init source names, as this node is checked against it.
struct SourceNode {
  std::string id, type;
  std::vector<Shape> inputs, outputs;
  int64_t parameters = 0; // its own weights (an adapter's not counted)
  bool adapted = false;
  std::string error; // why it cannot be had; the rest is then empty
  ErrorKind kind = ErrorKind::File;
};

SourceNode unavailable(const std::string &message, ErrorKind kind = ErrorKind::File) {
  SourceNode s;
  s.error = message;
  s.kind = kind;
  return s;
}

bool isPartFile(const std::string &path) {
  const std::string ext = ".particle-part";
  return path.size() >= ext.size() && path.compare(path.size() - ext.size(), ext.size(), ext) == 0;
}
} // namespace

InitSource initSource(const NodeInit &init, const std::string &nodeId, const std::string &baseDir) {
  InitSource s;
  s.path = std::filesystem::path(init.from).is_absolute() ? init.from
                                                          : (std::filesystem::path(baseDir) / init.from).string();
  s.node = init.node.empty() && !isPartFile(s.path) ? nodeId : init.node;
  return s;
}

namespace {

// Shapes through a part's sub-graph, from where it is entered: the part header keeps the shapes of
// its ends only.
std::string inferPart(const PartInfo &part, std::map<std::string, NodeInfo> &infos) {
  const auto &cat = Catalogue::instance();
  const DataInfo data;
  for (std::size_t round = 0; round < part.nodes.size(); ++round)
    for (const Node &n : part.nodes) {
      if (infos.count(n.id))
        continue;
      NodeInfo info;
      bool ready = true;
      std::map<int, Shape> numbered;
      for (const Edge &e : part.edges) {
        if (e.to.node != n.id)
          continue;
        const auto from = infos.find(e.from.node);
        if (from == infos.end() || e.from.index() < 0 ||
            e.from.index() >= static_cast<int>(from->second.outputs.size())) {
          ready = false;
          break;
        }
        const Shape &shape = from->second.outputs[static_cast<std::size_t>(e.from.index())];
        if (e.to.isNumbered())
          numbered[e.to.index()] = shape;
        else
          info.gate = shape;
      }
      if (!ready)
        continue;
      if (n.id == part.inputNode)
        numbered[0] = part.inputShape;
      for (const auto &entry : numbered)
        info.inputs.push_back(entry.second);
      const NodeType *type = cat.find(n.type);
      if (!type)
        return "node " + n.id + " is of an unknown type \"" + n.type + "\"";
      info.params = cat.effectiveParams(*type, n.params);
      const InferResult r = type->infer(InferInput{info.params, info.inputs, info.gate, data});
      if (!r.error.empty())
        return "node " + n.id + ": " + r.error;
      info.outputs = r.outputs;
      info.parameters = r.parameters;
      infos[n.id] = info;
    }
  return {};
}

SourceNode partSource(const InitSource &source, const std::string &written) {
  const std::string &path = source.path;
  PartInfo part;
  try {
    part = readPartInfo(path);
  } catch (const Error &e) {
    return unavailable(e.what(), e.kind());
  }
  const std::string id = source.node.empty() && part.nodes.size() == 1 ? part.nodes.front().id : source.node;
  if (id.empty())
    return unavailable(written + " holds " + std::to_string(part.nodes.size()) + " nodes (" + part.nodeList() +
                           "); name the one to start from in init.node",
                       ErrorKind::Invalid);
  const Node *node = part.node(id);
  if (!node)
    return unavailable(written + " has no node \"" + id + "\" (it has " + part.nodeList() + ")", ErrorKind::Invalid);
  SourceNode s;
  s.id = id;
  s.type = node->type;
  s.adapted = node->adapter.has_value();
  if (part.nodes.size() == 1) {
    s.inputs = {part.inputShape};
    s.outputs = {part.outputShape};
    s.parameters = part.parameters;
    return s;
  }
  std::map<std::string, NodeInfo> infos;
  const std::string problem = inferPart(part, infos);
  if (!problem.empty() || !infos.count(id))
    return unavailable("cannot work out the shapes in " + written + ": " +
                           (problem.empty() ? "node " + id + " is not reached from " + part.inputNode : problem),
                       ErrorKind::Invalid);
  s.inputs = infos[id].inputs;
  s.outputs = infos[id].outputs;
  s.parameters = infos[id].parameters;
  return s;
}

Validation validateSource(const Project &project);

// A run folder or its checkpoint: the project copy beside it says what the node was.
SourceNode runSource(const InitSource &source, const std::string &written) {
  const std::string &path = source.path;
  std::error_code ec;
  const std::filesystem::path folder =
      std::filesystem::is_directory(path, ec) ? std::filesystem::path(path) : std::filesystem::path(path).parent_path();
  if (!std::filesystem::exists(path, ec))
    return unavailable(written + ": no such file or folder (looked for " + path + ")");
  const std::string projectFile = (folder / "project.particle.json").string();
  if (!std::filesystem::exists(projectFile, ec))
    return unavailable(written + ": not a particle file (.particle-part) nor a run: no project.particle.json in " +
                       folder.string());
  Project project;
  try {
    project = loadProject(projectFile);
  } catch (const Error &e) {
    return unavailable(e.what(), ErrorKind::File);
  }
  const std::string &id = source.node;
  const Node *node = project.graph.find(id);
  if (!node) {
    std::string ids;
    for (const auto &n : project.graph.nodes)
      ids += (ids.empty() ? "" : ", ") + n.id;
    return unavailable("the run " + written + " has no node \"" + id + "\" (it has " + ids + ")", ErrorKind::Invalid);
  }
  const Validation v = validateSource(project);
  const NodeInfo *info = v.info(id);
  if (!info || !info->shapesKnown) {
    std::string why = "its shapes are unknown";
    for (const auto &p : v.problems)
      if (p.isError()) {
        why = p.format(projectFile);
        break;
      }
    return unavailable("cannot check node " + id + " of " + written + ": " + why,
                       v.exitCode() == 3 ? ErrorKind::File : ErrorKind::Invalid);
  }
  SourceNode s;
  s.id = id;
  s.type = node->type;
  s.inputs = info->inputs;
  s.outputs = info->outputs;
  s.adapted = node->adapter.has_value();
  s.parameters = info->parameters - (node->adapter ? adapterParameters(*node->adapter, info->adaptable) : 0);
  return s;
}

// The source node an init names, remembered by file and modification time: the editor checks the
// project after every edit, and a run's project copy is checked with its data set's probe.
SourceNode sourceNode(const InitSource &source, const std::string &written) {
  static std::mutex mutex;
  static std::map<std::string, SourceNode> cache;
  std::error_code ec;
  const bool part = isPartFile(source.path);
  // What says what the node is: the part file itself, or the run's project copy.
  std::filesystem::path described = source.path;
  if (!part)
    described =
        (std::filesystem::is_directory(described, ec) ? described : described.parent_path()) / "project.particle.json";
  const auto time = std::filesystem::last_write_time(described, ec);
  if (ec)
    return part ? partSource(source, written) : runSource(source, written);
  const std::string stamp =
      source.path + "\n" + written + "\n" + source.node + "\n" + std::to_string(time.time_since_epoch().count());
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (auto it = cache.find(stamp); it != cache.end())
      return it->second;
  }
  SourceNode s = part ? partSource(source, written) : runSource(source, written);
  std::lock_guard<std::mutex> lock(mutex);
  if (cache.size() > 64)
    cache.clear();
  cache[stamp] = s;
  return s;
}

std::string shapesText(const std::vector<Shape> &shapes) {
  std::string out;
  for (const Shape &s : shapes)
    out += (out.empty() ? "" : ", ") + shapeToString(s);
  return out.empty() ? "?" : out;
}

// The checks that need more than the graph: the sections, the data set's probe, and what the
// data and the training settings say about the graph the graph checks inferred.
class ProjectCheck {
public:
  // `checkSources`: false when checking an init source's own project, whose own inits do not
  // matter (its weights are trained) and which could name this one again.
  ProjectCheck(const Project &project, const DataInfo *data, bool checkSources = true)
      : project_(project), graph_(project.graph), input_(inputNodeId(project.graph)), checkSources_(checkSources) {
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
    sections.data.projectFolder = project_.baseDir(); // a TorchScript node's file is named relative to it
    v_ = validateGraph(graph_, sections.dataKnown ? &sections.data : nullptr);
    for (const auto &p : sections.problems)
      if (p.isError() && !p.node.empty())
        v_.nodes.at(p.node).ok = false;
    v_.problems.insert(v_.problems.begin(), sections.problems.begin(), sections.problems.end());
    checkClasses();
    checkPaddingParts();
    if (checkSources_)
      checkInitSources();
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
      const TrainingSpec spec = parseTrainingSpec(project_.training);
      checkPrecision(spec);
      checkLearningRate(spec);
      checkAugment(parseAugmentSpec(project_.training));
    } catch (const KeyError &e) {
      error(e.code(), std::string(), e.what()).param = e.key();
    } catch (const Error &e) {
      error(ProblemCode::BadTraining, std::string(), e.what());
    }
  }

  // A precision this machine cannot train in, where the device is known without LibTorch: the one
  // training.device names, or the CPU for "auto" when LibTorch was built without CUDA. A CUDA
  // device's compute capability is the trainer's to check.
  void checkPrecision(const TrainingSpec &spec) {
#ifdef PARTICLE_WITH_CUDA
    if (spec.device == "auto")
      return;
#endif
    const std::string why = precisionUnsupported(spec.precision, spec.device.rfind("cuda", 0) == 0 ? "cuda" : "cpu");
    if (!why.empty())
      error(ProblemCode::BadTraining, std::string(), "training.precision: " + why).param = "training.precision";
  }

  // A learning rate far above what the optimiser takes (lr 50 trained silently to chance): a
  // warning, since a schedule or tiny gradients may make it work.
  void checkLearningRate(const TrainingSpec &spec) {
    const bool sgd = spec.optimizer == "sgd";
    const double usualMost = sgd ? 1.0 : 0.1;
    if (spec.lr <= usualMost)
      return;
    char lr[32];
    std::snprintf(lr, sizeof lr, "%g", spec.lr);
    warning(ProblemCode::BadTraining, std::string(),
            "training.lr: " + std::string(lr) + " is a very large learning rate for " + spec.optimizer +
                "; training will likely diverge (" + spec.optimizer + " usually takes " +
                (sgd ? "0.001 to 0.5" : "0.0001 to 0.01") + ")")
        .param = "training.lr";
  }

  // Augmentation (training.augment_*) warps, shifts and masks samples [C, H, W] only, with masks
  // no wider than the axis they mask.
  void checkAugment(const AugmentSpec &augment) {
    if (v_.dataKnown && v_.data.sampleShape.size() == 3) {
      const std::string wide = augment.widthProblem(v_.data.sampleShape);
      if (!wide.empty()) {
        const std::string param = wide.substr(0, wide.find(':'));
        error(ProblemCode::BadTraining, std::string(), wide).param = param;
      }
    }
    if (!augment.on() || !v_.dataKnown || v_.data.sampleShape.size() == 3)
      return;
    const std::string param = std::string("training.") + augment.firstKey();
    error(ProblemCode::BadTraining, std::string(),
          param + ": augmentation needs samples shaped [C, H, W] (a spectrogram or an image); this data set's are " +
              shapeToString(v_.data.sampleShape) + " (set it to 0)")
        .param = param;
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

  // A node's init source must hold a node of its type that takes and gives the same shapes with
  // as many weights, so that every tensor finds its place.
  void checkInitSources() {
    for (const Node &n : graph_.nodes) {
      const auto it = v_.nodes.find(n.id);
      if (!n.init || it == v_.nodes.end() || !it->second.shapesKnown || !it->second.ok)
        continue; // its own problems first
      const NodeInfo &info = it->second;
      const InitSource source = initSource(*n.init, n.id, project_.baseDir());
      const SourceNode s = sourceNode(source, n.init->from);
      if (!s.error.empty()) {
        Problem &p = error(ProblemCode::InitUnavailable, n.id, s.error);
        p.kind = s.kind;
        p.param = "init.from";
        continue;
      }
      const std::string them = "node " + s.id + " of " + n.init->from;
      if (s.type != n.type) {
        error(ProblemCode::InitMismatch, n.id,
              n.id + " is " + withArticle(n.type) + "; " + them + " is " + withArticle(s.type))
            .param = "init.node";
        continue;
      }
      if (s.inputs != info.inputs || s.outputs != info.outputs) {
        error(ProblemCode::InitMismatch, n.id,
              n.id + " takes " + shapesText(info.inputs) + " → " + shapesText(info.outputs) + "; " + them + " takes " +
                  shapesText(s.inputs) + " → " + shapesText(s.outputs))
            .param = "init.node";
        continue;
      }
      const int64_t own = info.parameters - (n.adapter ? adapterParameters(*n.adapter, info.adaptable) : 0);
      if (s.parameters != own) {
        error(ProblemCode::InitMismatch, n.id,
              n.id + " has " + std::to_string(own) + " weights; " + them + " has " + std::to_string(s.parameters) +
                  " (its params differ: widths, layers or bias)")
            .param = "init.node";
        continue;
      }
      if (s.adapted)
        error(ProblemCode::InitMismatch, n.id,
              them + " trained with an adapter, which keeps its own weights apart from the node's; start from a "
                     "node trained without one")
            .param = "init.node";
    }
  }

  // Training's memory at the batch size: 4-byte weights, a gradient for each that trains, the
  // optimizer's state for those (Adam: two moments; SGD with momentum: one), every node's outputs kept for the backward
  // pass (and their gradients), and the data set, which the trainer holds whole on the device. Compared with the
  // machine's memory; a CUDA device's is checked by the trainer.
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
    double weights = 0, trained = 0, activations = 0, largest = 0;
    std::string largestNode;
    for (const auto &n : graph_.nodes) {
      if (!v_.sharing.nodes.count(n.id))
        continue;
      const NodeInfo &info = v_.nodes.at(n.id);
      const auto own = static_cast<double>(v_.sharing.ownParameters(n.id, info.parameters, info.trunkParameters));
      // Frozen weights have no gradient and no optimiser state.
      const auto learns =
          static_cast<double>(v_.sharing.ownParameters(n.id, info.trainableParameters, info.trunkTrainableParameters));
      double outputs = 0;
      for (const Shape &shape : info.outputs)
        outputs += static_cast<double>(shapeNumel(shape));
      weights += own;
      trained += learns;
      const double act = outputs * batch * kFloat * 2;
      activations += act;
      const double mine = own * kFloat + learns * kFloat * (1 + optimizerCopies) + act;
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
    m.gradients = bytes(trained * kFloat);
    m.optimizer = bytes(trained * kFloat * optimizerCopies);
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
  const bool checkSources_;
  Validation v_;
};

Validation validateSource(const Project &project) {
  return ProjectCheck(project, nullptr, false).run();
}

} // namespace

Validation validate(const Project &project, const DataInfo *data) {
  return ProjectCheck(project, data).run();
}

} // namespace particle
