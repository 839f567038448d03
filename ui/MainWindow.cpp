#include "MainWindow.h"

#include "document/Commands.h"
#include "document/GraphDocument.h"
#include "editor/GraphScene.h"
#include "editor/GraphView.h"
#include "editor/InspectorWidget.h"
#include "editor/PaletteWidget.h"
#include "explain/ExplainPanel.h"
#include "training/TrainPanel.h"
#include "training/TrainingTypes.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QListWidget>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QPushButton>
#include <QSettings>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTabWidget>
#include <QTimer>
#include <QToolBar>
#include <QUndoStack>

namespace particle::ui {

namespace {
constexpr int kAutosaveMs = 20000;
constexpr int kMaxRecent = 8;
constexpr const char *kClipMime = "application/x-particle-nodes";

QString withCommas(int64_t v) {
  return QLocale(QLocale::English).toString(static_cast<qlonglong>(v));
}
} // namespace

MainWindow::MainWindow(QWidget *parent) : QMainWindow(parent) {
  doc_ = new GraphDocument(this);
  undo_ = new QUndoStack(this);
  scene_ = new GraphScene(doc_, undo_, this);
  view_ = new GraphView(scene_, this);
  tabs_ = new QTabWidget(this);
  tabs_->addTab(view_, tr("Design"));
  train_ = new TrainPanel(doc_, tabs_);
  tabs_->addTab(train_, tr("Train"));
  explain_ = new ExplainPanel(doc_, tabs_);
  tabs_->addTab(explain_, tr("Explain"));
  setCentralWidget(tabs_);

  auto *paletteDock = new QDockWidget(tr("Palette"), this);
  paletteDock->setObjectName("paletteDock");
  palette_ = new PaletteWidget(paletteDock);
  paletteDock->setWidget(palette_);
  addDockWidget(Qt::LeftDockWidgetArea, paletteDock);

  auto *inspectorDock = new QDockWidget(tr("Inspector"), this);
  inspectorDock->setObjectName("inspectorDock");
  inspector_ = new InspectorWidget(doc_, undo_, inspectorDock);
  inspectorDock->setWidget(inspector_);
  addDockWidget(Qt::RightDockWidgetArea, inspectorDock);

  auto *problemsDock = new QDockWidget(tr("Problems"), this);
  problemsDock->setObjectName("problemsDock");
  problems_ = new QListWidget(problemsDock);
  problemsDock->setWidget(problems_);
  addDockWidget(Qt::BottomDockWidgetArea, problemsDock);
  resizeDocks({problemsDock}, {110}, Qt::Vertical);
  resizeDocks({paletteDock, inspectorDock}, {190, 290}, Qt::Horizontal);

  paramsLabel_ = new QLabel(this);
  validityLabel_ = new QLabel(this);
  statusBar()->addPermanentWidget(paramsLabel_);
  statusBar()->addPermanentWidget(validityLabel_);

  createActions();

  connect(doc_, &GraphDocument::validated, this, [this] {
    updateStatus();
    updateProblems();
  });
  connect(undo_, &QUndoStack::cleanChanged, this, &MainWindow::updateTitle);
  connect(scene_, &QGraphicsScene::selectionChanged, this, [this] {
    const QStringList ids = scene_->selectedIds();
    inspector_->showNode(ids.size() == 1 ? ids.front() : QString());
  });
  connect(scene_, &GraphScene::connectionRefused, this,
          [this](const QString &reason) { statusBar()->showMessage(tr("Not connected: %1").arg(reason), 8000); });
  connect(view_, &GraphView::nodeTypeDropped, this, &MainWindow::addNode);
  connect(train_, &TrainPanel::runFinished, this, [this](const RunFinished &r) {
    if (!r.failed && !r.checkpoint.isEmpty())
      explain_->setCheckpoint(r.checkpoint);
  });
  connect(explain_, &ExplainPanel::branchActivated, this, [this](const QString &id) {
    if (auto *node = scene_->nodeItem(id)) {
      scene_->selectOnly({id});
      view_->centerOn(node);
    }
  });
  connect(palette_, &PaletteWidget::typeActivated, this,
          [this](const QString &type) { addNode(type, view_->mapToScene(view_->viewport()->rect().center())); });
  connect(problems_, &QListWidget::itemClicked, this, [this](QListWidgetItem *item) {
    const QString id = item->data(Qt::UserRole).toString();
    if (auto *node = scene_->nodeItem(id)) {
      scene_->selectOnly({id});
      view_->centerOn(node);
    }
  });

  autosave_ = new QTimer(this);
  autosave_->setInterval(kAutosaveMs);
  connect(autosave_, &QTimer::timeout, this, [this] {
    if (!undo_->isClean())
      writeRecovery();
  });
  autosave_->start();

  QSettings settings;
  restoreGeometry(settings.value("window/geometry").toByteArray());
  restoreState(settings.value("window/state").toByteArray());
  if (!settings.contains("window/geometry"))
    resize(1400, 860);
  newProject();
}

MainWindow::~MainWindow() = default;

void MainWindow::createActions() {
  auto *file = menuBar()->addMenu(tr("&File"));
  file->addAction(tr("&New"), QKeySequence::New, this, [this] {
    if (maybeSave())
      newProject();
  });
  file->addAction(tr("&Open…"), QKeySequence::Open, this, [this] {
    if (!maybeSave())
      return;
    const QString path = QFileDialog::getOpenFileName(this, tr("Open project"), QString(),
                                                      tr("Particle projects (*.particle.json *.json)"));
    if (!path.isEmpty())
      openProject(path);
  });
  recentMenu_ = file->addMenu(tr("Open &Recent"));
  rebuildRecentMenu();
  file->addAction(tr("&Save"), QKeySequence::Save, this, [this] { save(); });
  file->addAction(tr("Save &As…"), QKeySequence::SaveAs, this, [this] {
    const QString path = QFileDialog::getSaveFileName(this, tr("Save project"), doc_->filePath(),
                                                      tr("Particle projects (*.particle.json)"));
    if (!path.isEmpty())
      saveAs(path);
  });
  file->addSeparator();
  file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

  auto *edit = menuBar()->addMenu(tr("&Edit"));
  QAction *undo = undo_->createUndoAction(this, tr("&Undo"));
  undo->setShortcut(QKeySequence::Undo);
  QAction *redo = undo_->createRedoAction(this, tr("&Redo"));
  redo->setShortcuts({QKeySequence("Ctrl+Shift+Z"), QKeySequence::Redo});
  edit->addAction(undo);
  edit->addAction(redo);
  edit->addSeparator();
  edit->addAction(tr("&Copy"), QKeySequence::Copy, this, &MainWindow::copySelection);
  edit->addAction(tr("&Paste"), QKeySequence::Paste, this, [this] { pasteClipboard(QPointF(40, 40) * ++pasteCount_); });
  edit->addAction(tr("&Duplicate"), QKeySequence("Ctrl+D"), this, [this] {
    copySelection();
    pasteClipboard(QPointF(40, 40));
  });
  QAction *del = edit->addAction(tr("&Delete"), this, [this] {
    if (auto *cmd = commands::removeNodes(doc_, scene_->selectedIds()))
      undo_->push(cmd);
  });
  del->setShortcuts({QKeySequence::Delete, QKeySequence(Qt::Key_Backspace)});
  edit->addAction(tr("Select &All"), QKeySequence::SelectAll, this, [this] {
    for (auto *item : scene_->items())
      if (item->flags() & QGraphicsItem::ItemIsSelectable)
        item->setSelected(true);
  });
  edit->addSeparator();
  edit->addAction(tr("&Share Parameters"), QKeySequence("Ctrl+G"), this, &MainWindow::shareSelection);
  edit->addAction(tr("&Unshare Parameters"), QKeySequence("Ctrl+Shift+G"), this, [this] {
    if (auto *cmd = commands::setShare(doc_, scene_->selectedIds(), QString()))
      undo_->push(cmd);
  });

  auto *viewMenu = menuBar()->addMenu(tr("&View"));
  viewMenu->addAction(tr("&Fit to Window"), QKeySequence("F"), view_, &GraphView::fitAll);
  viewMenu->addAction(tr("Zoom &In"), QKeySequence::ZoomIn, this, [this] { view_->zoomBy(1.2); });
  viewMenu->addAction(tr("Zoom &Out"), QKeySequence::ZoomOut, this, [this] { view_->zoomBy(1 / 1.2); });
  viewMenu->addAction(tr("&Auto-layout"), QKeySequence("Ctrl+L"), this, &MainWindow::autoLayout);
  QAction *snap = viewMenu->addAction(tr("&Snap to Grid"));
  snap->setCheckable(true);
  snap->setChecked(NodeItem::snapToGrid);
  connect(snap, &QAction::toggled, this, [](bool on) { NodeItem::snapToGrid = on; });

  auto *toolbar = addToolBar(tr("Main"));
  toolbar->setObjectName("mainToolbar");
  toolbar->addAction(undo);
  toolbar->addAction(redo);
  toolbar->addAction(tr("Auto-layout"), this, &MainWindow::autoLayout);
  toolbar->addAction(tr("Fit"), view_, &GraphView::fitAll);
  toolbar->addAction(tr("Share"), this, &MainWindow::shareSelection);
}

void MainWindow::addNode(const QString &type, QPointF scenePos) {
  QString id;
  if (auto *cmd = commands::addNode(doc_, type, scenePos, &id)) {
    undo_->push(cmd);
    scene_->selectOnly({id});
  }
}

void MainWindow::shareSelection() {
  const QStringList ids = scene_->selectedIds();
  const QString refusal = shareRefusal(*doc_, ids);
  if (!refusal.isEmpty()) {
    statusBar()->showMessage(tr("Cannot share: %1").arg(refusal), 10000);
    return;
  }
  // Reuse a group one of them is already in; else a fresh name.
  QString group;
  for (const auto &id : ids)
    if (const Node *n = doc_->graph().find(id.toStdString()); n && !n->share.empty())
      group = QString::fromStdString(n->share);
  if (group.isEmpty())
    group = QString::fromStdString(doc_->graph().uniqueId("shared"));
  if (auto *cmd = commands::setShare(doc_, ids, group))
    undo_->push(cmd);
}

void MainWindow::autoLayout() {
  if (auto *cmd = commands::setPositions(doc_, scene_->autoLayout(), tr("Auto-layout")))
    undo_->push(cmd);
  view_->fitAll();
}

void MainWindow::copySelection() {
  const QStringList ids = scene_->selectedIds();
  if (ids.isEmpty())
    return;
  auto *mime = new QMimeData;
  const QByteArray data = QByteArray::fromStdString(copyNodes(doc_->graph(), ids).dump());
  mime->setData(kClipMime, data);
  mime->setText(QString::fromUtf8(data));
  QApplication::clipboard()->setMimeData(mime);
  pasteCount_ = 0;
}

void MainWindow::pasteClipboard(QPointF offset) {
  const QMimeData *mime = QApplication::clipboard()->mimeData();
  if (!mime || !mime->hasFormat(kClipMime))
    return;
  QStringList ids;
  try {
    const Json clip = Json::parse(mime->data(kClipMime).toStdString());
    if (auto *cmd = commands::paste(doc_, clip, offset, &ids))
      undo_->push(cmd);
  } catch (const std::exception &e) {
    statusBar()->showMessage(tr("Cannot paste: %1").arg(e.what()), 8000);
    return;
  }
  scene_->selectOnly(ids);
}

void MainWindow::updateStatus() {
  const Validation &v = doc_->validation();
  QString text = tr("%1 trained parameters").arg(withCommas(v.uniqueParameters));
  if (v.totalParameters > v.uniqueParameters)
    text += tr(" (sharing saves %1)").arg(withCommas(v.totalParameters - v.uniqueParameters));
  paramsLabel_->setText(text);
  const int errors = v.errorCount();
  validityLabel_->setText(errors == 0 ? tr("✔ valid") : tr("✖ %n problem(s)", "", errors));
  validityLabel_->setStyleSheet(errors == 0 ? "color: #2e9d6b" : "color: #d03030");
}

void MainWindow::updateProblems() {
  problems_->clear();
  for (const auto &p : doc_->validation().problems) {
    auto *item = new QListWidgetItem(QString::fromStdString(p.format("")), problems_);
    item->setData(Qt::UserRole, QString::fromStdString(p.node));
    item->setForeground(p.severity == Problem::Severity::Error ? QColor(0xd0, 0x30, 0x30) : QColor(0xb0, 0x70, 0x00));
  }
}

void MainWindow::updateTitle() {
  const QString name = doc_->filePath().isEmpty() ? tr("untitled") : QFileInfo(doc_->filePath()).fileName();
  setWindowTitle(QString("%1[*] — Particle Studio").arg(name));
  setWindowModified(!undo_->isClean());
}

void MainWindow::newProject() {
  Project p;
  p.name = "untitled";
  p.dataset = Json{{"kind", "fashion-mnist"}};
  p.training = Json{{"optimizer", "adam"}, {"lr", 0.001}, {"epochs", 5}};
  doc_->reset(p);
  undo_->clear();
  updateTitle();
}

bool MainWindow::openProject(const QString &path) {
  try {
    Project p = loadProject(path.toStdString());
    doc_->reset(std::move(p));
  } catch (const Error &e) {
    QMessageBox::warning(this, tr("Cannot open project"), QString::fromStdString(e.what()));
    return false;
  }
  undo_->clear();
  addRecent(QFileInfo(path).absoluteFilePath());
  updateTitle();
  QTimer::singleShot(0, view_, &GraphView::fitAll);
  return true;
}

bool MainWindow::save() {
  if (doc_->filePath().isEmpty()) {
    const QString path =
        QFileDialog::getSaveFileName(this, tr("Save project"), QString(), tr("Particle projects (*.particle.json)"));
    return !path.isEmpty() && saveAs(path);
  }
  return saveAs(doc_->filePath());
}

bool MainWindow::saveAs(const QString &path) {
  try {
    doc_->setFilePath(path);
    saveProject(doc_->project(), path.toStdString());
  } catch (const Error &e) {
    QMessageBox::warning(this, tr("Cannot save"), QString::fromStdString(e.what()));
    return false;
  }
  undo_->setClean();
  QFile::remove(recoveryPath());
  addRecent(QFileInfo(path).absoluteFilePath());
  updateTitle();
  statusBar()->showMessage(tr("Saved %1").arg(path), 4000);
  return true;
}

void MainWindow::setCurrentTab(const QString &name) {
  for (int i = 0; i < tabs_->count(); ++i)
    if (tabs_->tabText(i).compare(name, Qt::CaseInsensitive) == 0)
      tabs_->setCurrentIndex(i);
}

QString MainWindow::recoveryPath() {
  const QString dir = QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation);
  QDir().mkpath(dir);
  return dir + "/recovery.particle.json";
}

