#include "report/ReportExport.h"

#include "base/Error.h"
#include "recipes/Report.h"
#include "training/EngineWorker.h"

#include <QDesktopServices>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMainWindow>
#include <QMessageBox>
#include <QProcess>
#include <QPushButton>
#include <QStatusBar>
#include <QUrl>
#include <QVBoxLayout>

namespace particle::ui {

namespace {
QString folderTip() {
  return QObject::tr("A run folder (summary.json), a search (search.json), claims (claims.json), a transfer "
                     "(transfer.json) or learning curves (curve.json)");
}

// Beside the folder, named after it: runs/x-20261205 → runs/x-20261205-report.html.
QString defaultFile(const QString &folder) {
  const QFileInfo info(QDir::cleanPath(QDir(folder).absolutePath()));
  return info.path() + "/" + info.fileName() + "-report.html";
}
} // namespace

ReportDialog::ReportDialog(QWidget *parent, const QString &start) : QDialog(parent) {
  setWindowTitle(tr("Export report"));
  setObjectName("reportDialog");
  auto *layout = new QVBoxLayout(this);
  auto *intro = new QLabel(tr("One HTML file that opens offline in any browser: figures, tables and, for a run, its "
                              "model card."),
                           this);
  intro->setWordWrap(true);
  layout->addWidget(intro);
  auto *form = new QFormLayout;
  folder_ = new QLineEdit(start, this);
  folder_->setObjectName("reportFolder");
  folder_->setMinimumWidth(420);
  auto *chooseFolder = new QPushButton(tr("Choose…"), this);
  chooseFolder->setObjectName("reportFolderChoose");
  auto *folderRow = new QHBoxLayout;
  folderRow->addWidget(folder_, 1);
  folderRow->addWidget(chooseFolder);
  form->addRow(tr("Report of"), folderRow);
  kind_ = new QLabel(this);
  kind_->setObjectName("reportKind");
  kind_->setWordWrap(true);
  form->addRow(QString(), kind_);
  file_ = new QLineEdit(this);
  file_->setObjectName("reportFile");
  auto *chooseFile = new QPushButton(tr("Choose…"), this);
  chooseFile->setObjectName("reportFileChoose");
  auto *fileRow = new QHBoxLayout;
  fileRow->addWidget(file_, 1);
  fileRow->addWidget(chooseFile);
  form->addRow(tr("Save as"), fileRow);
  layout->addLayout(form);
  auto *buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
  ok_ = buttons->addButton(tr("Export"), QDialogButtonBox::AcceptRole);
  ok_->setObjectName("reportExportButton");
  layout->addWidget(buttons);
  connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(folder_, &QLineEdit::textChanged, this, &ReportDialog::folderChanged);
  connect(file_, &QLineEdit::textEdited, this, [this] {
    fileEdited_ = true;
    folderChanged();
  });
  connect(chooseFolder, &QPushButton::clicked, this, [this] {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Report of which folder?"), folder());
    if (!dir.isEmpty())
      folder_->setText(dir);
  });
  connect(chooseFile, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getSaveFileName(this, tr("Save the report as"), file(), tr("HTML (*.html)"));
    if (!path.isEmpty()) {
      fileEdited_ = true;
      file_->setText(path);
      folderChanged();
    }
  });
  folderChanged();
  ok_->setDefault(true);
}

QString ReportDialog::folder() const {
  return folder_->text().trimmed();
}

QString ReportDialog::file() const {
  return file_->text().trimmed();
}

void ReportDialog::folderChanged() {
  bool ok = false;
  if (folder().isEmpty()) {
    kind_->setText(tr("Choose a run, search, claims, transfer or learning-curve folder."));
  } else {
    try {
      kind_->setText(tr("A %1 folder.").arg(reportKindName(reportKind(folder().toStdString()))));
      ok = true;
    } catch (const Error &e) {
      kind_->setText(QString::fromStdString(e.what()));
    }
  }
  if (ok && !fileEdited_)
    file_->setText(defaultFile(folder()));
  // A long path shows its end (the folder's own name) and says the whole path in its tooltip.
  folder_->setToolTip(folder().isEmpty() ? folderTip() : folder() + "\n\n" + folderTip());
  file_->setToolTip(file());
  if (!folder_->hasFocus())
    folder_->setCursorPosition(folder_->text().size());
  if (!file_->hasFocus())
    file_->setCursorPosition(file_->text().size());
  ok_->setEnabled(ok && !file().isEmpty());
}

