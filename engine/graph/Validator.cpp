#include "graph/Validator.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <deque>
#include <limits>
#include <set>
#include <unordered_map>

namespace particle {

const char *problemCodeName(ProblemCode code) {
  switch (code) {
  case ProblemCode::DataUnavailable: return "data-unavailable";
  case ProblemCode::BadDataset: return "bad-dataset";
  case ProblemCode::BadTraining: return "bad-training";
  case ProblemCode::UnknownType: return "unknown-type";
  case ProblemCode::UnknownParam: return "unknown-param";
  case ProblemCode::BadParam: return "bad-param";
  case ProblemCode::ShareNotAllowed: return "share-not-allowed";
  case ProblemCode::TrunkNotAllowed: return "trunk-not-allowed";
  case ProblemCode::ScopeWithoutGroup: return "scope-without-group";
  case ProblemCode::ShareMismatch: return "share-mismatch";
  case ProblemCode::ShareAlone: return "share-alone";
  case ProblemCode::EdgeToMissingNode: return "edge-to-missing-node";
  case ProblemCode::SelfLoop: return "self-loop";
  case ProblemCode::NoSuchOutputPort: return "no-such-output-port";
  case ProblemCode::NoSuchInputPort: return "no-such-input-port";
  case ProblemCode::InputTakenTwice: return "input-taken-twice";
  case ProblemCode::NoInputNode: return "no-input-node";
  case ProblemCode::ExtraInputNode: return "extra-input-node";
  case ProblemCode::NoClassifier: return "no-classifier";
  case ProblemCode::ExtraClassifier: return "extra-classifier";
  case ProblemCode::Cycle: return "cycle";
  case ProblemCode::InputNotConnected: return "input-not-connected";
  case ProblemCode::TooFewBranches: return "too-few-branches";
  case ProblemCode::PortGap: return "port-gap";
  case ProblemCode::ShapeError: return "shape-error";
  case ProblemCode::NoPath: return "no-path";
  case ProblemCode::DoesNotReachOutput: return "does-not-reach-output";
  case ProblemCode::UnusedOutputs: return "unused-outputs";
  case ProblemCode::ClassCountMismatch: return "class-count-mismatch";
  case ProblemCode::PartMostlyPadding: return "part-mostly-padding";
  case ProblemCode::MemoryTooLarge: return "memory-too-large";
  case ProblemCode::MemoryHigh: return "memory-high";
  case ProblemCode::RareClass: return "rare-class";
  case ProblemCode::PartsOverlap: return "parts-overlap";
  case ProblemCode::UnusedFeatures: return "unused-features";
  case ProblemCode::NoWeights: return "no-weights";
  case ProblemCode::BadAdapter: return "bad-adapter";
  case ProblemCode::InitMismatch: return "init-mismatch";
  case ProblemCode::InitUnavailable: return "init-unavailable";
  }
  return "?";
}

std::string Problem::format(const std::string &file) const {
  std::string out = file.empty() ? std::string() : file + ": ";
  if (!node.empty())
    out += "node '" + node + "': ";
  // Section problems carry their key in the message already ("dataset.path: …").
  const bool sectionKey =
      code == ProblemCode::DataUnavailable || code == ProblemCode::BadDataset || code == ProblemCode::BadTraining;
  // A node's own keys beside its params ("init.from", "freeze", "adapter.rank") are named as keys.
  const bool nodeKey = param == "freeze" || param.rfind("init", 0) == 0 || param.rfind("adapter", 0) == 0;
  if (!param.empty() && (node.empty() || nodeKey) && !sectionKey)
    out += param + ": ";
  else if (!param.empty() && !sectionKey)
    out += "param '" + param + "': ";
  if (severity == Severity::Warning)
    out += "warning: ";
  return out + message;
}

std::string inputShapeText(const NodeInfo &info, std::size_t port) {
  if (port >= info.inputs.size())
    return "?";
  return shapeToString(info.inputs[port], port < info.inputTokens.size() && info.inputTokens[port]);
}

std::string outputShapeText(const NodeInfo &info, std::size_t port) {
  if (port >= info.outputs.size())
    return "?";
  return shapeToString(info.outputs[port], port < info.outputTokens.size() && info.outputTokens[port]);
}

bool Validation::ok() const {
  return errorCount() == 0;
}

int Validation::errorCount() const {
  return static_cast<int>(
      std::count_if(problems.begin(), problems.end(), [](const Problem &p) { return p.isError(); }));
}

int Validation::exitCode() const {
  if (ok())
    return 0;
  for (const auto &p : problems)
    if (p.isError() && p.kind == ErrorKind::File)
      return 3;
  return 1;
}

const NodeInfo *Validation::info(const std::string &id) const {
  auto it = nodes.find(id);
  return it == nodes.end() ? nullptr : &it->second;
}

int64_t Validation::Memory::total() const {
  const double sum = static_cast<double>(weights) + static_cast<double>(gradients) + static_cast<double>(optimizer) +
                     static_cast<double>(activations) + static_cast<double>(data);
  return sum >= 9.2e18 ? std::numeric_limits<int64_t>::max() : static_cast<int64_t>(sum);
}

bool Validation::has(ProblemCode code) const {
  return std::any_of(problems.begin(), problems.end(), [&](const Problem &p) { return p.code == code; });
}

int64_t adapterParameters(const NodeAdapter &adapter, const std::vector<LayerSize> &layers, bool trunkOnly) {
  int64_t sum = 0;
  for (const LayerSize &layer : layers)
    if (!trunkOnly || layer.trunk)
      sum += std::max<int64_t>(0, adapter.rank) * (layer.in + layer.out);
  return sum;
}

namespace {
std::string firstWithRole(const Graph &graph, NodeRole role) {
  const auto &cat = Catalogue::instance();
  for (const auto &n : graph.nodes)
    if (const NodeType *t = cat.find(n.type); t && t->role == role)
      return n.id;
  return {};
}

// A number as a person writes it: 8, 0.5.
std::string numberText(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", v);
  return text;
}

int64_t saturatingAdd(int64_t a, int64_t b) {
  if (b > 0 && a > std::numeric_limits<int64_t>::max() - b)
    return std::numeric_limits<int64_t>::max();
  return a + b;
}
} // namespace

std::string inputNodeId(const Graph &graph) {
  return firstWithRole(graph, NodeRole::DataSource);
}

std::string outputNodeId(const Graph &graph) {
  return firstWithRole(graph, NodeRole::Output);
}

namespace {

class Validator {
public:
  Validator(const Graph &graph, const DataInfo *data) : graph_(graph) {
    if (data) {
      v_.data = *data;
      v_.dataKnown = true;
    }
    const auto &cat = Catalogue::instance();
    const std::size_t n = graph_.nodes.size();
    types_.resize(n);
    incoming_.resize(n);
    outgoing_.resize(n);
    badParams_.assign(n, false);
    infos_.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      index_.emplace(graph_.nodes[i].id, static_cast<int>(i));
      types_[i] = cat.find(graph_.nodes[i].type);
    }
  }

