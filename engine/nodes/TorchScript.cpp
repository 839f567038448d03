// TorchScript: the user's own PyTorch module (a file written by torch.jit.save of a scripted or
// traced module) as a sub-model. Its output shape is what one forward pass returns at check time.

#include "model/NodeModule.h"
#include "nodes/NodeSupport.h"

#include <torch/script.h>

#include <filesystem>
#include <map>
#include <mutex>

namespace particle::nodes {

namespace torchscript {

namespace fs = std::filesystem;

struct Params {
  std::string path;
  bool trainable = true;
};

Params parse(const Json &p) {
  return Params{textParam(p, "path"), boolParam(p, "trainable")};
}

// The file a param names: relative paths against the project's folder.
std::string resolved(const std::string &path, const std::string &folder) {
  const fs::path p(path);
  return (p.is_absolute() || folder.empty() ? p : fs::path(folder) / p).lexically_normal().string();
}

// LibTorch's message without its C++ backtrace and, for an error raised inside the module's
// code, without the TorchScript traceback: the line that says what went wrong.
std::string shortMessage(const std::exception &e) {
  const auto *c10 = dynamic_cast<const c10::Error *>(&e);
  std::string text = c10 ? c10->what_without_backtrace() : e.what();
  const std::string marker = "RuntimeError: ";
  if (const auto at = text.rfind(marker); at != std::string::npos)
    text = text.substr(at + marker.size());
  while (!text.empty() && (text.front() == '\n' || text.front() == ' '))
    text.erase(0, 1);
  if (const auto end = text.find('\n'); end != std::string::npos)
    text.resize(end);
  return text;
}

// A loaded file and what its forward pass returned for each input shape asked so far. The editor
// re-validates on every edit; this keeps that from loading the file and running it again.
struct Loaded {
  fs::file_time_type mtime;
  uintmax_t size = 0;
  std::string error; // why the file is not a module (then `module` is unset)
  torch::jit::Module module;
  int64_t parameters = 0;
  std::map<Shape, InferResult> shapes;
};

// One entry per file, replaced when the file changes (its time or size). Never destroyed: at exit
// LibTorch's own statics may be gone before a module's destructor would run.
std::mutex &cacheMutex() {
  static std::mutex m;
  return m;
}
std::map<std::string, std::shared_ptr<Loaded>> &cache() {
  static auto *c = new std::map<std::string, std::shared_ptr<Loaded>>();
  return *c;
}

// The module in `file` (absolute), loaded once per version of the file; null when the file is
// missing. Call with cacheMutex() held.
std::shared_ptr<Loaded> load(const std::string &file) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec))
    return nullptr;
  const auto mtime = fs::last_write_time(file, ec);
  const auto size = fs::file_size(file, ec);
  auto &entry = cache()[file];
  if (entry && entry->mtime == mtime && entry->size == size)
    return entry;
  entry = std::make_shared<Loaded>();
  entry->mtime = mtime;
  entry->size = size;
  try {
    entry->module = torch::jit::load(file, torch::kCPU);
    entry->module.eval();
    for (const auto &p : entry->module.named_parameters(true))
      entry->parameters += p.value.numel();
  } catch (const std::exception &e) { // c10::Error, or a file the reader refuses otherwise
    entry->error =
        "not a TorchScript file (" + shortMessage(e) + "); write it with torch.jit.save(torch.jit.script(m))";
  }
  return entry;
}