ReportExport::ReportExport(QMainWindow *window) : QObject(window), window_(window) {}

bool ReportExport::running() const {
  return process_ && process_->state() != QProcess::NotRunning;
}

void ReportExport::noteResult(const QString &folder) {
  if (folder.isEmpty())
    return;
  try {
    reportKind(folder.toStdString());
    latest_ = folder;
  } catch (const Error &) {
    // Nothing to report there: the latest result stays what it was.
  }
}

void ReportExport::exec() {
  if (running()) {
    window_->statusBar()->showMessage(tr("A report is still being written."), 4000);
    return;
  }
  ReportDialog dialog(window_, latest_);
  if (dialog.exec() != QDialog::Accepted)
    return;
  start(dialog.folder(), dialog.file());
}

void ReportExport::start(const QString &folder, const QString &file) {
  const QString program = EngineWorker::commandLineProgram();
  if (program.isEmpty()) {
    QMessageBox::warning(window_, tr("Cannot export the report"),
                         tr("The report is written by the `particle` command-line program, which is neither next to "
                            "the app nor on PATH (set PARTICLE_CLI to its path)."));
    return;
  }
  const QString name = QFileInfo(QDir::cleanPath(folder)).fileName();
  window_->statusBar()->showMessage(tr("Writing the report of %1…").arg(name));
  auto *cancel = new QPushButton(tr("Cancel report"), window_->statusBar());
  cancel->setObjectName("cancelReportButton");
  window_->statusBar()->addPermanentWidget(cancel);
  process_ = new QProcess(this);
  auto *p = process_.data();
  connect(cancel, &QPushButton::clicked, p, [p] { p->kill(); });
  // `particle report` says each stage on a line of its own ("report: evaluating the test split…").
  connect(p, &QProcess::readyReadStandardOutput, this, [this, p, name] {
    while (p->canReadLine()) {
      const QString line = QString::fromUtf8(p->readLine()).trimmed();
      if (line.startsWith("report: "))
        window_->statusBar()->showMessage(tr("Report of %1: %2").arg(name, line.mid(8)));
    }
  });
  connect(p, &QProcess::finished, this, [this, p, cancel, file, name](int code, QProcess::ExitStatus status) {
    cancel->deleteLater();
    p->deleteLater();
    window_->statusBar()->clearMessage();
    if (status == QProcess::CrashExit) {
      window_->statusBar()->showMessage(tr("The report of %1 was cancelled.").arg(name), 8000);
      return;
    }
    auto *box = new QMessageBox(window_);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->setWindowModality(Qt::ApplicationModal);
    if (code != 0) {
      const QString error = QString::fromUtf8(p->readAllStandardError()).trimmed();
      box->setIcon(QMessageBox::Warning);
      box->setWindowTitle(tr("Cannot export the report"));
      box->setText(error.isEmpty() ? tr("`particle report` ended with exit code %1.").arg(code) : error);
    } else {
      window_->statusBar()->showMessage(tr("Report written to %1").arg(file), 8000);
      box->setIcon(QMessageBox::Information);
      box->setWindowTitle(tr("Export report"));
      box->setText(tr("The report of %1 is written to\n%2\n\nIt opens offline in any browser.").arg(name, file));
      QPushButton *open = box->addButton(tr("Open"), QMessageBox::ActionRole);
      box->addButton(QMessageBox::Close);
      box->setDefaultButton(QMessageBox::Close);
      connect(open, &QPushButton::clicked, box, [file] { QDesktopServices::openUrl(QUrl::fromLocalFile(file)); });
    }
    box->show();
  });
  connect(p, &QProcess::errorOccurred, this, [this, p, cancel, program](QProcess::ProcessError error) {
    if (error != QProcess::FailedToStart)
      return;
    cancel->deleteLater();
    p->deleteLater();
    window_->statusBar()->clearMessage();
    QMessageBox::warning(window_, tr("Cannot export the report"),
                         tr("%1 did not start: %2").arg(program, p->errorString()));
  });
  p->start(program, {"report", folder, "--out", file});
}

} // namespace particle::ui