  Validation run() {
    findRoles();
    checkNodes();
    checkEdges();
    checkCounts();
    sortTopologically();
    inferShapes();
    checkReachability();
    checkUnusedOutputs();
    checkPartCoverage();
    planShares();
    checkShareGroups();
    countParameters();
    for (std::size_t i = 0; i < graph_.nodes.size(); ++i)
      v_.nodes[graph_.nodes[i].id] = std::move(infos_[i]);
    return std::move(v_);
  }

private:
  Problem &report(Problem::Severity severity, ProblemCode code, int node, const std::string &message) {
    Problem p;
    p.severity = severity;
    p.code = code;
    if (node >= 0) {
      p.node = graph_.nodes[static_cast<std::size_t>(node)].id;
      if (severity == Problem::Severity::Error)
        infos_[static_cast<std::size_t>(node)].ok = false;
    }
    p.message = message;
    v_.problems.push_back(p);
    return v_.problems.back();
  }
  Problem &error(ProblemCode code, int node, const std::string &message) {
    return report(Problem::Severity::Error, code, node, message);
  }
  Problem &warning(ProblemCode code, int node, const std::string &message) {
    return report(Problem::Severity::Warning, code, node, message);
  }

  int indexOf(const std::string &id) const {
    auto it = index_.find(id);
    return it == index_.end() ? -1 : it->second;
  }
  const Node &node(int i) const { return graph_.nodes[static_cast<std::size_t>(i)]; }

  void findRoles() {
    for (std::size_t i = 0; i < graph_.nodes.size(); ++i) {
      if (!types_[i])
        continue;
      if (types_[i]->role == NodeRole::DataSource)
        inputs_.push_back(static_cast<int>(i));
      if (types_[i]->role == NodeRole::Output)
        outputs_.push_back(static_cast<int>(i));
    }
  }

  void checkNodes() {
    const auto &cat = Catalogue::instance();
    for (std::size_t i = 0; i < graph_.nodes.size(); ++i) {
      const Node &n = graph_.nodes[i];
      const int ni = static_cast<int>(i);
      const NodeType *type = types_[i];
      if (!type) {
        error(ProblemCode::UnknownType, ni, "unknown node type \"" + n.type + "\" (known types: " + cat.names() + ")");
        badParams_[i] = true;
        continue;
      }
      if (!n.params.is_object()) {
        error(ProblemCode::BadParam, ni, "params must be an object");
        badParams_[i] = true;
        continue;
      }
      for (auto it = n.params.begin(); it != n.params.end(); ++it) {
        const Field *spec = type->param(it.key());
        if (!spec) {
          const std::string known = type->params.names();
          error(ProblemCode::UnknownParam, ni,
                "unknown param for " + withArticle(n.type) +
                    (known.empty() ? " (it takes none)" : " (known: " + known + ")"))
              .param = it.key();
          badParams_[i] = true;
          continue;
        }
        const std::string problem = Schema::check(*spec, it.value());
        if (!problem.empty()) {
          error(ProblemCode::BadParam, ni, problem).param = it.key();
          badParams_[i] = true;
        }
      }
      infos_[i].params = cat.effectiveParams(*type, n.params);
      if (!n.share.empty() && !type->shareable)
        error(ProblemCode::ShareNotAllowed, ni,
              withArticle(n.type) +
                  " cannot share parameters (sub-models and Linear layers can); remove it from "
                  "share group \"" +
                  n.share + "\"");
      if (n.shareScope == "trunk" && !type->trunkShareable)
        error(ProblemCode::TrunkNotAllowed, ni,
              "share_scope \"trunk\" needs a sub-model such as an MLP, ConvNet or Attention (" + withArticle(n.type) +
                  " has one layer)");
      if (!n.shareScope.empty() && n.share.empty())
        error(ProblemCode::ScopeWithoutGroup, ni, "share_scope is set but the node is in no share group");
      checkWeightKeys(ni, n, *type);
    }
  }

