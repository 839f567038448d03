// The claims lab, driven through input events: claims and a learning curve written by the engine's
// own writers (claimsJson, curveJson) are opened with "Open results…" and shown as a table of
// intervals and coloured verdicts and as curves with error bars; every legend of the lab stays in
// its plot, clear of every point and error bar, in a 1024×700 and a 1600×1000 window; Measure
// claims and Learning curve run the real commands from the buttons and show what they wrote;
// Measure robustness on three variants picked in a search's table draws them all; a learning
// curve is drawn as its runs finish, a placeholder before the first.

#include "GuiDriver.h"
#include "MainWindow.h"
#include "TestSupport.h"
#include "charts/Charts.h"
#include "charts/CustomPlot.h"
#include "document/GraphDocument.h"
#include "experiments/ClaimsLab.h"
#include "experiments/ExperimentsPanel.h"
#include "recipes/Claims.h"
#include "recipes/LearningCurve.h"

#include <QDir>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QStandardPaths>
#include <QTabBar>
#include <QTableWidget>
#include <QUndoStack>
#include <QtTest>

using namespace particle;
using namespace particle::ui;
using namespace particle::test;

namespace {

void clickTab(QTabWidget *tabs, const QString &text) {
  for (int i = 0; i < tabs->count(); ++i)
    if (tabs->tabText(i) == text)
      QTest::mouseClick(tabs->tabBar(), Qt::LeftButton, {}, tabs->tabBar()->tabRect(i).center());
}

// The graph clearly more accurate but over-fitting more, the noise claim a tie, no parts to occlude
// and sharing exact: each verdict at least once, by the engine's own rules.
ClaimsResult constructedClaims() {
  ClaimFigures graph, baseline;
  graph.test = {0.83, 0.85, 0.84};
  baseline.test = {0.80, 0.81, 0.79};
  graph.gap = {0.10, 0.12, 0.11};
  baseline.gap = {0.02, 0.03, 0.01};
  graph.noiseDrop = {0.10, 0.14, 0.09};
  baseline.noiseDrop = {0.12, 0.08, 0.13};
  graph.occlusionApplies = baseline.occlusionApplies = false;
  graph.uniqueParameters = 1200;
  graph.totalParameters = 1800;
  baseline.uniqueParameters = 2400;
  baseline.totalParameters = 2400;
  ClaimsResult r;
  r.project = "t";
  r.baseline = "monolithic-w1";
  r.seeds = 3;
  r.epochs = 4;
  r.claims = evaluateClaims(graph, baseline);
  return r;
}

// Three models over four sizes; the graph's curve runs along the top of the plot and the
// baseline's along the bottom, where a legend inside the axes would lie over them.
CurveResult constructedCurve() {
  CurveResult r;
  r.project = "t";
  r.sizes = {50, 100, 200, 400};
  r.seeds = 3;
  r.epochs = 2;
  const auto model = [&](const std::string &name, const std::string &role, double base, double slope) {
    CurveModel m;
    m.name = name;
    m.role = role;
    for (std::size_t k = 0; k < r.sizes.size(); ++k) {
      CurvePoint p;
      p.size = r.sizes[k];
      for (int seed = 0; seed < 3; ++seed) {
        CurveRun run;
        run.seed = seed;
        run.status = "completed";
        run.testAccuracy = base + slope * static_cast<double>(k) + 0.01 * seed;
        run.valAccuracy = run.testAccuracy;
        run.trainAccuracy = std::min(1.0, run.testAccuracy + 0.2 - 0.04 * static_cast<double>(k));
        p.runs.push_back(run);
      }
      m.points.push_back(p);
    }
    r.models.push_back(m);
  };
  model("t", "graph", 0.95, 0.01);
  model("monolithic-w1", "baseline", 0.30, 0.0);
  model("per-part-w2", "pareto", 0.5, 0.1);
  r.summarise();
  return r;
}

// Every point a plot draws, and both ends of every error bar, in the plot's pixels.
QVector<QPointF> drawnPoints(QCustomPlot *plot) {
  QVector<QPointF> points;
  for (int i = 0; i < plot->plottableCount(); ++i) {
    if (auto *g = qobject_cast<QCPGraph *>(plot->plottable(i))) {
      for (auto it = g->data()->constBegin(); it != g->data()->constEnd(); ++it)
        points << QPointF(plot->xAxis->coordToPixel(it->key), plot->yAxis->coordToPixel(it->value));
    } else if (auto *bars = qobject_cast<QCPErrorBars *>(plot->plottable(i))) {
      auto *g = qobject_cast<QCPGraph *>(bars->dataPlottable());
      if (!g)
        continue;
      for (int k = 0; k < bars->dataCount(); ++k) {
        const double key = g->interface1D()->dataMainKey(k), value = g->interface1D()->dataMainValue(k);
        const QCPErrorBarsData e = bars->data()->at(k);
        for (double v : {value - e.errorMinus, value + e.errorPlus})
          points << QPointF(plot->xAxis->coordToPixel(key), plot->yAxis->coordToPixel(v));
      }
    }
  }
  return points;
}

// The grey text of a plot with nothing to show (charts::placeholder).
bool hasPlaceholder(QCustomPlot *plot) {
  for (int i = 0; i < plot->itemCount(); ++i)
    if (plot->item(i)->objectName() == "placeholder")
      return true;
  return false;
}

int pointsOf(QCustomPlot *plot) {
  int n = 0;
  for (int i = 0; i < plot->graphCount(); ++i)
    n += plot->graph(i)->dataCount();
  return n;
}

// The legend shows every named curve, lies whole inside the plot and covers no point drawn.
QString legendProblem(QCustomPlot *plot) {
  const QString name = plot->objectName();
  int named = 0;
  for (int i = 0; i < plot->graphCount(); ++i)
    named += !plot->graph(i)->name().isEmpty();
  if (named == 0)
    return name + ": nothing drawn";
  // The legend's grid counts empty cells as items (item() is null there): count its entries.
  QList<QCPAbstractLegendItem *> entries;
  for (int i = 0; i < plot->legend->itemCount(); ++i)
    if (QCPAbstractLegendItem *item = plot->legend->item(i))
      entries << item;
  if (!plot->legend->visible() || entries.size() != named)
    return QString("%1: the legend shows %2 of %3 curves")
        .arg(name)
        .arg(plot->legend->visible() ? entries.size() : 0)
        .arg(named);
  const QRect legend = plot->legend->outerRect();
  if (!plot->rect().contains(legend))
    return QString("%1: the legend (%2,%3 %4×%5) is not inside the plot (%6×%7)")
        .arg(name)
        .arg(legend.x())
        .arg(legend.y())
        .arg(legend.width())
        .arg(legend.height())
        .arg(plot->width())
        .arg(plot->height());
  // Not cut off by the page either: the window shows the whole legend.
  if (!plot->visibleRegion().boundingRect().contains(legend))
    return QString("%1: the legend is cut off, the window shows %2 of the plot's %3 px height")
        .arg(name)
        .arg(plot->visibleRegion().boundingRect().height())
        .arg(plot->height());
  for (int i = 0; i < entries.size(); ++i)
    if (!legend.contains(entries[i]->outerRect()))
      return QString("%1: legend entry %2 is cut off").arg(name).arg(i);
  const QVector<QPointF> points = drawnPoints(plot);
  for (const QPointF &p : points) {
    if (legend.contains(p.toPoint()))
      return QString("%1: the point at (%2, %3) lies under the legend (%4,%5 %6×%7)")
          .arg(name)
          .arg(p.x())
          .arg(p.y())
          .arg(legend.x())
          .arg(legend.y())
          .arg(legend.width())
          .arg(legend.height());
    if (!plot->axisRect()->rect().adjusted(-1, -1, 1, 1).contains(p.toPoint()))
      return QString("%1: the point at (%2, %3) lies outside the axes").arg(name).arg(p.x()).arg(p.y());
  }
  return {};
}

} // namespace

