#include "document/Commands.h"

#include <QObject>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <set>

namespace particle::ui {

namespace {
constexpr int kMoveMergeKey = 1;

Node *findNode(Graph &g, const QString &id) {
  return g.find(id.toStdString());
}
} // namespace

StateEditCommand::StateEditCommand(GraphDocument *doc, const QString &text,
                                   const std::function<void(DocumentState &)> &edit, int mergeKey, QString mergeTag)
    : QUndoCommand(text), doc_(doc), mergeKey_(mergeKey), mergeTag_(std::move(mergeTag)) {
  before_ = doc->state();
  after_ = before_;
  edit(after_);
}

void StateEditCommand::undo() {
  doc_->applyState(before_);
}

void StateEditCommand::redo() {
  doc_->applyState(after_);
}

bool StateEditCommand::mergeWith(const QUndoCommand *other) {
  auto *o = dynamic_cast<const StateEditCommand *>(other);
  if (!o || o->mergeKey_ != mergeKey_ || o->mergeTag_ != mergeTag_ || mergeKey_ < 0)
    return false;
  after_ = o->after_;
  return true;
}

namespace commands {

namespace {
QUndoCommand *make(GraphDocument *doc, const QString &text, const std::function<void(DocumentState &)> &edit,
                   int mergeKey = -1, const QString &tag = {}) {
  auto *cmd = new StateEditCommand(doc, text, edit, mergeKey, tag);
  if (cmd->changesNothing()) {
    delete cmd;
    return nullptr;
  }
  return cmd;
}

QUndoCommand *makeGraph(GraphDocument *doc, const QString &text, const std::function<void(Graph &)> &edit,
                        int mergeKey = -1, const QString &tag = {}) {
  return make(
      doc, text, [&](DocumentState &s) { edit(s.graph); }, mergeKey, tag);
}

std::array<double, 2> rounded(QPointF p) {
  return {std::round(p.x()), std::round(p.y())};
}
} // namespace

QUndoCommand *addNode(GraphDocument *doc, const QString &type, QPointF pos, QString *newId) {
  const std::string id = doc->graph().uniqueId(type.toStdString());
  if (newId)
    *newId = QString::fromStdString(id);
  return makeGraph(doc, QObject::tr("Add %1").arg(type), [&](Graph &g) {
    Node n;
    n.id = id;
    n.type = type.toStdString();
    n.pos = rounded(pos);
    g.nodes.push_back(n);
  });
}

namespace {
// Removes the nodes; a Combine that loses a branch with them takes its remaining branches on ports
// 0..n-1 in their order, as one step with the deletion (deleting the third of four branches left
// "input port 2 is not connected" for the user to mend by hand). A disconnected edge keeps its gap:
// the user is rewiring that port.
void removeAndCloseGaps(Graph &g, const QStringList &ids) {
  std::set<std::string> deleted, lost;
  for (const auto &id : ids)
    deleted.insert(id.toStdString());
  for (const auto &e : g.edges)
    if (deleted.count(e.from.node) && !deleted.count(e.to.node) && e.to.isNumbered())
      lost.insert(e.to.node);
  for (const auto &id : deleted)
    g.removeNode(id);
  for (const auto &id : lost) {
    const Node *node = g.find(id);
    const NodeType *type = node ? Catalogue::instance().find(node->type) : nullptr;
    if (!type || type->role != NodeRole::Combiner)
      continue;
    std::vector<Edge *> branches;
    for (auto &e : g.edges)
      if (e.to.node == id && e.to.isNumbered())
        branches.push_back(&e);
    std::stable_sort(branches.begin(), branches.end(),
                     [](const Edge *a, const Edge *b) { return a->to.index() < b->to.index(); });
    for (std::size_t k = 0; k < branches.size(); ++k)
      branches[k]->to.port = std::to_string(k);
  }
}
} // namespace

QUndoCommand *removeNodes(GraphDocument *doc, const QStringList &ids) {
  return makeGraph(doc,
                   ids.size() == 1 ? QObject::tr("Delete %1").arg(ids.front())
                                   : QObject::tr("Delete %n node(s)", "", static_cast<int>(ids.size())),
                   [&](Graph &g) { removeAndCloseGaps(g, ids); });
}

QUndoCommand *removeSelection(GraphDocument *doc, const QStringList &ids, const std::vector<Edge> &edges) {
  if (edges.empty())
    return removeNodes(doc, ids);
  const QString text = ids.isEmpty()
                           ? QObject::tr("Disconnect %n edge(s)", "", static_cast<int>(edges.size()))
                           : QObject::tr("Delete %n item(s)", "", static_cast<int>(ids.size() + edges.size()));
  return makeGraph(doc, text, [&](Graph &g) {
    g.edges.erase(
        std::remove_if(g.edges.begin(), g.edges.end(),
                       [&](const Edge &e) { return std::find(edges.begin(), edges.end(), e) != edges.end(); }),
        g.edges.end());
    removeAndCloseGaps(g, ids);
  });
}

QUndoCommand *reconnect(GraphDocument *doc, const Edge &edge, const std::optional<PortRef> &to) {
  const QString text =
      to ? QObject::tr("Reconnect %1 → %2")
               .arg(QString::fromStdString(edge.from.toString()), QString::fromStdString(to->toString()))
         : QObject::tr("Disconnect %1 → %2")
               .arg(QString::fromStdString(edge.from.toString()), QString::fromStdString(edge.to.toString()));
  return makeGraph(doc, text, [&](Graph &g) {
    for (auto &e : g.edges)
      if (e == edge) {
        if (to)
          e.to = *to;
        else
          e = Edge{}; // marked, erased below
      }
    g.edges.erase(std::remove_if(g.edges.begin(), g.edges.end(), [](const Edge &e) { return e.from.node.empty(); }),
                  g.edges.end());
  });
}

Json paramsFollowingInput(GraphDocument *doc, const PortRef &from, const PortRef &to) {
  const Node *target = doc->graph().find(to.node);
  const NodeType *type = target ? Catalogue::instance().find(target->type) : nullptr;
  const NodeInfo *source = doc->validation().info(from.node);
  if (!type || !type->paramsForInput || !from.isNumbered() || !source || !source->shapesKnown)
    return Json::object();
  const auto port = static_cast<std::size_t>(from.index());
  if (port >= source->outputs.size())
    return Json::object();
  return type->paramsForInput(target->params, source->outputs[port]);
}

QUndoCommand *connectPorts(GraphDocument *doc, const PortRef &from, const PortRef &to) {
  const Json params = paramsFollowingInput(doc, from, to);
  return makeGraph(doc,
                   QObject::tr("Connect %1 → %2")
                       .arg(QString::fromStdString(from.toString()), QString::fromStdString(to.toString())),
                   [&](Graph &g) {
                     for (const auto &e : g.edges)
                       if (e.from == from && e.to == to)
                         return;
                     g.edges.push_back(Edge{from, to});
                     if (Node *n = params.empty() ? nullptr : findNode(g, QString::fromStdString(to.node)))
                       for (const auto &[key, value] : params.items())
                         n->params[key] = value;
                   });
}

QUndoCommand *disconnect(GraphDocument *doc, const PortRef &from, const PortRef &to) {
  return makeGraph(doc,
                   QObject::tr("Disconnect %1 → %2")
                       .arg(QString::fromStdString(from.toString()), QString::fromStdString(to.toString())),
                   [&](Graph &g) {
                     g.edges.erase(std::remove_if(g.edges.begin(), g.edges.end(),
                                                  [&](const Edge &e) { return e.from == from && e.to == to; }),
                                   g.edges.end());
                   });
}

QUndoCommand *setParam(GraphDocument *doc, const QString &id, const QString &param, const Json &value) {
  return makeGraph(doc, QObject::tr("Set %1.%2").arg(id, param), [&](Graph &g) {
    Node *n = findNode(g, id);
    if (!n)
      return;
    // Tied members are one module: a param changes on every member of the group (but the last
    // layer's width, which each member of a "trunk" group has of its own).
    const std::string key = param.toStdString();
    const bool whole = !n->share.empty() && !(n->shareScope == "trunk" && key == "out");
    const std::string group = n->share;
    for (auto &m : g.nodes) {
      if (m.id != n->id && !(whole && m.share == group))
        continue;
      if (value.is_null())
        m.params.erase(key);
      else
        m.params[key] = value;
    }
  });
}

QUndoCommand *moveNodes(GraphDocument *doc, const std::map<QString, QPointF> &positions) {
  QStringList ids;
  for (const auto &[id, p] : positions)
    ids << id;
  return makeGraph(
      doc, QObject::tr("Move %n node(s)", "", static_cast<int>(positions.size())),
      [&](Graph &g) {
        for (const auto &[id, p] : positions)
          if (Node *n = findNode(g, id))
            n->pos = rounded(p);
      },
      kMoveMergeKey, ids.join(','));
}

QUndoCommand *setPositions(GraphDocument *doc, const std::map<QString, QPointF> &positions, const QString &text) {
  return makeGraph(doc, text, [&](Graph &g) {
    for (const auto &[id, p] : positions)
      if (Node *n = findNode(g, id))
        n->pos = rounded(p);
  });
}

QUndoCommand *setShare(GraphDocument *doc, const QStringList &ids, const QString &group, const QString &scope) {
  return makeGraph(
      doc, group.isEmpty() ? QObject::tr("Unshare parameters") : QObject::tr("Share parameters (%1)").arg(group),
      [&](Graph &g) {
        for (const auto &id : ids)
          if (Node *n = findNode(g, id)) {
            n->share = group.toStdString();
            n->shareScope = group.isEmpty() || scope == "all" ? "" : scope.toStdString();
          }
      });
}

QUndoCommand *paste(GraphDocument *doc, const Json &clip, QPointF offset, QStringList *newIds) {
  return makeGraph(doc, QObject::tr("Paste"), [&](Graph &g) {
    std::map<std::string, std::string> rename;
    for (const auto &j : clip.value("nodes", Json::array())) {
      if (!j.is_object())
        continue;
      Node n;
      n.id = j.value("id", "n");
      n.type = j.value("type", "");
      if (j.contains("params") && j["params"].is_object())
        n.params = j["params"];
      n.share = j.value("share", "");
      n.shareScope = j.value("share_scope", "");
      if (j.contains("init") && j["init"].is_object())
        n.init = NodeInit{j["init"].value("from", ""), j["init"].value("node", "")};
      n.freeze = j.value("freeze", false);
      if (j.contains("adapter") && j["adapter"].is_object()) {
        const NodeAdapter defaults;
        n.adapter = NodeAdapter{j["adapter"].value("kind", defaults.kind), j["adapter"].value("rank", defaults.rank),
                                j["adapter"].value("alpha", defaults.alpha)};
      }
      std::array<double, 2> pos{0, 0};
      if (j.contains("pos") && j["pos"].is_array() && j["pos"].size() == 2 && j["pos"][0].is_number() &&
          j["pos"][1].is_number())
        pos = {j["pos"][0].get<double>(), j["pos"][1].get<double>()};
      n.pos = std::array<double, 2>{std::round(pos[0] + offset.x()), std::round(pos[1] + offset.y())};
      std::string id = n.id;
      if (g.find(id) || !Graph::isValidId(id)) {
        std::string stem = id;
        while (!stem.empty() && std::isdigit(static_cast<unsigned char>(stem.back())))
          stem.pop_back();
        id = g.uniqueId(stem.empty() ? n.type : stem);
      }
      rename[n.id] = id;
      n.id = id;
      if (newIds)
        newIds->push_back(QString::fromStdString(id));
      g.nodes.push_back(n);
    }
    for (const auto &j : clip.value("edges", Json::array())) {
      if (!j.is_object())
        continue;
      auto from = PortRef::parse(j.value("from", "")), to = PortRef::parse(j.value("to", ""));
      if (!from || !to || !rename.count(from->node) || !rename.count(to->node))
        continue;
      from->node = rename[from->node];
      to->node = rename[to->node];
      g.edges.push_back(Edge{*from, *to});
    }
  });
}

QUndoCommand *addPart(GraphDocument *doc, const std::vector<Node> &nodes, const std::vector<Edge> &edges,
                      const std::string &from, const std::function<bool(const Node &)> &takesWeights, QPointF pos,
                      QStringList *newIds) {
  const QString name = QString::fromStdString(std::filesystem::path(from).filename().string());
  return makeGraph(doc, QObject::tr("Add particle %1").arg(name), [&](Graph &g) {
    // Laid out as in the graph it was trained in, else in a row; its top-left corner at `pos`.
    double left = 0, top = 0;
    bool placed = !nodes.empty();
    for (const auto &n : nodes)
      placed = placed && n.pos;
    if (placed) {
      left = top = std::numeric_limits<double>::max();
      for (const auto &n : nodes) {
        left = std::min(left, (*n.pos)[0]);
        top = std::min(top, (*n.pos)[1]);
      }
    }
    std::map<std::string, std::string> rename;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      Node n = nodes[i];
      const std::string id = g.find(n.id) || !Graph::isValidId(n.id) ? g.uniqueId(n.type) : n.id;
      rename[n.id] = id;
      if (takesWeights(nodes[i]))
        n.init = NodeInit{from, nodes[i].id};
      n.id = id;
      n.pos = placed ? rounded(pos + QPointF((*n.pos)[0] - left, (*n.pos)[1] - top))
                     : rounded(pos + QPointF(230.0 * static_cast<double>(i), 0));
      if (newIds)
        newIds->push_back(QString::fromStdString(id));
      g.nodes.push_back(std::move(n));
    }
    for (Edge e : edges) {
      if (!rename.count(e.from.node) || !rename.count(e.to.node))
        continue;
      e.from.node = rename[e.from.node];
      e.to.node = rename[e.to.node];
      g.edges.push_back(e);
    }
  });
}

QUndoCommand *setInit(GraphDocument *doc, const QString &id, const std::optional<NodeInit> &init) {
  return makeGraph(doc,
                   init ? QObject::tr("Start %1 from %2").arg(id, QString::fromStdString(init->from))
                        : QObject::tr("Clear the starting weights of %1").arg(id),
                   [&](Graph &g) {
                     if (Node *n = findNode(g, id))
                       n->init = init;
                   });
}

QUndoCommand *setFreeze(GraphDocument *doc, const QString &id, bool freeze) {
  return makeGraph(doc, freeze ? QObject::tr("Freeze %1").arg(id) : QObject::tr("Unfreeze %1").arg(id), [&](Graph &g) {
    if (Node *n = findNode(g, id))
      n->freeze = freeze;
  });
}

QUndoCommand *setAdapter(GraphDocument *doc, const QString &id, const std::optional<NodeAdapter> &adapter) {
  return makeGraph(doc,
                   adapter ? QObject::tr("LoRA rank %1 on %2").arg(adapter->rank).arg(id)
                           : QObject::tr("No adapter on %1").arg(id),
                   [&](Graph &g) {
                     if (Node *n = findNode(g, id))
                       n->adapter = adapter;
                   });
}

QUndoCommand *setDatasetKey(GraphDocument *doc, const QString &key, const Json &value) {
  const std::string k = key.toStdString();
  return make(doc,
              key == "kind" ? QObject::tr("Data set kind %1").arg(QString::fromStdString(value.dump()))
                            : QObject::tr("Set dataset.%1").arg(key),
              [&](DocumentState &s) {
                if (!s.dataset.is_object())
                  s.dataset = Json::object();
                if (k == "kind") {
                  // Another kind has other keys: keep only those every kind shares.
                  Json next = Json::object();
                  next["kind"] = value;
                  for (const char *common : {"validation_fraction", "seed", "limit", "limit_seed"})
                    if (s.dataset.contains(common))
                      next[common] = s.dataset[common];
                  s.dataset = next;
                } else if (value.is_null()) {
                  s.dataset.erase(k);
                } else {
                  s.dataset[k] = value;
                }
              });
}

QUndoCommand *setTrainingKey(GraphDocument *doc, const QString &key, const Json &value) {
  const std::string k = key.toStdString();
  return make(doc, QObject::tr("Set training.%1").arg(key), [&](DocumentState &s) {
    if (!s.training.is_object())
      s.training = Json::object();
    if (value.is_null())
      s.training.erase(k);
    else
      s.training[k] = value;
  });
}

} // namespace commands