  // init, freeze and adapter: where a node's weights start, whether they move, what trains beside
  // them. Whether the init source fits is the project's check (it reads another file).
  void checkWeightKeys(int ni, const Node &n, const NodeType &type) {
    const char *key = n.init ? "init" : n.freeze ? "freeze" : n.adapter ? "adapter" : nullptr;
    if (!key)
      return;
    if (type.role == NodeRole::DataSource || type.role == NodeRole::Decomposer) {
      error(ProblemCode::NoWeights, ni,
            withArticle(n.type) + " has no weights to start from, freeze or adapt; remove " + key + " from it")
          .param = key;
      return;
    }
    if (!n.adapter)
      return;
    const NodeAdapter &a = *n.adapter;
    if (a.kind != "lora")
      error(ProblemCode::BadAdapter, ni, "adapter kind \"" + a.kind + R"(" is unknown (the one kind is "lora"))")
          .param = "adapter.kind";
    if (a.rank < 1)
      error(ProblemCode::BadAdapter, ni, "adapter rank is " + std::to_string(a.rank) + "; it must be at least 1")
          .param = "adapter.rank";
    if (!(a.alpha > 0) || !std::isfinite(a.alpha))
      error(ProblemCode::BadAdapter, ni, "adapter alpha is " + numberText(a.alpha) + "; it must be above 0").param =
          "adapter.alpha";
    if (n.freeze)
      error(ProblemCode::BadAdapter, ni,
            "freeze and an adapter together: the adapter already keeps the node's own weights as they are, and "
            "frozen it would not train either; remove freeze or the adapter")
          .param = "freeze";
  }

  // What a node's module holds beside its own weights (an adapter's) and what of it trains.
  void countTrainable(int id, NodeInfo &info, const InferResult &r) {
    const Node &n = node(id);
    info.adaptable = r.adaptable;
    const char *key = n.init ? "init" : n.freeze ? "freeze" : n.adapter ? "adapter" : nullptr;
    const NodeRole role = types_[static_cast<std::size_t>(id)]->role;
    if (key && r.parameters == 0 && role != NodeRole::DataSource && role != NodeRole::Decomposer)
      error(ProblemCode::NoWeights, id,
            "has no weights with these params (" + withArticle(n.type) + " that computes without any); remove " + key +
                " from it")
          .param = key;
    else if (n.adapter && r.adaptable.empty())
      error(ProblemCode::BadAdapter, id,
            withArticle(n.type) + " has no Linear or convolution layer for an adapter to adapt; freeze it instead")
          .param = "adapter";
    const bool adapted = n.adapter && !n.freeze && n.adapter->rank >= 1;
    if (adapted) {
      info.trainableParameters = adapterParameters(*n.adapter, r.adaptable);
      info.trunkTrainableParameters = adapterParameters(*n.adapter, r.adaptable, true);
      info.parameters += info.trainableParameters;
      info.trunkParameters += info.trunkTrainableParameters;
    } else if (!n.freeze) {
      info.trainableParameters = r.parameters - r.fixedParameters;
      info.trunkTrainableParameters = r.fixedParameters > 0 ? 0 : r.trunkParameters;
    }
  }

  // Output ports of a node, or -1 when they cannot be known (unknown type or bad params).
  int outputPorts(int i) const {
    const auto ui = static_cast<std::size_t>(i);
    if (!types_[ui] || badParams_[ui])
      return -1;
    return types_[ui]->outputs(infos_[ui].params);
  }

