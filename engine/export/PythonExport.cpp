#include "export/PythonExport.h"

#include "train/Runtime.h"
#include "data/Dataset.h"
#include "data/DatasetSpec.h"
#include "export/PythonTemplates.h"
#include "graph/Sharing.h"
#include "model/Model.h"
#include "model/PartWeights.h"
#include "project/AugmentSpec.h"
#include "project/ProjectPaths.h"
#include "train/Trainer.h"
#include "project/TrainingSpec.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <sys/wait.h>

namespace particle {

namespace fs = std::filesystem;

namespace {
// Text of the project's (the user's) own choosing inside a """docstring""": a backslash or a quote is
// escaped and control characters become spaces, so no name can end the string (and run as code
// when model.py is imported).
std::string docText(const std::string &text) {
  std::string out;
  for (char c : text) {
    if (c == '\\' || c == '"')
      out += '\\';
    out += static_cast<unsigned char>(c) < 0x20 ? ' ' : c;
  }
  return out;
}
} // namespace

namespace {

const std::set<std::string> kPythonKeywords = {
    "False", "None",     "True",  "and",    "as",   "assert", "async",  "await",    "break",
    "class", "continue", "def",   "del",    "elif", "else",   "except", "finally",  "for",
    "from",  "global",   "if",    "import", "in",   "is",     "lambda", "nonlocal", "not",
    "or",    "pass",     "raise", "return", "try",  "while",  "with",   "yield"};

// Names nn.Module (or ParticleModel) already uses: a node of that id is registered through
// self._modules so that its state-dict names stay the node's id.
const std::set<std::string> kModuleAttributes = {"training",
                                                 "forward",
                                                 "train",
                                                 "eval",
                                                 "to",
                                                 "cuda",
                                                 "cpu",
                                                 "float",
                                                 "double",
                                                 "half",
                                                 "bfloat16",
                                                 "type",
                                                 "apply",
                                                 "parameters",
                                                 "named_parameters",
                                                 "buffers",
                                                 "named_buffers",
                                                 "children",
                                                 "named_children",
                                                 "modules",
                                                 "named_modules",
                                                 "state_dict",
                                                 "load_state_dict",
                                                 "zero_grad",
                                                 "register_buffer",
                                                 "register_parameter",
                                                 "register_module",
                                                 "add_module",
                                                 "get_submodule",
                                                 "get_parameter",
                                                 "get_buffer",
                                                 "requires_grad_",
                                                 "share_memory",
                                                 "extra_repr",
                                                 "fit",
                                                 "dump_patches",
                                                 "call_super_init",
                                                 "ipu",
                                                 "xpu",
                                                 "to_empty"};

bool isIdentifier(const std::string &s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0])))
    return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_')
      return false;
  return !kPythonKeywords.count(s);
}

// How forward() refers to a node's module.
std::string moduleRef(const std::string &id) {
  if (isIdentifier(id) && !kModuleAttributes.count(id) && id.rfind("__", 0) != 0)
    return "self." + id;
  return "self._modules[" + Json(id).dump() + "]";
}

// Local variable names for node outputs: identifiers, unique, never `x` (the input) or `self`.
class Names {
public:
  std::string of(const std::string &id) {
    if (auto it = names_.find(id); it != names_.end())
      return it->second;
    std::string n;
    for (char c : id)
      n += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    if (n.empty() || std::isdigit(static_cast<unsigned char>(n[0])))
      n = "n_" + n;
    while (kPythonKeywords.count(n) || n == "x" || n == "self" || used_.count(n))
      n += "_";
    used_.insert(n);
    return names_[id] = n;
  }

private:
  std::map<std::string, std::string> names_;
  std::set<std::string> used_;
};

std::string refText(Names &names, const PortRef &ref, const ParticleModelImpl &model) {
  const NodeInfo *info = model.validation().info(ref.node);
  const bool several = info && info->outputs.size() > 1;
  return names.of(ref.node) + (several ? "[" + std::to_string(ref.index()) + "]" : "");
}