// What one forward pass of a zero batch of 2 returns, as a shape rule's result. Call with
// cacheMutex() held.
InferResult tryForward(Loaded &loaded, const std::string &written, const Shape &input) {
  std::vector<int64_t> sizes = {2};
  sizes.insert(sizes.end(), input.begin(), input.end());
  c10::IValue out;
  try {
    torch::NoGradGuard noGrad;
    out = loaded.module.forward({torch::zeros(sizes)});
  } catch (const std::exception &e) { // c10::Error, or the interpreter's error raised in the module's code
    return fail(written + ": the module refused an input " + shapeToString(input) +
                    " (a batch of 2): " + shortMessage(e),
                "path");
  }
  const char *what = out.isTuple() ? "a tuple" : out.isGenericDict() ? "a dict" : out.isList() ? "a list" : nullptr;
  if (!out.isTensor())
    return fail(written + ": the module returns " + (what ? what : out.tagKind().c_str()) +
                    "; it must return one tensor [B, …] (one output per sample)",
                "path");
  const torch::Tensor t = out.toTensor();
  if (t.dim() < 2 || t.size(0) != 2)
    return fail(written + ": the module returns a tensor " + shapeToString(t.sizes().vec()) +
                    " for a batch of 2; it must return one output per sample [B, …]",
                "path");
  if (!t.is_floating_point())
    return fail(written + ": the module returns " + std::string(c10::toString(t.scalar_type())) +
                    " values; a sub-model's output must be floating point",
                "path");
  InferResult r;
  r.outputs = {Shape(t.sizes().begin() + 1, t.sizes().end())};
  r.parameters = loaded.parameters;
  r.flopsKnown = false; // a compiled module's operations are not counted from here
  return r;
}

InferResult infer(const InferInput &in) {
  const Params p = parse(in.params);
  if (p.path.empty())
    return fail("needs the TorchScript file to run (path: a file written by torch.jit.save)", "path");
  const std::string file = resolved(p.path, in.data.projectFolder);
  std::lock_guard<std::mutex> lock(cacheMutex());
  const auto loaded = load(file);
  if (!loaded) {
    InferResult r = fail(p.path + ": no such file (looked for " + file + ")", "path");
    r.errorKind = ErrorKind::File;
    return r;
  }
  if (!loaded->error.empty())
    return fail(p.path + ": " + loaded->error, "path");
  const Shape &input = in.inputs.at(0);
  auto it = loaded->shapes.find(input);
  if (it == loaded->shapes.end())
    it = loaded->shapes.emplace(input, tryForward(*loaded, p.path, input)).first;
  InferResult r = it->second;
  r.fixedParameters = p.trainable ? 0 : r.parameters;
  return r;
}

// A copy of the loaded module, for one model to train.
torch::jit::Module cloneOf(const std::string &file) {
  std::lock_guard<std::mutex> lock(cacheMutex());
  const auto loaded = load(file);
  if (!loaded || !loaded->error.empty())
    throw Error(ErrorKind::File, file + ": " + (loaded ? loaded->error : "no such file"));
  // Without grad mode the copies are leaves, which the optimiser can train.
  torch::NoGradGuard noGrad;
  return loaded->module.clone();
}

// The scripted module, its parameters and buffers registered under `script.<name as in Python>`
// through nested modules that mirror its hierarchy: checkpoints hold them, the optimiser trains
// them, and weights.pt's names are those of a Python `self.script = torch.jit.load(...)`. The
// tensors are the script's own, so what the optimiser or a checkpoint writes into them is what
// the script computes with.
class ModuleImpl : public NodeModuleImpl {
public:
  ModuleImpl(torch::jit::Module script, bool trainable) : script_(std::move(script)), trainable_(trainable) {
    auto root = register_module("script", std::make_shared<torch::nn::Module>());
    std::map<std::string, std::shared_ptr<torch::nn::Module>> holders{{"", root}};
    // The module that holds `name` ("layer1.0.conv1.weight" → the one for "layer1.0.conv1").
    auto holderOf = [&](const std::string &name) {
      std::string prefix;
      std::shared_ptr<torch::nn::Module> at = root;
      std::size_t from = 0;
      for (std::size_t dot = name.find('.'); dot != std::string::npos; dot = name.find('.', from)) {
        const std::string part = name.substr(from, dot - from);
        prefix += (prefix.empty() ? "" : ".") + part;
        auto &holder = holders[prefix];
        if (!holder)
          holder = at->register_module(part, std::make_shared<torch::nn::Module>());
        at = holder;
        from = dot + 1;
      }
      return std::make_pair(at, name.substr(from));
    };
    for (const auto &p : script_.named_parameters(true)) {
      auto [holder, leaf] = holderOf(p.name);
      holder->register_parameter(leaf, p.value, trainable);
    }
    for (const auto &b : script_.named_buffers(true)) {
      auto [holder, leaf] = holderOf(b.name);
      holder->register_buffer(leaf, b.value);
    }
  }