  void checkEdges() {
    std::map<std::pair<int, std::string>, int> taken;
    validEdge_.assign(graph_.edges.size(), false);
    for (std::size_t i = 0; i < graph_.edges.size(); ++i) {
      const Edge &e = graph_.edges[i];
      const int ei = static_cast<int>(i);
      const std::string desc = "edge " + e.from.toString() + " → " + e.to.toString();
      const int from = indexOf(e.from.node), to = indexOf(e.to.node);
      if (from < 0) {
        error(ProblemCode::EdgeToMissingNode, to, desc + " starts at node '" + e.from.node + "', which does not exist")
            .edge = ei;
        continue;
      }
      if (to < 0) {
        error(ProblemCode::EdgeToMissingNode, from, desc + " ends at node '" + e.to.node + "', which does not exist")
            .edge = ei;
        continue;
      }
      if (from == to) {
        error(ProblemCode::SelfLoop, from, desc + " connects the node to itself").edge = ei;
        continue;
      }
      const NodeType *ft = types_[static_cast<std::size_t>(from)], *tt = types_[static_cast<std::size_t>(to)];
      const int outs = outputPorts(from);
      if (outs >= 0 && (!e.from.isNumbered() || e.from.index() >= outs)) {
        error(ProblemCode::NoSuchOutputPort, from,
              desc + ": " + withArticle(ft->type) + " has " +
                  (outs == 0 ? "no output ports" : "output ports 0.." + std::to_string(outs - 1)) +
                  (ft->outputCount ? " with these params" : ""))
            .edge = ei;
        // The target is still connected (to nothing usable): its input is "unknown", not "free",
        // so one params change does not turn into a "not connected" error on every node downstream.
        if (e.from.isNumbered() && tt) {
          validEdge_[i] = true;
          incoming_[static_cast<std::size_t>(to)].push_back(ei);
          outgoing_[static_cast<std::size_t>(from)].push_back(ei);
        }
        continue;
      }
      if (outs < 0 && !e.from.isNumbered()) {
        error(ProblemCode::NoSuchOutputPort, from, desc + ": output ports are numbered").edge = ei;
        continue;
      }
      if (tt) {
        if (e.to.isNumbered()) {
          if (tt->maxInputs == 0) {
            error(ProblemCode::NoSuchInputPort, to, desc + ": " + withArticle(tt->type) + " takes no input").edge = ei;
            continue;
          }
          if (tt->maxInputs >= 0 && e.to.index() >= tt->maxInputs) {
            error(ProblemCode::NoSuchInputPort, to,
                  desc + ": " + withArticle(tt->type) + " has " + std::to_string(tt->maxInputs) + " input port(s)")
                .edge = ei;
            continue;
          }
        } else if (std::find(tt->namedInputs.begin(), tt->namedInputs.end(), e.to.port) == tt->namedInputs.end()) {
          error(ProblemCode::NoSuchInputPort, to,
                desc + ": " + withArticle(tt->type) + " has no input named \"" + e.to.port + "\"")
              .edge = ei;
          continue;
        }
      }
      auto [it, inserted] = taken.emplace(std::make_pair(to, e.to.port), ei);
      if (!inserted) {
        Problem &p = error(ProblemCode::InputTakenTwice, to,
                           "input " + e.to.port + " is connected twice (" +
                               graph_.edges[static_cast<std::size_t>(it->second)].from.toString() + " and " +
                               e.from.toString() + "); remove one edge");
        p.edge = ei;
        p.port = e.to.port;
        continue;
      }
      validEdge_[i] = true;
      incoming_[static_cast<std::size_t>(to)].push_back(ei);
      outgoing_[static_cast<std::size_t>(from)].push_back(ei);
    }
  }

  void checkCounts() {
    if (inputs_.empty())
      error(ProblemCode::NoInputNode, -1, "the graph has no Input node; add one to feed the data set in");
    for (std::size_t i = 1; i < inputs_.size(); ++i)
      error(ProblemCode::ExtraInputNode, inputs_[i],
            "a graph has exactly one Input ('" + node(inputs_[0]).id + "' is the first); remove this one");
    if (outputs_.empty())
      error(ProblemCode::NoClassifier, -1, "the graph has no Classifier node; add one at the end");
    for (std::size_t i = 1; i < outputs_.size(); ++i)
      error(ProblemCode::ExtraClassifier, outputs_[i],
            "a graph has exactly one Classifier ('" + node(outputs_[0]).id +
                "' is the first); combine branches before it");
  }

  void sortTopologically() {
    const std::size_t n = graph_.nodes.size();
    std::vector<int> indegree(n, 0);
    for (std::size_t i = 0; i < n; ++i)
      indegree[i] = static_cast<int>(incoming_[i].size());
    std::deque<int> ready;
    for (std::size_t i = 0; i < n; ++i) // file order keeps the result stable
      if (indegree[i] == 0)
        ready.push_back(static_cast<int>(i));
    std::vector<bool> sorted(n, false);
    while (!ready.empty()) {
      const int id = ready.front();
      ready.pop_front();
      sorted[static_cast<std::size_t>(id)] = true;
      order_.push_back(id);
      for (int ei : outgoing_[static_cast<std::size_t>(id)]) {
        const int m = indexOf(graph_.edges[static_cast<std::size_t>(ei)].to.node);
        if (--indegree[static_cast<std::size_t>(m)] == 0)
          ready.push_back(m);
      }
    }
    for (int i : order_)
      v_.order.push_back(node(i).id);
    if (order_.size() == n)
      return;
    for (std::size_t i = 0; i < n; ++i) {
      if (sorted[i])
        continue;
      // Walk forward through unsorted nodes to show the loop.
      std::string path = graph_.nodes[i].id;
      int cur = static_cast<int>(i);
      std::set<int> seen = {cur};
      for (int guard = 0; guard < 64; ++guard) {
        int step = -1;
        for (int ei : outgoing_[static_cast<std::size_t>(cur)]) {
          const int m = indexOf(graph_.edges[static_cast<std::size_t>(ei)].to.node);
          if (!sorted[static_cast<std::size_t>(m)]) {
            step = m;
            break;
          }
        }
        if (step < 0)
          break;
        path += " → " + node(step).id;
        if (!seen.insert(step).second)
          break;
        cur = step;
      }
      error(ProblemCode::Cycle, static_cast<int>(i),
            "is part of a cycle (" + path + "); data must flow one way from Input to Classifier");
    }
  }