Json copyNodes(const Graph &graph, const QStringList &ids) {
  Project bare;
  std::set<std::string> chosen;
  for (const auto &id : ids)
    chosen.insert(id.toStdString());
  for (const auto &n : graph.nodes)
    if (chosen.count(n.id))
      bare.graph.nodes.push_back(n);
  for (const auto &e : graph.edges)
    if (chosen.count(e.from.node) && chosen.count(e.to.node))
      bare.graph.edges.push_back(e);
  const Json doc = projectToJson(bare);
  return Json{{"nodes", doc["nodes"]}, {"edges", doc["edges"]}};
}

ShareTarget shareTarget(const GraphDocument &doc, const QStringList &ids) {
  ShareTarget target;
  for (const auto &id : ids)
    if (const Node *n = doc.graph().find(id.toStdString()); n && !n->share.empty()) {
      target.group = QString::fromStdString(n->share);
      target.scope = n->shareScope == "trunk" ? QStringLiteral("trunk") : QStringLiteral("all");
    }
  return target;
}

QString shareRefusal(const GraphDocument &doc, const QStringList &ids) {
  if (ids.size() < 2)
    return QObject::tr("Select at least two sub-models to share parameters.");
  const std::string group = doc.graph().uniqueId("shared");
  const std::string scope = shareTarget(doc, ids).scope == "trunk" ? "trunk" : ""; // as the tie will set it
  const Validation v = doc.trial([&](Graph &g) {
    for (const auto &id : ids)
      if (Node *n = g.find(id.toStdString())) {
        n->share = group;
        n->shareScope = scope;
      }
  });
  // Said without the trial's made-up group name: what stops these nodes from being tied.
  for (const auto &p : v.problems) {
    if (!p.isError() || !ids.contains(QString::fromStdString(p.node)))
      continue;
    const Node *n = doc.graph().find(p.node);
    if (p.code == ProblemCode::ShareNotAllowed && n)
      return QObject::tr("%1 is %2, which cannot share parameters (only sub-models and Linear layers can).")
          .arg(QString::fromStdString(p.node), QString::fromStdString(withArticle(n->type)));
    if (p.code == ProblemCode::ShareMismatch || p.code == ProblemCode::TrunkNotAllowed) {
      std::string message = p.message;
      const std::string prefix = "share group \"" + group + "\": ";
      if (message.rfind(prefix, 0) == 0)
        message = message.substr(prefix.size());
      return QString::fromStdString(p.node + ": " + message);
    }
  }
  return {};
}

} // namespace particle::ui