void MainWindow::writeRecovery() {
  Project p = doc_->project();
  // Remember where the work came from, in the free-form "ui" section.
  if (!p.ui.is_object())
    p.ui = Json::object();
  p.ui["recovered_from"] = doc_->filePath().toStdString();
  try {
    saveProject(p, recoveryPath().toStdString());
  } catch (const Error &e) {
    statusBar()->showMessage(tr("Autosave failed: %1").arg(e.what()), 8000);
  }
}

QMessageBox *MainWindow::offerRecovery() {
  if (!QFile::exists(recoveryPath()))
    return nullptr;
  auto *box = new QMessageBox(QMessageBox::Question, tr("Recover unsaved work?"),
                              tr("Particle Studio did not close cleanly last time. Restore the unsaved project "
                                 "from the automatic backup?"),
                              QMessageBox::NoButton, this);
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
        if (p.ui.is_object()) {
          p.ui.erase("recovered_from");
          if (p.ui.empty())
            p.ui = nullptr;
        }
        p.path = origin;
        doc_->reset(std::move(p));
        undo_->clear();
        undo_->resetClean(); // recovered work stays unsaved until the user saves it
        updateTitle();
      } catch (const Error &e) {
        QMessageBox::warning(this, tr("Cannot recover"), QString::fromStdString(e.what()));
      }
    }
    QFile::remove(path);
  });
  box->open();
  return box;
}