  void inferShapes() {
    for (int id : order_) {
      const auto ui = static_cast<std::size_t>(id);
      const NodeType *type = types_[ui];
      if (!type || badParams_[ui])
        continue; // its type or params are wrong; inference would only repeat the message
      NodeInfo &info = infos_[ui];
      // Gather inputs by port.
      std::map<int, Shape> numbered;
      std::map<int, uint8_t> numberedTokens;
      bool upstreamUnknown = false;
      for (int ei : incoming_[ui]) {
        const Edge &e = graph_.edges[static_cast<std::size_t>(ei)];
        const NodeInfo &src = infos_[static_cast<std::size_t>(indexOf(e.from.node))];
        const int port = e.from.index();
        if (!src.shapesKnown || port < 0 || port >= static_cast<int>(src.outputs.size())) {
          upstreamUnknown = true;
          if (e.to.isNumbered())
            numbered[e.to.index()] = Shape{}; // connected, shape unknown
          continue;
        }
        if (e.to.isNumbered()) {
          numbered[e.to.index()] = src.outputs[static_cast<std::size_t>(port)];
          const auto p = static_cast<std::size_t>(port);
          numberedTokens[e.to.index()] = p < src.outputTokens.size() ? src.outputTokens[p] : 0;
        } else
          info.gate = src.outputs[static_cast<std::size_t>(port)];
      }
      const int connected = static_cast<int>(numbered.size());
      const int needed = std::max(type->minInputs, connected == 0 ? type->minInputs : numbered.rbegin()->first + 1);
      bool complete = true;
      for (int k = 0; k < needed; ++k) {
        if (numbered.count(k))
          continue;
        complete = false;
        if (type->maxInputs == 1) {
          error(ProblemCode::InputNotConnected, id, "its input is not connected; connect an upstream output to it")
              .port = "0";
        } else if (type->role == NodeRole::Combiner && k >= connected) {
          error(ProblemCode::TooFewBranches, id,
                withArticle(type->type) + " needs at least " + std::to_string(type->minInputs) + " branches; " +
                    std::to_string(connected) + " connected")
              .port = std::to_string(k);
          break;
        } else {
          error(ProblemCode::PortGap, id,
                "input port " + std::to_string(k) + " is not connected (ports must be numbered 0.." +
                    std::to_string(needed - 1) + " without gaps)")
              .port = std::to_string(k);
          if (type->role == NodeRole::Combiner)
            break;
        }
      }
      if (upstreamUnknown || !complete)
        continue;
      if (type->role == NodeRole::DataSource && !v_.dataKnown)
        continue;
      bool allTokens = !numbered.empty();
      for (auto &[k, s] : numbered) {
        info.inputs.push_back(s);
        info.inputTokens.push_back(numberedTokens[k]);
        allTokens = allTokens && numberedTokens[k];
      }
      if (!resolveColumnNames(id, *type, info))
        continue;
      InferResult r = type->infer(InferInput{info.params, info.inputs, info.gate, v_.data});
      if (!r.error.empty()) {
        Problem &p = error(ProblemCode::ShapeError, id, r.error);
        p.param = r.errorParam;
        p.kind = r.errorKind;
        continue;
      }
      info.outputs = r.outputs;
      const bool tokens =
          type->role == NodeRole::DataSource ? !v_.data.vocabulary.empty() : type->keepsTokens && allTokens;
      info.outputTokens.assign(info.outputs.size(), tokens ? 1 : 0);
      info.parameters = r.parameters;
      info.trunkParameters = r.trunkParameters;
      info.trunkWidth = r.trunkWidth;
      info.flops = r.flops;
      info.flopsKnown = r.flopsKnown;
      info.shapesKnown = true;
      countTrainable(id, info, r);
    }
  }

