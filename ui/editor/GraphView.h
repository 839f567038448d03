#pragma once
// The canvas view: Ctrl+wheel and +/− zoom, middle-button pan, F to fit, rubber-band selection,
// palette drops (MIME type kNodeMimeType carrying the node type) and Library drops (kPartMimeType
// carrying a particle file's path).

#include <QGraphicsView>

namespace particle::ui {

inline constexpr const char *kNodeMimeType = "application/x-particle-node-type";
inline constexpr const char *kPartMimeType = "application/x-particle-part";

class GraphView : public QGraphicsView {
  Q_OBJECT

public:
  explicit GraphView(QGraphicsScene *scene, QWidget *parent = nullptr);
  // Zooms as the user asked (keys, menu, Ctrl+wheel): the view stops following the window's size.
  void zoomBy(double factor);
  // The whole graph in view, zoomed in up to 1.5×; kept so as the view resizes until the user
  // zooms or pans.
  void fitAll();
  // A document opened: the whole graph in view, smaller than 1:1 only where it must be; kept so as
  // the view resizes (a small window, the tab shown later) until the user zooms or pans.
  void showGraph();
  double zoom() const { return transform().m11(); }

Q_SIGNALS:
  void nodeTypeDropped(const QString &type, QPointF scenePos);
  void partDropped(const QString &path, QPointF scenePos);

protected:
  void wheelEvent(QWheelEvent *event) override;
  void resizeEvent(QResizeEvent *event) override;
  void keyPressEvent(QKeyEvent *event) override;
  void mousePressEvent(QMouseEvent *event) override;
  void mouseMoveEvent(QMouseEvent *event) override;
  void mouseReleaseEvent(QMouseEvent *event) override;
  void dragEnterEvent(QDragEnterEvent *event) override;
  void dragMoveEvent(QDragMoveEvent *event) override;
  void dropEvent(QDropEvent *event) override;
  void drawBackground(QPainter *painter, const QRectF &rect) override;

private:
  void fit(double maxZoom);

  double followZoom_ = 0; // the largest zoom the view keeps fitting the graph at; 0: the user placed it
  bool panning_ = false;
  QPoint panStart_;
};

} // namespace particle::ui
