#include "dataset/DataPanel.h"

#include "charts/Spectrogram.h"
#include "data/DatasetSpec.h"
#include "dataset/DataPreviewWorker.h"
#include "document/Commands.h"
#include "document/GraphDocument.h"
#include "forms/SchemaForm.h"

#include <QComboBox>
#include <QHeaderView>
#include <QLabel>
#include <QListWidget>
#include <QScrollBar>
#include <QSignalBlocker>
#include <QTableWidget>
#include <QTimer>
#include <QUndoStack>
#include <QVBoxLayout>

namespace particle::ui {

namespace {
QString datasetKind(const Json &section) {
  return section.is_object() && section.contains("kind") && section["kind"].is_string()
             ? QString::fromStdString(section["kind"].get<std::string>())
             : QString();
}
} // namespace

DataPanel::DataPanel(GraphDocument *doc, QUndoStack *undo, QWidget *parent) : QWidget(parent), doc_(doc), undo_(undo) {
  preview_ = new DataPreviewController(this);
  auto *layout = new QVBoxLayout(this);
  auto *kindRow = new QHBoxLayout;
  auto *kindLabel = new QLabel(tr("kind"), this);
  kind_ = compact(new QComboBox(this));
  kind_->setObjectName("datasetKind");
  for (const auto &k : DataKinds::instance().entries()) {
    kind_->addItem(QString::fromStdString(k.name), QString::fromStdString(k.name));
    kind_->setItemData(kind_->count() - 1, QString::fromStdString(k.doc), Qt::ToolTipRole);
  }
  kindLabel->setBuddy(kind_);
  kindRow->addWidget(kindLabel);
  kindRow->addWidget(kind_, 1);
  layout->addLayout(kindRow);
  kindDoc_ = new QLabel(this);
  kindDoc_->setWordWrap(true);
  kindDoc_->setStyleSheet("color: palette(placeholder-text)");
  layout->addWidget(kindDoc_);
  form_ = new SchemaForm(this);
  form_->setObjectName("datasetForm");
  layout->addWidget(form_);
  status_ = new QLabel(this);
  status_->setObjectName("datasetStatus");
  status_->setWordWrap(true);
  status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  layout->addWidget(status_);
  // What validation says about the data itself (classes with very few samples), after every change.
  auto *warnings = new QLabel(this);
  warnings->setObjectName("datasetWarnings");
  warnings->setWordWrap(true);
  warnings->setTextInteractionFlags(Qt::TextSelectableByMouse);
  warnings->setStyleSheet("color: #b06010");
  warnings->hide();
  layout->addWidget(warnings);
  auto showWarnings = [this, warnings] {
    QStringList lines;
    for (const auto &p : doc_->validation().problems)
      if (p.code == ProblemCode::RareClass)
        lines << "⚠ " + QString::fromStdString(p.message);
    warnings->setText(lines.join("\n"));
    warnings->setVisible(!lines.isEmpty());
  };
  connect(doc_, &GraphDocument::validated, warnings, showWarnings);
  showWarnings();
  summary_ = new QLabel(this);
  summary_->setObjectName("datasetSummary");
  summary_->setWordWrap(true);
  summary_->setTextFormat(Qt::RichText);
  layout->addWidget(summary_);
  thumbnails_ = new QListWidget(this);
  thumbnails_->setObjectName("datasetThumbnails");
  thumbnails_->setViewMode(QListView::IconMode);
  thumbnails_->setIconSize(QSize(44, 44));
  thumbnails_->setGridSize(QSize(70, 70));
  thumbnails_->setResizeMode(QListView::Adjust);
  thumbnails_->setMovement(QListView::Static);
  thumbnails_->setWordWrap(true);
  thumbnails_->setMinimumHeight(80);
  layout->addWidget(thumbnails_, 1);
  spectrogram_ = new SpectrogramView(this);
  spectrogram_->setToolTip(tr("The training sample chosen above: time across, frequency up (low at the bottom)"));
  // It takes the room left below the form, from a readable minimum, rather than asking for its
  // preferred height (which scrolled it out of view).
  spectrogram_->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Ignored);
  spectrogram_->setMinimumHeight(200);
  layout->addWidget(spectrogram_, 2);
  spectrogram_->hide();
  connect(thumbnails_, &QListWidget::currentRowChanged, this, &DataPanel::showAudioSample);
  rows_ = new QTableWidget(this);
  rows_->setObjectName("datasetRows");
  rows_->verticalHeader()->hide();
  rows_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  rows_->setMinimumHeight(80);
  layout->addWidget(rows_, 1);
  thumbnails_->hide();
  rows_->hide();