  std::vector<torch::Tensor> run(const std::vector<torch::Tensor> &in, const torch::Tensor &, NodeContext &) override {
    // Not trainable, it computes as the file has it while the rest trains (a frozen node does
    // too): dropout off, batch norm's statistics its own.
    const bool training = is_training() && trainable_;
    if (script_.is_training() != training)
      script_.train(training);
    return {script_.forward({in[0]}).toTensor()};
  }

private:
  torch::jit::Module script_;
  bool trainable_;
};

} // namespace torchscript

NodeType torchScriptNodeType() {
  NodeType t;
  t.type = "TorchScript";
  t.category = "Sub-models";
  t.color = kSubModelColor;
  t.role = NodeRole::SubModel;
  t.doc = "Your own PyTorch module: a file written by torch.jit.save of a scripted or traced module. Its "
          "output shape is what one forward pass returns; its weights train (unless trainable is off) and "
          "checkpoints hold them — the file itself is never written.";
  t.shareable = true;
  t.params = {required(pathField("path", "TorchScript file (torch.jit.save), relative to the project's folder", false,
                                 "TorchScript (*.pt *.pth *.torchscript)")),
              boolField("trainable", true,
                        "Train its weights (off: weights and batch-norm statistics stay as the file has them)")};
  t.infer = torchscript::infer;
  t.build = [](const BuildArgs &a) -> std::shared_ptr<NodeModuleImpl> {
    const torchscript::Params p = torchscript::parse(a.params);
    const std::string folder = a.data ? a.data->projectFolder : std::string();
    return std::make_shared<torchscript::ModuleImpl>(torchscript::cloneOf(torchscript::resolved(p.path, folder)),
                                                     p.trainable);
  };
  t.pythonClass = R"PY(
class TorchScriptNode(nn.Module):
    """A TorchScript module (torch.jit.load of the copy beside this file); its parameters and
    buffers are the state dict's script.*, as the engine's TorchScript node names them."""

    def __init__(self, path, trainable=True):
        super().__init__()
        self.trainable = trainable
        self.script = torch.jit.load(os.path.join(HERE, path), map_location="cpu")
        for p in self.script.parameters():  # ScriptModule has no requires_grad_
            p.requires_grad_(trainable)

    def train(self, mode=True):
        # Not trainable, it computes as the file has it (batch norm's statistics its own).
        super().train(mode)
        self.script.train(mode and self.trainable)
        return self

    def forward(self, x):
        return self.script(x)
)PY";
  t.pythonModule = [](const PythonArgs &a) {
    const torchscript::Params p = torchscript::parse(a.params);
    const std::string source = torchscript::resolved(p.path, a.data.projectFolder);
    // Each file once under modules/, by its own name (numbered when two files share a name).
    std::string name = "modules/" + torchscript::fs::path(source).filename().string();
    for (int n = 2; a.files && a.files->count(name) && a.files->at(name) != source; ++n)
      name = "modules/" + torchscript::fs::path(source).stem().string() + "-" + std::to_string(n) +
             torchscript::fs::path(source).extension().string();
    if (a.files)
      (*a.files)[name] = source;
    return "TorchScriptNode(" + pyString(name) + (p.trainable ? "" : ", trainable=False") + ")";
  };
  return t;
}

} // namespace particle::nodes
