#pragma once
// The one look of every chart in the app (Train, Explain and Experiments tabs): the plot factory,
// where a legend goes, the grey text of an empty chart, and one palette for series, classes,
// branches and runs, so that a colour means the same on every tab.

#include <QColor>
#include <QString>

class QCPColorGradient;
class QCustomPlot;
class QWidget;

namespace particle::ui::charts {

// How many points a chart's series hold. Long series (a point per training step) are drawn
// without antialiasing, so that they redraw fast while the GUI thread shares the cores with
// training; everything else is antialiased. Text is antialiased on both.
enum class Series { Short, Long };

// A plot with the common look: the window palette's colours, a dotted grid, an optional bold
// title above the axes, drag and zoom, as many ticks as the axes have room for, and a hidden
// legend in the common font (legendBelow or legendInside show it).
QCustomPlot *makePlot(QWidget *parent, const QString &name, const QString &title = QString(),
                      Series series = Series::Short);

// A plot with the common look and these axis titles, no title above (a group box or a tab says
// what the chart is).
QCustomPlot *makeAxesPlot(QWidget *parent, const QString &name, const QString &x, const QString &y);

// The legend below the axes, in rows of three, never over the data.
void legendBelow(QCustomPlot *plot);
// The legend back inside the axes, hidden: an empty legend below would still claim room.
void legendHidden(QCustomPlot *plot);
// The legend inside the axes at `corner`, over a translucent background.
void legendInside(QCustomPlot *plot, Qt::Alignment corner);
// Grey text in the middle of a chart that has nothing to show yet (an item named "placeholder").
void placeholder(QCustomPlot *plot, const QString &text);
// Removes that text once the chart has data.
void clearPlaceholder(QCustomPlot *plot);
// A tooltip with the coordinates under the cursor.
void showValuesOnHover(QCustomPlot *plot);

// The palette: series, classes, branches and runs take their colours in this order.
QColor seriesColor(int i);
// Colours with one meaning on every tab, taken from that palette.
QColor positiveColor(); // green: accuracy, a push towards the class
QColor negativeColor(); // red: loss, a push away from it, the baseline
QColor neutralColor();  // grey: throughput, the ends of a waterfall
QColor mutedColor();    // light grey: the rest, what is not picked out
QColor markColor();     // orange: an event on a curve, this graph, the quantity asked about
// Colour maps: `shareGradient` starts at white (an empty cell reads as "none", as in a confusion
// matrix); `heatGradient` never reaches white (the largest cell reads as "most", not "missing").
QCPColorGradient shareGradient();
QCPColorGradient heatGradient();

} // namespace particle::ui::charts
