#include "explain/ExplainWorker.h"

#include "explain/TokenReport.h"
#include "recipes/ExplainSession.h"

#include "ThreadHandoff.h"
#include "charts/Spectrogram.h"

#include <QColor>

#include <cmath>

namespace particle::ui {

namespace {
constexpr int kSaliencyPoints = 32;

// A [H, W] tensor in [0, 1] as an 8-bit grayscale image.
QImage grayImage(const torch::Tensor &hw) {
  const auto t = hw.to(torch::kFloat).contiguous().cpu();
  const int h = static_cast<int>(t.size(0)), w = static_cast<int>(t.size(1));
  QImage img(w, h, QImage::Format_Grayscale8);
  const float *p = t.data_ptr<float>();
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      img.scanLine(y)[x] = static_cast<uchar>(std::clamp(p[y * w + x], 0.0f, 1.0f) * 255.0f);
  return img;
}

// Magnitudes as a heat map with alpha (for overlays): transparent where small.
QImage heatImage(const torch::Tensor &hw) {
  auto t = hw.to(torch::kFloat).contiguous().cpu();
  const float scale = std::max(t.max().item<float>(), 1e-12f);
  const int h = static_cast<int>(t.size(0)), w = static_cast<int>(t.size(1));
  QImage img(w, h, QImage::Format_ARGB32);
  const float *p = t.data_ptr<float>();
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const float v = std::clamp(p[y * w + x] / scale, 0.0f, 1.0f);
      QColor c = QColor::fromHsvF(0.66 * (1.0 - v), 1.0, 1.0);
      c.setAlphaF(0.85 * v); // no attribution: fully transparent
      img.setPixelColor(x, y, c);
    }
  return img;
}

// The columns a branch reads, by name: a categorical column's one-hot features ("city=Oslo") count
// once, as "city"; long lists are cut ("a, b, c +4").
QString columnsOf(const std::vector<int64_t> &region, const std::vector<std::string> &features) {
  QStringList columns;
  auto add = [&](const std::string &feature) {
    const auto eq = feature.find('=');
    const QString column = QString::fromStdString(eq == std::string::npos ? feature : feature.substr(0, eq));
    if (!columns.contains(column))
      columns << column;
  };
  if (region.empty())
    for (const auto &f : features)
      add(f);
  for (int64_t i : region)
    if (i >= 0 && i < static_cast<int64_t>(features.size()))
      add(features[static_cast<std::size_t>(i)]);
  constexpr int kShown = 3;
  if (columns.size() <= kShown + 1)
    return columns.join(", ");
  return columns.mid(0, kShown).join(", ") + QString(" +%1").arg(columns.size() - kShown);
}

template <class T> QVector<double> toVector(const torch::Tensor &t) {
  const auto c = t.to(torch::kDouble).contiguous().cpu();
  return QVector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

bool cancelled(const std::shared_ptr<CancelFlag> &flag) {
  return flag && flag->cancelled.load();
}
} // namespace

struct ExplainWorker::State {
  std::unique_ptr<ExplainSession> session;
  std::string sessionKey; // project text + checkpoint the session was loaded for
  Explanation explanation;
};

ExplainWorker::ExplainWorker() : state_(std::make_unique<State>()) {}
ExplainWorker::~ExplainWorker() = default;

void ExplainWorker::compute(const ExplainRequest &request) {
  handoffAcquire();
  if (cancelled(request.cancel))
    return; // a newer request replaced this one before it started
  ExplainResult r;
  r.method = request.method;
  r.target = request.target;
  try {
    State &s = *state_;
    const std::string key = request.projectText.toStdString() + "\n" + request.checkpoint.toStdString();
    if (!s.session || s.sessionKey != key) {
      handoffRelease();
      Q_EMIT progress(5, tr("loading data and checkpoint"));
      s.session.reset();
      Project project = projectFromText(request.projectText.toStdString(), request.projectPath.toStdString());
      project.path = request.projectPath.toStdString();
      s.session = std::make_unique<ExplainSession>(project, request.checkpoint.toStdString());
      s.sessionKey = key;
    }
    if (cancelled(request.cancel))
      throw Cancelled();
    ExplainOptions opt;
    opt.method = parseMethod(request.method.toStdString());
    opt.baseline = parseBaseline(request.baseline.toStdString());
    opt.target = parseTarget(request.target.toStdString());
    opt.cancel = request.cancel.get();
    const int64_t n = s.session->samples(request.samples).size(0);
    handoffRelease();
    Q_EMIT progress(40, tr("%1 over %2 samples").arg(request.method).arg(n));
    s.explanation = s.session->explain(opt, n);
    const Explanation &e = s.explanation;
    const DataInfo &info = s.session->info();
    r.samples = static_cast<int>(n);
    r.drawn = QString::fromStdString(s.session->samplesText(n));
    r.classes = static_cast<int>(info.classes);
    for (int64_t c = 0; c < info.classes; ++c)
      r.classNames << QString::fromStdString(className(info, c));
    for (const auto &name : s.session->sampleNames(n))
      r.sampleNames << QString::fromStdString(name);
    const auto y = s.session->labels(n);
    for (int64_t i = 0; i < n; ++i) {
      r.targets << static_cast<int>(e.targets[i].item<int64_t>());
      r.labels << static_cast<int>(y[i].item<int64_t>());
      r.predictions << static_cast<int>(e.predictions[i].item<int64_t>());
    }
    const Shape sample = info.sampleShape;
    r.isText = !info.vocabulary.empty();
    r.isTable = !r.isText && sample.size() == 1 && !info.featureNames.empty() &&
                sample[0] == static_cast<int64_t>(info.featureNames.size());
    for (const auto &c : e.combines) {
      CombineResult cr;
      cr.combine = QString::fromStdString(c.combine);
      for (const auto &b : c.branches) {
        cr.branches << QString::fromStdString(b);
        const auto ref = PortRef::parse(b);
        cr.branchNodes << QString::fromStdString(ref ? ref->node : b);
      }
      cr.phi = toVector<double>(c.phi);
      cr.fx = toVector<double>(c.fx);
      cr.fBaseline = toVector<double>(c.fBaseline);
      if (c.weights.defined())
        cr.weights = toVector<double>(c.weights);
      const auto aggregates = Explainer::aggregate(c, e.targets, info.classes);
      for (int cls = 0; cls < r.classes; ++cls)
        for (const auto &a : aggregates)
          cr.perClass << a.perClass[static_cast<std::size_t>(cls)];
      for (const auto &a : aggregates)
        cr.shares << a.share;
      for (const auto &region : s.session->branchRegions(c.combine)) {
        cr.regions << QVector<qint64>(region.begin(), region.end());
        if (r.isTable)
          cr.branchColumns << columnsOf(region, info.featureNames);
        else if (!info.audio.features.empty())
          cr.branchColumns << QString::fromStdString(audioPartRange(region, info));
      }
      cr.completenessMaxError = c.completenessMaxError;
      cr.exact = c.exact;
      r.combines << cr;
    }
    r.isAudio = !info.audio.features.empty();
    r.isImage = sample.size() == 3 && !r.isAudio;
    if (r.isTable) {
      for (const auto &f : info.featureNames)
        r.featureNames << QString::fromStdString(f);
      r.values = toVector<double>(s.session->samples(n));
    }
    if (r.isImage) {
      r.channels = static_cast<int>(sample[0]);
      r.imageHeight = static_cast<int>(sample[1]);
      r.imageWidth = static_cast<int>(sample[2]);
      const auto x = s.session->samples(n);
      for (int64_t i = 0; i < n; ++i)
        r.images << grayImage(x[i].mean(0));
    }
    if (r.isAudio) {
      r.audio = info.audio;
      r.audioRows = sample.size() == 3 ? static_cast<int>(sample[1]) : 1;
      r.audioCols = static_cast<int>(sample.back());
      const auto x = s.session->samples(n).to(torch::kFloat).contiguous();
      for (int64_t i = 0; i < n; ++i) {
        const auto v = x[i].contiguous();
        r.audioValues << QVector<float>(v.data_ptr<float>(), v.data_ptr<float>() + v.numel());
        r.images << audioImage(r.audioValues.back(), r.audioRows, r.audioCols);
      }
    }
    handoffRelease();
    Q_EMIT progress(100, tr("done"));
  } catch (const Cancelled &) {
    r.cancelled = true;
    handoffRelease();
    Q_EMIT progress(0, tr("cancelled"));
  } catch (const std::exception &ex) {
    r.error = QString::fromUtf8(ex.what());
    handoffRelease();
    Q_EMIT progress(0, tr("failed"));
  }
  handoffRelease();
  Q_EMIT computed(r);
}

void ExplainWorker::detail(int index, const QString &combine, const std::shared_ptr<CancelFlag> &cancel) {
  handoffAcquire();
  if (cancelled(cancel))
    return; // the user has moved on to another sample
  State &s = *state_;
  SampleDetail d;
  d.index = index;
  d.combine = combine;
  if (!s.session || index < 0 || index >= s.explanation.targets.size(0)) {
    handoffRelease();
    Q_EMIT detailed(d);
    return;
  }
  try {
    const bool audio = !s.session->info().audio.features.empty();
    const bool image = s.session->info().sampleShape.size() == 3 && !audio;
    const int64_t target = s.explanation.targets[index].item<int64_t>();
    const auto saliency = s.session->saliency(index, target, combine.toStdString(), kSaliencyPoints);
    std::vector<std::string> branchNames;
    torch::Tensor stitched; // audio: each branch's |IG| lies on its own band; their sum is the whole map
    for (const auto &sal : saliency) {
      d.saliencyDelta << sal.delta.abs().max().item<double>();
      if (audio)
        stitched = stitched.defined() ? stitched + sal.map[0].abs() : sal.map[0].abs();
      else
        d.saliency << (image ? heatImage(sal.map[0].abs().sum(0)) : heatImage(sal.map.abs().reshape({1, -1})));
      branchNames.push_back(sal.branch);
    }
    if (stitched.defined()) {
      const auto v = stitched.to(torch::kFloat).contiguous();
      d.audioSaliency = QVector<float>(v.data_ptr<float>(), v.data_ptr<float>() + v.numel());
    }
    if (const auto &vocabulary = s.session->info().vocabulary; !vocabulary.empty()) {
      const auto ids = s.session->samples(index + 1).narrow(0, index, 1);
      d.tokensHtml = QString::fromStdString(tokensHtml(tokenAttributions(vocabulary, ids, 0, saliency), branchNames));
      d.tokensLegend = QString::fromStdString(tokensLegendHtml());
    }
    for (const auto &[node, layers] : s.session->attention(index)) {
      d.attentionNodes << QString::fromStdString(node);
      QVector<QImage> maps;
      QStringList names;
      for (std::size_t l = 0; l < layers.size(); ++l)
        for (int64_t h = 0; h < layers[l].size(1); ++h) {
          maps << heatImage(layers[l][0][h]);
          names << tr("layer %1 · head %2").arg(l + 1).arg(h + 1);
        }
      d.attention << maps;
      d.attentionNames << names;
      // Rollout per token, drawn as a grid when the tokens form one.
      const auto tokens = Explainer::tokenImportance(Explainer::rollout(layers))[0];
      const int64_t count = tokens.size(0);
      const auto side = static_cast<int64_t>(std::lround(std::sqrt(static_cast<double>(count))));
      torch::Tensor grid = side * side == count ? tokens.reshape({side, side}) : tokens.reshape({1, count});
      d.rollout << heatImage(grid);
    }
  } catch (const std::exception &) {
    // Leave the detail empty; the view shows what it has.
  }
  handoffRelease();
  Q_EMIT detailed(d);
}

ExplainController::ExplainController(QObject *parent) : QObject(parent) {
  installHandoffFilter();
  qRegisterMetaType<ExplainRequest>();
  qRegisterMetaType<ExplainResult>();
  qRegisterMetaType<SampleDetail>();
  qRegisterMetaType<std::shared_ptr<CancelFlag>>();
  worker_ = new ExplainWorker;
  worker_->moveToThread(&thread_);
  // The worker's last act on its thread; the destructor deletes it after the join (ThreadHandoff.h).
  connect(
      &thread_, &QThread::finished, this, [] { handoffRelease(); }, Qt::DirectConnection);
  connect(this, &ExplainController::requestCompute, worker_, &ExplainWorker::compute, Qt::QueuedConnection);
  connect(this, &ExplainController::requestDetail, worker_, &ExplainWorker::detail, Qt::QueuedConnection);
  thread_.setObjectName("explain");
  thread_.start();
}

ExplainController::~ExplainController() {
  cancel();
  thread_.quit();
  thread_.wait();
  handoffAcquire();
  delete worker_;
}

void ExplainController::compute(ExplainRequest request) {
  cancel();
  computeCancel_ = std::make_shared<CancelFlag>();
  request.cancel = computeCancel_;
  handoffRelease();
  Q_EMIT requestCompute(request);
}

void ExplainController::detail(int index, const QString &combine) {
  if (detailCancel_)
    detailCancel_->cancelled = true;
  detailCancel_ = std::make_shared<CancelFlag>();
  handoffRelease();
  Q_EMIT requestDetail(index, combine, detailCancel_);
}

void ExplainController::cancel() {
  if (computeCancel_)
    computeCancel_->cancelled = true;
  if (detailCancel_)
    detailCancel_->cancelled = true;
}

} // namespace particle::ui
