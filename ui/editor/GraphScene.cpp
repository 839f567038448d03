#include "editor/GraphScene.h"

#include "document/AutoLayout.h"
#include "document/Commands.h"
#include "document/GraphDocument.h"

#include <QApplication>
#include <QGraphicsPathItem>
#include <QGraphicsSceneContextMenuEvent>
#include <QGraphicsSceneHoverEvent>
#include <QGraphicsSceneMouseEvent>
#include <QMenu>
#include <QPainterPath>
#include <QPainter>
#include <QPalette>
#include <QPen>

namespace particle::ui {

// A short text on a rounded background, drawn above edges and nodes (edge shapes, drag verdicts).
class LabelItem : public QGraphicsItem {
public:
  LabelItem(QColor text, QColor background) : text_(text), background_(background) {}
  void setText(const QString &text) {
    if (text == label_)
      return;
    prepareGeometryChange();
    label_ = text;
    update();
  }
  const QString &text() const { return label_; }
  void setSmall(bool small) { small_ = small; }
  QRectF boundingRect() const override {
    if (label_.isEmpty())
      return {};
    const QFontMetricsF fm(font());
    return QRectF(0, 0, fm.horizontalAdvance(label_) + 8, fm.height() + 2);
  }
  void paint(QPainter *painter, const QStyleOptionGraphicsItem *, QWidget *) override {
    if (label_.isEmpty())
      return;
    painter->setRenderHint(QPainter::Antialiasing);
    painter->setPen(Qt::NoPen);
    painter->setBrush(background_);
    painter->drawRoundedRect(boundingRect(), 3, 3);
    painter->setFont(font());
    painter->setPen(text_);
    painter->drawText(boundingRect(), Qt::AlignCenter, label_);
  }

private:
  QFont font() const {
    QFont f = QApplication::font();
    if (small_)
      f.setPointSizeF(f.pointSizeF() * 0.8);
    return f;
  }
  QString label_;
  QColor text_, background_;
  bool small_ = false;
};

// A wire between two ports: selectable with a click anywhere near it (Delete removes it),
// highlighted while selected.
class EdgeItem : public QGraphicsPathItem {
public:
  EdgeItem(Edge edge, QColor color) : edge_(std::move(edge)), color_(color) {
    setFlag(ItemIsSelectable);
    setPen(QPen(color_, 1.6));
    setAcceptHoverEvents(true);
    setToolTip(QObject::tr("%1 → %2 (click to select, Delete or right-click to disconnect; drag its input end to "
                           "move it)")
                   .arg(QString::fromStdString(edge_.from.toString()), QString::fromStdString(edge_.to.toString())));
  }
  const Edge &edge() const { return edge_; }
  QPainterPath shape() const override {
    QPainterPathStroker stroker;
    stroker.setWidth(10); // a wire is easy to hit
    return stroker.createStroke(path());
  }
  void paint(QPainter *painter, const QStyleOptionGraphicsItem *, QWidget *) override {
    painter->setRenderHint(QPainter::Antialiasing);
    painter->setBrush(Qt::NoBrush);
    if (isSelected()) {
      painter->setPen(QPen(QApplication::palette().color(QPalette::Highlight), 3.5));
      painter->drawPath(path());
    }
    painter->setPen(QPen(hovered_ && !isSelected() ? QApplication::palette().color(QPalette::Highlight) : color_, 1.6));
    painter->drawPath(path());
  }

protected:
  void hoverEnterEvent(QGraphicsSceneHoverEvent *) override {
    hovered_ = true;
    update();
  }
  void hoverLeaveEvent(QGraphicsSceneHoverEvent *) override {
    hovered_ = false;
    update();
  }

private:
  Edge edge_;
  QColor color_;
  bool hovered_ = false;
};

namespace {
QPainterPath curve(QPointF a, QPointF b) {
  QPainterPath path(a);
  const double dx = std::max(40.0, std::abs(b.x() - a.x()) * 0.5);
  path.cubicTo(a + QPointF(dx, 0), b - QPointF(dx, 0), b);
  return path;
}

} // namespace

GraphScene::GraphScene(GraphDocument *doc, QUndoStack *undo, QObject *parent)
    : QGraphicsScene(parent), doc_(doc), undo_(undo) {
  setItemIndexMethod(QGraphicsScene::NoIndex);
  connect(doc_, &GraphDocument::modelReset, this, &GraphScene::rebuild);
  connect(doc_, &GraphDocument::nodeAdded, this, &GraphScene::addNodeItem);
  connect(doc_, &GraphDocument::nodeRemoved, this, &GraphScene::removeNodeItem);
  connect(doc_, &GraphDocument::edgesChanged, this, &GraphScene::rebuildEdges);
  // Every change ends with validated(): shapes, problems and port counts may change downstream.
  connect(doc_, &GraphDocument::validated, this, &GraphScene::onValidated);
  rebuild();
}

GraphScene::~GraphScene() {
  // Deleting items changes the selection; nobody should hear about it (the document and the
  // window may already be gone).
  blockSignals(true);
  nodes_.clear();
  edges_.clear();
  shareLinks_.clear();
  clear();
}

NodeItem *GraphScene::nodeItem(const QString &id) const {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : it->second;
}

QStringList GraphScene::selectedIds() const {
  QStringList ids;
  // Document order, so that commands built from a selection are deterministic.
  for (const auto &n : doc_->graph().nodes)
    if (auto *item = nodeItem(QString::fromStdString(n.id)); item && item->isSelected())
      ids << item->id();
  return ids;
}

void GraphScene::selectOnly(const QStringList &ids) {
  clearSelection();
  for (const auto &id : ids)
    if (auto *item = nodeItem(id))
      item->setSelected(true);
}

void GraphScene::rebuild() {
  refreshing_ = true;
  // Share links point at the items about to go: drop them too, or a graph with the same groups
  // (the next project opened, a revert) would move links whose ends were deleted.
  dropShareLinks();
  // Out of the map before they go: deleting a selected item emits selectionChanged, whose
  // listeners (selectedIds) must not meet an item already deleted.
  auto old = std::move(nodes_);
  nodes_.clear();
  for (auto &[id, item] : old)
    delete item;
  for (const auto &n : doc_->graph().nodes)
    addNodeItem(QString::fromStdString(n.id));
  refreshing_ = false;
  rebuildEdges();
  rebuildShareLinks();
}

void GraphScene::addNodeItem(const QString &id) {
  if (nodes_.count(id))
    return;
  auto *item = new NodeItem(doc_, id);
  addItem(item);
  nodes_[id] = item;
  connect(item, &NodeItem::moveFinished, this, &GraphScene::commitMoves);
  // While the user drags a node, only the edges and links that touch it follow.
  auto follow = [this, id] {
    if (!refreshing_)
      updateEdgesOf(id);
  };
  connect(item, &QGraphicsObject::xChanged, this, follow);
  connect(item, &QGraphicsObject::yChanged, this, follow);
}

void GraphScene::removeNodeItem(const QString &id) {
  auto it = nodes_.find(id);
  if (it == nodes_.end())
    return;
  // Share links point at items: drop those touching this one first.
  for (auto &link : shareLinks_)
    if (link.first.first == it->second || link.first.second == it->second) {
      delete link.second;
      link.second = nullptr;
    }
  shareLinks_.erase(std::remove_if(shareLinks_.begin(), shareLinks_.end(), [](const auto &l) { return !l.second; }),
                    shareLinks_.end());
  shareSignature_.clear();
  delete it->second;
  nodes_.erase(it);
}

void GraphScene::onValidated() {
  refreshing_ = true;
  for (auto &[id, item] : nodes_)
    item->refresh();
  refreshing_ = false;
  // Edge labels show the source's output shape; port positions follow the node's port count.
  for (auto &view : edges_)
    placeEdge(view);
  rebuildShareLinks();
}

void GraphScene::rebuildEdges() {
  for (auto &view : edges_) {
    delete view.path;
    delete view.label;
  }
  edges_.clear();
  edgesOf_.clear();
  const QPalette pal = QApplication::palette();
  for (const auto &e : doc_->graph().edges) {
    if (!nodeItem(QString::fromStdString(e.from.node)) || !nodeItem(QString::fromStdString(e.to.node)) ||
        !e.from.isNumbered())
      continue;
    EdgeView view;
    view.edge = e;
    view.path = new EdgeItem(e, pal.color(QPalette::Text));
    view.path->setZValue(0);
    addItem(view.path);
    QColor background = pal.color(QPalette::Base);
    background.setAlpha(225);
    view.label = new LabelItem(pal.color(QPalette::Text), background);
    view.label->setSmall(true);
    view.label->setZValue(2); // above nodes: a short edge's label must stay readable
    addItem(view.label);
    edgesOf_[QString::fromStdString(e.from.node)].push_back(edges_.size());
    edgesOf_[QString::fromStdString(e.to.node)].push_back(edges_.size());
    edges_.push_back(view);
  }
  for (auto &view : edges_)
    placeEdge(view);
}

void GraphScene::placeEdge(EdgeView &view) {
  NodeItem *from = nodeItem(QString::fromStdString(view.edge.from.node));
  NodeItem *to = nodeItem(QString::fromStdString(view.edge.to.node));
  if (!from || !to)
    return;
  const QPointF a = from->outputPortPos(view.edge.from.index()), b = to->inputPortPos(view.edge.to.port);
  const NodeInfo *info = doc_->validation().info(view.edge.from.node);
  const int port = view.edge.from.index();
  QString text;
  if (info && info->shapesKnown && port >= 0 && port < static_cast<int>(info->outputs.size()))
    text = QString::fromStdString(outputShapeText(*info, static_cast<std::size_t>(port)));
  // Every validation places every edge: one whose ends and label are as they were is left alone
  // (redrawing them all made a param edit in a 2,000-node graph take 100 ms).
  const bool moved = view.path->path().isEmpty() || a != view.from || b != view.to;
  if (!moved && text == view.label->text())
    return;
  if (moved) {
    view.path->setPath(curve(a, b));
    view.from = a;
    view.to = b;
  }
  view.label->setText(text);
  // Above the middle of the edge, clear of the line. Where the nodes are too close for it, no
  // label: the source node shows the same shape, and a label squeezed in would cover a node.
  const QRectF r = view.label->boundingRect();
  const double gap = b.x() - a.x();
  view.label->setVisible(gap > r.width() + 24);
  view.label->setPos(view.path->path().pointAtPercent(0.5) - QPointF(r.width() / 2, r.height() + 3));
}

void GraphScene::updateEdgesOf(const QString &id) {
  auto it = edgesOf_.find(id);
  if (it != edgesOf_.end())
    for (std::size_t i : it->second)
      placeEdge(edges_[i]);
  NodeItem *item = nodeItem(id);
  for (auto &[ends, line] : shareLinks_)
    if (ends.first == item || ends.second == item)
      line->setLine(
          QLineF(ends.first->bodyRect().center() + QPointF(70, 0), ends.second->bodyRect().center() + QPointF(70, 0)));
}

void GraphScene::dropShareLinks() {
  for (auto &link : shareLinks_)
    delete link.second;
  shareLinks_.clear();
  shareSignature_.clear();
}

void GraphScene::rebuildShareLinks() {
  // Dashed links between consecutive members of each share group; rebuilt only when groups change.
  std::map<std::string, std::vector<NodeItem *>> groups;
  std::string signature;
  for (const auto &n : doc_->graph().nodes)
    if (!n.share.empty())
      if (auto *item = nodeItem(QString::fromStdString(n.id))) {
        groups[n.share].push_back(item);
        signature += n.share + "\x1f" + n.id + "\x1e";
      }
  if (signature == shareSignature_) {
    for (auto &[ends, line] : shareLinks_)
      line->setLine(
          QLineF(ends.first->bodyRect().center() + QPointF(70, 0), ends.second->bodyRect().center() + QPointF(70, 0)));
    return;
  }
  dropShareLinks();
  shareSignature_ = signature;
  for (const auto &[group, members] : groups) {
    QPen pen(NodeItem::shareColor(group), 2, Qt::DashLine);
    for (std::size_t i = 1; i < members.size(); ++i) {
      auto *line = addLine(QLineF(members[i - 1]->bodyRect().center() + QPointF(70, 0),
                                  members[i]->bodyRect().center() + QPointF(70, 0)),
                           pen);
      line->setZValue(0.2);
      shareLinks_.push_back({{members[i - 1], members[i]}, line});
    }
  }
}

std::vector<Edge> GraphScene::selectedEdges() const {
  std::vector<Edge> out;
  for (const auto &view : edges_)
    if (view.path->isSelected())
      out.push_back(view.edge);
  return out;
}

QGraphicsPathItem *GraphScene::edgeItem(const Edge &edge) const {
  for (const auto &view : edges_)
    if (view.edge == edge)
      return view.path;
  return nullptr;
}

QString GraphScene::edgeLabel(const PortRef &to) const {
  for (const auto &view : edges_)
    if (view.edge.to == to)
      return view.label->text();
  return {};
}

QPointF GraphScene::freeSpot(QPointF desired, const QStringList &ignore) const {
  constexpr double kMargin = 16, kStep = 30;
  QPointF p = desired;
  if (NodeItem::snapToGrid)
    p = QPointF(std::round(p.x() / NodeItem::kGrid) * NodeItem::kGrid,
                std::round(p.y() / NodeItem::kGrid) * NodeItem::kGrid);
  for (int attempt = 0; attempt < 400; ++attempt) {
    const QRectF want(p, QSizeF(NodeItem::kWidth, 80));
    bool clear = true;
    for (const auto &[id, item] : nodes_) {
      if (ignore.contains(id))
        continue;
      if (item->bodyRect().adjusted(-kMargin, -kMargin, kMargin, kMargin).intersects(want)) {
        clear = false;
        p.setY(item->bodyRect().bottom() + kMargin + 1);
        if (NodeItem::snapToGrid)
          p.setY(std::ceil(p.y() / NodeItem::kGrid) * NodeItem::kGrid);
        break;
      }
    }
    if (clear)
      return p;
    if (attempt % 40 == 39) // a long column: try the next one to the right
      p = QPointF(p.x() + NodeItem::kWidth + kStep, desired.y());
  }
  return p;
}

void GraphScene::commitMoves() {
  std::map<QString, QPointF> moved;
  for (const auto &[id, item] : nodes_) {
    const Node *n = doc_->graph().find(id.toStdString());
    if (!n)
      continue;
    const QPointF stored = n->pos ? QPointF((*n->pos)[0], (*n->pos)[1]) : QPointF();
    if (item->pos() != stored)
      moved[id] = item->pos();
  }
  if (!moved.empty())
    if (auto *cmd = commands::moveNodes(doc_, moved))
      undo_->push(cmd);
}

std::optional<PortHit> GraphScene::portAt(const QPointF &scenePos) const {
  for (const auto &[id, item] : nodes_)
    if (item->sceneBoundingRect().adjusted(-8, -8, 8, 8).contains(scenePos))
      if (auto hit = item->portAt(scenePos))
        return hit;
  return std::nullopt;
}

QString GraphScene::judgeConnection(const PortRef &from, const PortRef &to) const {
  if (from.node == to.node)
    return tr("A node cannot feed itself.");
  for (const auto &e : doc_->graph().edges)
    if (e.to == to && !(detached_ && e == *detached_))
      return tr("Input %1 of %2 is already connected (from %3); drag that wire's end away first, or select it and "
                "press Delete.")
          .arg(QString::fromStdString(to.port), QString::fromStdString(to.node),
               QString::fromStdString(e.from.toString()));
  const Validation &before = doc_->validation();
  const Json params = commands::paramsFollowingInput(doc_, from, to); // as the connection will set them
  const Validation after = doc_->trial([&](Graph &g) {
    if (detached_)
      g.edges.erase(std::remove(g.edges.begin(), g.edges.end(), *detached_), g.edges.end());
    g.edges.push_back(Edge{from, to});
    for (auto &n : g.nodes)
      if (n.id == to.node)
        for (const auto &[key, value] : params.items())
          n.params[key] = value;
  });
  // A connection is refused when it makes a new error at the target (or a cycle anywhere); a
  // graph still being built (inputs not yet connected) is no reason to refuse.
  auto pending = [](ProblemCode code) {
    return code == ProblemCode::InputNotConnected || code == ProblemCode::TooFewBranches ||
           code == ProblemCode::PortGap || code == ProblemCode::NoPath;
  };
  auto errorsAt = [&](const Validation &v, const std::string &node) {
    std::set<std::string> out;
    for (const auto &p : v.problems)
      if (p.isError() && p.node == node && !pending(p.code))
        out.insert(p.message);
    return out;
  };
  const auto old = errorsAt(before, to.node);
  for (const auto &message : errorsAt(after, to.node))
    if (!old.count(message))
      return QString::fromStdString(message);
  for (const auto &p : after.problems)
    if (p.isError() && p.code == ProblemCode::Cycle)
      return QString::fromStdString(p.message);
  return {};
}

void GraphScene::mousePressEvent(QGraphicsSceneMouseEvent *event) {
  if (event->button() == Qt::LeftButton) {
    auto hit = portAt(event->scenePos());
    // Pressing on a connected input picks its wire up by that end: drop it on another input to
    // move it, anywhere else to disconnect it.
    detached_.reset();
    if (hit && !hit->output)
      for (const auto &e : doc_->graph().edges)
        if (e.to == hit->ref) {
          detached_ = e;
          NodeItem *source = nodeItem(QString::fromStdString(e.from.node));
          hit = PortHit{true, e.from, source ? source->outputPortPos(e.from.index()) : hit->scenePos};
          break;
        }
    if (hit && hit->output) {
      if (detached_)
        if (auto *wire = edgeItem(*detached_))
          wire->setOpacity(0.25);
      dragFrom_ = hit;
      dragLine_ = addPath(curve(hit->scenePos, event->scenePos()),
                          QPen(QApplication::palette().color(QPalette::Highlight), 2, Qt::DashLine));
      dragLine_->setZValue(3);
      dragLabel_ = new LabelItem(Qt::white, QColor(0xc0, 0x28, 0x28, 235));
      dragLabel_->setZValue(10);
      addItem(dragLabel_);
      verdict_.clear();
      event->accept();
      return;
    }
  }
  QGraphicsScene::mousePressEvent(event);
}

void GraphScene::mouseMoveEvent(QGraphicsSceneMouseEvent *event) {
  if (!dragFrom_) {
    QGraphicsScene::mouseMoveEvent(event);
    return;
  }
  QPointF end = event->scenePos();
  dragTarget_.reset();
  verdict_.clear();
  QColor color = QApplication::palette().color(QPalette::Highlight);
  if (auto hit = portAt(end); hit && !hit->output) {
    end = hit->scenePos;
    verdict_ = judgeConnection(dragFrom_->ref, hit->ref);
    if (verdict_.isEmpty())
      dragTarget_ = hit;
    color = verdict_.isEmpty() ? QColor(0x2e, 0x9d, 0x6b) : QColor(0xe0, 0x30, 0x30);
  }
  dragLine_->setPath(curve(dragFrom_->scenePos, end));
  dragLine_->setPen(QPen(color, 2, Qt::DashLine));
  dragLabel_->setText(verdict_);
  // Above the target port, clear of the node's body.
  dragLabel_->setPos(end + QPointF(-dragLabel_->boundingRect().width() / 2, -dragLabel_->boundingRect().height() - 14));
  event->accept();
}

void GraphScene::mouseReleaseEvent(QGraphicsSceneMouseEvent *event) {
  if (!dragFrom_) {
    QGraphicsScene::mouseReleaseEvent(event);
    return;
  }
  finishDrag(event);
  event->accept();
}

void GraphScene::finishDrag(QGraphicsSceneMouseEvent *event) {
  mouseMoveEvent(event); // judge the final position
  const auto from = dragFrom_;
  const auto target = dragTarget_;
  const auto detached = detached_;
  const QString verdict = verdict_;
  delete dragLine_;
  delete dragLabel_;
  dragLine_ = nullptr;
  dragLabel_ = nullptr;
  dragFrom_.reset();
  dragTarget_.reset();
  detached_.reset();
  verdict_.clear();
  if (detached) {
    if (auto *wire = edgeItem(*detached))
      wire->setOpacity(1.0);
    // Back where it was: nothing changes. Elsewhere on an input: moved. On nothing: disconnected.
    if (target && target->ref == detached->to)
      return;
    if (target || verdict.isEmpty()) {
      if (auto *cmd = commands::reconnect(doc_, *detached, target ? std::optional<PortRef>(target->ref) : std::nullopt))
        undo_->push(cmd);
      return;
    }
    Q_EMIT connectionRefused(verdict);
    return;
  }
  if (target) {
    if (auto *cmd = commands::connectPorts(doc_, from->ref, target->ref))
      undo_->push(cmd);
  } else if (!verdict.isEmpty()) {
    Q_EMIT connectionRefused(verdict);
  }
}

void GraphScene::contextMenuEvent(QGraphicsSceneContextMenuEvent *event) {
  QMenu menu;
  const auto items = this->items(event->scenePos());
  EdgeItem *wire = nullptr;
  NodeItem *node = nullptr;
  for (auto *item : items) {
    if (!node)
      node = dynamic_cast<NodeItem *>(item);
    if (!wire && !node)
      wire = dynamic_cast<EdgeItem *>(item);
  }
  if (node) {
    if (!node->isSelected())
      selectOnly({node->id()});
    menu.addAction(tr("Delete"), this, [this] { Q_EMIT nodeAction("delete"); });
    menu.addAction(tr("Duplicate"), this, [this] { Q_EMIT nodeAction("duplicate"); });
    menu.addAction(tr("Copy"), this, [this] { Q_EMIT nodeAction("copy"); });
    if (selectedIds().size() > 1)
      menu.addAction(tr("Share parameters"), this, [this] { Q_EMIT nodeAction("share"); });
    const Node *n = doc_->graph().find(node->id().toStdString());
    if (n && !n->share.empty())
      menu.addAction(tr("Unshare parameters"), this, [this] { Q_EMIT nodeAction("unshare"); });
    menu.addSeparator();
    QAction *save = menu.addAction(tr("Save as particle…"), this, [this] { Q_EMIT nodeAction("savePart"); });
    const QString why = partRefusal_ ? partRefusal_(selectedIds()) : QString();
    save->setEnabled(why.isEmpty());
    save->setToolTip(why.isEmpty() ? tr("Save the selection with its trained weights as a particle file") : why);
    save->setStatusTip(why);
    menu.setToolTipsVisible(true);
  } else if (wire) {
    const Edge edge = wire->edge();
    menu.addAction(tr("Disconnect %1 → %2")
                       .arg(QString::fromStdString(edge.from.toString()), QString::fromStdString(edge.to.toString())),
                   this, [this, edge] {
                     if (auto *cmd = commands::reconnect(doc_, edge, std::nullopt))
                       undo_->push(cmd);
                   });
  } else {
    return;
  }
  // The menu takes the mouse: the press that opened it must leave no item grabbing it, or the next
  // click anywhere on the canvas would go to that node (its release went to the menu).
  if (QGraphicsItem *grabber = mouseGrabberItem())
    grabber->ungrabMouse();
  menu.exec(event->screenPos());
  event->accept();
}

std::map<QString, QPointF> GraphScene::autoLayout() const {
  std::map<QString, QPointF> out;
  for (const auto &[id, p] : layeredLayout(doc_->graph(), doc_->validation().order))
    out[QString::fromStdString(id)] = QPointF(p[0], p[1]);
  return out;
}

} // namespace particle::ui
