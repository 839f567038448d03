#pragma once
// Undo commands. Each acts on the GraphDocument by node id (or section key) and restores
// snapshots of the document's editable state taken before and after, so undo and redo are
// byte-identical by construction; they never look at the scene or its selection.

#include "document/GraphDocument.h"

#include <QPointF>
#include <QStringList>
#include <QUndoCommand>

#include <functional>
#include <optional>

namespace particle::ui {

class StateEditCommand : public QUndoCommand {
public:
  // Applies `edit` to a copy of the document's state; `mergeKey` ≥ 0 lets consecutive commands
  // with the same key and `mergeTag` merge into one undo step (drags).
  StateEditCommand(GraphDocument *doc, const QString &text, const std::function<void(DocumentState &)> &edit,
                   int mergeKey = -1, QString mergeTag = {});
  void undo() override;
  void redo() override;
  int id() const override { return mergeKey_; }
  bool mergeWith(const QUndoCommand *other) override;
  bool changesNothing() const { return before_ == after_; }

private:
  GraphDocument *doc_;
  DocumentState before_, after_;
  int mergeKey_;
  QString mergeTag_;
};

// Factories for the edits the app offers. Each returns nullptr when the edit is a no-op.
namespace commands {
QUndoCommand *addNode(GraphDocument *doc, const QString &type, QPointF pos, QString *newId = nullptr);
QUndoCommand *removeNodes(GraphDocument *doc, const QStringList &ids);
// Deletes nodes (with their edges) and edges, as one step.
QUndoCommand *removeSelection(GraphDocument *doc, const QStringList &ids, const std::vector<Edge> &edges);
// Moves the end of an edge to another input (`to` empty: the edge is removed), as one step.
QUndoCommand *reconnect(GraphDocument *doc, const Edge &edge, const std::optional<PortRef> &to);
QUndoCommand *connectPorts(GraphDocument *doc, const PortRef &from, const PortRef &to);
// The params connectPorts gives the target for the input it now has, when the user has not set
// them (its type's paramsForInput: a Split given a vector cuts it in chunks); empty: none.
Json paramsFollowingInput(GraphDocument *doc, const PortRef &from, const PortRef &to);
QUndoCommand *disconnect(GraphDocument *doc, const PortRef &from, const PortRef &to);
// A null value removes the param (its default applies).
QUndoCommand *setParam(GraphDocument *doc, const QString &id, const QString &param, const Json &value);
QUndoCommand *moveNodes(GraphDocument *doc, const std::map<QString, QPointF> &positions);
// Puts the nodes into one share group (empty name: remove from their groups).
QUndoCommand *setShare(GraphDocument *doc, const QStringList &ids, const QString &group, const QString &scope = {});
// Inserts nodes and the edges among them from JSON {"nodes": [...], "edges": [...]}; ids are
// renamed where taken and positions offset by `offset`.
QUndoCommand *paste(GraphDocument *doc, const Json &clip, QPointF offset, QStringList *newIds = nullptr);
QUndoCommand *setPositions(GraphDocument *doc, const std::map<QString, QPointF> &positions, const QString &text);
// Adds a particle's nodes and the edges among them with their top-left node at `pos`, ids renamed
// where taken; each node that `takesWeights` starts from the particle's weights (init {from, its id
// in the particle}). One step.
QUndoCommand *addPart(GraphDocument *doc, const std::vector<Node> &nodes, const std::vector<Edge> &edges,
                      const std::string &from, const std::function<bool(const Node &)> &takesWeights, QPointF pos,
                      QStringList *newIds = nullptr);
// A node's starting weights (nullopt: fresh ones), its freeze and its adapter (nullopt: none).
QUndoCommand *setInit(GraphDocument *doc, const QString &id, const std::optional<NodeInit> &init);
QUndoCommand *setFreeze(GraphDocument *doc, const QString &id, bool freeze);
QUndoCommand *setAdapter(GraphDocument *doc, const QString &id, const std::optional<NodeAdapter> &adapter);
// One key of the "dataset" or "training" section (null removes it); setting "kind" replaces the
// dataset section with {"kind": value}.
QUndoCommand *setDatasetKey(GraphDocument *doc, const QString &key, const Json &value);
QUndoCommand *setTrainingKey(GraphDocument *doc, const QString &key, const Json &value);
} // namespace commands

// The selection as clipboard JSON: the nodes and the edges between them.
Json copyNodes(const Graph &graph, const QStringList &ids);
// Why these nodes cannot be tied, or empty when they can.
QString shareRefusal(const GraphDocument &doc, const QStringList &ids);
// The share group a tie of `ids` joins: one of theirs (the last found) with its scope ("all" or
// "trunk"; tying two members of a trunk-scoped group as "all" split it), or an empty group and "all".
struct ShareTarget {
  QString group;
  QString scope = QStringLiteral("all");
};
ShareTarget shareTarget(const GraphDocument &doc, const QStringList &ids);

} // namespace particle::ui
