#include "dataset/DataPreviewWorker.h"

#include "data/Dataset.h"
#include "data/TextLengths.h"
#include "data/Tokenizer.h"

#include "ThreadHandoff.h"
#include "charts/Spectrogram.h"

#include <QElapsedTimer>

namespace particle::ui {

namespace {
constexpr int kThumbnails = 12;
constexpr int kRows = 6;
constexpr int kColumns = 6;

// One line per text field: "median 41 · 95th percentile 230 · longest 9870 · 14% cut at
// max_tokens 512 · suggested max_tokens 232".
QStringList lengthLines(const TokenLengths &l) {
  QStringList lines;
  for (std::size_t f = 0; f < l.lengths.size(); ++f) {
    const LengthSummary s = summarizeLengths(l.lengths[f], l.maxTokens);
    if (s.texts == 0)
      continue;
    // SentencePiece counts after the cut: a text of max_tokens pieces may be longer.
    const bool capped = l.capped && s.longest >= l.maxTokens;
    QString line = DataPreviewWorker::tr("median %1 · 95th percentile %2 · longest %3%4")
                       .arg(s.median)
                       .arg(s.p95)
                       .arg(capped ? "≥ " : "")
                       .arg(s.longest);
    if (s.cut > 0)
      line += DataPreviewWorker::tr(" · %1% cut at max_tokens %2")
                  .arg(QString::number(100.0 * static_cast<double>(s.cut) / static_cast<double>(s.texts), 'f', 0))
                  .arg(l.maxTokens);
    else
      line += DataPreviewWorker::tr(" · none cut at max_tokens %1").arg(l.maxTokens);
    if (!(capped && s.p95 >= l.maxTokens))
      line += DataPreviewWorker::tr(" · suggested max_tokens %1").arg(s.suggested);
    if (l.lengths.size() > 1 && f < l.fields.size())
      line = QString::fromStdString(l.fields[f]) + ": " + line;
    lines << line;
  }
  return lines;
}
} // namespace

void DataPreviewWorker::preview(const QString &datasetJson, const QString &baseDir,
                                const std::shared_ptr<std::atomic<bool>> &stale) {
  handoffAcquire();
  if (stale && stale->load())
    return; // the data set changed again before this preview started
  DataPreview p;
  QElapsedTimer clock;
  clock.start();
  try {
    DatasetSpec spec = parseDatasetSpec(Json::parse(datasetJson.toStdString()), baseDir.toStdString());
    spec.cancel = stale; // a newer request, or the window closing, abandons this load
    const Dataset d = loadDataset(spec);
    p.train = d.trainX.size(0);
    p.validation = d.valX.defined() ? d.valX.size(0) : 0;
    p.test = d.testX.defined() ? d.testX.size(0) : 0;
    p.shape = QString::fromStdString(shapeToString(d.info.sampleShape, !d.info.vocabulary.empty()));
    for (int64_t c = 0; c < d.info.classes; ++c)
      p.classNames << QString::fromStdString(className(d.info, c));
    const bool audio = !d.info.audio.features.empty();
    const int64_t n =
        std::min<int64_t>(d.trainX.size(0), audio || d.info.sampleShape.size() == 3 ? kThumbnails : kRows);
    if (audio) {
      // A logmel sample [1, mels, frames] or a waveform [1, samples]: its values, drawn by the panel.
      p.audio = d.info.audio;
      p.audioRows = d.info.sampleShape.size() == 3 ? static_cast<int>(d.info.sampleShape[1]) : 1;
      p.audioCols = static_cast<int>(d.info.sampleShape.back());
      for (int64_t i = 0; i < n; ++i) {
        const auto x = d.trainX[i].to(torch::kFloat).contiguous();
        p.audioValues << QVector<float>(x.data_ptr<float>(), x.data_ptr<float>() + x.numel());
        p.thumbnails << audioImage(p.audioValues.back(), p.audioRows, p.audioCols);
        p.thumbnailLabels << static_cast<int>(d.trainY[i].item<int64_t>());
      }
    } else if (d.info.sampleShape.size() == 3) {
      for (int64_t i = 0; i < n; ++i) {
        // Channels averaged, scaled to the sample's own range.
        auto img = d.trainX[i].to(torch::kFloat).mean(0);
        const float lo = img.min().item<float>(), hi = img.max().item<float>();
        img = ((img - lo) / std::max(hi - lo, 1e-6f)).contiguous();
        const int h = static_cast<int>(img.size(0)), w = static_cast<int>(img.size(1));
        QImage q(w, h, QImage::Format_Grayscale8);
        const float *px = img.data_ptr<float>();
        for (int y = 0; y < h; ++y)
          for (int x = 0; x < w; ++x)
            q.scanLine(y)[x] = static_cast<uchar>(px[y * w + x] * 255.0f);
        p.thumbnails << q;
        p.thumbnailLabels << static_cast<int>(d.trainY[i].item<int64_t>());
      }
    } else if (!d.info.vocabulary.empty()) {
      // Text: the tokens each sample keeps (its first ones), <unk> for those outside the vocabulary;
      // SentencePiece pieces joined into words as they read.
      if (const auto lengths = textTokenLengths(spec))
        p.tokenLengths = lengthLines(*lengths);
      const bool pieces = isPieceVocabulary(d.info.vocabulary);
      p.rowHeader << (pieces ? tr("text as SentencePiece pieces (%1 pieces)") : tr("words (%1 in the vocabulary)"))
                         .arg(d.info.vocabulary.size());
      const auto ids = d.trainX.narrow(0, 0, n).to(torch::kLong).contiguous();
      for (int64_t i = 0; i < n; ++i) {
        std::string text;
        int shown = 0;
        for (int64_t k = 0; k < ids.size(1) && shown < 60; ++k)
          if (const int64_t id = ids[i][k].item<int64_t>();
              id > 0 && id < static_cast<int64_t>(d.info.vocabulary.size())) {
            const ReadableToken t = readableToken(d.info.vocabulary[static_cast<std::size_t>(id)], pieces);
            text += (t.joinsPrevious || text.empty() ? "" : " ") + t.text;
            ++shown;
          }
        p.rows << QStringList{p.classNames.value(static_cast<int>(d.trainY[i].item<int64_t>())),
                              QString::fromStdString(text) + " …"};
      }
    } else {
      const auto flat = d.trainX.narrow(0, 0, n).reshape({n, -1}).to(torch::kDouble);
      const int64_t cols = std::min<int64_t>(flat.size(1), kColumns);
      for (int64_t j = 0; j < cols; ++j)
        p.rowHeader << (j < static_cast<int64_t>(d.info.featureNames.size())
                            ? QString::fromStdString(d.info.featureNames[static_cast<std::size_t>(j)])
                            : QString("x%1").arg(j));
      if (flat.size(1) > cols)
        p.rowHeader << "…";
      for (int64_t i = 0; i < n; ++i) {
        QStringList row = {p.classNames.value(static_cast<int>(d.trainY[i].item<int64_t>()))};
        for (int64_t j = 0; j < cols; ++j)
          row << QString::number(flat[i][j].item<double>(), 'g', 4);
        if (flat.size(1) > cols)
          row << "…";
        p.rows << row;
      }
    }
  } catch (const LoadCancelled &) {
    return;
  } catch (const std::exception &e) {
    p.error = QString::fromUtf8(e.what());
  }
  p.seconds = static_cast<double>(clock.elapsed()) / 1000.0;
  if (stale && stale->load())
    return;
  handoffRelease();
  Q_EMIT previewed(p);
}

DataPreviewController::DataPreviewController(QObject *parent) : QObject(parent) {
  installHandoffFilter();
  qRegisterMetaType<DataPreview>();
  qRegisterMetaType<std::shared_ptr<std::atomic<bool>>>();
  worker_ = new DataPreviewWorker;
  worker_->moveToThread(&thread_);
  // The worker's last act on its thread; the destructor deletes it after the join (ThreadHandoff.h).
  connect(
      &thread_, &QThread::finished, this, [] { handoffRelease(); }, Qt::DirectConnection);
  connect(this, &DataPreviewController::requestPreview, worker_, &DataPreviewWorker::preview, Qt::QueuedConnection);
  thread_.setObjectName("data-preview");
  thread_.start();
}

DataPreviewController::~DataPreviewController() {
  if (stale_)
    stale_->store(true);
  thread_.quit();
  thread_.wait();
  handoffAcquire();
  delete worker_;
}

void DataPreviewController::request(const QString &datasetJson, const QString &baseDir) {
  if (stale_)
    stale_->store(true);
  stale_ = std::make_shared<std::atomic<bool>>(false);
  handoffRelease();
  Q_EMIT requestPreview(datasetJson, baseDir, stale_);
}

} // namespace particle::ui
