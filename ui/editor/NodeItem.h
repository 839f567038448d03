#pragma once
// A node on the canvas: type, id, output shape, parameter count (what of it trains), share-group
// chip, a snowflake when frozen, typed ports.
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
  // Re-reads the node and its validation from the document; returns whether anything it shows
  // changed (nothing is redrawn otherwise). Positions are applied unless the user is dragging it.
  bool refresh();
  QRectF boundingRect() const override;
  void paint(QPainter *painter, const QStyleOptionGraphicsItem *option, QWidget *widget) override;

  std::optional<PortHit> portAt(const QPointF &scenePos) const;
  QPointF outputPortPos(int index) const; // scene coordinates
  QPointF inputPortPos(const std::string &port) const;
  int inputSlots() const { return inputSlots_; }
  int outputSlots() const { return outputSlots_; }
  bool hasGatePort() const { return gatePort_; }
  bool invalid() const { return invalid_; }
  QString shapeText() const { return shapeText_; }
  QString paramText() const { return paramText_; }
  bool frozen() const { return frozen_; }
  // Starts from trained weights (init): a "trained" chip in its header.
  bool startsTrained() const { return startsTrained_; }
  static QColor shareColor(const std::string &group);
  static bool snapToGrid;
  static constexpr double kGrid = 10;
  static constexpr double kWidth = 190;
  // Body rectangle in scene coordinates (for placing new nodes where none is).
  QRectF bodyRect() const;

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
  bool frozen_ = false;
  bool startsTrained_ = false;
};

} // namespace particle::ui
