#pragma once
// A node on the canvas: type, id, output shape, parameter count, share-group chip, typed ports.
// It draws what the document says; it never edits the document itself.

#include "graph/Graph.h"

#include <QGraphicsObject>

#include <optional>

namespace particle::ui {

class GraphDocument;

struct PortHit {
  bool output = false;
  PortRef ref;
  QPointF scenePos;
};

class NodeItem : public QGraphicsObject {
  Q_OBJECT

public:
  NodeItem(GraphDocument *doc, const QString &id);

  QString id() const { return id_; }
  // Re-reads the node and its validation from the document.
  void refresh();
  QRectF boundingRect() const override;
  void paint(QPainter *painter, const QStyleOptionGraphicsItem *option, QWidget *widget) override;

  std::optional<PortHit> portAt(const QPointF &scenePos) const;
  QPointF outputPortPos(int index) const; // scene coordinates
  QPointF inputPortPos(const std::string &port) const;
  int inputSlots() const { return inputSlots_; }
  int outputSlots() const { return outputSlots_; }
  bool hasGatePort() const { return gatePort_; }
  static QColor shareColor(const std::string &group);
  static bool snapToGrid;
  static constexpr double kGrid = 10;

Q_SIGNALS:
  void moveFinished();

protected:
  QVariant itemChange(GraphicsItemChange change, const QVariant &value) override;
  void mouseReleaseEvent(QGraphicsSceneMouseEvent *event) override;

private:
  double height() const;

  GraphDocument *doc_;
  QString id_;
  QString title_, subtitle_, shapeText_, paramText_, problem_;
  std::string share_;
  QColor accent_;
  int inputSlots_ = 0, outputSlots_ = 0;
  bool gatePort_ = false;
  bool invalid_ = false;
};

} // namespace particle::ui
