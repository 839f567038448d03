#include "ProjectFiles.h"

#include "AppPaths.h"
#include "document/GraphDocument.h"
#include "editor/GraphView.h"

#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QMainWindow>
#include <QMenu>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTimer>
#include <QUndoStack>

namespace particle::ui {

namespace {
constexpr int kAutosaveMs = 20000;
constexpr int kMaxRecent = 8;
} // namespace

ProjectFiles::ProjectFiles(QMainWindow *window, GraphDocument *doc, QUndoStack *undo, GraphView *view)
    : QObject(window), window_(window), doc_(doc), undo_(undo), view_(view) {
  connect(undo_, &QUndoStack::cleanChanged, this, &ProjectFiles::updateTitle);
  autosave_ = new QTimer(this);
  autosave_->setInterval(kAutosaveMs);
  connect(autosave_, &QTimer::timeout, this, [this] {
    if (!undo_->isClean())
      writeRecovery();
  });
  autosave_->start();
}

void ProjectFiles::updateTitle() {
  QString name;
  if (!doc_->filePath().isEmpty())
    name = QFileInfo(doc_->filePath()).fileName();
  else if (doc_->isTemplate())
    name = tr("%1 (example — Save As to keep your changes)").arg(QString::fromStdString(doc_->project().name));
  else
    name = tr("untitled");
  window_->setWindowTitle(QString("%1[*] — Particle Studio").arg(name));
  window_->setWindowModified(!undo_->isClean());
}

void ProjectFiles::newProject() {
  Project p;
  p.name = "untitled";
  p.dataset = Json{{"kind", "fashion-mnist"}};
  p.training = Json{{"optimizer", "adam"}, {"lr", 0.001}, {"epochs", 5}};
  doc_->reset(p);
  undo_->clear();
  updateTitle();
}

bool ProjectFiles::open(const QString &path, QString *error, bool quiet) {
  QString failure;
  try {
    Project p = loadProject(path.toStdString());
    // A bundled example is a template: work on it, but saving asks where (never over the example).
    doc_->reset(std::move(p), isExample(path));
  } catch (const std::exception &e) {
    failure = QString::fromUtf8(e.what());
  }
  if (!failure.isEmpty()) {
    if (error)
      *error = failure;
    if (!quiet)
      QMessageBox::warning(window_, tr("Cannot open project"), failure);
    return false;
  }
  undo_->clear();
  if (!doc_->isTemplate())
    addRecent(QFileInfo(path).absoluteFilePath());
  rememberFolder(path);
  updateTitle();
  QTimer::singleShot(0, view_, &GraphView::fitAll);
  return true;
}

bool ProjectFiles::openAsNewDocument(const QString &path) {
  try {
    Project p = loadProject(path.toStdString());
    doc_->reset(std::move(p), true);
  } catch (const std::exception &e) {
    QMessageBox::warning(window_, tr("Cannot open project"), QString::fromUtf8(e.what()));
    return false;
  }
  undo_->clear();
  updateTitle();
  window_->statusBar()->showMessage(tr("Opened %1 as a new document; Save asks where").arg(QFileInfo(path).fileName()),
                                    8000);
  QTimer::singleShot(0, view_, &GraphView::fitAll);
  return true;
}

bool ProjectFiles::save() {
  if (doc_->filePath().isEmpty())
    return saveAsWithDialog();
  return saveAs(doc_->filePath());
}

bool ProjectFiles::saveAsWithDialog() {
  QFileDialog dialog(window_, tr("Save project"));
  dialog.setObjectName("saveProjectDialog");
  dialog.setAcceptMode(QFileDialog::AcceptSave);
  dialog.setNameFilter(tr("Particle projects (*.particle.json)"));
  dialog.setDirectory(doc_->filePath().isEmpty() ? lastFolder() : QFileInfo(doc_->filePath()).absolutePath());
  const QString suggested = doc_->filePath().isEmpty() ? QString::fromStdString(doc_->project().name) + ".particle.json"
                                                       : QFileInfo(doc_->filePath()).fileName();
  dialog.selectFile(suggested);
  if (dialog.exec() != QDialog::Accepted || dialog.selectedFiles().isEmpty())
    return false;
  QString path = dialog.selectedFiles().front();
  // "seed-scratch" becomes "seed-scratch.particle.json", so that Open lists it.
  if (!path.endsWith(".json", Qt::CaseInsensitive))
    path += ".particle.json";
  return saveAs(path);
}

bool ProjectFiles::saveAs(const QString &path) {
  const QString previousPath = doc_->filePath();
  const QString previousName = QString::fromStdString(doc_->project().name);
  // A project named after its file (or still "untitled") takes the new file's name.
  const QString stem = QFileInfo(path).fileName().remove(".particle.json").remove(".json");
  const QString oldStem = QFileInfo(previousPath).fileName().remove(".particle.json").remove(".json");
  const bool rename = previousName == "untitled" || previousName.isEmpty() || previousName == oldStem;
  try {
    Project saved = doc_->projectAt(path);
    if (rename)
      saved.name = stem.toStdString();
    saveProject(saved, path.toStdString());
  } catch (const std::exception &e) {
    QMessageBox::warning(window_, tr("Cannot save"), QString::fromUtf8(e.what()));
    return false;
  }
  doc_->setFilePath(path);
  if (rename)
    doc_->setName(stem);
  undo_->setClean();
  QFile::remove(recoveryPath());
  addRecent(QFileInfo(path).absoluteFilePath());
  rememberFolder(path);
  updateTitle();
  window_->statusBar()->showMessage(tr("Saved %1").arg(path), 4000);
  Q_EMIT saved();
  return true;
}

bool ProjectFiles::maybeSave() {
  if (undo_->isClean())
    return true;
  const auto answer = QMessageBox::warning(window_, tr("Unsaved changes"), tr("Save the changes to this project?"),
                                           QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel);
  if (answer == QMessageBox::Save)
    return save();
  return answer == QMessageBox::Discard;
}

QString ProjectFiles::lastFolder() {
  QString folder = QSettings().value("lastFolder").toString();
  if (!folder.isEmpty() && QFileInfo(folder).isDir())
    return folder;
  const QString documents = QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation);
  return QFileInfo(documents).isDir() ? documents : QDir::homePath();
}

