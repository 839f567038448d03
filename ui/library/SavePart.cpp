#include "library/SavePart.h"

#include "document/GraphDocument.h"
#include "graph/Catalogue.h"
#include "recipes/GraphCheckpoint.h"
#include "recipes/Parts.h"
#include "recipes/RunPlan.h"
#include "train/RunFolder.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QThread>
#include <QVBoxLayout>

#include <set>

namespace particle::ui {

std::vector<PartSource> partSources(const GraphDocument &doc, const QString &runsFolder, const QString &extra,
                                    int limit) {
  // The project's run folders ("<name>-<timestamp>"), newest first: the default is the newest.
  const QString prefix = QString::fromStdString(safeRunName(doc.project().name)) + "-";
  QFileInfoList folders =
      QDir(runsFolder).entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name | QDir::Reversed);
  std::vector<PartSource> out;
  QStringList seen;
  for (const QFileInfo &f : folders) {
    if (limit > 0 && static_cast<int>(out.size()) >= limit)
      return out;
    const QString checkpoint = f.absoluteFilePath() + "/checkpoint.pt";
    if (!f.fileName().startsWith(prefix) || !QFileInfo::exists(checkpoint) ||
        !checkpointFit(checkpoint.toStdString(), doc.graph()).fits())
      continue;
    QString label = f.fileName();
    try {
      const RunSummary s = readRunSummary(f.absoluteFilePath().toStdString()).summary;
      label += QObject::tr(" — test accuracy %1%").arg(100 * s.testAccuracy, 0, 'f', 1);
    } catch (const std::exception &) {
      // A run without a readable summary still has its weights; it is named by its folder.
    }
    out.push_back({checkpoint, label});
    seen << QFileInfo(checkpoint).canonicalFilePath();
  }
  if (!extra.isEmpty() && QFileInfo::exists(extra) && !seen.contains(QFileInfo(extra).canonicalFilePath()) &&
      checkpointFit(extra.toStdString(), doc.graph()).fits())
    out.push_back({extra, QDir::toNativeSeparators(extra)});
  return out;
}

QString partRefusal(const GraphDocument &doc, const QStringList &ids) {
  if (ids.isEmpty())
    return QObject::tr("Select the sub-model to save.");
  std::set<std::string> chosen;
  for (const QString &id : ids)
    chosen.insert(id.toStdString());
  for (const QString &id : ids) {
    const Node *n = doc.graph().find(id.toStdString());
    const NodeType *type = n ? Catalogue::instance().find(n->type) : nullptr;
    if (type && (type->role == NodeRole::DataSource || type->role == NodeRole::Output))
      return QObject::tr("%1 is the graph's %2: a particle is a part between the data and the classifier.")
          .arg(id, type->role == NodeRole::DataSource ? QObject::tr("data source") : QObject::tr("classifier"));
  }
  // One way in and one way out: the particle replaces a node between two others.
  std::set<std::string> entered, left;
  int entering = 0;
  for (const Edge &e : doc.graph().edges) {
    const bool from = chosen.count(e.from.node) > 0, to = chosen.count(e.to.node) > 0;
    if (!from && to) {
      ++entering;
      entered.insert(e.to.node);
    } else if (from && !to) {
      left.insert(e.from.toString());
    }
  }
  if (ids.size() > 1 && (entering != 1 || left.size() != 1))
    return QObject::tr("The selection has %1 input(s) and %2 output(s): a particle has one of each (select the "
                       "nodes between one wire in and one wire out).")
        .arg(entering)
        .arg(left.size());
  return {};
}

SavePartDialog::SavePartDialog(const std::vector<PartSource> &sources, const QString &defaultFile, QWidget *parent)
    : QDialog(parent), sources_(sources) {
  setObjectName("savePartDialog");
  setWindowTitle(tr("Save as particle"));
  auto *layout = new QVBoxLayout(this);
  auto *intro = new QLabel(tr("The selected nodes with a run's trained weights and where they came from (project, "
                              "data set, classes, test accuracy), as one file another project can start from."),
                           this);
  intro->setWordWrap(true);
  layout->addWidget(intro);
  auto *form = new QFormLayout;
  runs_ = new QComboBox(this);
  runs_->setObjectName("partRunCombo");
  for (const PartSource &s : sources_)
    runs_->addItem(s.label, s.checkpoint);
  runs_->setToolTip(tr("The run whose weights the particle keeps (the newest first)"));
  form->addRow(tr("Weights of"), runs_);
  auto *fileRow = new QHBoxLayout;
  file_ = new QLineEdit(defaultFile, this);
  file_->setObjectName("partFileEdit");
  file_->setMinimumWidth(380);
  auto *browse = new QPushButton(tr("Browse…"), this);
  connect(browse, &QPushButton::clicked, this, [this] {
    const QString chosen =
        QFileDialog::getSaveFileName(this, tr("Save particle"), file_->text(), tr("Particles (*.particle-part)"));
    if (!chosen.isEmpty())
      file_->setText(chosen);
  });
  fileRow->addWidget(file_, 1);
  fileRow->addWidget(browse);
  form->addRow(tr("File"), fileRow);
  layout->addLayout(form);
  error_ = new QLabel(this);
  error_->setStyleSheet("color: #d03030");
  error_->setWordWrap(true);
  error_->hide();
  layout->addWidget(error_);
  auto *buttons = new QDialogButtonBox(QDialogButtonBox::Save | QDialogButtonBox::Cancel, this);
  connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  layout->addWidget(buttons);
}

QString SavePartDialog::checkpoint() const {
  return runs_->currentData().toString();
}

QString SavePartDialog::file() const {
  QString f = QDir::cleanPath(file_->text().trimmed());
  if (!f.isEmpty() && !f.endsWith(".particle-part"))
    f += ".particle-part";
  return f;
}

void SavePartDialog::accept() {
  // Said here, with the dialog still open to fix it, rather than after a save that fails.
  const QString f = file();
  QString problem;
  if (f.isEmpty())
    problem = tr("Name the file to save to.");
  else if (!QDir::isAbsolutePath(f))
    problem = tr("Give the file's whole path (%1 is relative).").arg(f);
  else if (!QFileInfo(QFileInfo(f).absolutePath()).isDir() && !QDir().mkpath(QFileInfo(f).absolutePath()))
    problem = tr("Cannot create the folder %1.").arg(QFileInfo(f).absolutePath());
  if (!problem.isEmpty()) {
    error_->setText(problem);
    error_->show();
    return;
  }
  QDialog::accept();
}

PartSaver::PartSaver(QObject *parent) : QObject(parent) {}

PartSaver::~PartSaver() {
  if (thread_) {
    thread_->wait();
    delete thread_;
  }
}

void PartSaver::start(const Project &project, const QString &checkpoint, const QStringList &ids, const QString &file) {
  auto error = std::make_shared<QString>();
  std::vector<std::string> nodes;
  for (const QString &id : ids)
    nodes.push_back(id.toStdString());
  thread_ = QThread::create([=, checkpoint = checkpoint.toStdString(), out = file.toStdString()] {
    try {
      savePart(project, checkpoint, nodes, out);
    } catch (const std::exception &e) {
      *error = QString::fromStdString(e.what());
    }
  });
  connect(thread_, &QThread::finished, this, [this, error, file] {
    thread_->deleteLater();
    thread_ = nullptr;
    Q_EMIT finished(file, *error);
  });
  thread_->start();
}

} // namespace particle::ui