  // Whether node `i` reads the data's table features as they are: its only input comes straight
  // from the data source, and the data names one feature per element of it.
  bool readsTableFeatures(std::size_t i) const {
    const NodeInfo &info = infos_[i];
    if (!v_.dataKnown || !v_.data.vocabulary.empty() || v_.data.featureNames.empty() || info.inputs.size() != 1 ||
        info.inputs[0] != Shape{static_cast<int64_t>(v_.data.featureNames.size())})
      return false;
    for (int ei : incoming_[i]) {
      const Edge &e = graph_.edges[static_cast<std::size_t>(ei)];
      const int from = indexOf(e.from.node);
      if (e.to.isNumbered() && (from < 0 || !types_[static_cast<std::size_t>(from)] ||
                                types_[static_cast<std::size_t>(from)]->role != NodeRole::DataSource))
        return false;
    }
    return true;
  }

  // Up to `most` of the data's feature names, quoted, for messages.
  std::string someFeatureNames(std::size_t most) const {
    const auto &names = v_.data.featureNames;
    std::string out;
    for (std::size_t k = 0; k < names.size() && k < most; ++k)
      out += (k ? ", \"" : "\"") + names[k] + "\"";
    if (names.size() > most)
      out += " and " + std::to_string(names.size() - most) + " more";
    return out;
  }

  // Index lists (a Split's `groups`) may name a table's columns instead of giving feature
  // indices. Each name becomes the index of the feature of that name, or the indices of every
  // one-hot feature of a categorical column ("city" → "city=Oslo", "city=Rome"). The node is then
  // inferred, built, explained and exported with indices only. False (and an error naming the
  // param) when a name cannot be resolved.
  bool resolveColumnNames(int id, const NodeType &type, NodeInfo &info) {
    const auto ui = static_cast<std::size_t>(id);
    for (const auto &f : type.params.fields()) {
      if (f.kind != FieldKind::IntListList || !info.params.is_object() || !info.params.contains(f.name) ||
          !info.params[f.name].is_array())
        continue;
      Json &lists = info.params[f.name];
      const bool named = std::any_of(lists.begin(), lists.end(), [](const Json &l) {
        return l.is_array() && std::any_of(l.begin(), l.end(), [](const Json &x) { return x.is_string(); });
      });
      if (!named)
        continue;
      if (!readsTableFeatures(ui)) {
        error(ProblemCode::BadParam, id,
              "names columns, which needs its input straight from the Input of a table data set (kind csv); "
              "give feature indices instead")
            .param = f.name;
        return false;
      }
      const auto &features = v_.data.featureNames;
      for (auto &list : lists) {
        Json indices = Json::array();
        for (const auto &item : list) {
          if (!item.is_string()) {
            indices.push_back(item);
            continue;
          }
          const std::string name = item.get<std::string>();
          std::vector<int64_t> found;
          for (std::size_t k = 0; k < features.size() && found.empty(); ++k)
            if (features[k] == name)
              found.push_back(static_cast<int64_t>(k));
          const bool exact = !found.empty();
          for (std::size_t k = 0; k < features.size() && !exact; ++k)
            if (features[k].size() > name.size() && features[k].compare(0, name.size(), name) == 0 &&
                features[k][name.size()] == '=')
              found.push_back(static_cast<int64_t>(k));
          if (found.empty()) {
            error(ProblemCode::BadParam, id,
                  "no feature column named \"" + name + "\" in the data (features: " + someFeatureNames(12) + ")")
                .param = f.name;
            return false;
          }
          for (int64_t k : found)
            indices.push_back(k);
        }
        list = std::move(indices);
      }
    }
    return true;
  }

  // Decomposers whose parts overlap (an element read by several parts) or leave elements out (read
  // by none): allowed, but said, naming the features of a table.
  void checkPartCoverage() {
    constexpr int64_t kMostElements = int64_t{1} << 22;
    for (std::size_t i = 0; i < graph_.nodes.size(); ++i) {
      const NodeType *type = types_[i];
      const NodeInfo &info = infos_[i];
      if (!type || type->role != NodeRole::Decomposer || !type->partIndices || !info.shapesKnown ||
          info.inputs.size() != 1)
        continue;
      const int64_t n = shapeNumel(info.inputs[0]);
      if (n <= 0 || n > kMostElements)
        continue;
      const auto parts = type->partIndices(info.params, info.inputs[0]);
      // How many parts read each element (a part that repeats an element, as padding, counts once).
      std::vector<int32_t> reads(static_cast<std::size_t>(n), 0), lastPart(static_cast<std::size_t>(n), -1);
      for (std::size_t p = 0; p < parts.size(); ++p)
        for (int64_t e : parts[p])
          if (e >= 0 && e < n && lastPart[static_cast<std::size_t>(e)] != static_cast<int32_t>(p)) {
            lastPart[static_cast<std::size_t>(e)] = static_cast<int32_t>(p);
            ++reads[static_cast<std::size_t>(e)];
          }
      const bool named = readsTableFeatures(i);
      auto elementName = [&](std::size_t e) {
        return named ? "\"" + v_.data.featureNames[e] + "\"" : "feature " + std::to_string(e);
      };
      // The param that lists the parts' elements, when the type has one that applies.
      std::string param;
      for (const auto &f : type->params.fields())
        if (f.kind == FieldKind::IntListList && type->params.applies(f, info.params))
          param = f.name;
      std::string twice, unused;
      int64_t twiceCount = 0, unusedCount = 0;
      for (std::size_t e = 0; e < reads.size(); ++e) {
        if (reads[e] > 1 && twiceCount++ < 6) {
          std::vector<std::size_t> in;
          for (std::size_t p = 0; p < parts.size(); ++p)
            if (std::find(parts[p].begin(), parts[p].end(), static_cast<int64_t>(e)) != parts[p].end())
              in.push_back(p);
          std::string which;
          for (std::size_t k = 0; k < in.size(); ++k)
            which += (k == 0 ? "" : k + 1 == in.size() ? " and " : ", ") + std::to_string(in[k]);
          twice += (twice.empty() ? "" : "; ") + elementName(e) + " is in parts " + which;
        }
        if (reads[e] == 0 && unusedCount++ < 8)
          unused += (unused.empty() ? "" : ", ") + elementName(e);
      }
      if (twiceCount > 0) {
        if (twiceCount > 6)
          twice += "; and " + std::to_string(twiceCount - 6) + " more";
        warning(ProblemCode::PartsOverlap, static_cast<int>(i),
                "parts overlap: " + twice + " (read more than once; give each feature one part unless that is meant)")
            .param = param;
      }
      if (unusedCount > 0) {
        if (unusedCount > 8)
          unused += " and " + std::to_string(unusedCount - 8) + " more";
        warning(ProblemCode::UnusedFeatures, static_cast<int>(i),
                std::to_string(unusedCount) + " of " + std::to_string(n) +
                    " features are in no part, so never read: " + unused)
            .param = param;
      }
    }
  }