std::string shellQuote(const std::string &s) {
  std::string out = "'";
  for (char c : s)
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Runs a shell command; returns its exit status and everything it printed.
int runCommand(const std::string &command, std::string &output) {
  FILE *pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe)
    return -1;
  char buffer[4096];
  std::size_t n = 0;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0)
    output.append(buffer, n);
  const int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void savePickle(const c10::IValue &value, const std::string &path) {
  const std::vector<char> bytes = torch::pickle_save(value);
  writeFileAtomically(path, std::string(bytes.begin(), bytes.end()));
}

std::string replaceAll(std::string text, const std::string &from, const std::string &to) {
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

// model.py's LoRA, when the export keeps adapters: the state-dict names and the arithmetic of
// engine/model/Adapters.cpp.
constexpr const char *kAdaptSource = R"PY(

def adapt(module, rank, alpha):
    """Low-rank adapters on each Linear and convolution layer of `module` (its own, not a trunk
    it borrows): the layer computes with W0 + (alpha / rank) · B·A, where A and B are
    module.lora.<layer>.A (rank × in) and .B (out × rank), as Particle Studio trained them."""
    layers = [(name, layer) for name, layer in module.named_modules()
              if isinstance(layer, (nn.Linear, nn.Conv1d, nn.Conv2d))]
    module.lora = nn.Module()
    for name, layer in layers:
        holder = nn.Module()
        holder.A = nn.Parameter(torch.zeros(rank, layer.weight[0].numel()))
        holder.B = nn.Parameter(torch.zeros(layer.weight.shape[0], rank))
        setattr(module.lora, name.replace(".", "_"), holder)
        layer.forward = adapted_forward(layer, holder, alpha / rank)


def adapted_forward(layer, lora, scale):
    def forward(x):
        weight = layer.weight + (lora.B @ lora.A * scale).view_as(layer.weight)
        if isinstance(layer, nn.Linear):
            return F.linear(x, weight, layer.bias)
        return layer._conv_forward(x, weight, layer.bias)
    return forward
)PY";

// The weights model.py loads: the model's state dict, each adapter merged into the weight it
// adapts unless the export keeps them.
void writeWeights(ParticleModelImpl &model, bool keepAdapters, const std::string &path) {
  if (keepAdapters || model.adapters().empty()) {
    writeStateDict(model, path);
    return;
  }
  std::map<std::string, torch::Tensor> tensors;
  for (const auto &item : model.named_parameters())
    if (item.key().find(".lora.") == std::string::npos)
      tensors[item.key()] = item.value();
  for (const auto &item : model.named_buffers())
    tensors[item.key()] = item.value();
  torch::NoGradGuard noGrad;
  for (const auto &layer : model.adapters())
    tensors[layer.node + "." + layer.name + ".weight"] = layer.merged();
  writeFileAtomically(path, tensorsToPickle(tensors));
}

