#include "recipes/Report.h"

#include "base/Error.h"
#include "base/Files.h"
#include "base/JsonFields.h"
#include "explain/Chart.h"
#include "explain/TokenReport.h"
#include "project/ProjectCheck.h"
#include "recipes/Claims.h"
#include "recipes/ExplainSession.h"
#include "recipes/LearningCurve.h"
#include "recipes/Search.h"
#include "recipes/Transfer.h"
#include "train/RunFolder.h"
#include "train/Runtime.h"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <sstream>

namespace fs = std::filesystem;

namespace particle {

const char *reportKindName(ReportKind kind) {
  switch (kind) {
  case ReportKind::Run: return "run";
  case ReportKind::Search: return "search";
  case ReportKind::Claims: return "claims";
  case ReportKind::Transfer: return "transfer";
  case ReportKind::Curve: return "learning curve";
  }
  return "?";
}

namespace {

// The file that names each kind, in the order a folder is asked (a search's variants hold run
// folders of their own, but the search folder itself has no summary.json).
const std::pair<ReportKind, const char *> kKindFiles[] = {{ReportKind::Run, "summary.json"},
                                                          {ReportKind::Search, "search.json"},
                                                          {ReportKind::Claims, "claims.json"},
                                                          {ReportKind::Transfer, "transfer.json"},
                                                          {ReportKind::Curve, "curve.json"}};

// ---- HTML pieces --------------------------------------------------------------------------------

std::string esc(const std::string &text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
    case '&': out += "&amp;"; break;
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '"': out += "&quot;"; break;
    default: out += c;
    }
  }
  return out;
}

std::string fixed(double v, int decimals) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(decimals) << v;
  return s.str();
}

// A fraction as a percentage ("83.2%").
std::string pct(double fraction, int decimals = 1) {
  return fixed(100 * fraction, decimals) + "%";
}
// A difference of fractions in percentage points ("+1.4 pp").
std::string pp(double fraction) {
  return (fraction >= 0 ? "+" : "−") + fixed(100 * std::fabs(fraction), 1) + " pp";
}

std::string commas(int64_t v) {
  std::string digits = std::to_string(v < 0 ? -v : v), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0)
      out += ',';
    out += digits[i];
  }
  return v < 0 ? "−" + out : out;
}

// FLOPs per sample as people read them ("1.2 M").
std::string flops(double v) {
  if (v <= 0)
    return "unknown";
  if (v >= 1e9)
    return fixed(v / 1e9, 2) + " G";
  if (v >= 1e6)
    return fixed(v / 1e6, 2) + " M";
  if (v >= 1e3)
    return fixed(v / 1e3, 1) + " k";
  return fixed(v, 0);
}

