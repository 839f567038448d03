#include "explain/ExplainWorker.h"

#include "data/Dataset.h"
#include "explain/Explainer.h"
#include "train/Trainer.h"

#include <QColor>
#include <QPainter>

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
} // namespace

struct ExplainWorker::State {
  std::unique_ptr<Project> project;
  ParticleModel model{nullptr};
  Dataset data;
  torch::Tensor x, targets;
  std::string combine;
  ExplainRequest request;
};

ExplainWorker::ExplainWorker() : state_(std::make_unique<State>()) {}
ExplainWorker::~ExplainWorker() = default;

void ExplainWorker::compute(const ExplainRequest &request) {
  ExplainResult r;
  try {
    Q_EMIT progress(5, tr("loading data"));
    auto project = std::make_unique<Project>(
        projectFromText(request.projectText.toStdString(), request.projectPath.toStdString()));
    project->path = request.projectPath.toStdString();
    State &s = *state_;
    s.data = loadDataset(parseDatasetSpec(project->dataset, project->baseDir()));
    Q_EMIT progress(30, tr("loading the checkpoint"));
    torch::manual_seed(0);
    s.model = ParticleModel(*project);
    Trainer::loadWeights(s.model, request.checkpoint.toStdString(), *project);
    s.project = std::move(project);
    s.request = request;
    const auto combines = s.model->combineIds();
    if (combines.empty())
      throw Error(ErrorKind::Invalid, "the graph has no Combine: there are no sub-models to explain");
    s.combine = combines.front();
    const int64_t n = std::min<int64_t>(request.samples, s.data.testX.size(0));
    s.x = s.data.testX.narrow(0, 0, n);
    const auto y = s.data.testY.narrow(0, 0, n);
    Q_EMIT progress(45, tr("computing %1 attributions for %2 samples").arg(request.method).arg(n));
    ExplainOptions opt;
    opt.method = request.method.toStdString();
    opt.baseline = request.baseline.toStdString();
    opt.target = request.target.toStdString();
    Explainer explainer(s.model, s.data.trainX, opt);
    const Explanation e = explainer.explain(s.x, y);
    s.targets = e.targets;
    const CombineAttribution &c = e.combines.front();
    r.combine = QString::fromStdString(c.combine);
    r.method = request.method;
    r.samples = static_cast<int>(n);
    r.classes = static_cast<int>(s.model->classes());
    for (const auto &b : c.branches) {
      r.branches << QString::fromStdString(b);
      r.branchNodes << QString::fromStdString(PortRef::parse(b) ? PortRef::parse(b)->node : b);
    }
    const auto phi = c.phi.to(torch::kDouble).contiguous().cpu();
    r.phi = QVector<double>(phi.data_ptr<double>(), phi.data_ptr<double>() + phi.numel());
    const auto fx = c.fx.to(torch::kDouble).cpu(), fb = c.fBaseline.to(torch::kDouble).cpu();
    r.fx = QVector<double>(fx.data_ptr<double>(), fx.data_ptr<double>() + fx.numel());
    r.fBaseline = QVector<double>(fb.data_ptr<double>(), fb.data_ptr<double>() + fb.numel());
    if (c.weights.defined()) {
      const auto w = c.weights.to(torch::kDouble).contiguous().cpu();
      r.weights = QVector<double>(w.data_ptr<double>(), w.data_ptr<double>() + w.numel());
    }
    for (int64_t i = 0; i < n; ++i) {
      r.targets << static_cast<int>(e.targets[i].item<int64_t>());
      r.labels << static_cast<int>(y[i].item<int64_t>());
      r.predictions << static_cast<int>(e.predictions[i].item<int64_t>());
    }
    const auto aggregates = Explainer::aggregate(c, e.targets, r.classes);
    for (int cls = 0; cls < r.classes; ++cls)
      for (const auto &a : aggregates)
        r.perClass << a.perClass[cls];
    for (const auto &a : aggregates)
      r.shares << a.share;
    r.completenessMaxError = c.completenessMaxError;
    const Shape sample = s.model->validation().data.sampleShape;
    r.isImage = sample.size() == 3;
    if (r.isImage) {
      for (int64_t i = 0; i < n; ++i)
        r.images << grayImage(s.x[i].mean(0));
      for (const auto &node : s.project->graph.nodes)
        if (node.type == "Split" && s.model->validation().info(node.id)->params["mode"] == "patches") {
          r.gridRows = s.model->validation().info(node.id)->params["rows"];
          r.gridCols = s.model->validation().info(node.id)->params["cols"];
        }
    }
    Q_EMIT progress(100, tr("done"));
  } catch (const std::exception &ex) {
    r.error = QString::fromUtf8(ex.what());
    Q_EMIT progress(100, tr("failed"));
  }
  Q_EMIT computed(r);
}

void ExplainWorker::detail(int index) {
  State &s = *state_;
  SampleDetail d;
  d.index = index;
  if (!s.model || index < 0 || index >= s.x.size(0)) {
    Q_EMIT detailed(d);
    return;
  }
  try {
    const auto x = s.x.narrow(0, index, 1);
    const auto t = s.targets.narrow(0, index, 1);
    Explainer explainer(s.model, {});
    const bool image = s.model->validation().data.sampleShape.size() == 3;
    for (const auto &sal : explainer.integratedGradients(x, t, s.combine, kSaliencyPoints)) {
      d.saliencyDelta << sal.delta.abs().max().item<double>();
      d.saliency << (image ? heatImage(sal.map[0].abs().sum(0)) : heatImage(sal.map.abs().reshape({1, -1})));
    }
    for (const auto &[node, layers] : explainer.attentionMaps(x)) {
      d.attentionNodes << QString::fromStdString(node);
      QVector<QImage> maps;
      for (const auto &layer : layers)
        for (int64_t h = 0; h < layer.size(1); ++h)
          maps << heatImage(layer[0][h]);
      d.attention << maps;
      // Rollout per token, drawn over the node's own input region when the tokens form a grid.
      const auto tokens = Explainer::tokenImportance(Explainer::rollout(layers))[0];
      const int64_t count = tokens.size(0);
      const int64_t side = static_cast<int64_t>(std::lround(std::sqrt(static_cast<double>(count))));
      torch::Tensor grid = side * side == count ? tokens.reshape({side, side}) : tokens.reshape({1, count});
      d.rollout << heatImage(grid);
    }
  } catch (const std::exception &) {
    // Leave the detail empty; the view shows what it has.
  }
  Q_EMIT detailed(d);
}

ExplainController::ExplainController(QObject *parent) : QObject(parent) {
  qRegisterMetaType<ExplainRequest>();
  qRegisterMetaType<ExplainResult>();
  qRegisterMetaType<SampleDetail>();
  worker_ = new ExplainWorker;
  worker_->moveToThread(&thread_);
  connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);
  connect(this, &ExplainController::requestCompute, worker_, &ExplainWorker::compute, Qt::QueuedConnection);
  connect(this, &ExplainController::requestDetail, worker_, &ExplainWorker::detail, Qt::QueuedConnection);
  thread_.setObjectName("explain");
  thread_.start();
}

ExplainController::~ExplainController() {
  thread_.quit();
  thread_.wait();
}

} // namespace particle::ui