void MainWindow::addRecent(const QString &path) {
  QSettings settings;
  QStringList recent = settings.value("recentFiles").toStringList();
  recent.removeAll(path);
  recent.prepend(path);
  while (recent.size() > kMaxRecent)
    recent.removeLast();
  settings.setValue("recentFiles", recent);
  rebuildRecentMenu();
}

void MainWindow::rebuildRecentMenu() {
  if (!recentMenu_)
    return;
  recentMenu_->clear();
  const QStringList recent = QSettings().value("recentFiles").toStringList();
  for (const auto &path : recent)
    recentMenu_
        ->addAction(QFileInfo(path).fileName(), this,
                    [this, path] {
                      if (maybeSave())
                        openProject(path);
                    })
        ->setToolTip(path);
  recentMenu_->setEnabled(!recent.isEmpty());
}

bool MainWindow::maybeSave() {
  if (undo_->isClean())
    return true;
  const auto answer = QMessageBox::warning(this, tr("Unsaved changes"), tr("Save the changes to this project?"),
                                           QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel);
  if (answer == QMessageBox::Save)
    return save();
  return answer == QMessageBox::Discard;
}

void MainWindow::closeEvent(QCloseEvent *event) {
  if (!maybeSave()) {
    event->ignore();
    return;
  }
  train_->shutdown(); // a running training stops after its batch and keeps its checkpoint
  QSettings settings;
  settings.setValue("window/geometry", saveGeometry());
  settings.setValue("window/state", saveState());
  QFile::remove(recoveryPath()); // a clean exit leaves nothing to recover
  event->accept();
}

} // namespace particle::ui