class TestClaimsLab : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    qputenv("PARTICLE_CLI", PARTICLE_CLI);
  }
  void init() {
    runs_ = std::make_unique<QTemporaryDir>();
    window_ = new MainWindow;
    window_->experimentsPanel()->setRunsFolder(runs_->path());
    window_->resize(1400, 900);
    window_->show();
    QVERIFY(QTest::qWaitForWindowExposed(window_));
    clickTab(window_->tabs(), "Experiments");
    QTRY_VERIFY(lab()->isVisible());
  }
  void cleanup() {
    window_->undoStack()->setClean();
    delete window_;
    window_ = nullptr;
  }

  // claims.json as the engine writes it: one row per claim with both sides' mean ± sd, the
  // difference with its interval and the verdict, coloured, the sentence as the tooltip.
  void claimsTableShowsIntervalsAndVerdicts() {
    const ClaimsResult r = constructedClaims();
    QVERIFY(QDir(runs_->path()).mkpath("claims"));
    writeFileAtomically((runs_->path() + "/claims/claims.json").toStdString(), claimsJson(r).dump(2));
    openResults(runs_->path() + "/claims");
    QTableWidget *table = lab()->claimsTable();
    QTRY_COMPARE(table->rowCount(), static_cast<int>(r.claims.size()));
    QVERIFY(table->isVisible()); // the lab shows what it opened
    const auto row = [&](const QString &id) {
      for (int i = 0; i < table->rowCount(); ++i)
        if (table->item(i, 0)->data(Qt::UserRole).toString() == id)
          return i;
      return -1;
    };
    const int accuracy = row("accuracy");
    QVERIFY(accuracy >= 0);
    const Claim &claim =
        *std::find_if(r.claims.begin(), r.claims.end(), [](const Claim &c) { return c.id == "accuracy"; });
    QCOMPARE(table->item(accuracy, 0)->text(), QString::fromStdString(claim.claim));
    QCOMPARE(table->item(accuracy, 1)->text(), QString("84.0 ± 1.0 %"));
    QCOMPARE(table->item(accuracy, 2)->text(), QString("80.0 ± 1.0 %"));
    const Comparison &k = claim.comparison;
    QCOMPARE(table->item(accuracy, 3)->text(),
             QString("+4.0 pts [+%1, +%2] · graph better").arg(100 * k.low, 0, 'f', 1).arg(100 * k.high, 0, 'f', 1));
    QCOMPARE(table->item(accuracy, 4)->text(), QString("holds"));
    QCOMPARE(table->item(accuracy, 4)->toolTip(), QString::fromStdString(claim.sentence));
    // Each verdict its own colour; the same verdict the same colour.
    QMap<QString, QColor> colours;
    for (int i = 0; i < table->rowCount(); ++i) {
      const QString verdict = table->item(i, 4)->text();
      const QColor colour = table->item(i, 4)->background().color();
      QVERIFY2(colour.alpha() > 0, qPrintable(verdict));
      if (colours.contains(verdict))
        QCOMPARE(colours[verdict], colour);
      colours[verdict] = colour;
    }
    QCOMPARE(QSet<QString>(colours.keyBegin(), colours.keyEnd()),
             QSet<QString>({"holds", "does not hold", "within noise", "not applicable"}));
    QList<QRgb> distinct;
    for (const QColor &c : colours)
      if (!distinct.contains(c.rgba()))
        distinct << c.rgba();
    QCOMPARE(distinct.size(), 4);
    QCOMPARE(table->item(row("overfitting"), 4)->text(), QString("does not hold"));
    QCOMPARE(table->item(row("noise"), 4)->text(), QString("within noise"));
    QCOMPARE(table->item(row("occlusion"), 4)->text(), QString("not applicable"));
    QCOMPARE(table->item(row("occlusion"), 3)->text(), QString("–"));
    // Parameters are counted: whole numbers, an exact difference.
    QCOMPARE(table->item(row("sharing"), 1)->text(), QLocale().toString(1200));
    QCOMPARE(table->item(row("sharing"), 3)->text(), "−" + QLocale().toString(1200) + " · graph better");
    QCOMPARE(table->item(row("sharing"), 4)->text(), QString("holds"));
    QVERIFY2(lab()->statusLabel()->text().contains("Claims of t against monolithic-w1, 4 epoch(s), 3 seed(s) each"),
             qPrintable(lab()->statusLabel()->text()));
    // A folder of neither kind is refused with a message; the claims stay.
    openResults(runs_->path());
    QTRY_VERIFY2(lab()->statusLabel()->text().contains("holds neither claims.json nor curve.json"),
                 qPrintable(lab()->statusLabel()->text()));
    QCOMPARE(table->rowCount(), static_cast<int>(r.claims.size()));
  }

  // One seed: a 30-point lead is no verdict either way, and the column says so rather than
  // "within noise"; the difference says which side it favours, whichever way the measure runs
  // (a larger occlusion drop is worse for the graph).
  void oneSeedSaysItCannotTellAndWhichWay() {
    ClaimFigures graph, baseline;
    graph.test = {0.779};
    baseline.test = {0.471};
    graph.gap = {-0.005};
    baseline.gap = {0.063};
    graph.noiseDrop = {0.021};
    baseline.noiseDrop = {-0.017};
    graph.occlusionDrop = {0.504};
    baseline.occlusionDrop = {0.179};
    graph.uniqueParameters = 42506;
    graph.totalParameters = 112394;
    baseline.uniqueParameters = baseline.totalParameters = 28106;
    ClaimsResult r;
    r.project = "t";
    r.baseline = "monolithic-w1";
    r.seeds = 1;
    r.epochs = 4;
    r.claims = evaluateClaims(graph, baseline);
    QVERIFY(QDir(runs_->path()).mkpath("one"));
    writeFileAtomically((runs_->path() + "/one/claims.json").toStdString(), claimsJson(r).dump(2));
    openResults(runs_->path() + "/one");
    QTableWidget *table = lab()->claimsTable();
    QTRY_COMPARE(table->rowCount(), 5);
    const auto cells = [&](const QString &id) {
      for (int i = 0; i < table->rowCount(); ++i)
        if (table->item(i, 0)->data(Qt::UserRole).toString() == id)
          return std::make_pair(table->item(i, 3)->text(), table->item(i, 4)->text());
      return std::make_pair(QString(), QString());
    };
    for (const char *id : {"accuracy", "overfitting", "noise", "occlusion"})
      QCOMPARE(cells(id).second, QString("cannot tell with one seed"));
    QCOMPARE(cells("accuracy").first, QString("+30.8 pts · graph better"));
    QCOMPARE(cells("overfitting").first, QString("−6.8 pts · graph better"));
    QCOMPARE(cells("noise").first, QString("+3.8 pts · graph worse"));
    QCOMPARE(cells("occlusion").first, QString("+32.5 pts · graph worse"));
    QCOMPARE(cells("sharing").first, "+" + QLocale().toString(14400) + " · graph worse");
    QCOMPARE(cells("sharing").second, QString("does not hold"));
  }

  // curve.json: test accuracy and the gap against N with their error bars, per model; the
  // verdict per size under the plots, the sentences as its tooltip.
  void learningCurveDrawnWithVerdicts() {
    const CurveResult r = constructedCurve();
    QVERIFY(QDir(runs_->path()).mkpath("curve"));
    writeFileAtomically((runs_->path() + "/curve/curve.json").toStdString(), curveJson(r).dump(2));
    openResults(runs_->path() + "/curve");
    QCustomPlot *plot = lab()->curvePlot();
    QTRY_COMPARE(plot->graphCount(), 3);
    QVERIFY(plot->isVisible());
    QCOMPARE(plot->xAxis->scaleType(), QCPAxis::stLogarithmic);
    QTRY_COMPARE(plot->xAxis->tickVectorLabels(), QVector<QString>({"50", "100", "200", "400"})); // at the sizes
    QCOMPARE(plot->graph(0)->name(), QString("this graph"));
    QCOMPARE(plot->graph(1)->name(), QString("monolithic baseline"));
    QCOMPARE(plot->graph(2)->name(), QString("per-part-w2"));
    for (int i = 0; i < 3; ++i)
      QCOMPARE(plot->graph(i)->dataCount(), 4);
    const auto first = plot->graph(0)->data()->constBegin();
    QCOMPARE(first->key, 50.0);
    QCOMPARE(first->value, 100 * r.models[0].points[0].test.mean);
    QCOMPARE(plot->plottableCount(), 6); // each curve with its error bars
    QCOMPARE(lab()->curveGapPlot()->graphCount(), 3);
    QCOMPARE(lab()->curveGapPlot()->graph(0)->data()->constBegin()->value, 100 * r.models[0].points[0].gap.mean);
    const QString verdicts = lab()->curveVerdicts()->text();
    for (const CurveComparison &c : r.comparisons)
      QVERIFY2(verdicts.contains(QString("N=%1 %2").arg(c.size).arg(QString::fromStdString(c.comparison.verdict))),
               qPrintable(verdicts));
    QVERIFY(lab()->curveVerdicts()->toolTip().contains(QString::fromStdString(r.comparisons[0].comparison.sentence)));
  }

  // Item 6: in a 1024×700 and a 1600×1000 window every claims-lab plot keeps its legend whole,
  // inside the plot, and no point or error bar lies under it; at 1600×1000, as the page first
  // splits, the plots have at least 140 pixels of axes.
  void legendsStayClearOfTheCurvesAtEverySize() {
    // The search variants' plots: a search from the command line, its robustness as the lab
    // writes it, with curves along the top and the bottom of the plots.
    QTemporaryDir dir;
    Json doc = baseProject();
    const QString p = QString::fromStdString(writeFile(dir, "p.particle.json", doc.dump(2)));
    const ProcessRun run = runProcess(PARTICLE_CLI, {"search", p, "--budget", "3trials", "--out", dir.filePath("s")});
    QVERIFY2(run.code == 0, qPrintable(run.all()));
    const QStringList variants = {"own", "monolithic-w1", "a-long-variant-name-per-column-w2-sum-none",
                                  "another-long-variant-name-w4-attention-shared"};
    for (int v = 0; v < variants.size(); ++v) {
      const double level = v % 2 == 0 ? 1.0 - 0.01 * v : 0.2 + 0.01 * v;
      Json noise = Json::array(), gap = Json::array();
      for (double sigma : {0.0, 0.1, 0.25, 0.5, 1.0})
        noise.push_back({{"sigma", sigma}, {"accuracy", level}});
      for (int epoch = 1; epoch <= 6; ++epoch)
        gap.push_back({{"epoch", epoch}, {"gap", v % 2 == 0 ? 0.3 : -0.3}});
      const Json r = {{"clean_accuracy", level},
                      {"noise", noise},
                      {"occlusion", Json::array({{{"part", "0"}, {"accuracy", level}, {"drop", 0.0}}})},
                      {"parameters", {{"unique", 100}, {"total", 100}}},
                      {"generalisation_gap", gap}};
      const QString folder = dir.filePath("s/claims/" + variants[v]);
      QVERIFY(QDir().mkpath(folder));
      writeFileAtomically((folder + "/robustness.json").toStdString(), r.dump(2));
    }
    auto opened = answerFileDialog(dir.filePath("s"));
    QTest::mouseClick(window_->experimentsPanel()->openButton(), Qt::LeftButton);
    QVERIFY(*opened);
    QTRY_COMPARE(lab()->noisePlot()->graphCount(), variants.size());
    // The learning curve's plots.
    QVERIFY(QDir(runs_->path()).mkpath("curve"));
    writeFileAtomically((runs_->path() + "/curve/curve.json").toStdString(), curveJson(constructedCurve()).dump(2));
    openResults(runs_->path() + "/curve");
    QTRY_COMPARE(lab()->curvePlot()->graphCount(), 3);

    QStringList problems;
    for (const QSize size : {QSize(1600, 1000), QSize(1024, 700), QSize(1600, 1000)}) {
      window_->resize(size);
      QTRY_COMPARE(window_->size(), size);
      showLabs(); // a short window starts them folded
      for (const auto &[view, plots] :
           {std::pair<QString, QList<QCustomPlot *>>{"Learning curve", {lab()->curvePlot(), lab()->curveGapPlot()}},
            {"Search variants", {lab()->noisePlot(), lab()->gapPlot()}}}) {
        clickTab(lab()->views(), view);
        QTRY_VERIFY(plots.front()->isVisible());
        QTest::qWait(300); // the layout settles, the queued replots land
        for (QCustomPlot *plot : plots) {
          const QString problem = legendProblem(plot);
          if (!problem.isEmpty())
            problems << QString("%1×%2, %3").arg(size.width()).arg(size.height()).arg(problem);
          // At 1600×1000 the curves have room to be read (they had about 100 pixels of axes).
          if (size.height() >= 1000 && plot->axisRect()->height() < 140)
            problems << QString("%1×%2, %3: the axes are only %4 px high")
                            .arg(size.width())
                            .arg(size.height())
                            .arg(plot->objectName())
                            .arg(plot->axisRect()->height());
          if (plot->axisRect()->height() < 40)
            problems << QString("%1×%2, %3: the axes are %4 px high")
                            .arg(size.width())
                            .arg(size.height())
                            .arg(plot->objectName())
                            .arg(plot->axisRect()->height());
        }
      }
    }
    QVERIFY2(problems.isEmpty(), qPrintable(problems.join("\n")));
  }

  // The fresh-eyes trial's crash: a search opened, three of its variants selected in the table and
  // Measure robustness pressed in a window 1024 pixels wide. Three long names take two legend
  // columns there, which leaves the legend's grid an empty cell; the lab read that cell as an entry
  // and the app died when the results came back. Now every variant is drawn and named in both legends.
  void measureRobustnessOfThreeSelectedVariants() {
    window_->resize(1024, 860);
    QTRY_COMPARE(window_->size(), QSize(1024, 860));
    QTemporaryDir dir;
    const QString p = QString::fromStdString(writeFile(dir, "p.particle.json", baseProject().dump(2)));
    const ProcessRun run = runProcess(PARTICLE_CLI, {"search", p, "--budget", "8trials", "--out", dir.filePath("s")});
    QVERIFY2(run.code == 0, qPrintable(run.all()));
    auto opened = answerFileDialog(dir.filePath("s"));
    QTest::mouseClick(window_->experimentsPanel()->openButton(), Qt::LeftButton);
    QVERIFY(*opened);
    QTableWidget *table = window_->experimentsPanel()->table();
    QTRY_VERIFY(table->rowCount() >= 3);
    showLabs();
    // The three variants with a checkpoint and the longest names, their rows Ctrl+clicked.
    QMap<QString, int> rowOf;
    for (int row = 0; row < table->rowCount(); ++row) {
      const QString name = table->item(row, 0)->data(Qt::UserRole).toString();
      if (!rowOf.contains(name) && QFile::exists(dir.filePath("s/trials/" + name + "/checkpoint.pt")))
        rowOf[name] = row;
    }
    QStringList picked = rowOf.keys();
    std::sort(picked.begin(), picked.end(), [](const QString &a, const QString &b) { return a.size() > b.size(); });
    QVERIFY2(picked.size() >= 3, qPrintable(picked.join(", ")));
    picked = picked.mid(0, 3);
    for (const QString &name : picked) {
      QTableWidgetItem *item = table->item(rowOf[name], 0);
      table->scrollToItem(item);
      QTest::mouseClick(table->viewport(), Qt::LeftButton,
                        name == picked.front() ? Qt::NoModifier : Qt::ControlModifier,
                        table->visualItemRect(item).center());
    }
    QCOMPARE(table->selectionModel()->selectedRows().size(), 3);
    // Nothing measured yet: the plots say how to fill them.
    clickTab(lab()->views(), "Search variants");
    QVERIFY(hasPlaceholder(lab()->noisePlot()) && hasPlaceholder(lab()->gapPlot()));
    QSignalSpy finished(lab(), &ClaimsLab::finished);
    QVERIFY(lab()->button()->isEnabled());
    QTest::mouseClick(lab()->button(), Qt::LeftButton);
    QVERIFY(finished.wait(300000));
    QTRY_COMPARE(lab()->noisePlot()->graphCount(), 3);
    QVERIFY(lab()->noisePlot()->isVisible());
    QTest::qWait(300); // the queued replots land
    for (QCustomPlot *plot : {lab()->noisePlot(), lab()->gapPlot()}) {
      QStringList names;
      for (int i = 0; i < plot->graphCount(); ++i)
        names << plot->graph(i)->name();
      QCOMPARE(QSet<QString>(names.begin(), names.end()), QSet<QString>(picked.begin(), picked.end()));
      // What crashed: two columns for three entries, one cell of the legend's grid empty.
      QCOMPARE(plot->legend->wrap(), 2);
      QVERIFY(!hasPlaceholder(plot));
      QVERIFY2(legendProblem(plot).isEmpty(), qPrintable(legendProblem(plot)));
    }
    const QString lines = lab()->findChild<QLabel *>("claimsLabel")->text();
    for (const QString &name : picked)
      QVERIFY2(lines.contains("<b>" + name + "</b>: clean"), qPrintable(lines));
  }

  // The training split's size suggests the curve's sizes; the real commands run from the buttons
  // (two seeds, one epoch), show their progress, and the lab shows what they wrote.
  void measureClaimsAndCurveFromTheButtons() {
    Json doc = baseProject();
    doc["dataset"]["samples"] = 300;
    window_->document()->reset(projectFromJson(doc, "t.json"));
    const DataInfo *data = window_->document()->dataInfo();
    QVERIFY(data);
    QTRY_COMPARE(lab()->sizesEdit()->text(),
                 QString("%1,%2,%3").arg(data->trainCount / 4).arg(data->trainCount / 2).arg(data->trainCount));
    typeInto(lab()->seedsSpin(), "2");
    QCOMPARE(lab()->seedsSpin()->value(), 2);

    QSignalSpy finished(lab(), &ClaimsLab::experimentFinished);
    QTest::mouseClick(lab()->claimsButton(), Qt::LeftButton);
    QVERIFY(lab()->measuring());
    QVERIFY(lab()->stopButton()->isEnabled() && !lab()->curveButton()->isEnabled() &&
            !lab()->openButton()->isEnabled());
    // From the start, what runs and for how long (two seeds: four trainings, four measurements),
    // the time ticking before the first training ends.
    QTRY_VERIFY_WITH_TIMEOUT(lab()->statusLabel()->text().contains("trial 1 of 8 running · 0:0"), 3000);
    QTRY_VERIFY_WITH_TIMEOUT(lab()->statusLabel()->text().contains(QRegularExpression("running · 0:0[2-9]")), 5000);
    QTRY_VERIFY_WITH_TIMEOUT(lab()->statusLabel()->text().contains(QRegularExpression("trial \\d+ of \\d+")), 120000);
    QVERIFY(finished.wait(300000));
    QVERIFY2(finished.at(0).at(0).toBool(), qPrintable(lab()->statusLabel()->text()));
    QCOMPARE(lab()->claimsTable()->rowCount(), 5);
    const ClaimsResult claims = readClaimsFile((lab()->resultsFolder() + "/claims.json").toStdString());
    QCOMPARE(claims.seeds, 2);
    QCOMPARE(QFileInfo(lab()->resultsFolder()).canonicalPath(), QFileInfo(runs_->path()).canonicalFilePath());
    for (int i = 0; i < 5; ++i)
      QCOMPARE(lab()->claimsTable()->item(i, 4)->text(), QString::fromStdString(claimVerdictText(claims.claims[i])));

    typeInto(lab()->sizesEdit(), "40,80");
    QTest::mouseClick(lab()->curveButton(), Qt::LeftButton);
    QVERIFY(lab()->measuring());
    // Before the first run ends a placeholder says what is coming, no bare axes; then the points
    // are drawn as the runs finish, long before the last.
    QVERIFY(lab()->curvePlot()->isVisible());
    QVERIFY(hasPlaceholder(lab()->curvePlot()) && hasPlaceholder(lab()->curveGapPlot()));
    QVERIFY(!lab()->curvePlot()->xAxis->tickLabels());
    QTRY_VERIFY_WITH_TIMEOUT(pointsOf(lab()->curvePlot()) > 0 || !lab()->measuring(), 300000);
    QVERIFY2(lab()->measuring(), "the curve's first point was drawn only when the curve had finished");
    QVERIFY(!hasPlaceholder(lab()->curvePlot()) && lab()->curvePlot()->xAxis->tickLabels());
    QVERIFY(pointsOf(lab()->curveGapPlot()) > 0);
    QVERIFY(finished.wait(300000));
    QVERIFY2(finished.at(1).at(0).toBool(), qPrintable(lab()->statusLabel()->text()));
    QVERIFY(lab()->curvePlot()->isVisible());
    QCOMPARE(lab()->curvePlot()->graphCount(), 2); // this graph and the baseline (no search shown)
    QCOMPARE(lab()->curvePlot()->graph(0)->dataCount(), 2);
    QVERIFY2(lab()->curveVerdicts()->text().contains("N=40") && lab()->curveVerdicts()->text().contains("N=80"),
             qPrintable(lab()->curveVerdicts()->text()));
    const CurveResult curve = readCurveFile((lab()->resultsFolder() + "/curve.json").toStdString());
    QCOMPARE(curve.sizes, (std::vector<int64_t>{40, 80}));
    QCOMPARE(curve.seeds, 2);
    QVERIFY(!lab()->measuring() && lab()->claimsButton()->isEnabled() && lab()->openButton()->isEnabled());
  }

