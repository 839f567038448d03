#include "model/Model.h"

#include "graph/Sharing.h"
#include "model/PartWeights.h"

#include <ATen/CPUGeneratorImpl.h>

#include <functional>
#include <set>

namespace particle {

using torch::Tensor;

namespace {

std::string refKey(const PortRef &ref) {
  return ref.toString();
}

} // namespace

std::mutex &rngMutex() {
  static std::mutex mutex;
  return mutex;
}

RngIsolation::RngIsolation() : lock_(rngMutex()) {
  state_ = at::detail::getDefaultCPUGenerator().get_state();
}

RngIsolation::~RngIsolation() {
  auto gen = at::detail::getDefaultCPUGenerator();
  gen.set_state(state_);
}

bool hasModuleFactory(const std::string &type) {
  const NodeType *t = Catalogue::instance().find(type);
  return t && t->build;
}

std::vector<Tensor> distinctParameters(torch::nn::Module &module) {
  std::vector<Tensor> out;
  std::set<const void *> seen;
  for (const auto &p : module.parameters())
    if (seen.insert(p.unsafeGetTensorImpl()).second)
      out.push_back(p);
  return out;
}

ParticleModelImpl::ParticleModelImpl(const Project &project, const Validation *validated)
    : graph_(project.graph), validation_(validated ? *validated : validate(project)), baseDir_(project.baseDir()) {
  if (!validation_.ok()) {
    std::string message = "the project has " + std::to_string(validation_.errorCount()) + " problem(s):";
    for (const auto &p : validation_.problems)
      if (p.isError())
        message += "\n  " + p.format(project.path.empty() ? project.name : project.path);
    throw Error(static_cast<ErrorKind>(validation_.exitCode()), message);
  }
  const auto &cat = Catalogue::instance();
  input_ = inputNodeId(graph_);
  classifier_ = outputNodeId(graph_);
  // Only nodes that feed the Classifier are built; others have no effect on predictions.
  std::map<std::string, std::vector<const Edge *>> incoming;
  for (const auto &e : graph_.edges)
    incoming[e.to.node].push_back(&e);
  std::set<std::string> needed = {classifier_};
  {
    std::vector<std::string> stack = {classifier_};
    while (!stack.empty()) {
      auto cur = stack.back();
      stack.pop_back();
      for (const Edge *e : incoming[cur])
        if (needed.insert(e->from.node).second)
          stack.push_back(e->from.node);
    }
  }
  for (const auto &id : validation_.order)
    if (needed.count(id))
      order_.push_back(id);
  const SharePlan sharing = planSharing(graph_, order_);
  std::map<std::string, const Node *> byId;
  for (const auto &n : graph_.nodes)
    byId[n.id] = &n;
  std::map<std::string, std::shared_ptr<NodeModuleImpl>> built;
  for (const auto &id : order_) {
    const Node &node = *byId.at(id);
    const NodeInfo &info = *validation_.info(id);
    Step step;
    step.id = id;
    step.type = cat.find(node.type);
    std::map<int, PortRef> numbered;
    for (const Edge *e : incoming[id]) {
      if (e->to.isNumbered())
        numbered[e->to.index()] = e->from;
      else
        step.gate = e->from;
    }
    for (auto &[k, ref] : numbered)
      step.inputs.push_back(ref);

    const NodeSharing &share = sharing.of(id);
    if (share.module != id) {
      step.module = built.at(share.module); // tied: the very same module
    } else {
      BuildArgs args{info.params, info, nullptr, &validation_.data};
      if (!share.trunk.empty())
        if (auto block = std::dynamic_pointer_cast<BlockImpl>(built.at(share.trunk)))
          args.sharedTrunk = block->trunk();
      step.module = step.type->build(args);
      register_module(id, step.module);
      if (node.adapter) {
        auto layers = addAdapters(id, *step.module, *node.adapter);
        adapters_.insert(adapters_.end(), layers.begin(), layers.end());
      }
    }
    built[id] = step.module;
    steps_.push_back(std::move(step));
  }
  classes_ = validation_.info(classifier_)->outputs[0][0];
}

std::shared_ptr<NodeModuleImpl> ParticleModelImpl::nodeModule(const std::string &id) const {
  for (const auto &s : steps_)
    if (s.id == id)
      return s.module;
  return nullptr;
}

void ParticleModelImpl::fitNormalization(const Tensor &trainX) {
  if (auto input = nodeModule(input_))
    input->fit(trainX);
}

void ParticleModelImpl::loadInitWeights() {
  std::set<const void *> loaded; // a share group's module once
  for (const auto &step : steps_) {
    const Node *node = graph_.find(step.id);
    if (!node->init || !loaded.insert(step.module.get()).second)
      continue;
    const InitSource source = initSource(*node->init, step.id, baseDir_);
    copyNodeWeights(*step.module, loadNodeWeights(source.path, source.node), step.id,
                    source.node.empty() ? node->init->from : "node " + source.node + " of " + node->init->from);
  }
}

std::vector<std::string> ParticleModelImpl::combineIds() const {
  std::vector<std::string> out;
  for (const auto &s : steps_)
    if (s.type->role == NodeRole::Combiner)
      out.push_back(s.id);
  return out;
}

WeightKind ParticleModelImpl::weightKind(const std::string &combineId) const {
  for (const auto &s : steps_)
    if (s.id == combineId && s.type->role == NodeRole::Combiner)
      return s.module->weightKind();
  return WeightKind::None;
}

std::vector<Branch> ParticleModelImpl::branches(const std::string &combineId) const {
  std::vector<Branch> out;
  for (const auto &s : steps_)
    if (s.id == combineId)
      for (std::size_t i = 0; i < s.inputs.size(); ++i)
        out.push_back(Branch{static_cast<int>(i), s.inputs[i]});
  return out;
}

ForwardResult ParticleModelImpl::forward(const Tensor &x, const ForwardOptions &options) {
  const AdaptedWeights adapted(adapters_);
  ForwardResult result;
  result.auxLoss = torch::zeros({}, x.options().dtype(torch::kFloat));
  const int64_t repeat = std::max<int64_t>(1, options.repeat);
  // With a base, "dirty" nodes are recomputed (their batch is repeat × the base's); the others
  // keep the base's value and are tiled on the fly when a dirty node reads them.
  std::set<std::string> dirty;
  auto tiled = [&](const Tensor &t) {
    if (repeat == 1)
      return t;
    std::vector<int64_t> reps(t.dim(), 1);
    reps[0] = repeat;
    return t.repeat(reps);
  };
  for (const auto &step : steps_) {
    std::vector<Tensor> outs;
    bool stepDirty = !options.base;
    Tensor gate;
    std::vector<const PortRef *> refs;
    for (const auto &ref : step.inputs)
      refs.push_back(&ref);
    if (step.gate)
      refs.push_back(&*step.gate);
    for (const auto *ref : refs)
      if (dirty.count(ref->node))
        stepDirty = true;
    const Tensor *fixed = nullptr;
    if (options.fixedWeights)
      if (auto it = options.fixedWeights->find(step.id); it != options.fixedWeights->end()) {
        fixed = &it->second;
        stepDirty = true;
      }
    auto fetch = [&](const PortRef &ref) {
      const Tensor &t = result.outputs.at(ref.node).at(ref.index());
      return options.base && !dirty.count(ref.node) ? tiled(t) : t;
    };
    if (!stepDirty && options.base && options.base->outputs.count(step.id)) {
      outs = options.base->outputs.at(step.id);
      if (auto w = options.base->combineWeights.find(step.id); w != options.base->combineWeights.end())
        result.combineWeights[step.id] = w->second;
    } else {
      std::vector<Tensor> inputs;
      if (step.type->role == NodeRole::DataSource) {
        inputs.push_back(options.base ? tiled(x) : x);
      } else {
        for (const auto &ref : step.inputs)
          inputs.push_back(fetch(ref));
        if (step.gate)
          gate = fetch(*step.gate);
      }
      NodeContext ctx;
      ctx.recordAttention = options.recordAttention;
      std::vector<Tensor> attention;
      ctx.attention = &attention;
      ctx.fixedWeights = fixed;
      outs = step.module->run(inputs, gate, ctx);
      if (ctx.weights.defined())
        result.combineWeights[step.id] = ctx.weights;
      if (ctx.auxLoss.defined())
        result.auxLoss = result.auxLoss + ctx.auxLoss;
      if (!attention.empty())
        result.attention[step.id] = attention;
      if (options.base)
        dirty.insert(step.id);
    }
    if (options.overrides) {
      bool overridden = false;
      for (std::size_t k = 0; k < outs.size(); ++k) {
        PortRef ref{step.id, std::to_string(k)};
        if (auto it = options.overrides->find(refKey(ref)); it != options.overrides->end()) {
          outs[k] = it->second;
          overridden = true;
        }
      }
      if (overridden && options.base && !dirty.count(step.id)) {
        // Ports not overridden must match the tiled batch too.
        for (std::size_t k = 0; k < outs.size(); ++k)
          if (!options.overrides->count(refKey(PortRef{step.id, std::to_string(k)})))
            outs[k] = tiled(outs[k]);
        dirty.insert(step.id);
      } else if (overridden && !options.base) {
        dirty.insert(step.id);
      }
    }
    result.outputs[step.id] = std::move(outs);
  }
  result.logits = result.outputs.at(classifier_).at(0);
  if (options.base && !dirty.count(classifier_))
    result.logits = tiled(result.logits);
  return result;
}

} // namespace particle
