#pragma once
// The canvas: observes a GraphDocument and keeps one NodeItem per node, edge paths with their
// tensor shapes, and dashed links between members of a share group. Edits go through the undo
// stack as commands on the document. Updates are incremental: a validation refreshes only the
// items whose text changed, and dragging a node moves only the edges that touch it.

#include "editor/NodeItem.h"

#include <QGraphicsScene>
#include <QPointer>
#include <QUndoStack>

#include <functional>
#include <map>
#include <set>

class QGraphicsPathItem;
class QGraphicsLineItem;

namespace particle::ui {

class LabelItem;
class EdgeItem;

class GraphScene : public QGraphicsScene {
  Q_OBJECT

public:
  GraphScene(GraphDocument *doc, QUndoStack *undo, QObject *parent = nullptr);
  ~GraphScene() override;

  NodeItem *nodeItem(const QString &id) const;
  QStringList selectedIds() const;
  // Edges the user selected (click on a wire), in document order.
  std::vector<Edge> selectedEdges() const;
  // The wire drawn for an edge (for tests: where to click), or nullptr.
  QGraphicsPathItem *edgeItem(const Edge &edge) const;
  void selectOnly(const QStringList &ids);
  // Positions for a layered left-to-right layout of the whole graph.
  std::map<QString, QPointF> autoLayout() const;
  int edgeItemCount() const { return static_cast<int>(edges_.size()); }
  // The shape label drawn on the edge into `to` (empty when none), for tests.
  QString edgeLabel(const PortRef &to) const;
  // Text shown while a connection drag is refused (empty when none).
  QString dragVerdict() const { return verdict_; }
  // The nearest free spot at or below `desired` for a new node (nothing overlapped).
  QPointF freeSpot(QPointF desired, const QStringList &ignore = {}) const;
  // Why the selected nodes cannot be saved as a particle (empty: they can); the context menu's
  // Save as particle… is disabled with it. The window knows the runs and sets it.
  void setPartRefusal(std::function<QString(const QStringList &ids)> why) { partRefusal_ = std::move(why); }

Q_SIGNALS:
  void connectionRefused(const QString &reason);
  void nodeDoubleClicked(const QString &id);
  // A context-menu action on nodes the window carries out (it owns the clipboard and sharing).
  void nodeAction(const QString &action);

protected:
  void mousePressEvent(QGraphicsSceneMouseEvent *event) override;
  void mouseMoveEvent(QGraphicsSceneMouseEvent *event) override;
  void mouseReleaseEvent(QGraphicsSceneMouseEvent *event) override;
  void contextMenuEvent(QGraphicsSceneContextMenuEvent *event) override;

private:
  struct EdgeView {
    Edge edge;
    EdgeItem *path = nullptr;
    LabelItem *label = nullptr;
    QPointF from, to; // the ends the path was last drawn between (an unmoved edge is not redrawn)
  };
  void rebuild();
  void dropShareLinks();
  void addNodeItem(const QString &id);
  void removeNodeItem(const QString &id);
  void rebuildEdges();
  void rebuildShareLinks();
  void onValidated();
  void updateEdgesOf(const QString &id);
  void placeEdge(EdgeView &view);
  void commitMoves();
  std::optional<PortHit> portAt(const QPointF &scenePos) const;
  // Empty when connecting `from` → `to` is fine, else the reason.
  QString judgeConnection(const PortRef &from, const PortRef &to) const;
  void finishDrag(QGraphicsSceneMouseEvent *event);

  GraphDocument *doc_;
  QUndoStack *undo_;
  std::map<QString, NodeItem *> nodes_;
  std::vector<EdgeView> edges_;
  std::map<QString, std::vector<std::size_t>> edgesOf_; // node id → indices into edges_
  std::vector<std::pair<std::pair<NodeItem *, NodeItem *>, QGraphicsLineItem *>> shareLinks_;
  std::string shareSignature_;
  // Connection drag state.
  std::optional<PortHit> dragFrom_;
  QGraphicsPathItem *dragLine_ = nullptr;
  LabelItem *dragLabel_ = nullptr;
  QString verdict_;
  std::optional<PortHit> dragTarget_;
  std::optional<Edge> detached_; // the edge picked up by its input end (moved or removed on release)
  bool refreshing_ = false;      // batch refresh in progress: edges are placed once at the end
  std::function<QString(const QStringList &)> partRefusal_;
};

} // namespace particle::ui
