#include "graph/Validator.h"

#include "data/DatasetSpec.h"
#include "train/TrainingSpec.h"

#include <algorithm>
#include <deque>
#include <set>

namespace particle {

std::string Problem::format(const std::string &file) const {
  std::string out = file.empty() ? std::string() : file + ": ";
  if (!node.empty())
    out += "node '" + node + "': ";
  if (!param.empty() && node.empty())
    out += param + ": ";
  else if (!param.empty())
    out += "param '" + param + "': ";
  if (severity == Severity::Warning)
    out += "warning: ";
  return out + message;
}

bool Validation::ok() const {
  return errorCount() == 0;
}

int Validation::errorCount() const {
  return static_cast<int>(std::count_if(problems.begin(), problems.end(),
                                        [](const Problem &p) { return p.severity == Problem::Severity::Error; }));
}

int Validation::exitCode() const {
  if (ok())
    return 0;
  for (const auto &p : problems)
    if (p.severity == Problem::Severity::Error && p.kind == ErrorKind::File)
      return 3;
  return 1;
}

const NodeInfo *Validation::info(const std::string &id) const {
  auto it = nodes.find(id);
  return it == nodes.end() ? nullptr : &it->second;
}

std::string shareOwner(const Graph &graph, const std::string &nodeId) {
  const Node *n = graph.find(nodeId);
  if (!n || n->share.empty())
    return nodeId;
  for (const auto &m : graph.nodes)
    if (m.share == n->share)
      return m.id;
  return nodeId;
}

namespace {

class Validator {
public:
  Validator(const Project &project, const DataInfo *data) : project_(project), graph_(project.graph) {
    if (data) {
      v_.data = *data;
      v_.dataKnown = true;
    }
  }

  Validation run() {
    checkSections();
    checkNodes();
    checkEdges();
    checkCounts();
    sortTopologically();
    inferShapes();
    checkReachability();
    checkShareGroups();
    countParameters();
    return std::move(v_);
  }

private:
  void error(const std::string &node, const std::string &message, const std::string &param = {}, int edge = -1,
             ErrorKind kind = ErrorKind::Invalid) {
    Problem p;
    p.node = node;
    p.param = param;
    p.edge = edge;
    p.message = message;
    p.kind = kind;
    v_.problems.push_back(p);
    if (auto it = v_.nodes.find(node); it != v_.nodes.end())
      it->second.ok = false;
  }

  void warning(const std::string &node, const std::string &message) {
    Problem p;
    p.severity = Problem::Severity::Warning;
    p.node = node;
    p.message = message;
    v_.problems.push_back(p);
  }

  void checkSections() {
    if (!v_.dataKnown) {
      try {
        v_.data = probeDataset(parseDatasetSpec(project_.dataset, project_.baseDir()));
        v_.dataKnown = true;
      } catch (const Error &e) {
        // The message starts with "dataset.key: " or a file name; keep it whole.
        error("", e.what(), {}, -1, e.kind());
      }
    }
    try {
      parseTrainingSpec(project_.training);
    } catch (const Error &e) {
      error("", e.what());
    }
  }

  void checkNodes() {
    const auto &cat = Catalogue::instance();
    for (const auto &n : graph_.nodes) {
      NodeInfo &info = v_.nodes[n.id];
      const NodeType *type = cat.find(n.type);
      if (!type) {
        std::string list;
        for (const auto &t : cat.types())
          list += (list.empty() ? "" : ", ") + t.type;
        error(n.id, "unknown node type \"" + n.type + "\" (known types: " + list + ")");
        badParams_.insert(n.id);
        continue;
      }
      for (auto it = n.params.begin(); it != n.params.end(); ++it) {
        const ParamSpec *spec = type->param(it.key());
        if (!spec) {
          std::string list;
          for (const auto &p : type->params)
            list += (list.empty() ? "" : ", ") + p.name;
          error(n.id, "unknown param for a " + n.type + (list.empty() ? " (it takes none)" : " (known: " + list + ")"),
                it.key());
          badParams_.insert(n.id);
          continue;
        }
        const std::string problem = Catalogue::checkParam(*spec, it.value());
        if (!problem.empty()) {
          error(n.id, problem, it.key());
          badParams_.insert(n.id);
        }
      }
      info.params = cat.effectiveParams(*type, n.params);
      if (!n.share.empty() && !type->shareable)
        error(n.id, "a " + n.type + " has no parameters to share; remove it from share group \"" + n.share + "\"");
      if (n.shareScope == "trunk" && !type->trunkShareable)
        error(n.id, "share_scope \"trunk\" needs an MLP, ConvNet or Attention (a " + n.type + " has one layer)");
      if (!n.shareScope.empty() && n.share.empty())
        error(n.id, "share_scope is set but the node is in no share group");
    }
  }