// `files`: what model.py reads beside it (export path → source file), for the caller to copy.
std::string pythonModelSource(const Project &project, ParticleModelImpl &model, bool keepAdapters,
                              std::map<std::string, std::string> &files) {
  const auto &cat = Catalogue::instance();
  const Graph &graph = model.graph();
  const Validation &v = model.validation();
  std::map<std::string, const Node *> byId;
  for (const auto &n : graph.nodes)
    byId[n.id] = &n;
  // The modules as the engine builds them (model/Model.cpp).
  const SharePlan plan = planSharing(graph, model.order());

  std::string init, forward, classes, sharing;
  std::set<std::string> typesUsed;
  Names names;
  std::string pipeline;
  for (const auto &id : model.order()) {
    const Node &node = *byId.at(id);
    const NodeType &type = *cat.find(node.type);
    const NodeInfo &info = *v.info(id);
    if (!type.pythonModule)
      throw Error(ErrorKind::Invalid, "node '" + id + "': type " + node.type + " cannot be exported to PyTorch yet");
    pipeline += (pipeline.empty() ? "" : ", ") + id;
    const std::string &moduleOf = plan.of(id).module, &trunkFrom = plan.of(id).trunk;
    if (moduleOf != id) {
      sharing += "    - " + id + " is " + moduleOf + " (share group \"" + node.share + "\": the same module)\n";
    } else {
      const std::string call = type.pythonModule(PythonArgs{info.params, info, v.data, trunkFrom.empty(), &files});
      const std::string ref = moduleRef(id);
      init += "        " + ref + " = " + call + "\n";
      if (keepAdapters && node.adapter)
        init += "        adapt(" + ref + ", " + std::to_string(node.adapter->rank) + ", " +
                Json(node.adapter->alpha).dump() + ")\n";
      typesUsed.insert(node.type);
      if (!trunkFrom.empty())
        sharing += "    - " + id + " uses " + trunkFrom + "'s trunk with its own last layer (share group \"" +
                   node.share + "\", scope trunk)\n";
    }

    // forward(): inputs in port order, the gate by name.
    std::map<int, PortRef> numbered;
    std::optional<PortRef> gate;
    for (const auto &e : graph.edges)
      if (e.to.node == id) {
        if (e.to.isNumbered())
          numbered[e.to.index()] = e.from;
        else
          gate = e.from;
      }
    std::vector<std::string> args;
    for (const auto &[port, ref] : numbered)
      args.push_back(refText(names, ref, model));
    std::string call = moduleRef(moduleOf) + "(";
    if (type.role == NodeRole::DataSource) {
      call += "x";
    } else if (type.role == NodeRole::Combiner) {
      call += "[";
      for (std::size_t i = 0; i < args.size(); ++i)
        call += (i ? ", " : "") + args[i];
      call += "]";
      if (gate)
        call += ", gate=" + refText(names, *gate, model);
    } else {
      for (std::size_t i = 0; i < args.size(); ++i)
        call += (i ? ", " : "") + args[i];
      if (!trunkFrom.empty())
        call += ", trunk=" + moduleRef(trunkFrom) + ".trunk";
    }
    call += ")";
    std::string comment;
    if (moduleOf != id)
      comment = "  # " + id + ": share group \"" + node.share + "\", the same module as " + moduleOf;
    forward += "        " + names.of(id) + " = " + call + comment + "\n";
  }
  forward += "        return " + names.of(model.classifierId()) + "\n";
  for (const auto &t : cat.entries())
    if (typesUsed.count(t.type))
      classes += "\n" + t.pythonClass;

  const std::string name = docText(project.name);
  std::string text = "\"\"\"" + name +
                     ": a particle-ized network exported by Particle Studio as plain PyTorch.\n\n"
                     "    python3 model.py --check     run reference.pt through weights.pt (fails if max "
                     "|Δlogit| > 1e-4)\n"
                     "    python3 model.py --onnx      write model.onnx (opset 13, dynamic batch) and run it "
                     "with\n                                 ONNX Runtime (onnx_run.mjs; --check runs it too)\n"
                     "    python3 train.py             train it again with plain PyTorch (torchrun: "
                     "data-parallel)\n\n"
                     "from model import load; model = load()   # the exported weights, in evaluation mode\n\n"
                     "Every node of the graph is one submodule named by its node id, so the state-dict names are "
                     "the\nengine's. The input is a batch of samples as Particle Studio's data set gives them ("
                     "shape [B" +
                     [&] {
                       std::string s;
                       for (auto d : v.data.sampleShape)
                         s += ", " + std::to_string(d);
                       return s;
                     }() +
                     "]" + (v.data.vocabulary.empty() ? "" : ", token ids") + ").\n\"\"\"\n";
  text += python_templates::kPrelude;
  text += "\n" + classes;
  if (keepAdapters && !model.adapters().empty())
    text += kAdaptSource;
  text +=
      "\n\nclass ParticleModel(nn.Module):\n    \"\"\"" + name + ". Nodes in the order they run: " + pipeline + ".\n";
  if (!sharing.empty())
    text += "\n    Shared parameters:\n" + sharing;
  text += "    \"\"\"\n\n    def __init__(self):\n        super().__init__()\n" + init;
  const std::string inputId = inputNodeId(graph);
  text += "\n    def fit(self, x):\n        \"\"\"Standardisation statistics from the training samples (the "
          "Input node's).\"\"\"\n        " +
          moduleRef(inputId) + ".fit(x)\n";
  text += "\n    def forward(self, x):\n" + forward;
  text += python_templates::kMain;
  return text;
}

} // namespace

