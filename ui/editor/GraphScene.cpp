#include "editor/GraphScene.h"

#include "document/Commands.h"
#include "document/GraphDocument.h"

#include <QApplication>
#include <QGraphicsPathItem>
#include <QGraphicsSceneMouseEvent>
#include <QGraphicsSimpleTextItem>
#include <QPalette>
#include <QPen>

#include <deque>
#include <set>

namespace particle::ui {

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
  // Moves need no handler of their own: every change ends with validated(), and refreshAll()
  // re-reads positions too. Any change can change shapes, problems and port counts downstream.
  connect(doc_, &GraphDocument::validated, this, &GraphScene::refreshAll);
  rebuild();
}

GraphScene::~GraphScene() {
  // Deleting items changes the selection; nobody should hear about it (the document and the
  // window may already be gone).
  blockSignals(true);
  nodes_.clear();
  edges_.clear();
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
  for (auto &[id, item] : nodes_)
    delete item;
  nodes_.clear();
  for (const auto &n : doc_->graph().nodes)
    addNodeItem(QString::fromStdString(n.id));
  refreshing_ = false;
  rebuildEdges();
}

void GraphScene::addNodeItem(const QString &id) {
  if (nodes_.count(id))
    return;
  auto *item = new NodeItem(doc_, id);
  addItem(item);
  nodes_[id] = item;
  connect(item, &NodeItem::moveFinished, this, &GraphScene::commitMoves);
  // Live edges while the user drags a node; batched refreshes rebuild once at the end.
  connect(item, &QGraphicsObject::xChanged, this, [this] {
    if (!refreshing_)
      rebuildEdges();
  });
  connect(item, &QGraphicsObject::yChanged, this, [this] {
    if (!refreshing_)
      rebuildEdges();
  });
}

void GraphScene::removeNodeItem(const QString &id) {
  auto it = nodes_.find(id);
  if (it == nodes_.end())
    return;
  delete it->second;
  nodes_.erase(it);
}

void GraphScene::refreshAll() {
  refreshing_ = true;
  for (auto &[id, item] : nodes_)
    item->refresh();
  refreshing_ = false;
  rebuildEdges();
}

