#include "document/Commands.h"

#include <QObject>

#include <cmath>

#include <set>

namespace particle::ui {

namespace {
constexpr int kMoveMergeKey = 1;

Node *findNode(Graph &g, const QString &id) {
  return g.find(id.toStdString());
}
} // namespace

GraphEditCommand::GraphEditCommand(GraphDocument *doc, const QString &text, const std::function<void(Graph &)> &edit,
                                   int mergeKey, QString mergeTag)
    : QUndoCommand(text), doc_(doc), mergeKey_(mergeKey), mergeTag_(std::move(mergeTag)) {
  before_ = doc->graphSnapshot();
  Graph copy = doc->graph();
  edit(copy);
  after_ = graphSnapshot(copy);
}

void GraphEditCommand::undo() {
  doc_->applyGraphSnapshot(before_);
}
void GraphEditCommand::redo() {
  doc_->applyGraphSnapshot(after_);
}

bool GraphEditCommand::mergeWith(const QUndoCommand *other) {
  auto *o = dynamic_cast<const GraphEditCommand *>(other);
  if (!o || o->mergeKey_ != mergeKey_ || o->mergeTag_ != mergeTag_ || mergeKey_ < 0)
    return false;
  after_ = o->after_;
  return true;
}

namespace commands {

namespace {
QUndoCommand *make(GraphDocument *doc, const QString &text, const std::function<void(Graph &)> &edit, int mergeKey = -1,
                   const QString &tag = {}) {
  auto *cmd = new GraphEditCommand(doc, text, edit, mergeKey, tag);
  if (cmd->changesNothing()) {
    delete cmd;
    return nullptr;
  }
  return cmd;
}
} // namespace

QUndoCommand *addNode(GraphDocument *doc, const QString &type, QPointF pos, QString *newId) {
  const std::string id = doc->graph().uniqueId(type.toStdString());
  if (newId)
    *newId = QString::fromStdString(id);
  return make(doc, QObject::tr("Add %1").arg(type), [&](Graph &g) {
    Node n;
    n.id = id;
    n.type = type.toStdString();
    n.pos = std::array<double, 2>{std::round(pos.x()), std::round(pos.y())};
    g.nodes.push_back(n);
  });
}

QUndoCommand *removeNodes(GraphDocument *doc, const QStringList &ids) {
  return make(doc,
              ids.size() == 1 ? QObject::tr("Delete %1").arg(ids.front())
                              : QObject::tr("Delete %n node(s)", "", ids.size()),
              [&](Graph &g) {
                for (const auto &id : ids)
                  g.removeNode(id.toStdString());
              });
}

QUndoCommand *connectPorts(GraphDocument *doc, const PortRef &from, const PortRef &to) {
  return make(doc,
              QObject::tr("Connect %1 → %2")
                  .arg(QString::fromStdString(from.toString()), QString::fromStdString(to.toString())),
              [&](Graph &g) {
                for (const auto &e : g.edges)
                  if (e.from == from && e.to == to)
                    return;
                g.edges.push_back(Edge{from, to});
              });
}

QUndoCommand *disconnect(GraphDocument *doc, const PortRef &from, const PortRef &to) {
  return make(doc,
              QObject::tr("Disconnect %1 → %2")
                  .arg(QString::fromStdString(from.toString()), QString::fromStdString(to.toString())),
              [&](Graph &g) {
                g.edges.erase(std::remove_if(g.edges.begin(), g.edges.end(),
                                             [&](const Edge &e) { return e.from == from && e.to == to; }),
                              g.edges.end());
              });
}

QUndoCommand *setParam(GraphDocument *doc, const QString &id, const QString &param, const Json &value) {
  return make(doc, QObject::tr("Set %1.%2").arg(id, param), [&](Graph &g) {
    if (Node *n = findNode(g, id)) {
      if (value.is_null())
        n->params.erase(param.toStdString());
      else
        n->params[param.toStdString()] = value;
    }
  });
}

QUndoCommand *moveNodes(GraphDocument *doc, const std::map<QString, QPointF> &positions) {
  QStringList ids;
  for (const auto &[id, p] : positions)
    ids << id;
  return make(
      doc, QObject::tr("Move %n node(s)", "", static_cast<int>(positions.size())),
      [&](Graph &g) {
        for (const auto &[id, p] : positions)
          if (Node *n = findNode(g, id))
            n->pos = std::array<double, 2>{std::round(p.x()), std::round(p.y())};
      },
      kMoveMergeKey, ids.join(','));
}

QUndoCommand *setPositions(GraphDocument *doc, const std::map<QString, QPointF> &positions, const QString &text) {
  return make(doc, text, [&](Graph &g) {
    for (const auto &[id, p] : positions)
      if (Node *n = findNode(g, id))
        n->pos = std::array<double, 2>{std::round(p.x()), std::round(p.y())};
  });
}

QUndoCommand *setShare(GraphDocument *doc, const QStringList &ids, const QString &group, const QString &scope) {
  return make(doc,
              group.isEmpty() ? QObject::tr("Unshare parameters") : QObject::tr("Share parameters (%1)").arg(group),
              [&](Graph &g) {
                for (const auto &id : ids)
                  if (Node *n = findNode(g, id)) {
                    n->share = group.toStdString();
                    n->shareScope = group.isEmpty() || scope == "all" ? "" : scope.toStdString();
                  }
              });
}

QUndoCommand *paste(GraphDocument *doc, const Json &clip, QPointF offset, QStringList *newIds) {
  return make(doc, QObject::tr("Paste"), [&](Graph &g) {
    std::map<std::string, std::string> rename;
    for (const auto &j : clip.value("nodes", Json::array())) {
      Node n;
      n.id = j.value("id", "n");
      n.type = j.value("type", "");
      if (j.contains("params"))
        n.params = j["params"];
      n.share = j.value("share", "");
      n.shareScope = j.value("share_scope", "");
      std::array<double, 2> pos{0, 0};
      if (j.contains("pos"))
        pos = {j["pos"][0].get<double>(), j["pos"][1].get<double>()};
      n.pos = std::array<double, 2>{std::round(pos[0] + offset.x()), std::round(pos[1] + offset.y())};
      std::string id = n.id;
      if (g.find(id)) {
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
      auto from = PortRef::parse(j.value("from", "")), to = PortRef::parse(j.value("to", ""));
      if (!from || !to || !rename.count(from->node) || !rename.count(to->node))
        continue;
      from->node = rename[from->node];
      to->node = rename[to->node];
      g.edges.push_back(Edge{*from, *to});
    }
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

QString shareRefusal(const GraphDocument &doc, const QStringList &ids) {
  if (ids.size() < 2)
    return QObject::tr("Select at least two sub-models to share parameters.");
  const std::string group = doc.graph().uniqueId("shared");
  const Validation v = doc.trial([&](Graph &g) {
    for (const auto &id : ids)
      if (Node *n = g.find(id.toStdString()))
        n->share = group;
  });
  for (const auto &p : v.problems)
    if (p.severity == Problem::Severity::Error && p.message.find("share") != std::string::npos &&
        ids.contains(QString::fromStdString(p.node)))
      return QString::fromStdString(p.node + ": " + p.message);
  return {};
}

} // namespace particle::ui