std::string dateOf(std::time_t t) {
  char buf[64];
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

std::string modifiedDate(const std::string &path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? dateOf(st.st_mtime) : std::string("unknown");
}

// The SVG a chart drew, inline: HTML needs no namespace declaration, and the report names no
// address at all.
std::string inlineSvg(std::string svg) {
  for (const std::string ns :
       {" xmlns=\"http://www.w3.org/2000/svg\"", " xmlns:xlink=\"http://www.w3.org/1999/xlink\""})
    for (std::size_t at; (at = svg.find(ns)) != std::string::npos;)
      svg.erase(at, ns.size());
  return svg;
}

std::string figure(const std::string &svg, const std::string &caption) {
  return "<figure>" + inlineSvg(svg) + (caption.empty() ? "" : "<figcaption>" + esc(caption) + "</figcaption>") +
         "</figure>\n";
}

// A table: the header row, then rows of cells that are already HTML.
std::string table(const std::vector<std::string> &head, const std::vector<std::vector<std::string>> &rows,
                  const std::string &cls = {}) {
  std::string t = "<table" + (cls.empty() ? "" : " class=\"" + cls + "\"") + "><thead><tr>";
  for (const auto &h : head)
    t += "<th>" + esc(h) + "</th>";
  t += "</tr></thead><tbody>\n";
  for (const auto &row : rows) {
    t += "<tr>";
    for (const auto &cell : row)
      t += "<td>" + cell + "</td>";
    t += "</tr>\n";
  }
  return t + "</tbody></table>\n";
}

// Key–value rows (both already HTML).
std::string facts(const std::vector<std::pair<std::string, std::string>> &rows) {
  std::string t = "<table class=\"facts\"><tbody>\n";
  for (const auto &[k, v] : rows)
    t += "<tr><th>" + esc(k) + "</th><td>" + v + "</td></tr>\n";
  return t + "</tbody></table>\n";
}

const char *kStyle = R"(
body{font:15px/1.5 "DejaVu Sans",Arial,sans-serif;color:#1d232b;background:#fff;margin:0}
main{max-width:1120px;margin:0 auto;padding:24px 32px 48px}
header{background:#23354a;color:#fff;padding:22px 32px}
header h1{margin:0 0 4px;font-size:26px}
header p{margin:0;color:#c9d6e3}
h2{border-bottom:2px solid #d5dde6;padding-bottom:4px;margin-top:36px}
h3{margin:22px 0 8px}
nav{background:#f3f6f9;border:1px solid #d5dde6;border-radius:6px;padding:8px 16px;margin-top:16px}
nav a{margin-right:18px;color:#23547a;text-decoration:none}
table{border-collapse:collapse;margin:8px 0 16px;font-size:14px}
th,td{border:1px solid #d5dde6;padding:4px 10px;text-align:left;vertical-align:top}
thead th{background:#eef2f6}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
table.facts th{background:#f6f8fa;font-weight:600;width:220px}
figure{margin:12px 0 20px}
figure svg{max-width:100%;height:auto;border:1px solid #e3e8ee;border-radius:4px}
figcaption{color:#4a5866;font-size:13px;margin-top:4px}
.row{display:flex;flex-wrap:wrap;gap:16px}
.row figure{margin:0}
.verdict{display:inline-block;white-space:nowrap;padding:1px 8px;border-radius:10px;font-weight:600;font-size:13px}
.v-good{background:#d8f0dc;color:#155d27}.v-bad{background:#f8dcdc;color:#8a1c1c}.v-noise{background:#ece9d8;color:#5b5320}
.note{color:#4a5866}
.card{background:#f8fafc;border:1px solid #d5dde6;border-radius:8px;padding:4px 20px 12px;margin-top:12px}
.s{margin:10px 0;padding:8px;border:1px solid #d5dde6;border-radius:6px;line-height:1.9}
.s .h{font-weight:600}
)";

std::string page(const std::string &title, const std::string &subtitle,
                 const std::vector<std::pair<std::string, std::string>> &sections, const std::string &body) {
  std::string html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + esc(title) +
                     "</title>\n<style>" + kStyle + "</style></head>\n<body>\n<header><h1>" + esc(title) + "</h1><p>" +
                     esc(subtitle) + "</p></header>\n<main>\n<nav>";
  for (const auto &[id, name] : sections)
    html += "<a href=\"#" + id + "\">" + esc(name) + "</a>";
  return html + "</nav>\n" + body + "</main>\n</body></html>\n";
}

std::string section(const std::string &id, const std::string &title, const std::string &body) {
  return "<section id=\"" + id + "\">\n<h2>" + esc(title) + "</h2>\n" + body + "</section>\n";
}

std::string generatedBy() {
  const Json info = runtimeInfo();
  return "Particle Studio " + info.value("particle_studio", std::string("?")) + ", " + dateOf(std::time(nullptr));
}

std::string verdictBadge(const std::string &verdict) {
  const std::string cls = verdict == "holds" || verdict == "better"          ? "v-good"
                          : verdict == "does not hold" || verdict == "worse" ? "v-bad"
                                                                             : "v-noise";
  return "<span class=\"verdict " + cls + "\">" + esc(verdict) + "</span>";
}

// ---- spreads and comparisons (recipes/Verdict.h) -------------------------------------------------

std::string spreadText(const Spread &s) {
  if (s.n == 0)
    return "—";
  return pct(s.mean) + (s.n > 1 ? " ± " + fixed(100 * s.sd, 1) : "") +
         " <span class=\"note\">(n=" + std::to_string(s.n) + ")</span>";
}

std::string valuesText(const std::vector<double> &values) {
  std::string t;
  for (double v : values)
    t += (t.empty() ? "" : ", ") + pct(v);
  return t.empty() ? "—" : t;
}

std::string interval(const Comparison &c) {
  return "[" + pp(c.low) + ", " + pp(c.high) + "]";
}

std::string pText(double p) {
  return p < 0.001 ? "&lt; 0.001" : fixed(p, 3);
}

// A comparison's cells: difference, interval, p, test, verdict. With one seed there is no spread
// to tell a difference from noise: no interval and no p are given (the verdict says so).
std::vector<std::string> comparisonCells(const Comparison &c) {
  const bool untestable = c.verdict == "too few seeds";
  return {pp(c.difference), untestable ? "—" : interval(c), untestable ? "—" : pText(c.p),
          esc(c.test) + " (n=" + std::to_string(c.n) + ")", verdictBadge(c.verdict)};
}

// Colours by role, as the app draws them.
using chart::roleColor;

// A mean ± sd per point as the error bar a chart draws.
void band(chart::Series &s, double mean, double sd) {
  s.low.push_back(mean - sd);
  s.high.push_back(mean + sd);
}

Json readJsonFile(const std::string &path) {
  return parseJson(readTextFile(path), path);
}

void say(const ReportOptions &options, const std::string &stage) {
  if (options.progress)
    options.progress(stage);
}

// ---- a run ---------------------------------------------------------------------------------------

struct TestEvaluation {
  std::vector<std::vector<double>> confusion; // true × predicted counts
  int64_t samples = 0;
  double accuracy = 0;
};

TestEvaluation evaluateTest(ExplainSession &session) {
  torch::NoGradGuard noGrad;
  ParticleModel model = session.model();
  const Dataset &data = session.data();
  const int64_t k = model->classes(), n = data.testX.size(0);
  TestEvaluation ev;
  ev.confusion.assign(static_cast<std::size_t>(k), std::vector<double>(static_cast<std::size_t>(k), 0));
  int64_t right = 0;
  for (int64_t from = 0; from < n; from += 512) {
    const int64_t m = std::min<int64_t>(512, n - from);
    const auto predicted = model->forward(data.testX.narrow(0, from, m)).logits.argmax(1).cpu();
    const auto truth = data.testY.narrow(0, from, m).cpu();
    for (int64_t i = 0; i < m; ++i) {
      const int64_t t = truth[i].item<int64_t>(), p = predicted[i].item<int64_t>();
      ev.confusion[static_cast<std::size_t>(t)][static_cast<std::size_t>(p)] += 1;
      right += t == p;
    }
  }
  ev.samples = n;
  ev.accuracy = n > 0 ? static_cast<double>(right) / static_cast<double>(n) : 0;
  return ev;
}

struct ClassMetrics {
  std::string name;
  double precision = 0, recall = 0, f1 = 0;
  int64_t support = 0;
};

std::vector<ClassMetrics> perClass(const TestEvaluation &ev, const DataInfo &info) {
  std::vector<ClassMetrics> out;
  const std::size_t k = ev.confusion.size();
  for (std::size_t c = 0; c < k; ++c) {
    double tp = ev.confusion[c][c], predicted = 0, actual = 0;
    for (std::size_t o = 0; o < k; ++o) {
      predicted += ev.confusion[o][c];
      actual += ev.confusion[c][o];
    }
    ClassMetrics m;
    m.name = className(info, static_cast<int64_t>(c));
    m.precision = predicted > 0 ? tp / predicted : 0;
    m.recall = actual > 0 ? tp / actual : 0;
    m.f1 = m.precision + m.recall > 0 ? 2 * m.precision * m.recall / (m.precision + m.recall) : 0;
    m.support = static_cast<int64_t>(actual);
    out.push_back(m);
  }
  return out;
}

std::string perClassTable(const std::vector<ClassMetrics> &metrics) {
  std::vector<std::vector<std::string>> rows;
  double p = 0, r = 0, f = 0;
  for (const auto &m : metrics) {
    rows.push_back({esc(m.name), pct(m.precision), pct(m.recall), pct(m.f1), commas(m.support)});
    p += m.precision;
    r += m.recall;
    f += m.f1;
  }
  const double k = std::max<double>(1, static_cast<double>(metrics.size()));
  rows.push_back({"<b>macro average</b>", pct(p / k), pct(r / k), pct(f / k), ""});
  return table({"class", "precision", "recall", "F1", "test samples"}, rows, "metrics");
}

std::string cpuModel() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      return colon == std::string::npos ? line : line.substr(line.find_first_not_of(' ', colon + 1));
    }
  return "unknown CPU";
}

std::string trainingValue(const Project &project, const char *key) {
  const Json &t = project.training;
  return t.contains(key) ? (t[key].is_string() ? t[key].get<std::string>() : compactJson(t[key])) : "the default";
}

// Mean |integrated gradients| of each branch over the drawn samples, as heat maps: images per
// pixel, tables per feature (a branch × feature matrix).
std::string saliencyFigures(ExplainSession &session, const Explanation &e, const std::string &combine, int64_t count) {
  const DataInfo &info = session.info();
  const auto sal = session.saliency(e, combine, count);
  std::string html;
  if (info.sampleShape.size() == 3) {
    html += "<div class=\"row\">";
    for (const auto &s : sal) {
      const auto mapped = s.map.abs().mean(0).sum(0).to(torch::kDouble).cpu(); // [H, W]
      chart::HeatMap h;
      h.title = "branch " + s.branch;
      h.xLabel = "pixel column";
      h.yLabel = "pixel row";
      h.scaleLabel = "mean |IG|";
      h.values.assign(static_cast<std::size_t>(mapped.size(0)), {});
      for (int64_t r = 0; r < mapped.size(0); ++r)
        for (int64_t c = 0; c < mapped.size(1); ++c)
          h.values[static_cast<std::size_t>(r)].push_back(mapped[r][c].item<double>());
      html += figure(chart::toSvg(h, 340, 320), "");
    }
    html += "</div><p class=\"note\">Integrated gradients of each branch toward the explained class, averaged "
            "(absolute) over " +
            std::to_string(count) +
            " test samples and stitched into the image: where in the input each sub-model looked.</p>\n";
  } else if (info.sampleShape.size() == 1 && info.vocabulary.empty()) {
    chart::HeatMap h;
    h.title = "where each branch looked";
    h.xLabel = "feature";
    h.yLabel = "branch";
    h.scaleLabel = "mean |IG|";
    for (int64_t f = 0; f < info.sampleShape[0]; ++f)
      h.colLabels.push_back(static_cast<std::size_t>(f) < info.featureNames.size()
                                ? info.featureNames[static_cast<std::size_t>(f)]
                                : std::to_string(f));
    for (const auto &s : sal) {
      h.rowLabels.push_back(s.branch);
      const auto mapped = s.map.abs().mean(0).to(torch::kDouble).cpu();
      std::vector<double> row;
      for (int64_t f = 0; f < mapped.size(0); ++f)
        row.push_back(mapped[f].item<double>());
      h.values.push_back(row);
    }
    h.annotate = true;
    html += figure(chart::toSvg(h, std::min(1000, 260 + 90 * static_cast<int>(h.colLabels.size())),
                                240 + 60 * static_cast<int>(sal.size())),
                   "Integrated gradients per feature, averaged (absolute) over " + std::to_string(count) +
                       " test samples.");
  } else if (!info.vocabulary.empty()) {
    std::vector<std::string> branches;
    for (const auto &s : sal)
      branches.push_back(s.branch);
    const auto x = session.samples(count);
    html += "<p class=\"note\">" + tokensLegendHtml() + "</p>\n";
    for (int64_t i = 0; i < count; ++i) {
      html += "<div class=\"s\"><div class=\"h\">test sample " + std::to_string(i) + " · label " +
              esc(className(info, e.labels[i].item<int64_t>())) + " · predicted " +
              esc(className(info, e.predictions[i].item<int64_t>())) + "</div>" +
              tokensHtml(tokenAttributions(info.vocabulary, x, i, sal), branches) + "</div>\n";
    }
  }
  return html;
}

std::string explanationSection(ExplainSession &session, const ReportOptions &options) {
  const DataInfo &info = session.info();
  if (session.model()->combineIds().empty())
    return "<p>The graph has no Combine: there are no sub-models whose shares could be measured.</p>\n";
  ExplainOptions eo;
  const int64_t n = std::min<int64_t>(options.explainSamples, session.data().testX.size(0));
  const Explanation e = session.explain(eo, n);
  std::string html = "<p>Shapley values over the branches of each Combine (" + std::string(e.baseline) +
                     " baseline) on the first " + std::to_string(n) +
                     " test samples, toward the predicted class: how much of the decision each sub-model "
                     "carried.</p>\n";
  const int64_t classes = session.model()->classes();
  for (const auto &comb : e.combines) {
    const auto agg = Explainer::aggregate(comb, e.targets, classes);
    html += "<h3>Combine " + esc(comb.combine) + "</h3>\n<div class=\"row\">";
    chart::BarChart bars;
    bars.title = "share of the decision per branch";
    bars.valueLabel = "share of mean |Shapley value| (%)";
    chart::HeatMap heat;
    heat.title = "mean |Shapley value| per class and branch";
    heat.xLabel = "branch";
    heat.yLabel = "explained class";
    heat.scaleLabel = "mean |φ|";
    heat.annotate = agg.size() <= 8;
    for (const auto &a : agg) {
      bars.labels.push_back(a.branch);
      bars.values.push_back(100 * a.share);
      heat.colLabels.push_back(a.branch);
    }
    for (int64_t c = 0; c < classes; ++c) {
      heat.rowLabels.push_back(className(info, c));
      std::vector<double> row;
      for (const auto &a : agg)
        row.push_back(a.perClass.at(static_cast<std::size_t>(c)));
      heat.values.push_back(row);
    }
    html += figure(chart::toSvg(bars, 460, 90 + 40 * static_cast<int>(agg.size())), "");
    html += figure(chart::toSvg(heat, 560, std::max(260, 140 + 26 * static_cast<int>(classes))), "") + "</div>\n";
    const int64_t drawn = std::min<int64_t>(options.saliencySamples, n);
    say(options, "integrated gradients of " + comb.combine + "'s branches");
    html += saliencyFigures(session, e, comb.combine, drawn);
  }
  return html;
}

std::string runReport(const std::string &dir, const ReportOptions &options) {
  const RunRecord record = readRunSummary(dir);
  const Json summaryJson = readJsonFile(dir + "/summary.json");
  const std::string projectFile = dir + "/project.particle.json";
  const Project project = loadProject(projectFile);
  const RunSummary &s = record.summary;
  std::string body;
  std::vector<std::pair<std::string, std::string>> toc = {
      {"summary", "Summary"}, {"graph", "Graph"},          {"data", "Data"},      {"training", "Training"},
      {"test", "Test split"}, {"submodels", "Sub-models"}, {"card", "Model card"}};
  say(options, "checking the graph");
  const Validation validation = validate(project);

  const std::string checkpoint = dir + "/checkpoint.pt";
  std::optional<ExplainSession> session;
  std::string sessionError;
  if (fs::exists(checkpoint)) {
    say(options, "loading the data and the checkpoint");
    try {
      session.emplace(project, checkpoint);
    } catch (const Error &e) {
      sessionError = e.what();
    }
  } else {
    sessionError = "the run kept no checkpoint (" + checkpoint + ")";
  }
  const DataInfo &info = session ? session->info() : validation.data;

  // Summary.
  const double flopsPerSample = summaryJson.value("flops_per_sample", 0.0);
  body += section("summary", "Summary",
                  facts({{"status", esc(statusName(s.status)) + (s.message.empty() ? "" : " — " + esc(s.message))},
                         {"test accuracy", "<b>" + pct(s.testAccuracy, 2) + "</b>"},
                         {"validation accuracy", pct(s.valAccuracy, 2)},
                         {"epochs", std::to_string(s.epochs) + " (" + commas(s.steps) + " steps)"},
                         {"parameters", commas(s.uniqueParameters) + " unique of " + commas(s.totalParameters)},
                         {"FLOPs per sample", flops(flopsPerSample)},
                         {"inference", fixed(s.inferenceUsPerSample, 1) + " µs per sample on " + esc(s.device) + ", " +
                                           std::to_string(s.threads) + (s.threads == 1 ? " thread" : " threads")},
                         {"training time", fixed(s.trainSeconds, 1) + " s"},
                         {"run folder", esc(fs::absolute(dir).lexically_normal().string())}}));

  // The graph.
  body += section("graph", "Graph",
                  figure(chart::graphSvg(project.graph, validation, 1060),
                         "The graph as it trained: each box its node's type, id, output shape and parameters; "
                         "share groups marked."));

  // The data.
  {
    std::string classes;
    for (int64_t c = 0; c < info.classes; ++c) {
      classes += (c ? ", " : "") + esc(className(info, c));
      if (static_cast<std::size_t>(c) < info.classCounts.size())
        classes += " <span class=\"note\">(" + commas(info.classCounts[static_cast<std::size_t>(c)]) + ")</span>";
    }
    const auto count = [](int64_t v) { return v < 0 ? std::string("unknown") : commas(v); };
    std::vector<std::pair<std::string, std::string>> rows = {
        {"data set", esc(record.dataset.empty() ? std::string(project.dataset.value("kind", "")) : record.dataset)},
        {"kind", esc(project.dataset.value("kind", std::string("?")))},
        {"classes", std::to_string(info.classes) + ": " + classes},
        {"split sizes", count(info.trainCount) + " training, " + count(info.validationCount) + " validation, " +
                            count(info.testCount) + " test samples"},
        {"input shape", esc(shapeToString(info.sampleShape, !info.vocabulary.empty()))}};
    if (!info.featureNames.empty()) {
      std::string names;
      for (const auto &f : info.featureNames)
        names += (names.empty() ? "" : ", ") + esc(f);
      rows.push_back({"features", names});
    }
    if (!info.vocabulary.empty())
      rows.push_back({"vocabulary", commas(static_cast<int64_t>(info.vocabulary.size())) + " tokens"});
    if (session && !session->data().notes.empty())
      rows.push_back({"notes", esc(session->data().notes)});
    body += section("data", "Data", facts(rows));
  }

  // Training curves.
  {
    const auto epochs = readRunMetrics(dir);
    std::string html;
    if (epochs.empty()) {
      html = "<p>The run wrote no metrics.csv.</p>\n";
    } else {
      chart::XYChart loss, acc;
      loss.title = "loss per epoch";
      loss.xLabel = acc.xLabel = "epoch";
      loss.yLabel = "cross-entropy loss";
      acc.title = "accuracy per epoch";
      acc.yLabel = "accuracy (%)";
      chart::Series tl{"training"}, vl{"validation"}, ta{"training"}, va{"validation"};
      for (const auto &e : epochs) {
        for (auto *series : {&tl, &vl, &ta, &va})
          series->x.push_back(e.epoch);
        tl.y.push_back(e.trainLoss);
        vl.y.push_back(e.valLoss);
        ta.y.push_back(100 * e.trainAccuracy);
        va.y.push_back(100 * e.valAccuracy);
      }
      loss.series = {tl, vl};
      acc.series = {ta, va};
      html += "<div class=\"row\">" + figure(chart::toSvg(loss, 540, 320), "") +
              figure(chart::toSvg(acc, 540, 320), "") + "</div>\n";
      const auto &last = epochs.back();
      html += "<p>After the last epoch: training accuracy " + pct(last.trainAccuracy) + ", validation " +
              pct(last.valAccuracy) + " (gap " + pp(last.trainAccuracy - last.valAccuracy) + ").</p>\n";
    }
    body += section("training", "Training", html);
  }

  // The test split: confusion matrix and per-class metrics.
  std::vector<ClassMetrics> metrics;
  {
    std::string html;
    if (session) {
      say(options, "evaluating the test split");
      const TestEvaluation ev = evaluateTest(*session);
      metrics = perClass(ev, info);
      chart::HeatMap cm;
      cm.title = "confusion matrix (" + commas(ev.samples) + " test samples)";
      cm.xLabel = "predicted class";
      cm.yLabel = "true class";
      cm.scaleLabel = "samples";
      cm.annotate = true;
      for (int64_t c = 0; c < info.classes; ++c)
        cm.rowLabels.push_back(className(info, c));
      cm.colLabels = cm.rowLabels;
      cm.values = ev.confusion;
      const int side = std::max(420, std::min(900, 160 + 56 * static_cast<int>(info.classes)));
      html += figure(chart::toSvg(cm, side + 160, side), "Rows: the true class; columns: the predicted one.");
      html += "<p>Accuracy on the test split: <b>" + pct(ev.accuracy, 2) + "</b>.</p>\n" + perClassTable(metrics);
    } else {
      html = "<p>Not evaluated: " + esc(sessionError) + ".</p>\n";
    }
    body += section("test", "Test split", html);
  }

  // Sub-models: shares, heat maps, token explanations.
  {
    std::string html;
    if (session) {
      say(options, "explaining " + std::to_string(options.explainSamples) + " test samples");
      try {
        html = explanationSection(*session, options);
      } catch (const Error &e) {
        html = "<p>Not explained: " + esc(e.what()) + "</p>\n";
      }
    } else {
      html = "<p>Not explained: " + esc(sessionError) + ".</p>\n";
    }
    body += section("submodels", "Sub-models", html);
  }

  // The model card.
  {
    std::string intended = "not stated";
    if (project.ui.is_object() && project.ui.contains("description") && project.ui["description"].is_string())
      intended = project.ui["description"].get<std::string>();
    const Json runtime = runtimeInfo();
    std::string perClassHtml = metrics.empty() ? "<p>Not measured (" + esc(sessionError) + ").</p>\n" : "";
    if (!metrics.empty()) {
      std::string list;
      for (const auto &m : metrics)
        list += (list.empty() ? "" : "; ") + esc(m.name) + " F1 " + pct(m.f1);
      perClassHtml = "<p>" + list + " (the table under Test split).</p>\n";
    }
    const int64_t testCount = info.testCount;
    // As many as explanationSection explains: the test split may hold fewer than asked.
    const int64_t explained =
        testCount >= 0 ? std::min<int64_t>(options.explainSamples, testCount) : options.explainSamples;
    std::string card =
        "<div class=\"card\">\n<h3>Model</h3>\n<p>" + esc(project.name) + ": a graph of " +
        std::to_string(project.graph.nodes.size()) + " nodes, " + commas(s.uniqueParameters) +
        " parameters, classifying " + std::to_string(info.classes) + " classes; test accuracy " +
        pct(s.testAccuracy, 2) + ".</p>\n<h3>Data</h3>\n<p>" +
        esc(record.dataset.empty() ? std::string("not recorded") : record.dataset) +
        ".</p>\n<h3>Intended use</h3>\n<p>" + esc(intended) + "</p>\n<h3>Per-class metrics</h3>\n" + perClassHtml +
        "<h3>Limitations</h3>\n<ul>"
        "<li>One training run with one seed (" +
        std::to_string(record.seed) +
        "): how much the figures move with another seed is not measured here (a search or claims "
        "report with several seeds says).</li>"
        "<li>Measured on this data set's test split only (" +
        (testCount >= 0 ? commas(testCount) + " samples" : std::string("size unknown")) +
        "); data from another source, time or population may behave differently.</li>" +
        (testCount > 0 ? "<li>That many test samples measure an accuracy to within about ±" +
                             fixed(100 * 1.96 * std::sqrt(0.25 / static_cast<double>(testCount)), 1) +
                             " percentage points (95 %, at worst); smaller differences are not shown by it.</li>"
                       : std::string()) +
        "<li>Branch shares explain the first " + std::to_string(explained) +
        " test samples, and where each branch looked (integrated gradients) is drawn over the first " +
        std::to_string(std::min<int64_t>(options.saliencySamples, explained)) +
        " of them; they describe what the model used, not what is true of the data.</li>"
        "<li>Robustness to noise, occlusion and distribution shift is not measured in this report "
        "(<code>particle robustness</code>).</li></ul>\n"
        "<h3>How it was trained</h3>\n" +
        facts({{"seed", std::to_string(record.seed)},
               {"epochs", std::to_string(s.epochs) + " (" + commas(s.steps) + " steps)"},
               {"optimiser", esc(trainingValue(project, "optimizer")) + ", learning rate " +
                                 esc(trainingValue(project, "lr")) + ", batch size " +
                                 esc(trainingValue(project, "batch_size"))},
               {"workers", std::to_string(record.workers)},
               {"device", esc(s.device) + ", " + std::to_string(s.threads) + (s.threads == 1 ? " thread" : " threads")},
               // summary.json keeps the device and threads, not the machine or the versions: those
               // are this program's, said as such.
               {"machine", esc(cpuModel()) + ", " + compactJson(runtime["cpu_cores"]) +
                               " cores <span class=\"note\">(where this report was written)</span>"},
               {"software", "Particle Studio " + esc(runtime.value("particle_studio", "?")) + ", LibTorch " +
                                esc(runtime.value("libtorch", "?")) +
                                " <span class=\"note\">(that wrote this report)</span>"},
               {"date", esc(modifiedDate(dir + "/summary.json"))},
               {"graph hash", "<code>" + esc(record.graphHash) + "</code>"}}) +
        "</div>\n";
    body += section("card", "Model card", card);
  }
  return page("Run report: " + project.name, "a training run · " + generatedBy(), toc, body);
}

// ---- a search ------------------------------------------------------------------------------------

struct ParetoPoint {
  std::string name;
  int64_t parameters = 0;
  double accuracy = 0;
};

// The points no other dominates (at least as accurate with no more unique parameters, one of them
// strictly), by accuracy. Only meaningful among points trained alike (same epochs).
std::vector<std::string> paretoFront(std::vector<ParetoPoint> points) {
  std::sort(points.begin(), points.end(), [](const ParetoPoint &a, const ParetoPoint &b) {
    return a.accuracy != b.accuracy ? a.accuracy > b.accuracy : a.name < b.name;
  });
  std::vector<std::string> front;
  for (const auto &a : points) {
    const bool dominated = std::any_of(points.begin(), points.end(), [&](const ParetoPoint &b) {
      return b.accuracy >= a.accuracy && b.parameters <= a.parameters &&
             (b.accuracy > a.accuracy || b.parameters < a.parameters);
    });
    if (!dominated)
      front.push_back(a.name);
  }
  return front;
}

std::string searchReport(const std::string &dir, const ReportOptions &) {
  const SearchFile s = readSearchFile(dir + "/search.json");
  std::string body;

  // Settings.
  {
    std::vector<std::pair<std::string, std::string>> rows;
    for (auto it = s.settings.begin(); it != s.settings.end(); ++it) {
      const Json &v = it.value();
      // A long list (the order variants start in) is named by its length, not spelled out.
      std::string value = v.is_string()                  ? esc(v.get<std::string>())
                          : v.is_array() && v.size() > 6 ? std::to_string(v.size()) + " entries"
                                                         : esc(compactJson(v));
      // The setting counts the best few; own and the baseline are trained besides them.
      if (it.key() == "finalists" && !s.finalists.empty())
        value += " best + own + the monolithic baseline (" + std::to_string(s.finalists.size()) + " trained)";
      if (it.key() == "budget" && s.outOfBudget)
        value += " (ran out before every rung finished)";
      rows.push_back({it.key(), value});
    }
    if (!s.settings.contains("seeds"))
      rows.push_back({"seeds per finalist", std::to_string(s.seeds)});
    rows.push_back({"rungs", std::to_string(s.rungs)});
    rows.push_back({"variants", std::to_string(s.variants.size())});
    if (s.outOfBudget && !s.settings.contains("budget"))
      rows.push_back({"budget", "ran out before every rung finished"});
    body += section("settings", "Settings", facts(rows));
  }

  // Finalists, the verdict and why.
  {
    std::string html;
    if (!s.winner.empty())
      html += "<p>Winner: <b>" + esc(s.winner) + "</b>" + (s.reason.empty() ? "" : " — " + esc(s.reason)) + "</p>\n";
    if (!s.verdict.sentence.empty())
      html += "<p><b>Verdict:</b> " + esc(s.verdict.sentence) + "</p>\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto &[what, c] : {std::pair{"over the runner-up", s.verdict.runnerUp},
                                  std::pair{"over the monolithic baseline", s.verdict.baseline}})
      if (c) {
        std::vector<std::string> row = {what, esc(c->a) + " − " + esc(c->b)};
        for (auto &cell : comparisonCells(*c))
          row.push_back(cell);
        rows.push_back(row);
      }
    if (!rows.empty())
      html += table(
          {"the winner's lead", "on test accuracy", "difference", "95% interval", "p (Holm)", "test", "verdict"}, rows);
    if (!s.finalists.empty()) {
      std::vector<std::vector<std::string>> frows;
      for (const auto &f : s.finalists)
        frows.push_back({(f.variant == s.winner ? "<b>" + esc(f.variant) + "</b>" : esc(f.variant)),
                         std::to_string(f.epochs), spreadText(f.val), valuesText(f.val.values), spreadText(f.test),
                         valuesText(f.test.values), commas(f.uniqueParameters), flops(f.flopsPerSample),
                         fixed(f.usPerSample, 1)});
      html += table({"finalist", "epochs", "validation (mean ± sd)", "per seed", "test (mean ± sd)", "per seed",
                     "unique parameters", "FLOPs/sample", "µs/sample"},
                    frows);
    } else {
      html += "<p class=\"note\">No finalist was trained with seeds.</p>\n";
    }
    body += section("finalists", "Finalists and verdict", html);
  }

  // The Pareto plot: accuracy against unique parameters, point size by FLOPs, one colour per
  // epoch count so that points are compared at equal epochs.
  {
    chart::XYChart c;
    c.title = "validation accuracy against unique parameters";
    c.xLabel = "unique parameters";
    c.yLabel = "validation accuracy (%)";
    c.sizeLabel = "FLOPs per sample";
    c.logX = true;
    std::map<int, chart::Series> byEpochs;
    for (const auto &t : s.trials) {
      if (!t.ok() || t.uniqueParameters <= 0 || t.phase != "halving")
        continue;
      chart::Series &series = byEpochs[t.epochs];
      series.name = "trials at " + std::to_string(t.epochs) + (t.epochs == 1 ? " epoch" : " epochs");
      series.line = false;
      series.x.push_back(static_cast<double>(t.uniqueParameters));
      series.y.push_back(100 * t.valAccuracy);
      series.size.push_back(t.flopsPerSample);
    }
    int other = 0;
    for (auto &entry : byEpochs) {
      entry.second.color = roleColor("other", other);
      c.series.push_back(entry.second);
    }
    // The Pareto set among points at equal epochs: the finalists (all trained to the same epochs
    // with the same seeds), else the halving trials of the last rung. Trials of different epochs
    // are not compared: a variant stopped early looks worse than it is.
    std::vector<ParetoPoint> points;
    std::string among;
    if (!s.finalists.empty()) {
      for (const auto &f : s.finalists)
        points.push_back({f.variant, f.uniqueParameters, f.val.mean});
      among = "among the finalists (all at " + std::to_string(s.finalists.front().epochs) +
              " epochs; mean validation accuracy over " + std::to_string(s.seeds) +
              (s.seeds == 1 ? " seed" : " seeds") + " against unique parameters)";
    } else if (!byEpochs.empty()) {
      const int top = byEpochs.rbegin()->first;
      for (const auto &t : s.trials)
        if (t.ok() && t.uniqueParameters > 0 && t.phase == "halving" && t.epochs == top)
          points.push_back({t.variant, t.uniqueParameters, t.valAccuracy});
      among = "among the trials at " + std::to_string(top) + " epochs, the most any reached";
    }
    const std::vector<std::string> front = paretoFront(points);
    const auto onFront = [&](const std::string &v) { return std::find(front.begin(), front.end(), v) != front.end(); };
    if (!s.finalists.empty()) {
      // Own (this graph) and the baseline in the app's colours; only the Pareto members are named
      // beside their points (the legend names own and the baseline, the table every finalist).
      chart::Series own, base, rest;
      own.name = "own (this graph), finalist";
      own.color = roleColor("graph", other);
      base.name = "monolithic baseline, finalist";
      base.color = roleColor("baseline", other);
      rest.name = "other finalists, " + std::to_string(s.finalists.front().epochs) + " epochs ± sd";
      rest.color = chart::Color{20, 20, 20};
      for (const auto &x : s.finalists) {
        const SearchVariant *v = s.variant(x.variant);
        chart::Series &f = v && v->original ? own : v && v->baseline ? base : rest;
        f.line = false;
        f.x.push_back(static_cast<double>(x.uniqueParameters));
        f.y.push_back(100 * x.val.mean);
        band(f, 100 * x.val.mean, 100 * x.val.sd);
        f.size.push_back(x.flopsPerSample);
        f.labels.push_back(onFront(x.variant) ? x.variant : "");
      }
      for (auto *f : {&rest, &own, &base})
        if (!f->x.empty())
          c.series.push_back(*f);
    }
    std::string pareto;
    for (const auto &v : front)
      pareto += (pareto.empty() ? "" : ", ") + esc(v);
    body += section("pareto", "Pareto plot",
                    c.series.empty()
                        ? "<p>No trial completed.</p>\n"
                        : figure(chart::toSvg(c, 1040, 520),
                                 "Each halving trial a point (colour: the epochs it had trained), its size FLOPs per "
                                 "sample; the finalists with their spread over seeds, the Pareto set's named.") +
                              (pareto.empty() ? ""
                                              : "<p id=\"pareto-set\">Pareto set " + esc(among) + ": " + pareto +
                                                    ". None of them has another at least as accurate with no more "
                                                    "unique parameters.</p>\n"));
  }

  // The table of trials.
  {
    std::vector<std::vector<std::string>> rows;
    for (const auto &t : s.trials)
      rows.push_back(
          {esc(t.variant), esc(t.phase), std::to_string(t.rung), std::to_string(t.epochs), std::to_string(t.seed),
           esc(t.status) + (t.message.empty() ? "" : "<br><span class=\"note\">" + esc(t.message) + "</span>"),
           // A variant that never started has no figures: a dash, not a zero.
           t.ok() ? pct(t.valAccuracy) : "—", t.ok() ? pct(t.testAccuracy) : "—",
           t.uniqueParameters > 0 ? commas(t.uniqueParameters) : "—",
           t.uniqueParameters > 0 ? flops(t.flopsPerSample) : "—", t.usPerSample > 0 ? fixed(t.usPerSample, 1) : "—",
           t.seconds > 0 ? fixed(t.seconds, 1) : "—"});
    body += section("trials", "Trials",
                    table({"variant", "phase", "rung", "epochs", "seed", "status", "validation", "test",
                           "unique parameters", "FLOPs/sample", "µs/sample", "seconds"},
                          rows));
  }

  // Cost.
  body += section(
      "cost", "Cost",
      facts({{"spent", fixed(s.cost.seconds, 0) + " s (of which the seeds " + fixed(s.cost.seedSeconds, 0) + " s)"},
             {"training every started variant fully",
              s.cost.fullSeconds > 0 ? fixed(s.cost.fullSeconds, 0) + " s (from the measured seconds per epoch)"
                                     : std::string("—")},
             {"successive halving's saving", s.cost.fullSeconds > 0 ? pct(s.cost.saving()) : std::string("—")}}));
  return page("Search report: " + s.project, "a search over decompositions · " + generatedBy(),
              {{"settings", "Settings"},
               {"finalists", "Finalists and verdict"},
               {"pareto", "Pareto plot"},
               {"trials", "Trials"},
               {"cost", "Cost"}},
              body);
}

// ---- claims --------------------------------------------------------------------------------------

std::string claimsReport(const std::string &dir, const ReportOptions &) {
  const ClaimsResult r = readClaimsFile(dir + "/claims.json");
  std::string body;
  body += section("settings", "Settings",
                  facts({{"project", esc(r.project)},
                         {"baseline", esc(r.baseline)},
                         {"seeds", std::to_string(r.seeds)},
                         {"epochs", r.epochs > 0 ? std::to_string(r.epochs) : std::string("the project's")},
                         {"training samples", r.limit > 0 ? commas(r.limit) : std::string("all")}}));

  // The claims.
  {
    std::vector<std::vector<std::string>> rows;
    chart::BarChart bars;
    bars.title = "graph − baseline per claim, with its 95% interval";
    bars.valueLabel = "difference (percentage points)";
    std::string sentences;
    for (const auto &c : r.claims) {
      // An exact claim compares counts (parameters), the others fractions over seeds.
      const bool counts = c.comparison.test == "exact";
      const auto side = [&](const Spread &x) { return counts ? commas(static_cast<int64_t>(x.mean)) : spreadText(x); };
      std::vector<std::string> row = {esc(c.claim), esc(c.measure), side(c.graph), side(c.baseline)};
      const bool tested = c.verdict != "not applicable";
      const auto cells = comparisonCells(c.comparison);
      // The sign alone reads the wrong way where smaller is better: the side it favours beside it.
      const std::string direction = claimDirection(c), favours = direction.empty() ? "" : ", " + direction;
      if (!tested)
        row.insert(row.end(), {"—", "—", "—"});
      else if (counts)
        row.insert(row.end(), {commas(static_cast<int64_t>(c.comparison.difference)) + favours, "exact", "—"});
      else
        row.insert(row.end(), {cells[0] + favours, cells[1], cells[2]});
      row.push_back(verdictBadge(claimVerdictText(c)));
      rows.push_back(row);
      if (tested && !counts && c.comparison.n > 0) {
        bars.labels.push_back(c.id);
        bars.values.push_back(100 * c.comparison.difference);
        bars.low.push_back(100 * c.comparison.low);
        bars.high.push_back(100 * c.comparison.high);
      }
      if (!c.sentence.empty())
        sentences += "<li>" + esc(c.sentence) + "</li>";
    }
    std::string html = "<p>Each claim about the graph against its monolithic baseline, paired over seeds, on this "
                       "data: it <i>holds</i> when the interval lies wholly on the claim's side, it <i>does not "
                       "hold</i> when it lies wholly on the other, it is <i>within noise</i> when it covers "
                       "zero; one seed gives no interval, and no verdict.</p>\n" +
                       table({"claim", "measure", "graph (mean ± sd)", "baseline (mean ± sd)", "difference",
                              "95% interval", "p", "verdict (on this data)"},
                             rows);
    if (!bars.labels.empty())
      html += figure(chart::toSvg(bars, 1000, 110 + 44 * static_cast<int>(bars.labels.size())), "");
    if (!sentences.empty())
      html += "<ul>" + sentences + "</ul>\n";
    body += section("claims", "Claims", html);
  }

  // The models and their runs, and accuracy under noise.
  {
    std::vector<std::vector<std::string>> rows;
    chart::XYChart noise;
    noise.title = "test accuracy under Gaussian noise (mean ± sd over seeds)";
    noise.xLabel = "σ (training-data standard deviations)";
    noise.yLabel = "accuracy (%)";
    int other = 0;
    for (const auto &m : r.models) {
      std::map<double, std::vector<double>> bySigma;
      for (const auto &run : m.runs) {
        rows.push_back({esc(m.name) + " <span class=\"note\">(" + esc(m.role) + ")</span>", std::to_string(run.seed),
                        esc(run.status), run.ok() ? pct(run.testAccuracy) : "—", run.ok() ? pct(run.valAccuracy) : "—",
                        run.ok() ? pct(run.trainAccuracy) : "—", run.ok() ? pp(run.gap) : "—",
                        commas(m.uniqueParameters), flops(m.flopsPerSample)});
        for (const auto &[sigma, accuracy] : run.noise)
          bySigma[sigma].push_back(accuracy);
      }
      chart::Series series;
      series.name = m.name;
      series.color = roleColor(m.role, other);
      for (const auto &[sigma, values] : bySigma) {
        const Spread spread = spreadOf(values);
        series.x.push_back(sigma);
        series.y.push_back(100 * spread.mean);
        band(series, 100 * spread.mean, 100 * spread.sd);
      }
      if (!series.x.empty())
        noise.series.push_back(series);
    }
    std::string html = table({"model", "seed", "status", "test", "validation", "training", "gap (train − val)",
                              "unique parameters", "FLOPs/sample"},
                             rows);
    if (!noise.series.empty())
      html += figure(chart::toSvg(noise, 900, 380), "");
    body += section("models", "Models and runs", html);
  }
  return page("Claims report: " + r.project, "claims against the monolithic baseline · " + generatedBy(),
              {{"settings", "Settings"}, {"claims", "Claims"}, {"models", "Models and runs"}}, body);
}

// ---- a transfer experiment -----------------------------------------------------------------------

std::string transferReport(const std::string &dir, const ReportOptions &) {
  const TransferResult r = readTransferFile(dir + "/transfer.json");
  std::string body;
  std::string nodes, trained;
  for (const auto &n : r.nodes)
    nodes += (nodes.empty() ? "" : ", ") + esc(n);
  for (const auto &[mode, count] : r.trainedParameters)
    trained += (trained.empty() ? "" : "; ") + esc(mode) + " " + commas(count);
  body += section(
      "settings", "Settings",
      facts({{"source", esc(r.source) + (r.sourceTestAccuracy > 0 ? " (test accuracy " + pct(r.sourceTestAccuracy) + ")"
                                                                  : std::string())},
             {"target", esc(r.target)},
             {"particle's nodes", nodes},
             {"seeds", std::to_string(r.seeds)},
             {"epochs", r.epochs > 0 ? std::to_string(r.epochs) : std::string("the target project's")},
             {"parameters trained", trained.empty() ? "—" : trained}}) +
          (r.notes.empty() ? "" : "<p class=\"note\">" + esc(r.notes) + "</p>\n"));

  const auto cells = r.table();
  {
    std::vector<std::string> head = {"mode"};
    for (auto size : r.sizes)
      head.push_back("N = " + commas(size));
    std::vector<std::vector<std::string>> rows;
    chart::XYChart c;
    c.title = "test accuracy against labelled target samples (mean ± sd over seeds)";
    c.xLabel = "labelled target samples N";
    c.yLabel = "test accuracy (%)";
    c.logX = true;
    for (const auto &mode : r.modes) {
      std::vector<std::string> row = {esc(mode)};
      chart::Series s;
      s.name = mode;
      for (auto size : r.sizes) {
        const auto it = std::find_if(cells.begin(), cells.end(),
                                     [&](const TransferCell &x) { return x.mode == mode && x.size == size; });
        if (it == cells.end() || it->runs == 0) {
          row.push_back("—");
          continue;
        }
        const Spread v{it->runs, it->mean, it->sd, it->values};
        row.push_back(spreadText(v) + "<br><span class=\"note\">" + valuesText(it->values) + "</span>");
        s.x.push_back(static_cast<double>(size));
        s.y.push_back(100 * it->mean);
        band(s, 100 * it->mean, 100 * it->sd);
      }
      rows.push_back(row);
      if (!s.x.empty())
        c.series.push_back(s);
    }
    std::string html = table(head, rows);
    if (!c.series.empty())
      html += figure(chart::toSvg(c, 1000, 460), "Bars: ± one standard deviation over the seeds.");
    body += section("table", "Modes × sizes", html);
  }
  {
    std::vector<std::vector<std::string>> rows;
    for (const auto &t : r.trials)
      if (!t.ok())
        rows.push_back({esc(t.mode), commas(t.size), std::to_string(t.seed), esc(t.status), esc(t.message)});
    body +=
        section("trials", "Trials",
                "<p>" + std::to_string(r.trials.size()) + " trials, " + std::to_string(r.trials.size() - rows.size()) +
                    " completed.</p>\n" + (rows.empty() ? "" : table({"mode", "N", "seed", "status", "why"}, rows)));
  }
  return page("Transfer report: " + r.source + " → " + r.target, "a particle reused with few labels · " + generatedBy(),
              {{"settings", "Settings"}, {"table", "Modes × sizes"}, {"trials", "Trials"}}, body);
}

// ---- learning curves -----------------------------------------------------------------------------

std::string curveReport(const std::string &dir, const ReportOptions &) {
  const CurveResult r = readCurveFile(dir + "/curve.json");
  std::string body;
  std::string sizes;
  for (auto size : r.sizes)
    sizes += (sizes.empty() ? "" : ", ") + commas(size);
  body += section("settings", "Settings",
                  facts({{"project", esc(r.project)},
                         {"training samples", sizes},
                         {"seeds", std::to_string(r.seeds)},
                         {"epochs", r.epochs > 0 ? std::to_string(r.epochs) : std::string("the project's")},
                         {"search", r.search.empty() ? std::string("none") : esc(r.search)}}) +
                      (r.notes.empty() ? "" : "<p class=\"note\">" + esc(r.notes) + "</p>\n"));
  std::vector<std::vector<std::string>> rows;
  for (const auto &m : r.models)
    for (const auto &p : m.points)
      rows.push_back({esc(m.name) + " <span class=\"note\">(" + esc(m.role) + ")</span>", commas(p.size),
                      spreadText(p.test), spreadText(p.train),
                      p.gap.n ? pp(p.gap.mean) + (p.gap.n > 1 ? " ± " + fixed(100 * p.gap.sd, 1) : "") : "—"});
  // The app's colours per role (the charts list the models in order); with one seed there is no
  // spread to show.
  chart::XYChart accuracy = accuracyChart(r), gap = gapChart(r);
  for (auto *c : {&accuracy, &gap}) {
    int other = 0;
    for (std::size_t k = 0; k < c->series.size() && k < r.models.size(); ++k)
      c->series[k].color = roleColor(r.models[k].role, other);
    if (r.seeds < 2)
      c->title = c->title.substr(0, c->title.find(", mean ± sd")) + ", one seed (no spread)";
  }
  body += section("curves", "Curves",
                  figure(chart::toSvg(accuracy, 1000, 440), "") + figure(chart::toSvg(gap, 1000, 360), "") +
                      table({"model", "training samples", "test (mean ± sd)", "training (mean ± sd)",
                             "gap, train − validation (mean ± sd)"},
                            rows));
  std::vector<std::vector<std::string>> vrows;
  std::string sentences;
  for (const auto &c : r.comparisons) {
    std::vector<std::string> row = {commas(c.size), esc(c.comparison.a) + " − " + esc(c.comparison.b)};
    for (auto &cell : comparisonCells(c.comparison))
      row.push_back(cell);
    vrows.push_back(row);
    if (!c.comparison.sentence.empty())
      sentences += "<li>N = " + commas(c.size) + ": " + esc(c.comparison.sentence) + "</li>";
  }
  body += section("verdicts", "Verdicts per size",
                  vrows.empty() ? "<p>No comparisons: the graph has no monolithic baseline here.</p>\n"
                                : table({"training samples", "test accuracy", "difference", "95% interval", "p", "test",
                                         "verdict (on this data)"},
                                        vrows) +
                                      (sentences.empty() ? "" : "<ul>" + sentences + "</ul>\n"));
  return page("Learning curves: " + r.project, "accuracy against training samples · " + generatedBy(),
              {{"settings", "Settings"}, {"curves", "Curves"}, {"verdicts", "Verdicts per size"}}, body);
}

} // namespace

ReportKind reportKind(const std::string &dir) {
  if (!fs::is_directory(dir))
    throw Error(ErrorKind::File, dir + ": no such folder");
  for (const auto &[kind, name] : kKindFiles)
    if (fs::exists(fs::path(dir) / name))
      return kind;
  throw Error(ErrorKind::File, dir + ": neither a run (summary.json), a search (search.json), claims (claims.json), "
                                     "a transfer (transfer.json) nor learning curves (curve.json)");
}

std::string reportHtml(const std::string &dir, const ReportOptions &options) {
  switch (reportKind(dir)) {
  case ReportKind::Run: return runReport(dir, options);
  case ReportKind::Search: return searchReport(dir, options);
  case ReportKind::Claims: return claimsReport(dir, options);
  case ReportKind::Transfer: return transferReport(dir, options);
  case ReportKind::Curve: return curveReport(dir, options);
  }
  return {};
}

} // namespace particle