void ProjectFiles::rememberFolder(const QString &file) {
  if (!isExample(file))
    QSettings().setValue("lastFolder", QFileInfo(file).absolutePath());
}

QString ProjectFiles::recoveryPath() {
  const QString dir = QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation);
  QDir().mkpath(dir);
  return dir + "/recovery.particle.json";
}

void ProjectFiles::writeRecovery() {
  Project p = doc_->project();
  // Remember where the work came from, in the free-form "ui" section: an example's file too, whose
  // folder its relative data paths name (without it they resolved against the working folder), and
  // whether it was an unsaved copy, so that Save still asks where rather than overwriting it.
  if (!p.ui.is_object())
    p.ui = Json::object();
  p.ui["recovered_from"] = doc_->sourcePath().toStdString();
  if (doc_->isTemplate())
    p.ui["recovered_as_copy"] = true;
  try {
    saveProject(p, recoveryPath().toStdString());
  } catch (const Error &e) {
    window_->statusBar()->showMessage(tr("Autosave failed: %1").arg(e.what()), 8000);
  }
}

QMessageBox *ProjectFiles::offerRecovery() {
  if (!QFile::exists(recoveryPath()))
    return nullptr;
  auto *box = new QMessageBox(QMessageBox::Question, tr("Recover unsaved work?"),
                              tr("Particle Studio did not close cleanly last time. Restore the unsaved project "
                                 "from the automatic backup?"),
                              QMessageBox::NoButton, window_);
  box->setObjectName("recoveryPrompt");
  QPushButton *restore = box->addButton(tr("Restore"), QMessageBox::AcceptRole);
  restore->setObjectName("restoreButton");
  box->addButton(tr("Discard"), QMessageBox::DestructiveRole)->setObjectName("discardButton");
  box->setAttribute(Qt::WA_DeleteOnClose);
  connect(box, &QMessageBox::buttonClicked, this, [this, restore](QAbstractButton *button) {
    const QString path = recoveryPath();
    if (button == restore) {
      try {
        Project p = loadProject(path.toStdString());
        const std::string origin = p.ui.is_object() ? p.ui.value("recovered_from", "") : "";
        const bool copy = p.ui.is_object() && p.ui.value("recovered_as_copy", false);
        if (p.ui.is_object()) {
          p.ui.erase("recovered_from");
          p.ui.erase("recovered_as_copy");
          if (p.ui.empty())
            p.ui = nullptr;
        }
        p.path = origin;
        doc_->reset(std::move(p), copy);
        undo_->clear();
        undo_->resetClean(); // recovered work stays unsaved until the user saves it
        updateTitle();
      } catch (const std::exception &e) {
        QMessageBox::warning(window_, tr("Cannot recover"), QString::fromUtf8(e.what()));
      }
    }
    QFile::remove(path);
  });
  box->open();
  return box;
}

void ProjectFiles::setRecentMenu(QMenu *menu) {
  recentMenu_ = menu;
  rebuildRecentMenu();
}

void ProjectFiles::addRecent(const QString &path) {
  QSettings settings;
  QStringList recent = settings.value("recentFiles").toStringList();
  recent.removeAll(path);
  recent.prepend(path);
  while (recent.size() > kMaxRecent)
    recent.removeLast();
  settings.setValue("recentFiles", recent);
  rebuildRecentMenu();
}

void ProjectFiles::rebuildRecentMenu() {
  if (!recentMenu_)
    return;
  recentMenu_->clear();
  const QStringList recent = QSettings().value("recentFiles").toStringList();
  for (const auto &path : recent) {
    // The name and its folder: two projects of the same name (each session's "digits.particle.json")
    // are told apart; a long folder is cut in the middle, the tooltip has it whole.
    const QFileInfo file(path);
    QString folder = QDir::toNativeSeparators(file.absolutePath());
    if (folder.size() > 48)
      folder = folder.left(20) + "…" + folder.right(27);
    const QString text = tr("%1 — %2").arg(file.fileName(), folder);
    recentMenu_
        ->addAction(QString(text).replace('&', "&&"), this,
                    [this, path] {
                      if (maybeSave())
                        open(path);
                    })
        ->setToolTip(path);
  }
  recentMenu_->setEnabled(!recent.isEmpty());
}

} // namespace particle::ui