  std::vector<bool> reach(int start, bool forward) const {
    std::vector<bool> seen(graph_.nodes.size(), false);
    seen[static_cast<std::size_t>(start)] = true;
    std::vector<int> stack = {start};
    while (!stack.empty()) {
      const int cur = stack.back();
      stack.pop_back();
      for (int ei : forward ? outgoing_[static_cast<std::size_t>(cur)] : incoming_[static_cast<std::size_t>(cur)]) {
        const Edge &e = graph_.edges[static_cast<std::size_t>(ei)];
        const int m = indexOf(forward ? e.to.node : e.from.node);
        if (!seen[static_cast<std::size_t>(m)]) {
          seen[static_cast<std::size_t>(m)] = true;
          stack.push_back(m);
        }
      }
    }
    return seen;
  }

  void checkReachability() {
    if (inputs_.empty() || outputs_.empty())
      return;
    const int input = inputs_.front(), output = outputs_.front();
    fromInput_ = reach(input, true);
    toOutput_ = reach(output, false);
    if (!fromInput_[static_cast<std::size_t>(output)])
      error(ProblemCode::NoPath, output,
            "there is no path from Input '" + node(input).id + "' to this Classifier; connect the chain");
    for (std::size_t i = 0; i < graph_.nodes.size(); ++i) {
      if (static_cast<int>(i) == output || !fromInput_[i] || toOutput_[i])
        continue;
      warning(ProblemCode::DoesNotReachOutput, static_cast<int>(i),
              "its output does not reach the Classifier, so it does not affect predictions");
    }
  }

  void checkUnusedOutputs() {
    for (std::size_t i = 0; i < graph_.nodes.size(); ++i) {
      const int ports = outputPorts(static_cast<int>(i));
      if (ports < 2 || outgoing_[i].empty())
        continue; // a node with no outgoing edge at all is reported as not reaching the Classifier
      std::vector<bool> used(static_cast<std::size_t>(ports), false);
      for (int ei : outgoing_[i]) {
        const int port = graph_.edges[static_cast<std::size_t>(ei)].from.index();
        if (port >= 0 && port < ports)
          used[static_cast<std::size_t>(port)] = true;
      }
      std::string free;
      int count = 0;
      for (int p = 0; p < ports; ++p)
        if (!used[static_cast<std::size_t>(p)]) {
          if (count < 8)
            free += (free.empty() ? "" : ", ") + std::to_string(p);
          ++count;
        }
      if (count == 0)
        continue;
      if (count > 8)
        free += " and " + std::to_string(count - 8) + " more";
      warning(ProblemCode::UnusedOutputs, static_cast<int>(i),
              std::string(count == 1 ? "output " : "outputs ") + free + " of " + std::to_string(ports) +
                  (count == 1 ? " is" : " are") + " not connected; that part of the input is ignored");
    }
  }

  // What training builds: the nodes that feed the output with known shapes, in the order they run.
  void planShares() {
    std::vector<std::string> built;
    for (int i : order_)
      if (infos_[static_cast<std::size_t>(i)].shapesKnown &&
          (toOutput_.empty() || toOutput_[static_cast<std::size_t>(i)]))
        built.push_back(node(i).id);
    v_.sharing = planSharing(graph_, built);
  }