  const NodeType *typeOf(const std::string &id) const {
    const Node *n = graph_.find(id);
    return n ? Catalogue::instance().find(n->type) : nullptr;
  }

  void checkEdges() {
    std::map<std::pair<std::string, std::string>, int> taken;
    validEdge_.assign(graph_.edges.size(), false);
    for (std::size_t i = 0; i < graph_.edges.size(); ++i) {
      const Edge &e = graph_.edges[i];
      const int ei = static_cast<int>(i);
      const std::string desc = "edge " + e.from.toString() + " → " + e.to.toString();
      const Node *from = graph_.find(e.from.node);
      const Node *to = graph_.find(e.to.node);
      if (!from) {
        error(e.to.node, desc + " starts at node '" + e.from.node + "', which does not exist", {}, ei);
        continue;
      }
      if (!to) {
        error(e.from.node, desc + " ends at node '" + e.to.node + "', which does not exist", {}, ei);
        continue;
      }
      if (from == to) {
        error(from->id, desc + " connects the node to itself", {}, ei);
        continue;
      }
      const NodeType *ft = typeOf(from->id), *tt = typeOf(to->id);
      if (!ft || !tt)
        continue; // unknown type already reported
      const int outs = ft->outputs(v_.nodes[from->id].params);
      if (!e.from.isNumbered() || e.from.index() >= outs) {
        error(from->id,
              desc + ": a " + ft->type + " has " +
                  (outs == 0 ? "no output ports" : "output ports 0.." + std::to_string(outs - 1)),
              {}, ei);
        continue;
      }
      if (e.to.isNumbered()) {
        if (tt->maxInputs == 0) {
          error(to->id, desc + ": an " + tt->type + " takes no input", {}, ei);
          continue;
        }
        if (tt->maxInputs >= 0 && e.to.index() >= tt->maxInputs) {
          error(to->id, desc + ": a " + tt->type + " has " + std::to_string(tt->maxInputs) + " input port(s)", {}, ei);
          continue;
        }
      } else if (std::find(tt->namedInputs.begin(), tt->namedInputs.end(), e.to.port) == tt->namedInputs.end()) {
        error(to->id, desc + ": a " + tt->type + " has no input named \"" + e.to.port + "\"", {}, ei);
        continue;
      }
      auto [it, inserted] = taken.emplace(std::make_pair(e.to.node, e.to.port), ei);
      if (!inserted) {
        error(to->id,
              "input " + e.to.port + " is connected twice (" + graph_.edges[it->second].from.toString() + " and " +
                  e.from.toString() + "); remove one edge",
              {}, ei);
        continue;
      }
      validEdge_[i] = true;
    }
  }

  void checkCounts() {
    std::vector<std::string> inputs, classifiers;
    for (const auto &n : graph_.nodes) {
      if (n.type == "Input")
        inputs.push_back(n.id);
      if (n.type == "Classifier")
        classifiers.push_back(n.id);
    }
    if (inputs.empty())
      error("", "the graph has no Input node; add one to feed the dataset in");
    for (std::size_t i = 1; i < inputs.size(); ++i)
      error(inputs[i], "a graph has exactly one Input ('" + inputs[0] + "' is the first); remove this one");
    if (classifiers.empty())
      error("", "the graph has no Classifier node; add one at the end");
    for (std::size_t i = 1; i < classifiers.size(); ++i)
      error(classifiers[i],
            "a graph has exactly one Classifier ('" + classifiers[0] + "' is the first); combine branches before it");
    if (!inputs.empty())
      input_ = inputs[0];
    if (!classifiers.empty())
      classifier_ = classifiers[0];
  }

