#include "charts/Charts.h"

#include "charts/CustomPlot.h"

#include <QToolTip>

#include <algorithm>
#include <vector>

namespace particle::ui::charts {

namespace {
constexpr int kTitlePoints = 9;
constexpr int kLegendPoints = 8;
constexpr int kLegendColumns = 3;
constexpr int kLegendSideMargin = 4; // legendBelow's sub-layout, each side

// As many legend columns (three at most) as the plot's width holds: three in a narrow chart cut
// the names off ("val lo", "val accur" on the Train tab at 1024×700).
void fitLegendColumns(QCustomPlot *plot) {
  QCPLegend *legend = plot->legend;
  std::vector<int> itemWidths; // in fill order (the grid's cells include empty ones)
  for (int i = 0; i < legend->itemCount(); ++i)
    if (QCPAbstractLegendItem *item = legend->item(i))
      itemWidths.push_back(item->minimumOuterSizeHint().width());
  if (!legend->visible() || itemWidths.empty())
    return;
  const int items = static_cast<int>(itemWidths.size());
  const int room = plot->width() - 2 * kLegendSideMargin - legend->margins().left() - legend->margins().right();
  int columns = std::min(kLegendColumns, items);
  for (; columns > 1; --columns) {
    std::vector<int> widths(static_cast<std::size_t>(columns), 0);
    for (int i = 0; i < items; ++i) {
      int &w = widths[static_cast<std::size_t>(i % columns)];
      w = std::max(w, itemWidths[static_cast<std::size_t>(i)]);
    }
    int total = legend->columnSpacing() * (columns - 1);
    for (int w : widths)
      total += w;
    if (total <= room)
      break;
  }
  // setWrap alone leaves the items where they are: entries added before it (the Train tab's four
  // bands arrive at once) stayed in one row, each cut to "ban". Rearranged whenever the grid has
  // more columns than fit.
  if (legend->wrap() != columns || legend->columnCount() > columns) {
    legend->setWrap(columns);
    legend->setFillOrder(QCPLayoutGrid::foColumnsFirst, true);
  }
}
} // namespace

QCustomPlot *makePlot(QWidget *parent, const QString &name, const QString &title, Series series) {
  auto *plot = new QCustomPlot(parent);
  plot->setObjectName(name);
  plot->setMinimumSize(220, 160);
  const QPalette pal = plot->palette();
  if (!title.isEmpty()) {
    plot->plotLayout()->insertRow(0);
    auto *heading = new QCPTextElement(plot, title, QFont(plot->font().family(), kTitlePoints, QFont::Bold));
    heading->setTextColor(pal.color(QPalette::Text));
    plot->plotLayout()->addElement(0, 0, heading);
  }
  plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  plot->setNoAntialiasingOnDrag(true);
  if (series == Series::Long) {
    plot->setNotAntialiasedElements(QCP::aeAll);
    plot->setAntialiasedElements(QCP::aeAxes | QCP::aeLegend | QCP::aeItems | QCP::aeOther); // text, marks
  }
  plot->setBackground(pal.color(QPalette::Base));
  for (auto *axis : {plot->xAxis, plot->yAxis, plot->yAxis2}) {
    axis->setBasePen(QPen(pal.color(QPalette::Text)));
    axis->setTickPen(QPen(pal.color(QPalette::Text)));
    axis->setSubTickPen(QPen(pal.color(QPalette::Mid)));
    axis->setTickLabelColor(pal.color(QPalette::Text));
    axis->setLabelColor(pal.color(QPalette::Text));
    axis->grid()->setPen(QPen(pal.color(QPalette::Midlight), 0, Qt::DotLine));
  }
  plot->legend->setVisible(false);
  plot->legend->setFont(QFont(plot->font().family(), kLegendPoints));
  plot->legend->setTextColor(pal.color(QPalette::Text));
  plot->legend->setIconSize(20, 10);
  plot->legend->setBorderPen(Qt::NoPen);
  // As many ticks as the axes have room for: a narrow chart (1024×700) keeps its labels apart. The
  // ticks of a replot are placed before its layout, so a chart whose size changed is drawn once
  // more with the counts that fit — once per size, as the new labels may move the axes again.
  QObject::connect(plot, &QCustomPlot::afterLayout, plot, [plot] {
    const QRect r = plot->axisRect()->rect();
    const int across = std::clamp(r.width() / 60, 2, 6), up = std::clamp(r.height() / 35, 2, 6);
    if (plot->xAxis->ticker()->tickCount() == across && plot->yAxis->ticker()->tickCount() == up &&
        plot->yAxis2->ticker()->tickCount() == up)
      return;
    plot->xAxis->ticker()->setTickCount(across);
    for (auto *axis : {plot->yAxis, plot->yAxis2})
      axis->ticker()->setTickCount(up);
    const QSize size = plot->viewport().size();
    if (plot->property("tickedSize").toSize() != size) {
      plot->setProperty("tickedSize", size);
      plot->replot(QCustomPlot::rpQueuedReplot);
    }
  });
  return plot;
}

QCustomPlot *makeAxesPlot(QWidget *parent, const QString &name, const QString &x, const QString &y) {
  QCustomPlot *plot = makePlot(parent, name);
  plot->xAxis->setLabel(x);
  plot->yAxis->setLabel(y);
  return plot;
}

void legendBelow(QCustomPlot *plot) {
  plot->legend->setVisible(true);
  plot->legend->setWrap(kLegendColumns);
  plot->legend->setFillOrder(QCPLayoutGrid::foColumnsFirst, true); // after the wrap: rearranges by it
  plot->legend->setBrush(Qt::NoBrush);
  auto *sub = new QCPLayoutGrid;
  const int row = plot->plotLayout()->rowCount();
  plot->plotLayout()->addElement(row, 0, sub);
  plot->axisRect()->insetLayout()->take(plot->legend);
  sub->addElement(0, 0, plot->legend);
  sub->setMargins(QMargins(kLegendSideMargin, 0, kLegendSideMargin, 2));
  plot->plotLayout()->setRowStretchFactor(row, 0.001);
  // Before every layout (a resize replots), once per plot: legendBelow may be called again.
  if (!plot->property("legendFits").toBool()) {
    plot->setProperty("legendFits", true);
    QObject::connect(plot, &QCustomPlot::beforeReplot, plot, [plot] {
      if (plot->legend->layout() != plot->axisRect()->insetLayout()) // not legendHidden's
        fitLegendColumns(plot);
    });
  }
}

void legendHidden(QCustomPlot *plot) {
  const int last = plot->plotLayout()->rowCount() - 1;
  if (auto *sub = qobject_cast<QCPLayoutGrid *>(plot->plotLayout()->element(last, 0));
      sub && sub->elementCount() > 0 && sub->elementAt(0) == plot->legend) {
    sub->take(plot->legend);
    plot->plotLayout()->remove(sub);
    plot->plotLayout()->simplify();
    plot->axisRect()->insetLayout()->addElement(plot->legend, Qt::AlignRight | Qt::AlignTop);
  }
  plot->legend->setVisible(false);
}

void legendInside(QCustomPlot *plot, Qt::Alignment corner) {
  QColor back = plot->palette().color(QPalette::Base);
  back.setAlpha(210);
  plot->legend->setBrush(back);
  plot->axisRect()->insetLayout()->setInsetAlignment(0, corner);
}

namespace {
// `text` broken at spaces into lines no wider than `width` pixels (a word wider than that keeps
// its own line).
QString wrapped(const QString &text, const QFontMetrics &metrics, int width) {
  QStringList lines;
  QString line;
  for (const QString &word : text.split(' ', Qt::SkipEmptyParts)) {
    const QString longer = line.isEmpty() ? word : line + ' ' + word;
    if (!line.isEmpty() && metrics.horizontalAdvance(longer) > width) {
      lines << line;
      line = word;
    } else {
      line = longer;
    }
  }
  if (!line.isEmpty())
    lines << line;
  return lines.join('\n');
}

// The placeholders' lines fit the axis rect they sit in ("after the first epoch" was cut to
// "ter the first epoc" in the Train tab's narrow charts at 1024×700): rewrapped at each layout.
void wrapPlaceholders(QCustomPlot *plot) {
  const int width = plot->axisRect() ? plot->axisRect()->width() - 8 : 0;
  for (int i = 0; i < plot->itemCount(); ++i)
    if (auto *item = qobject_cast<QCPItemText *>(plot->item(i)); item && item->objectName() == "placeholder") {
      const QString full = item->property("fullText").toString();
      const QString text = width > 0 ? wrapped(full, QFontMetrics(item->font()), width) : full;
      if (text != item->text())
        item->setText(text);
    }
}
} // namespace

void placeholder(QCustomPlot *plot, const QString &text) {
  auto *item = new QCPItemText(plot);
  item->setObjectName("placeholder");
  item->position->setType(QCPItemPosition::ptAxisRectRatio);
  item->position->setCoords(0.5, 0.5);
  item->setTextAlignment(Qt::AlignCenter);
  item->setProperty("fullText", text);
  item->setText(text);
  item->setColor(plot->palette().color(QPalette::PlaceholderText));
  item->setClipToAxisRect(true);
  if (!plot->property("wrapsPlaceholders").toBool()) {
    plot->setProperty("wrapsPlaceholders", true);
    QObject::connect(plot, &QCustomPlot::afterLayout, plot, [plot] { wrapPlaceholders(plot); });
  }
  wrapPlaceholders(plot);
}

void clearPlaceholder(QCustomPlot *plot) {
  for (int i = plot->itemCount() - 1; i >= 0; --i)
    if (plot->item(i)->objectName() == "placeholder")
      plot->removeItem(i);
}

void showValuesOnHover(QCustomPlot *plot) {
  QObject::connect(plot, &QCustomPlot::mouseMove, plot, [plot](QMouseEvent *e) {
    const double x = plot->xAxis->pixelToCoord(e->position().x());
    const double y = plot->yAxis->pixelToCoord(e->position().y());
    QToolTip::showText(e->globalPosition().toPoint(), QString("x %1\ny %2").arg(x, 0, 'g', 5).arg(y, 0, 'g', 4), plot);
  });
}

// Matplotlib's tab10, less cyan and olive: distinct in print and for most colour-blind readers.
QColor seriesColor(int i) {
  static const QColor colors[] = {QColor(0x1f, 0x77, 0xb4), QColor(0xff, 0x7f, 0x0e), QColor(0x2c, 0xa0, 0x2c),
                                  QColor(0xd6, 0x27, 0x28), QColor(0x94, 0x67, 0xbd), QColor(0x8c, 0x56, 0x4b),
                                  QColor(0xe3, 0x77, 0xc2), QColor(0x7f, 0x7f, 0x7f)};
  return colors[i % 8];
}

QColor positiveColor() {
  return seriesColor(2);
}
QColor negativeColor() {
  return seriesColor(3);
}
QColor neutralColor() {
  return seriesColor(7);
}
QColor mutedColor() {
  return QColor(0x9e, 0x9e, 0x9e);
}
QColor markColor() {
  return QColor(0xd0, 0x7a, 0x1f);
}

QCPColorGradient shareGradient() {
  QCPColorGradient g;
  g.setColorStopAt(0, QColor(0xf7, 0xfb, 0xff));
  g.setColorStopAt(0.5, QColor(0x6b, 0xae, 0xd6));
  g.setColorStopAt(1, QColor(0x08, 0x30, 0x6b));
  return g;
}

// Dark purple → blue → teal → yellow (viridis).
QCPColorGradient heatGradient() {
  QCPColorGradient g;
  g.setColorStopAt(0.0, QColor(0x44, 0x01, 0x54));
  g.setColorStopAt(0.25, QColor(0x3b, 0x52, 0x8b));
  g.setColorStopAt(0.5, QColor(0x21, 0x90, 0x8d));
  g.setColorStopAt(0.75, QColor(0x5d, 0xc9, 0x63));
  g.setColorStopAt(1.0, QColor(0xfd, 0xe7, 0x25));
  return g;
}

} // namespace particle::ui::charts
