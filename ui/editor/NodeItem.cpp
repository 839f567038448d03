#include "editor/NodeItem.h"
#include "editor/ParameterText.h"

#include "document/GraphDocument.h"
#include "graph/Catalogue.h"

#include <algorithm>
#include <QApplication>
#include <QGraphicsScene>
#include <QGraphicsSceneMouseEvent>
#include <QPainter>
#include <QPalette>
#include <QStyleOptionGraphicsItem>

#include <cmath>

namespace particle::ui {

namespace {
constexpr double kWidth = NodeItem::kWidth;
constexpr double kHeader = 24;
constexpr double kPortPitch = 18;
constexpr double kPortRadius = 5;
constexpr double kBodyTop = kHeader + 12;

std::string textParam(const Json &params, const char *name) {
  return params.is_object() && params.contains(name) && params[name].is_string() ? params[name].get<std::string>()
                                                                                 : std::string();
}

bool gateConnected(const Graph &g, const std::string &id) {
  for (const Edge *e : g.incoming(id))
    if (!e->to.isNumbered())
      return true;
  return false;
}

} // namespace

bool NodeItem::snapToGrid = true;

NodeItem::NodeItem(GraphDocument *doc, const QString &id) : doc_(doc), id_(id) {
  setFlags(ItemIsMovable | ItemIsSelectable | ItemSendsGeometryChanges);
  setZValue(1);
  refresh();
}

QColor NodeItem::shareColor(const std::string &group) {
  // Stable hue per group name.
  uint32_t h = 2166136261u;
  for (unsigned char c : group)
    h = (h ^ c) * 16777619u;
  return QColor::fromHsv(static_cast<int>(h % 360), 170, 220);
}

double NodeItem::height() const {
  const int ports = std::max(inputSlots_ + (gatePort_ ? 1 : 0), outputSlots_);
  // A share group's chip sits below the parameter line (a shared node's line is the longest: "55,392
  // own + 18,816 shared"), not beside it.
  const double chip = share_.empty() ? 0.0 : kHeader + 40 + 24;
  return std::max({78.0, chip, kBodyTop + ports * kPortPitch + 4});
}

bool NodeItem::refresh() {
  const Node *n = doc_->graph().find(id_.toStdString());
  if (!n)
    return false;
  const NodeType *type = Catalogue::instance().find(n->type);
  const NodeInfo *info = doc_->validation().info(n->id);
  const QString title = QString::fromStdString(n->id), subtitle = QString::fromStdString(n->type);
  const QColor accent = type ? QColor::fromRgb(type->color) : QColor(0x6b, 0x72, 0x80);
  QString problem;
  bool invalid = false;
  for (const auto &p : doc_->validation().problems)
    if (p.node == n->id && p.isError()) {
      invalid = true;
      problem += (problem.isEmpty() ? "" : "\n") + QString::fromStdString(p.message);
    }
  QString shapeText;
  if (info && info->shapesKnown && !info->outputs.empty()) {
    const bool alike = std::all_of(info->outputs.begin(), info->outputs.end(),
                                   [&](const Shape &s) { return s == info->outputs.front(); });
    if (info->outputs.size() > 1 && alike) {
      shapeText = QString("%1 × %2").arg(info->outputs.size()).arg(QString::fromStdString(outputShapeText(*info, 0)));
    } else if (info->outputs.size() > 1) {
      // Parts of different shapes (Split sizes 2, 1): each one.
      QStringList parts;
      for (std::size_t i = 0; i < info->outputs.size(); ++i)
        parts << QString::fromStdString(outputShapeText(*info, i));
      shapeText = parts.join(' ');
    } else
      shapeText =
          QString::fromStdString((type && type->role == NodeRole::Output ? "logits " : "") + outputShapeText(*info, 0));
  } else {
    shapeText = QStringLiteral("shape ?");
  }
  const QString paramText = parameterText(doc_->validation(), n->id, true);
  const bool frozen = n->freeze;
  const bool startsTrained = n->init.has_value();
  int inputSlots = 0, outputSlots = 1;
  bool gatePort = false;
  if (type) {
    const Json params = info ? info->params : Catalogue::instance().effectiveParams(*type, n->params);
    outputSlots = type->outputs(params);
    if (outputSlots < 0 || !info)
      outputSlots = 1;
    if (type->maxInputs < 0) {
      int highest = -1;
      for (const Edge *e : doc_->graph().incoming(n->id))
        if (e->to.isNumbered())
          highest = std::max(highest, e->to.index());
      inputSlots = std::max(type->minInputs, highest + 2); // one free slot to connect to
    } else {
      inputSlots = type->maxInputs;
    }
    // A named input shows where its type uses it (the Combine's gate in mode gate), or where an
    // edge already ends on it.
    gatePort = !type->namedInputs.empty() &&
               (textParam(info ? info->params : n->params, "mode") == "gate" || gateConnected(doc_->graph(), n->id));
  }
  QString tooltip = invalid ? problem : QString::fromStdString(type ? type->doc : "Unknown node type");
  if (!invalid && n->init)
    tooltip += QObject::tr("\nStarts from %1%2")
                   .arg(QString::fromStdString(n->init->from),
                        n->init->node.empty() ? QString()
                                              : QObject::tr(" (node %1)").arg(QString::fromStdString(n->init->node)));
  if (!invalid && frozen)
    tooltip += QObject::tr("\nFrozen: its weights do not train");
  const bool changed = title != title_ || subtitle != subtitle_ || accent != accent_ || problem != problem_ ||
                       invalid != invalid_ || shapeText != shapeText_ || paramText != paramText_ ||
                       n->share != share_ || inputSlots != inputSlots_ || outputSlots != outputSlots_ ||
                       gatePort != gatePort_ || frozen != frozen_ || startsTrained != startsTrained_ ||
                       tooltip != toolTip();
  if (changed) {
    prepareGeometryChange();
    title_ = title;
    subtitle_ = subtitle;
    accent_ = accent;
    problem_ = problem;
    invalid_ = invalid;
    shapeText_ = shapeText;
    paramText_ = paramText;
    share_ = n->share;
    inputSlots_ = inputSlots;
    outputSlots_ = outputSlots;
    gatePort_ = gatePort;
    frozen_ = frozen;
    startsTrained_ = startsTrained;
    setToolTip(tooltip);
    update();
  }
  if (n->pos && pos() != QPointF((*n->pos)[0], (*n->pos)[1]) && (!scene() || scene()->mouseGrabberItem() != this))
    setPos((*n->pos)[0], (*n->pos)[1]);
  return changed;
}

QRectF NodeItem::bodyRect() const {
  return mapRectToScene(QRectF(0, 0, kWidth, height()));
}

QRectF NodeItem::boundingRect() const {
  return QRectF(-kPortRadius - 2, -2, kWidth + 2 * kPortRadius + 4, height() + 4);
}

void NodeItem::paint(QPainter *painter, const QStyleOptionGraphicsItem *, QWidget *) {
  const QPalette pal = QApplication::palette();
  const QRectF body(0, 0, kWidth, height());
  painter->setRenderHint(QPainter::Antialiasing);
  QPen outline(isSelected() ? pal.color(QPalette::Highlight) : pal.color(QPalette::Mid), isSelected() ? 2.5 : 1);
  if (invalid_)
    outline = QPen(QColor(0xe0, 0x30, 0x30), isSelected() ? 3 : 2);
  painter->setPen(outline);
  painter->setBrush(pal.color(QPalette::Base));
  painter->drawRoundedRect(body, 6, 6);
  // Header.
  QPainterPath header;
  header.setFillRule(Qt::WindingFill); // the rounded top and the square bottom overlap
  header.addRoundedRect(QRectF(0, 0, kWidth, kHeader), 6, 6);
  header.addRect(QRectF(0, kHeader / 2, kWidth, kHeader / 2));
  painter->fillPath(header.simplified(), accent_);
  painter->setPen(Qt::white);
  QFont bold = painter->font();
  bold.setBold(true);
  painter->setFont(bold);
  QFont small = painter->font();
  small.setBold(false);
  small.setPointSizeF(small.pointSizeF() * 0.85);
  // Right to left in the header: the type, the snowflake of a frozen node, the "trained" chip of a
  // node that starts from trained weights; the title takes what is left (elided).
  const double typeWidth = QFontMetricsF(small).horizontalAdvance(subtitle_);
  double left = kWidth - 8 - typeWidth - (frozen_ ? 24 : 0);
  const QString trained = QObject::tr("trained");
  QRectF chip;
  if (startsTrained_) {
    const double w = QFontMetricsF(small).horizontalAdvance(trained) + 10;
    chip = QRectF(left - 4 - w, (kHeader - 16) / 2, w, 16);
    left = chip.left();
  }
  painter->drawText(QRectF(8, 0, left - 12, kHeader), Qt::AlignVCenter | Qt::AlignLeft,
                    QFontMetricsF(bold).elidedText(title_, Qt::ElideRight, left - 12));
  painter->setFont(small);
  painter->drawText(QRectF(8, 0, kWidth - 16, kHeader), Qt::AlignVCenter | Qt::AlignRight, subtitle_);
  if (startsTrained_) {
    painter->setPen(Qt::NoPen);
    painter->setBrush(Qt::white);
    painter->drawRoundedRect(chip, 8, 8);
    painter->setPen(accent_.darker(130));
    painter->drawText(chip, Qt::AlignCenter, trained);
  }
  // Body text.
  painter->setPen(pal.color(QPalette::Text));
  painter->drawText(QRectF(14, kHeader + 4, kWidth - 28, 18), Qt::AlignLeft | Qt::AlignVCenter, shapeText_);
  painter->setPen(pal.color(QPalette::PlaceholderText));
  painter->drawText(QRectF(14, kHeader + 22, kWidth - 28, 18), Qt::AlignLeft | Qt::AlignVCenter, paramText_);
  // A frozen node wears a snowflake in its header, before its type (the body's lines are full).
  if (frozen_) {
    QFont flake = small;
    flake.setPointSizeF(small.pointSizeF() * 1.6);
    painter->setFont(flake);
    painter->setPen(Qt::white);
    painter->drawText(QRectF(kWidth - 8 - typeWidth - 22, 0, 20, kHeader), Qt::AlignCenter, QStringLiteral("❄"));
    painter->setFont(small);
    painter->setPen(pal.color(QPalette::Text));
  }
  // Share-group chip.
  if (!share_.empty()) {
    const QColor c = shareColor(share_);
    const QString label = QString::fromStdString(share_);
    const double w = QFontMetricsF(small).horizontalAdvance(label) + 14;
    const QRectF chip(kWidth - w - 8, height() - 22, w, 16);
    painter->setPen(Qt::NoPen);
    painter->setBrush(c);
    painter->drawRoundedRect(chip, 8, 8);
    painter->setPen(Qt::black);
    painter->drawText(chip, Qt::AlignCenter, label);
  }
  // Ports.
  painter->setPen(QPen(pal.color(QPalette::Dark), 1));
  painter->setBrush(pal.color(QPalette::Button));
  for (int i = 0; i < inputSlots_; ++i)
    painter->drawEllipse(mapFromScene(inputPortPos(std::to_string(i))), kPortRadius, kPortRadius);
  if (gatePort_) {
    painter->setBrush(QColor(0xd0, 0x7a, 0x1f));
    const QPointF g = mapFromScene(inputPortPos("gate"));
    painter->drawRect(QRectF(g.x() - kPortRadius, g.y() - kPortRadius, 2 * kPortRadius, 2 * kPortRadius));
    painter->setPen(pal.color(QPalette::PlaceholderText));
    painter->drawText(QRectF(g.x() + 8, g.y() - 8, 40, 16), Qt::AlignLeft | Qt::AlignVCenter, "gate");
    painter->setPen(QPen(pal.color(QPalette::Dark), 1));
  }
  painter->setBrush(accent_);
  for (int i = 0; i < outputSlots_; ++i)
    painter->drawEllipse(mapFromScene(outputPortPos(i)), kPortRadius, kPortRadius);
}

QPointF NodeItem::outputPortPos(int index) const {
  return mapToScene(QPointF(kWidth, kBodyTop + index * kPortPitch));
}

QPointF NodeItem::inputPortPos(const std::string &port) const {
  if (port == "gate")
    return mapToScene(QPointF(0, kBodyTop + inputSlots_ * kPortPitch));
  const int i = PortRef{"", port}.isNumbered() ? std::stoi(port) : 0;
  return mapToScene(QPointF(0, kBodyTop + i * kPortPitch));
}

std::optional<PortHit> NodeItem::portAt(const QPointF &scenePos) const {
  constexpr double kReach = kPortRadius + 5;
  auto near = [&](QPointF p) { return QLineF(p, scenePos).length() <= kReach; };
  for (int i = 0; i < outputSlots_; ++i)
    if (near(outputPortPos(i)))
      return PortHit{true, PortRef{id_.toStdString(), std::to_string(i)}, outputPortPos(i)};
  for (int i = 0; i < inputSlots_; ++i)
    if (near(inputPortPos(std::to_string(i))))
      return PortHit{false, PortRef{id_.toStdString(), std::to_string(i)}, inputPortPos(std::to_string(i))};
  if (gatePort_ && near(inputPortPos("gate")))
    return PortHit{false, PortRef{id_.toStdString(), "gate"}, inputPortPos("gate")};
  return std::nullopt;
}

QVariant NodeItem::itemChange(GraphicsItemChange change, const QVariant &value) {
  if (change == ItemPositionChange && snapToGrid) {
    const QPointF p = value.toPointF();
    return QPointF(std::round(p.x() / kGrid) * kGrid, std::round(p.y() / kGrid) * kGrid);
  }
  return QGraphicsObject::itemChange(change, value);
}

void NodeItem::mouseReleaseEvent(QGraphicsSceneMouseEvent *event) {
  QGraphicsObject::mouseReleaseEvent(event);
  Q_EMIT moveFinished();
}

} // namespace particle::ui