  connect(kind_, &QComboBox::activated, this, [this](int index) {
    const QString kind = kind_->itemData(index).toString();
    if (kind == datasetKind(doc_->project().dataset))
      return;
    if (auto *cmd = commands::setDatasetKey(doc_, "kind", Json(kind.toStdString())))
      undo_->push(cmd);
  });
  connect(form_, &SchemaForm::edited, this, [this](const QString &key, const Json &value) {
    if (auto *cmd = commands::setDatasetKey(doc_, key, value))
      undo_->push(cmd);
  });
  connect(preview_->worker(), &DataPreviewWorker::previewed, this, &DataPanel::onPreview);
  connect(doc_, &GraphDocument::modelReset, this, &DataPanel::refresh);
  connect(doc_, &GraphDocument::datasetChanged, this, &DataPanel::refresh);
  refresh();
}

DataPanel::~DataPanel() = default;

void DataPanel::refresh() {
  const Json &section = doc_->project().dataset;
  const QString kind = datasetKind(section);
  {
    const QSignalBlocker block(kind_);
    kind_->setCurrentIndex(kind_->findData(kind));
  }
  const DataKind *type = DataKinds::instance().find(kind.toStdString());
  // The doc's first clause, the whole of it in the tooltips; it helps to fill in the form and gives
  // way to the preview once the data is read (below), so that the narrow panel keeps its height for
  // the preview: an audio folder's spectrogram in view without scrolling.
  const QString doc = type ? QString::fromStdString(type->doc) : QString();
  kindDoc_->setText(type ? (doc.contains(';') ? doc.section(';', 0, 0) + "…" : doc) : tr("Choose a kind of data set."));
  kindDoc_->setToolTip(doc);
  kind_->setToolTip(doc);
  // A project without a file has no folder: files chosen for it are stored with absolute paths.
  form_->setBaseDir(doc_->sourcePath().isEmpty() ? QString() : QString::fromStdString(doc_->project().baseDir()));
  form_->setSchema(type ? datasetSchema(*type) : Schema{}, kind);
  form_->setValues(section);
  // The column names of a table are offered for its column keys.
  QStringList columns;
  for (const auto &c : datasetColumns(section, doc_->project().baseDir()))
    columns << QString::fromStdString(c);
  if (!columns.isEmpty()) {
    form_->setSuggestions("label_column", columns);
    form_->setSuggestions("text_column", columns); // texts: a CSV's header or a JSON line's fields
  }
  // What is wrong, beside the key it is about.
  std::map<std::string, QString> problems;
  const QString error = doc_->dataError();
  if (!doc_->dataErrorKey().isEmpty()) {
    problems[doc_->dataErrorKey().toStdString()] = doc_->dataErrorDetail();
  } else if (!error.isEmpty() && type) {
    // A file that cannot be read: the problem goes beside the key that names the file.
    const Json resolved = withAbsolutePaths(section, doc_->project().baseDir());
    for (const auto &f : type->keys.fields())
      if (f.kind == FieldKind::Path && resolved.contains(f.name) && resolved[f.name].is_string() &&
          error.startsWith(QString::fromStdString(resolved[f.name].get<std::string>())))
        problems[f.name] = error;
  }
  form_->setProblems(problems);
  // A folder with train/ and test/ folders of its own is split by them (the probe says so), so its
  // test fraction decides nothing: greyed, and the tooltip says why.
  if (QWidget *fraction = form_->editor("test_fraction")) {
    const bool ownTest = doc_->dataInfo() && doc_->dataInfo()->ownTestSplit;
    form_->setEditable([ownTest](const std::string &key) { return !ownTest || key != "test_fraction"; });
    if (!fraction->property("schemaToolTip").isValid())
      fraction->setProperty("schemaToolTip", fraction->toolTip());
    fraction->setToolTip(ownTest ? tr("The folder's test/ folder is the test split: the test fraction applies only "
                                      "to a folder without one")
                                 : fraction->property("schemaToolTip").toString());
  }
  // One summary: the error, or (until the preview arrives) what the probe found.
  if (!error.isEmpty()) {
    status_->setText(tr("<span style='color:#d03030'>%1</span>").arg(error.toHtmlEscaped()));
    status_->show();
    summary_->clear();
    thumbnails_->clear();
    thumbnails_->hide();
    spectrogram_->hide();
    rows_->clear();
    rows_->hide();
  } else if (const DataInfo *d = doc_->dataInfo()) {
    status_->setText(tr("%1 train · %2 validation · %3 test · sample %4 · %5 classes")
                         .arg(d->trainCount)
                         .arg(d->validationCount)
                         .arg(d->testCount)
                         .arg(QString::fromStdString(shapeToString(d->sampleShape, !d->vocabulary.empty())))
                         .arg(d->classes));
    status_->setVisible(!previewReady_);
  }
  requestPreview();
}

void DataPanel::requestPreview() {
  const QString section = QString::fromStdString(doc_->project().dataset.dump());
  // The same section in another project's folder is another data set.
  const QString key = section + "@" + QString::fromStdString(doc_->project().baseDir());
  if (key == previewedSection_)
    return;
  previewedSection_ = key;
  thumbnails_->clear();
  rows_->clear();
  previewReady_ = false;
  kindDoc_->show();
  if (!doc_->dataError().isEmpty()) {
    summary_->clear();
    thumbnails_->clear();
    rows_->clear();
    return;
  }
  summary_->setText(tr("<i>loading a preview…</i>"));
  preview_->request(section, QString::fromStdString(doc_->project().baseDir()));
}

