#pragma once
// The canvas: observes a GraphDocument and keeps one NodeItem per node, edge paths with their
// tensor shapes, and dashed links between members of a share group. Edits go through the undo
// stack as commands on the document.

#include "editor/NodeItem.h"

#include <QGraphicsScene>
#include <QPointer>
#include <QUndoStack>

#include <map>

class QGraphicsPathItem;
class QGraphicsSimpleTextItem;

namespace particle::ui {

class GraphScene : public QGraphicsScene {
  Q_OBJECT

public:
  GraphScene(GraphDocument *doc, QUndoStack *undo, QObject *parent = nullptr);
  ~GraphScene() override;

  NodeItem *nodeItem(const QString &id) const;
  QStringList selectedIds() const;
  void selectOnly(const QStringList &ids);
  // Positions for a layered left-to-right layout of the whole graph.
  std::map<QString, QPointF> autoLayout() const;
  int edgeItemCount() const { return static_cast<int>(edges_.size()); }
  // Text shown while a connection drag is refused (empty when none).
  QString dragVerdict() const { return verdict_; }

Q_SIGNALS:
  void connectionRefused(const QString &reason);
  void nodeDoubleClicked(const QString &id);

protected:
  void mousePressEvent(QGraphicsSceneMouseEvent *event) override;
  void mouseMoveEvent(QGraphicsSceneMouseEvent *event) override;
  void mouseReleaseEvent(QGraphicsSceneMouseEvent *event) override;

private:
  void rebuild();
  void addNodeItem(const QString &id);
  void removeNodeItem(const QString &id);
  void rebuildEdges();
  void refreshAll();
  void commitMoves();
  NodeItem *nodeAt(const QPointF &scenePos) const;
  std::optional<PortHit> portAt(const QPointF &scenePos) const;
  // Empty when connecting `from` → `to` is fine, else the reason.
  QString judgeConnection(const PortRef &from, const PortRef &to) const;

  GraphDocument *doc_;
  QUndoStack *undo_;
  std::map<QString, NodeItem *> nodes_;
  std::vector<QGraphicsItem *> edges_;
  // Connection drag state.
  std::optional<PortHit> dragFrom_;
  QGraphicsPathItem *dragLine_ = nullptr;
  QGraphicsSimpleTextItem *dragLabel_ = nullptr;
  QString verdict_;
  std::optional<PortHit> dragTarget_;
  bool refreshing_ = false; // batch refresh in progress: edges are rebuilt once at the end
};

} // namespace particle::ui