  void sortTopologically() {
    std::map<std::string, int> indegree;
    std::map<std::string, std::vector<std::string>> next;
    for (const auto &n : graph_.nodes)
      indegree[n.id] = 0;
    for (std::size_t i = 0; i < graph_.edges.size(); ++i) {
      if (!validEdge_[i])
        continue;
      const Edge &e = graph_.edges[i];
      ++indegree[e.to.node];
      next[e.from.node].push_back(e.to.node);
    }
    std::deque<std::string> ready;
    for (const auto &n : graph_.nodes) // file order keeps the result stable
      if (indegree[n.id] == 0)
        ready.push_back(n.id);
    while (!ready.empty()) {
      const std::string id = ready.front();
      ready.pop_front();
      v_.order.push_back(id);
      for (const auto &m : next[id])
        if (--indegree[m] == 0)
          ready.push_back(m);
    }
    if (v_.order.size() == graph_.nodes.size())
      return;
    std::set<std::string> sorted(v_.order.begin(), v_.order.end());
    for (const auto &n : graph_.nodes) {
      if (sorted.count(n.id))
        continue;
      // Walk forward through unsorted nodes to show the loop.
      std::string path = n.id;
      std::string cur = n.id;
      std::set<std::string> seen = {cur};
      for (int guard = 0; guard < 64; ++guard) {
        std::string step;
        for (const auto &m : next[cur])
          if (!sorted.count(m)) {
            step = m;
            break;
          }
        if (step.empty())
          break;
        path += " → " + step;
        if (seen.count(step))
          break;
        seen.insert(step);
        cur = step;
      }
      error(n.id, "is part of a cycle (" + path + "); data must flow one way from Input to Classifier");
    }
  }

  void inferShapes() {
    const auto &cat = Catalogue::instance();
    for (const auto &id : v_.order) {
      const Node *n = graph_.find(id);
      const NodeType *type = cat.find(n->type);
      if (!type)
        continue;
      NodeInfo &info = v_.nodes[id];
      if (badParams_.count(id))
        continue; // its params are wrong; inference would only repeat the message
      // Gather inputs by port.
      std::map<int, Shape> numbered;
      bool upstreamUnknown = false;
      for (std::size_t i = 0; i < graph_.edges.size(); ++i) {
        if (!validEdge_[i] || graph_.edges[i].to.node != id)
          continue;
        const Edge &e = graph_.edges[i];
        const NodeInfo &src = v_.nodes[e.from.node];
        const int port = e.from.index();
        if (!src.shapesKnown || port >= static_cast<int>(src.outputs.size())) {
          upstreamUnknown = true;
          continue;
        }
        if (e.to.isNumbered())
          numbered[e.to.index()] = src.outputs[port];
        else
          info.gate = src.outputs[port];
      }
      const int connected = static_cast<int>(numbered.size());
      bool complete = true;
      const int needed = std::max(type->minInputs, connected == 0 ? type->minInputs : numbered.rbegin()->first + 1);
      if (!upstreamUnknown) {
        for (int k = 0; k < needed; ++k) {
          if (!numbered.count(k)) {
            complete = false;
            if (type->maxInputs == 1)
              error(id, "its input is not connected; connect an upstream output to it");
            else if (type->type == "Combine" && k >= connected)
              error(id, "a Combine needs at least " + std::to_string(type->minInputs) + " branches; " +
                            std::to_string(connected) + " connected");
            else
              error(id, "input port " + std::to_string(k) + " is not connected (ports must be numbered 0.." +
                            std::to_string(needed - 1) + " without gaps)");
            if (type->type == "Combine")
              break;
          }
        }
      }
      if (upstreamUnknown || !complete)
        continue;
      if (type->type == "Input" && !v_.dataKnown)
        continue;
      for (auto &[k, s] : numbered)
        info.inputs.push_back(s);
      InferResult r = type->infer(InferInput{info.params, info.inputs, info.gate, v_.data});
      if (!r.error.empty()) {
        error(id, r.error, r.errorParam);
        continue;
      }
      info.outputs = r.outputs;
      info.parameters = r.parameters;
      info.trunkParameters = r.trunkParameters;
      info.trunkWidth = r.trunkWidth;
      info.shapesKnown = true;
    }
  }