ExportResult exportPyTorch(const Project &project, const ExportOptions &options,
                           const std::function<void(const std::string &)> &progress) {
  auto say = [&](const std::string &s) {
    if (progress)
      progress(s);
  };
  ExportResult result;
  const TrainingSpec spec = parseTrainingSpec(project.training);
  const AugmentSpec augment = parseAugmentSpec(project.training);
  Project p = project;
  if (!options.checkpoint.empty()) {
    if (!fs::is_regular_file(options.checkpoint))
      throw Error(ErrorKind::File, options.checkpoint + ": no such checkpoint file");
    useRunData(p.dataset, options.checkpoint);
  }
  say("loading the data set");
  const Dataset data = loadDataset(parseDatasetSpec(p.dataset, p.baseDir()));
  result.dataDescription = data.description;
  ParticleModel model{nullptr};
  {
    RngIsolation isolation;
    torch::manual_seed(spec.seed); // the initial weights a run of this project starts from
    model = ParticleModel(p);
  }
  if (options.checkpoint.empty()) {
    model->fitNormalization(data.trainX);
    model->loadInitWeights();
  } else {
    Trainer::loadWeights(model, options.checkpoint, p);
  }
  model->eval();

  std::error_code ec;
  fs::create_directories(options.outDir, ec);
  if (ec || !fs::is_directory(options.outDir))
    throw Error(ErrorKind::File, options.outDir + ": cannot create the export folder (" + ec.message() + ")");
  const std::string dir = options.outDir;
  auto wrote = [&](const std::string &name) { result.files.push_back(dir + "/" + name); };

  say("writing model.py");
  std::map<std::string, std::string> files;
  writeFileAtomically(dir + "/model.py", pythonModelSource(p, *model, options.keepAdapters, files));
  wrote("model.py");
  for (const auto &[name, source] : files) {
    fs::create_directories(fs::path(dir + "/" + name).parent_path(), ec);
    if (!fs::copy_file(source, dir + "/" + name, fs::copy_options::overwrite_existing, ec))
      throw Error(ErrorKind::File, source + ": cannot copy it into the export as " + name + " (" + ec.message() + ")");
    wrote(name);
  }
  writeWeights(*model, options.keepAdapters, dir + "/weights.pt");
  wrote("weights.pt");
  {
    torch::NoGradGuard noGrad;
    const int64_t n = std::min<int64_t>(options.referenceSamples, data.testX.size(0));
    const auto x = data.testX.narrow(0, 0, n).clone(); // a view would save the whole storage
    const auto logits = model->forward(x).logits.detach();
    c10::Dict<std::string, torch::Tensor> reference;
    reference.insert("x", x);
    reference.insert("logits", logits);
    savePickle(c10::IValue(reference), dir + "/reference.pt");
    result.referenceSamples = n;
  }
  wrote("reference.pt");

  if (options.writeData) {
    say("writing data.pt");
    // Images in [0, 1] that are bytes / 255 are stored as bytes (a quarter of the size); train.py
    // divides them back, the same float operation the loaders do.
    const torch::Tensor *xs[] = {&data.trainX, &data.valX, &data.testX};
    std::vector<torch::Tensor> asBytes; // each split's x as bytes, while every one converts exactly
    bool bytes = true;
    for (const auto *x : xs) {
      bytes = x->is_floating_point();
      if (!bytes)
        break;
      asBytes.push_back(x->mul(255.0).round().clamp(0, 255).to(torch::kUInt8));
      bytes = asBytes.back().to(torch::kFloat).div_(255.0).equal(*x);
      if (!bytes)
        break;
    }
    c10::Dict<std::string, torch::Tensor> d;
    const char *names[] = {"train", "val", "test"};
    const torch::Tensor *ys[] = {&data.trainY, &data.valY, &data.testY};
    for (std::size_t i = 0; i < 3; ++i) {
      d.insert(std::string(names[i]) + "_x", bytes ? asBytes[i] : xs[i]->clone());
      d.insert(std::string(names[i]) + "_y", ys[i]->clone());
    }
    if (bytes)
      d.insert("x_scale", torch::tensor(255.0, torch::kFloat));
    savePickle(c10::IValue(d), dir + "/data.pt");
    wrote("data.pt");
  }

  Json config = {{"name", project.name},
                 {"optimizer", spec.optimizer},
                 {"lr", spec.lr},
                 {"momentum", spec.momentum},
                 {"nesterov", spec.nesterov},
                 {"weight_decay", spec.weightDecay},
                 {"label_smoothing", spec.labelSmoothing},
                 {"batch_size", spec.batchSize},
                 {"epochs", spec.epochs},
                 {"seed", spec.seed},
                 {"threads", spec.threads},
                 {"schedule", spec.schedule},
                 {"step_size", spec.stepSize},
                 {"gamma", spec.gamma},
                 {"warmup_steps", spec.warmupSteps},
                 {"grad_clip", spec.gradClip},
                 {"precision", spec.precision},
                 {"augment_time_shift", augment.timeShift},
                 {"augment_freq_warp", augment.freqWarp},
                 {"augment_time_masks", augment.timeMasks},
                 {"augment_time_mask_width", augment.timeMaskWidth},
                 {"augment_freq_masks", augment.freqMasks},
                 {"augment_freq_mask_width", augment.freqMaskWidth},
                 {"class_names", Json::array()}};
  for (int64_t c = 0; c < data.info.classes; ++c)
    config["class_names"].push_back(className(data.info, c));
  // What the engine holds still (train.py's hold_frozen): frozen nodes, and with kept adapters an
  // adapted node's own weights; merged adapters leave nothing to tell apart, so those nodes train.
  config["frozen"] = Json::array();
  config["adapted"] = Json::array();
  for (const auto &n : project.graph.nodes) {
    if (n.freeze)
      config["frozen"].push_back(n.id);
    if (n.adapter)
      config["adapted"].push_back(n.id);
  }
  config["adapters_kept"] = options.keepAdapters;
  // CONFIG = json.loads(r'''…'''): a quote inside a string value (the project's name, a class name)
  // must not end the Python string, so every ' becomes JSON's \u0027 (JSON has ' only inside strings).
  writeFileAtomically(dir + "/train.py",
                      replaceAll(python_templates::kTrain, "@CONFIG@", replaceAll(config.dump(2), "'", "\\u0027")));
  wrote("train.py");
  saveProject(projectWithAbsolutePaths(p), dir + "/project.particle.json");
  wrote("project.particle.json");
  writeFileAtomically(dir + "/onnx_run.mjs", python_templates::kOnnxRun);
  wrote("onnx_run.mjs");
  return result;
}