  // Members are compared with the group's first in the file, the one the user reads first.
  void checkShareGroups() {
    for (const auto &[name, members] : v_.sharing.groups) {
      const int firstIndex = indexOf(members.front());
      const Node &first = node(firstIndex);
      const NodeInfo &fi = infos_[static_cast<std::size_t>(firstIndex)];
      if (members.size() == 1)
        warning(ProblemCode::ShareAlone, firstIndex,
                "share group \"" + name + "\" has only this member; nothing is shared");
      for (std::size_t k = 1; k < members.size(); ++k) {
        const int mIndex = indexOf(members[k]);
        const Node &m = node(mIndex);
        const NodeInfo &mi = infos_[static_cast<std::size_t>(mIndex)];
        const std::string intro = "share group \"" + name + "\": ";
        if (m.type != first.type) {
          error(ProblemCode::ShareMismatch, mIndex,
                intro + "is " + withArticle(m.type) + " but '" + first.id + "' is " + withArticle(first.type) +
                    "; tied members must have the same type");
          continue;
        }
        if (m.shareScope != first.shareScope) {
          error(ProblemCode::ShareMismatch, mIndex, intro + "share_scope differs from '" + first.id + "'");
          continue;
        }
        if (const char *key = m.init != first.init         ? "init"
                              : m.freeze != first.freeze   ? "freeze"
                              : m.adapter != first.adapter ? "adapter"
                                                           : nullptr) {
          error(ProblemCode::ShareMismatch, mIndex,
                intro + key + " is " + weightKeyText(m, key) + " here but " + weightKeyText(first, key) + " on '" +
                    first.id + "'; tied members train one set of weights, so they must agree on " + key)
              .param = key;
          continue;
        }
        const bool trunkOnly = first.shareScope == "trunk";
        bool paramsDiffer = false;
        for (auto it = fi.params.begin(); it != fi.params.end(); ++it) {
          // With scope trunk the last layer is per member, so its width may differ.
          if (trunkOnly && it.key() == "out")
            continue;
          if (mi.params.contains(it.key()) && mi.params[it.key()] != it.value()) {
            error(ProblemCode::ShareMismatch, mIndex,
                  intro + "param '" + it.key() + "' is " + mi.params[it.key()].dump() + " here but " +
                      it.value().dump() + " on '" + first.id + "'; tied members need the same params")
                .param = it.key();
            paramsDiffer = true;
          }
        }
        if (paramsDiffer)
          continue;
        if (fi.shapesKnown && mi.shapesKnown && fi.inputs != mi.inputs) {
          const std::string a = fi.inputs.empty() ? "?" : shapeToString(fi.inputs[0]);
          const std::string b = mi.inputs.empty() ? "?" : shapeToString(mi.inputs[0]);
          std::string message = intro;
          message += "input shape " + b;
          message += " differs from " + a;
          message += " of '" + first.id + "'; tied members must see inputs of the same shape";
          error(ProblemCode::ShareMismatch, mIndex, message);
        }
      }
    }
  }

  // How a share group's member sets init, freeze or adapter, for messages.
  static std::string weightKeyText(const Node &n, const std::string &key) {
    if (key == "freeze")
      return n.freeze ? "true" : "false";
    if (key == "init")
      return n.init ? "from \"" + n.init->from + "\"" + (n.init->node.empty() ? "" : " node \"" + n.init->node + "\"")
                    : "not set";
    return n.adapter
               ? n.adapter->kind + " rank " + std::to_string(n.adapter->rank) + " alpha " + numberText(n.adapter->alpha)
               : "not set";
  }

  // Only what feeds the Classifier is built and trained: the nodes of the share plan.
  void countParameters() {
    v_.flopsKnown = !v_.sharing.nodes.empty() && v_.ok(); // with errors, some nodes would be missing
    for (std::size_t i = 0; i < graph_.nodes.size(); ++i) {
      const Node &n = graph_.nodes[i];
      const NodeInfo &info = infos_[i];
      if (!v_.sharing.nodes.count(n.id))
        continue;
      v_.flopsPerSample += info.flops; // shared weights still compute once per node that uses them
      v_.flopsKnown = v_.flopsKnown && info.flopsKnown;
      v_.totalParameters = saturatingAdd(v_.totalParameters, info.parameters);
      v_.uniqueParameters =
          saturatingAdd(v_.uniqueParameters, v_.sharing.ownParameters(n.id, info.parameters, info.trunkParameters));
      v_.trainableParameters =
          saturatingAdd(v_.trainableParameters,
                        v_.sharing.ownParameters(n.id, info.trainableParameters, info.trunkTrainableParameters));
    }
  }

  const Graph &graph_;
  Validation v_;
  std::unordered_map<std::string, int> index_;
  std::vector<const NodeType *> types_;
  std::vector<std::vector<int>> incoming_, outgoing_; // valid edges by node
  std::vector<bool> validEdge_, badParams_, fromInput_, toOutput_;
  std::vector<NodeInfo> infos_;
  std::vector<int> order_;
  std::vector<int> inputs_, outputs_; // data sources and output nodes, in file order
};

} // namespace

Validation validateGraph(const Graph &graph, const DataInfo *data) {
  return Validator(graph, data).run();
}

} // namespace particle
