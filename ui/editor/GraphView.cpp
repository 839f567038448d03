#include "editor/GraphView.h"

#include "editor/NodeItem.h"

#include <QApplication>
#include <QDragEnterEvent>
#include <QMimeData>
#include <QScrollBar>
#include <QWheelEvent>

#include <cmath>

namespace particle::ui {

namespace {
constexpr double kMinZoom = 0.1, kMaxZoom = 4.0;

// A drag the canvas takes: a node type from the palette, a particle from the Library.
bool ours(const QMimeData *mime) {
  return mime->hasFormat(kNodeMimeType) || mime->hasFormat(kPartMimeType);
}
} // namespace

GraphView::GraphView(QGraphicsScene *scene, QWidget *parent) : QGraphicsView(scene, parent) {
  setRenderHint(QPainter::Antialiasing);
  setDragMode(QGraphicsView::RubberBandDrag);
  setRubberBandSelectionMode(Qt::IntersectsItemShape);
  setTransformationAnchor(QGraphicsView::AnchorUnderMouse);
  setViewportUpdateMode(QGraphicsView::SmartViewportUpdate);
  setAcceptDrops(true);
  setSceneRect(-20000, -20000, 40000, 40000);
  // A scroll bar moved by the user (its arrows, a drag, the wheel, arrow keys): the view is theirs.
  for (auto *bar : {horizontalScrollBar(), verticalScrollBar()})
    connect(bar, &QAbstractSlider::actionTriggered, this, [this] { followZoom_ = 0; });
}

void GraphView::zoomBy(double factor) {
  followZoom_ = 0;
  const double target = std::clamp(zoom() * factor, kMinZoom, kMaxZoom);
  scale(target / zoom(), target / zoom());
}

void GraphView::fitAll() {
  fit(1.5);
}

void GraphView::showGraph() {
  fit(1.0);
}

void GraphView::fit(double maxZoom) {
  followZoom_ = maxZoom;
  QRectF bounds;
  for (auto *item : scene()->items())
    if (dynamic_cast<NodeItem *>(item))
      bounds = bounds.united(item->sceneBoundingRect());
  if (bounds.isEmpty())
    return;
  fitInView(bounds.adjusted(-40, -40, 40, 40), Qt::KeepAspectRatio);
  if (zoom() > maxZoom) {
    const double factor = std::max(maxZoom, kMinZoom) / zoom();
    scale(factor, factor);
    centerOn(bounds.center());
  }
}

void GraphView::resizeEvent(QResizeEvent *event) {
  QGraphicsView::resizeEvent(event);
  if (followZoom_ > 0)
    fit(followZoom_);
}

void GraphView::wheelEvent(QWheelEvent *event) {
  if (event->modifiers() & Qt::ControlModifier) {
    zoomBy(std::pow(1.0015, event->angleDelta().y()));
    event->accept();
    return;
  }
  QGraphicsView::wheelEvent(event);
}

void GraphView::keyPressEvent(QKeyEvent *event) {
  switch (event->key()) {
  case Qt::Key_Plus:
  case Qt::Key_Equal: zoomBy(1.2); return;
  case Qt::Key_Minus: zoomBy(1 / 1.2); return;
  case Qt::Key_F:
    if (event->modifiers() == Qt::NoModifier) {
      fitAll();
      return;
    }
    break;
  default: break;
  }
  QGraphicsView::keyPressEvent(event);
}

void GraphView::mousePressEvent(QMouseEvent *event) {
  if (event->button() == Qt::MiddleButton) {
    panning_ = true;
    followZoom_ = 0;
    panStart_ = event->pos();
    viewport()->setCursor(Qt::ClosedHandCursor);
    event->accept();
    return;
  }
  QGraphicsView::mousePressEvent(event);
}

void GraphView::mouseMoveEvent(QMouseEvent *event) {
  if (panning_) {
    const QPoint delta = event->pos() - panStart_;
    panStart_ = event->pos();
    horizontalScrollBar()->setValue(horizontalScrollBar()->value() - delta.x());
    verticalScrollBar()->setValue(verticalScrollBar()->value() - delta.y());
    event->accept();
    return;
  }
  QGraphicsView::mouseMoveEvent(event);
}

void GraphView::mouseReleaseEvent(QMouseEvent *event) {
  if (panning_ && event->button() == Qt::MiddleButton) {
    panning_ = false;
    viewport()->unsetCursor();
    event->accept();
    return;
  }
  QGraphicsView::mouseReleaseEvent(event);
}

void GraphView::dragEnterEvent(QDragEnterEvent *event) {
  if (ours(event->mimeData()))
    event->acceptProposedAction();
  else
    QGraphicsView::dragEnterEvent(event);
}

void GraphView::dragMoveEvent(QDragMoveEvent *event) {
  if (ours(event->mimeData()))
    event->acceptProposedAction();
  else
    QGraphicsView::dragMoveEvent(event);
}

void GraphView::dropEvent(QDropEvent *event) {
  const QMimeData *mime = event->mimeData();
  if (!ours(mime)) {
    QGraphicsView::dropEvent(event);
    return;
  }
  const QPointF at = mapToScene(event->position().toPoint());
  if (mime->hasFormat(kPartMimeType))
    Q_EMIT partDropped(QString::fromUtf8(mime->data(kPartMimeType)), at);
  else
    Q_EMIT nodeTypeDropped(QString::fromUtf8(mime->data(kNodeMimeType)), at);
  event->acceptProposedAction();
}

void GraphView::drawBackground(QPainter *painter, const QRectF &rect) {
  const QPalette pal = QApplication::palette();
  painter->fillRect(rect, pal.color(QPalette::Window).darker(104));
  if (zoom() < 0.4)
    return;
  constexpr double kStep = 20;
  QPen pen(pal.color(QPalette::Mid));
  pen.setWidthF(0);
  painter->setPen(pen);
  const double left = std::floor(rect.left() / kStep) * kStep, top = std::floor(rect.top() / kStep) * kStep;
  QVector<QPointF> dots;
  for (double x = left; x < rect.right(); x += kStep)
    for (double y = top; y < rect.bottom(); y += kStep)
      dots.append(QPointF(x, y));
  painter->drawPoints(dots.data(), static_cast<int>(dots.size()));
}

} // namespace particle::ui