private:
  ClaimsLab *lab() const { return window_->experimentsPanel()->claimsLab(); }
  // The labs folded below the search (a short window starts them so) are dragged up by their handle.
  void showLabs() {
    auto *page = window_->experimentsPanel()->findChild<QSplitter *>("searchAndLabs");
    QVERIFY(page);
    QTest::qWait(100);
    if (page->sizes().at(1) >= page->height() / 3)
      return;
    QWidget *handle = page->handle(1);
    const QPoint grip = handle->rect().center();
    const int up = page->height() / 2 - page->sizes().at(1);
    QTest::mousePress(handle, Qt::LeftButton, {}, grip);
    for (int dy = 20; dy < up; dy += 20)
      QTest::mouseMove(handle, grip - QPoint(0, dy));
    QTest::mouseRelease(handle, Qt::LeftButton, {}, grip - QPoint(0, up));
    QTRY_VERIFY(page->sizes().at(1) >= page->height() / 3);
  }
  void openResults(const QString &folder) {
    auto answered = answerFileDialog(folder);
    QTest::mouseClick(lab()->openButton(), Qt::LeftButton);
    QVERIFY(*answered);
  }

  MainWindow *window_ = nullptr;
  std::unique_ptr<QTemporaryDir> runs_;
};

QTEST_MAIN(TestClaimsLab)
#include "tst_claimslab.moc"