  void checkReachability() {
    if (input_.empty() || classifier_.empty())
      return;
    std::map<std::string, std::vector<std::string>> next, prev;
    for (std::size_t i = 0; i < graph_.edges.size(); ++i) {
      if (!validEdge_[i])
        continue;
      next[graph_.edges[i].from.node].push_back(graph_.edges[i].to.node);
      prev[graph_.edges[i].to.node].push_back(graph_.edges[i].from.node);
    }
    auto reach = [](const std::string &start, std::map<std::string, std::vector<std::string>> &adj) {
      std::set<std::string> seen = {start};
      std::vector<std::string> stack = {start};
      while (!stack.empty()) {
        auto cur = stack.back();
        stack.pop_back();
        for (const auto &m : adj[cur])
          if (seen.insert(m).second)
            stack.push_back(m);
      }
      return seen;
    };
    const auto fromInput = reach(input_, next);
    const auto toClassifier = reach(classifier_, prev);
    if (!fromInput.count(classifier_))
      error(classifier_, "there is no path from Input '" + input_ + "' to this Classifier; connect the chain");
    for (const auto &n : graph_.nodes) {
      if (n.id == classifier_ || !fromInput.count(n.id) || toClassifier.count(n.id))
        continue;
      warning(n.id, "its output does not reach the Classifier, so it does not affect predictions");
    }
  }

  void checkShareGroups() {
    std::map<std::string, std::vector<const Node *>> groups;
    for (const auto &n : graph_.nodes)
      if (!n.share.empty())
        groups[n.share].push_back(&n);
    for (const auto &[name, members] : groups) {
      const Node *first = members.front();
      const NodeInfo &fi = v_.nodes[first->id];
      if (members.size() == 1)
        warning(first->id, "share group \"" + name + "\" has only this member; nothing is shared");
      for (std::size_t i = 1; i < members.size(); ++i) {
        const Node *m = members[i];
        const NodeInfo &mi = v_.nodes[m->id];
        const std::string intro = "share group \"" + name + "\": ";
        if (m->type != first->type) {
          error(m->id, intro + "is a " + m->type + " but '" + first->id + "' is a " + first->type +
                           "; tied members must have the same type");
          continue;
        }
        if (m->shareScope != first->shareScope) {
          error(m->id, intro + "share_scope differs from '" + first->id + "'");
          continue;
        }
        const bool trunkOnly = first->shareScope == "trunk";
        bool paramsDiffer = false;
        for (auto it = fi.params.begin(); it != fi.params.end(); ++it) {
          // With scope trunk the last layer is per member, so its width may differ.
          if (trunkOnly && it.key() == "out")
            continue;
          if (mi.params.contains(it.key()) && mi.params[it.key()] != it.value()) {
            error(m->id,
                  intro + "param '" + it.key() + "' is " + mi.params[it.key()].dump() + " here but " +
                      it.value().dump() + " on '" + first->id + "'; tied members need the same params",
                  it.key());
            paramsDiffer = true;
          }
        }
        if (paramsDiffer)
          continue;
        if (fi.shapesKnown && mi.shapesKnown && fi.inputs != mi.inputs) {
          const std::string a = fi.inputs.empty() ? "?" : shapeToString(fi.inputs[0]);
          const std::string b = mi.inputs.empty() ? "?" : shapeToString(mi.inputs[0]);
          error(m->id, intro + "input shape " + b + " differs from " + a + " of '" + first->id +
                           "'; tied members must see inputs of the same shape");
        }
      }
    }
  }

  void countParameters() {
    std::set<std::string> seenGroups;
    for (const auto &n : graph_.nodes) {
      const NodeInfo &info = v_.nodes[n.id];
      if (!info.shapesKnown)
        continue;
      v_.totalParameters += info.parameters;
      if (n.share.empty() || seenGroups.insert(n.share).second) {
        v_.uniqueParameters += info.parameters;
      } else if (n.shareScope == "trunk") {
        v_.uniqueParameters += info.parameters - info.trunkParameters;
      }
    }
  }

  const Project &project_;
  const Graph &graph_;
  Validation v_;
  std::vector<bool> validEdge_;
  std::set<std::string> badParams_; // nodes whose type or params are wrong
  std::string input_, classifier_;
};

} // namespace

Validation validate(const Project &project, const DataInfo *data) {
  return Validator(project, data).run();
}

} // namespace particle