void GraphScene::rebuildEdges() {
  for (auto *e : edges_)
    delete e;
  edges_.clear();
  const QPalette pal = QApplication::palette();
  const QColor edgeColor = pal.color(QPalette::Text);
  for (const auto &e : doc_->graph().edges) {
    NodeItem *from = nodeItem(QString::fromStdString(e.from.node));
    NodeItem *to = nodeItem(QString::fromStdString(e.to.node));
    if (!from || !to || !e.from.isNumbered())
      continue;
    const QPointF a = from->outputPortPos(e.from.index()), b = to->inputPortPos(e.to.port);
    auto *path = addPath(curve(a, b), QPen(edgeColor, 1.6));
    path->setZValue(0);
    edges_.push_back(path);
    const NodeInfo *info = doc_->validation().info(e.from.node);
    if (info && info->shapesKnown && e.from.index() < static_cast<int>(info->outputs.size())) {
      auto *label = addSimpleText(QString::fromStdString(shapeToString(info->outputs[e.from.index()])));
      QFont f = label->font();
      f.setPointSizeF(f.pointSizeF() * 0.8);
      label->setFont(f);
      label->setBrush(pal.color(QPalette::PlaceholderText));
      const QPointF mid = path->path().pointAtPercent(0.5);
      label->setPos(mid - QPointF(label->boundingRect().width() / 2, label->boundingRect().height() + 2));
      label->setZValue(0.5);
      edges_.push_back(label);
    }
  }
  // Dashed links between consecutive members of each share group.
  std::map<std::string, std::vector<NodeItem *>> groups;
  for (const auto &n : doc_->graph().nodes)
    if (!n.share.empty())
      if (auto *item = nodeItem(QString::fromStdString(n.id)))
        groups[n.share].push_back(item);
  for (const auto &[group, members] : groups) {
    QPen pen(NodeItem::shareColor(group), 2, Qt::DashLine);
    for (std::size_t i = 1; i < members.size(); ++i) {
      const QPointF a = members[i - 1]->sceneBoundingRect().center();
      const QPointF b = members[i]->sceneBoundingRect().center();
      auto *line = addLine(QLineF(a + QPointF(70, 0), b + QPointF(70, 0)), pen);
      line->setZValue(0.2);
      edges_.push_back(line);
    }
  }
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

NodeItem *GraphScene::nodeAt(const QPointF &scenePos) const {
  for (const auto &[id, item] : nodes_)
    if (item->sceneBoundingRect().contains(scenePos))
      return item;
  return nullptr;
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
    if (e.to == to)
      return tr("Input %1 of %2 is already connected (from %3).")
          .arg(QString::fromStdString(to.port), QString::fromStdString(to.node),
               QString::fromStdString(e.from.toString()));
  const Validation before = doc_->validation();
  const Validation after = doc_->trial([&](Graph &g) { g.edges.push_back(Edge{from, to}); });
  // A connection is refused when it makes a new error at the target (or a cycle anywhere).
  auto errorsAt = [](const Validation &v, const std::string &node) {
    std::set<std::string> out;
    for (const auto &p : v.problems)
      if (p.severity == Problem::Severity::Error && p.node == node)
        out.insert(p.message);
    return out;
  };
  const auto old = errorsAt(before, to.node);
  for (const auto &message : errorsAt(after, to.node))
    if (!old.count(message) && message.find("not connected") == std::string::npos &&
        message.find("at least") == std::string::npos)
      return QString::fromStdString(message);
  for (const auto &p : after.problems)
    if (p.severity == Problem::Severity::Error && p.message.find("cycle") != std::string::npos)
      return QString::fromStdString(p.message);
  return {};
}

void GraphScene::mousePressEvent(QGraphicsSceneMouseEvent *event) {
  if (event->button() == Qt::LeftButton) {
    if (auto hit = portAt(event->scenePos()); hit && hit->output) {
      dragFrom_ = hit;
      dragLine_ = addPath(curve(hit->scenePos, event->scenePos()),
                          QPen(QApplication::palette().color(QPalette::Highlight), 2, Qt::DashLine));
      dragLine_->setZValue(3);
      dragLabel_ = addSimpleText(QString());
      dragLabel_->setZValue(3);
      dragLabel_->setBrush(QColor(0xe0, 0x30, 0x30));
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
  dragLabel_->setPos(end + QPointF(12, 8));
  event->accept();
}

void GraphScene::mouseReleaseEvent(QGraphicsSceneMouseEvent *event) {
  if (!dragFrom_) {
    QGraphicsScene::mouseReleaseEvent(event);
    return;
  }
  mouseMoveEvent(event); // judge the final position
  const auto from = dragFrom_;
  const auto target = dragTarget_;
  const QString verdict = verdict_;
  delete dragLine_;
  delete dragLabel_;
  dragLine_ = nullptr;
  dragLabel_ = nullptr;
  dragFrom_.reset();
  dragTarget_.reset();
  if (target) {
    if (auto *cmd = commands::connectPorts(doc_, from->ref, target->ref))
      undo_->push(cmd);
  } else if (!verdict.isEmpty()) {
    Q_EMIT connectionRefused(verdict);
  }
  verdict_.clear();
  event->accept();
}

std::map<QString, QPointF> GraphScene::autoLayout() const {
  // Layer = longest path from a source; order within a layer by the mean order of the
  // predecessors (one barycentric sweep), which keeps branch order from the Split's ports.
  const Graph &g = doc_->graph();
  std::map<std::string, int> layer;
  std::map<std::string, std::vector<std::pair<std::string, double>>> preds;
  for (const auto &e : g.edges) {
    const double port = e.from.isNumbered() ? e.from.index() : 0;
    preds[e.to.node].push_back({e.from.node, port});
  }
  const auto &order = doc_->validation().order;
  std::vector<std::string> ordered(order.begin(), order.end());
  for (const auto &n : g.nodes) // nodes in cycles come last
    if (std::find(ordered.begin(), ordered.end(), n.id) == ordered.end())
      ordered.push_back(n.id);
  for (const auto &id : ordered) {
    int l = 0;
    for (const auto &[p, port] : preds[id])
      if (layer.count(p))
        l = std::max(l, layer[p] + 1);
    layer[id] = l;
  }
  std::map<int, std::vector<std::string>> layers;
  for (const auto &id : ordered)
    layers[layer[id]].push_back(id);
  std::map<std::string, double> rank;
  constexpr double kColumn = 250, kRow = 120;
  std::map<QString, QPointF> out;
  for (auto &[l, ids] : layers) {
    std::vector<std::pair<double, std::string>> keyed;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      double sum = 0;
      int count = 0;
      for (const auto &[p, port] : preds[ids[i]])
        if (rank.count(p)) {
          sum += rank[p] + port * 1e-3;
          ++count;
        }
      keyed.push_back({count ? sum / count : static_cast<double>(i), ids[i]});
    }
    std::stable_sort(keyed.begin(), keyed.end(), [](const auto &a, const auto &b) { return a.first < b.first; });
    const double top = -0.5 * (static_cast<double>(keyed.size()) - 1) * kRow;
    for (std::size_t i = 0; i < keyed.size(); ++i) {
      rank[keyed[i].second] = static_cast<double>(i);
      out[QString::fromStdString(keyed[i].second)] = QPointF(l * kColumn, top + static_cast<double>(i) * kRow);
    }
  }
  return out;
}

} // namespace particle::ui