void DataPanel::onPreview(const DataPreview &p) {
  previewReady_ = true;
  kindDoc_->setVisible(!p.error.isEmpty());
  status_->setVisible(!doc_->dataError().isEmpty());
  thumbnails_->clear();
  rows_->clear();
  if (!p.error.isEmpty()) {
    summary_->setText(tr("<span style='color:#d03030'>%1</span>").arg(p.error.toHtmlEscaped()));
    thumbnails_->hide();
    spectrogram_->hide();
    rows_->hide();
    Q_EMIT previewUpdated();
    return;
  }
  QStringList names;
  for (int i = 0; i < p.classNames.size() && i < 30; ++i)
    names << (p.classNames[i] == QString::number(i)
                  ? QString::number(i)
                  : QString("%1&nbsp;%2").arg(i).arg(p.classNames[i].toHtmlEscaped()));
  if (p.classNames.size() > 30)
    names << tr("… %1 more").arg(p.classNames.size() - 30);
  summary_->setText(tr("<b>%1</b> train · <b>%2</b> validation · <b>%3</b> test · sample <b>%4</b> (loaded in %5 s)"
                       "<br><b>%6 classes:</b> %7")
                        .arg(p.train)
                        .arg(p.validation)
                        .arg(p.test)
                        .arg(p.shape)
                        .arg(p.seconds, 0, 'f', 1)
                        .arg(p.classNames.size())
                        .arg(names.join(" · ")));
  if (!p.tokenLengths.isEmpty()) {
    QStringList lines;
    for (const auto &line : p.tokenLengths)
      lines << line.toHtmlEscaped();
    summary_->setText(summary_->text() + tr("<br><b>tokens per training text:</b> %1").arg(lines.join("<br>")));
  }
  if (!p.thumbnails.isEmpty()) {
    for (int i = 0; i < p.thumbnails.size(); ++i) {
      auto *item = new QListWidgetItem(QIcon(QPixmap::fromImage(p.thumbnails[i].scaled(44, 44))),
                                       p.classNames.value(p.thumbnailLabels[i]), thumbnails_);
      item->setToolTip(tr("training sample %1: %2").arg(i).arg(p.classNames.value(p.thumbnailLabels[i])));
    }
  }
  thumbnails_->setVisible(!p.thumbnails.isEmpty());
  // Audio: the first sample drawn large until another thumbnail is chosen.
  audioValues_ = p.audioValues;
  audio_ = p.audio;
  audioRows_ = p.audioRows;
  audioCols_ = p.audioCols;
  audioTitles_.clear();
  for (int i = 0; i < p.audioValues.size(); ++i)
    audioTitles_ << tr("training sample %1: %2").arg(i).arg(p.classNames.value(p.thumbnailLabels.value(i)));
  spectrogram_->setVisible(!audioValues_.isEmpty());
  // Audio: the thumbnails in one row that scrolls across, so that the one chosen is drawn large
  // below them without scrolling the panel; images keep their grid.
  const bool strip = !audioValues_.isEmpty();
  thumbnails_->setWrapping(!strip);
  const int stripHeight = thumbnails_->gridSize().height() + thumbnails_->horizontalScrollBar()->sizeHint().height() +
                          2 * thumbnails_->frameWidth() + 2;
  thumbnails_->setMinimumHeight(strip ? stripHeight : 80);
  thumbnails_->setMaximumHeight(strip ? stripHeight : QWIDGETSIZE_MAX);
  if (!audioValues_.isEmpty())
    thumbnails_->setCurrentRow(0);
  showAudioSample(thumbnails_->currentRow());
  if (!p.rows.isEmpty()) {
    rows_->setColumnCount(static_cast<int>(p.rowHeader.size()) + 1);
    rows_->setRowCount(static_cast<int>(p.rows.size()));
    rows_->setHorizontalHeaderLabels(QStringList{tr("class")} + p.rowHeader);
    // A wide column (a text's words) keeps its title in view.
    rows_->horizontalHeader()->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    for (int r = 0; r < p.rows.size(); ++r)
      for (int c = 0; c < p.rows[r].size(); ++c)
        rows_->setItem(r, c, new QTableWidgetItem(p.rows[r][c]));
    rows_->resizeColumnsToContents();
  }
  rows_->setVisible(!p.rows.isEmpty());
  Q_EMIT previewUpdated();
}

void DataPanel::showAudioSample(int index) {
  if (index < 0 || index >= audioValues_.size()) {
    spectrogram_->clear();
    return;
  }
  spectrogram_->setSample(audioValues_[index], audioRows_, audioCols_, audio_, audioTitles_.value(index));
}

} // namespace particle::ui