std::string findPythonWithTorch() {
  std::vector<std::string> candidates;
  if (const char *env = std::getenv("PARTICLE_PYTHON"); env && *env)
    candidates.emplace_back(env);
  candidates.emplace_back("python3");
  candidates.emplace_back("/usr/bin/python3");
  for (const auto &c : candidates) {
    std::string output;
    if (runCommand(shellQuote(c) + " -c 'import torch'", output) == 0)
      return c;
  }
  return {};
}

std::string findOnnxRuntime() {
  if (const char *env = std::getenv("PARTICLE_ONNXRUNTIME"); env && *env)
    return env;
  const std::string checkout = PARTICLE_ONNXRUNTIME_DEFAULT;
  return fs::is_directory(checkout + "/node_modules/onnxruntime-node") ? checkout : std::string();
}

std::string exportOnnx(const std::string &exportDir) {
  const std::string python = findPythonWithTorch();
  if (python.empty())
    throw Error(ErrorKind::File, "ONNX export runs the exported model.py through torch.onnx.export, and no Python "
                                 "with PyTorch was found (tried $PARTICLE_PYTHON, python3, /usr/bin/python3; "
                                 "Debian: apt-get install python3-torch python3-onnx)");
  std::string output;
  const std::string model = exportDir + "/model.py";
  // model.py's check hands model.onnx to onnx_run.mjs, which loads the runtime from this folder.
  const std::string runtime = findOnnxRuntime();
  const std::string env = runtime.empty() ? "" : "PARTICLE_ONNXRUNTIME=" + shellQuote(runtime) + " ";
  const int status = runCommand(
      env + shellQuote(python) + " " + shellQuote(model) + " --onnx " + shellQuote(exportDir + "/model.onnx"), output);
  if (status != 0)
    throw Error(ErrorKind::File, model + ": the ONNX export or its ONNX Runtime check failed (" + python + ", exit " +
                                     std::to_string(status) + "):\n" + output);
  return output;
}

} // namespace particle
