#include "MainWindow.h"

#include "AppPaths.h"
#include "ProjectFiles.h"
#include "dataset/DataPanel.h"
#include "document/Commands.h"
#include "document/GraphDocument.h"
#include "editor/GraphScene.h"
#include "editor/GraphView.h"
#include "editor/InspectorWidget.h"
#include "editor/ParameterText.h"
#include "graph/Catalogue.h"
#include "editor/PaletteWidget.h"
#include "experiments/ClaimsLab.h"
#include "experiments/ExperimentsPanel.h"
#include "experiments/TransferLab.h"
#include "explain/ExplainPanel.h"
#include "forms/SchemaForm.h"
#include "library/LibraryPanel.h"
#include "library/SavePart.h"
#include "project/PartFile.h"
#include "training/TrainPanel.h"
#include "training/TrainingTypes.h"
#include "export/ExportWorker.h"
#include "report/ReportExport.h"
#include "recipes/GraphCheckpoint.h"
#include "recipes/RunPlan.h"
#include "base/Files.h"

#include <algorithm>

#include <QAbstractSpinBox>
#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QFrame>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QPushButton>
#include <QScreen>
#include <QScrollArea>
#include <QSettings>
#include <QStatusBar>
#include <QTabWidget>
#include <QToolBar>
#include <QTreeWidget>
#include <QUndoStack>

namespace particle::ui {

namespace {
constexpr const char *kClipMime = "application/x-particle-nodes";
constexpr int kDesignTab = 0;

// A folder dialog that takes a typed folder that does not exist yet: it creates it (with the
// folders above it), or says why it cannot, and stays open.
class NewFolderDialog : public QFileDialog {
public:
  NewFolderDialog(QWidget *parent, const QString &title, const QString &start) : QFileDialog(parent, title, start) {
    setObjectName("folderDialog");
    setFileMode(QFileDialog::Directory);
    setOption(QFileDialog::ShowDirsOnly);
    setOption(QFileDialog::DontUseNativeDialog);
    // The dialog disables Choose while the typed folder does not exist: keep it enabled (and so
    // Enter working) when there is a name to create.
    name_ = findChild<QLineEdit *>("fileNameEdit");
    auto *buttons = findChild<QDialogButtonBox *>("buttonBox");
    choose_ = buttons ? buttons->button(QDialogButtonBox::Open) : nullptr;
    if (choose_ && name_) {
      choose_->installEventFilter(this);
      connect(name_, &QLineEdit::textChanged, this, [this] { keepChooseEnabled(); });
    }
  }
  bool eventFilter(QObject *watched, QEvent *event) override {
    if (watched == choose_ && event->type() == QEvent::EnabledChange)
      keepChooseEnabled();
    return QFileDialog::eventFilter(watched, event);
  }
  void accept() override {
    const QStringList chosen = selectedFiles();
    const QString folder = chosen.isEmpty() ? QString() : chosen.front();
    if (!folder.isEmpty() && !QFileInfo::exists(folder) && !QDir().mkpath(folder)) {
      QMessageBox::warning(this, windowTitle(),
                           tr("Cannot create the folder %1: check that its parent folder is writable.").arg(folder));
      return;
    }
    QFileDialog::accept();
  }

private:
  void keepChooseEnabled() {
    if (choose_ && name_ && !choose_->isEnabled() && !name_->text().trimmed().isEmpty())
      choose_->setEnabled(true);
  }
  QLineEdit *name_ = nullptr;
  QPushButton *choose_ = nullptr;
};

// A tab page inside a scroll area: the page keeps its layout, the tab asks for no minimum size.
QScrollArea *scrollingPage(QWidget *page, QWidget *parent) {
  auto *scroll = new QScrollArea(parent);
  scroll->setObjectName(page->objectName() + "Page");
  scroll->setWidget(page);
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  return scroll;
}

// A dock whose content scrolls when the window is small, instead of pushing the window bigger.
QDockWidget *scrollingDock(const QString &title, const QString &name, QWidget *content, QWidget *parent) {
  auto *dock = new QDockWidget(title, parent);
  dock->setObjectName(name);
  auto *scroll = new QScrollArea(dock);
  scroll->setWidget(content);
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAsNeeded); // never clipped: scrolled
  dock->setWidget(scroll);
  return dock;
}
} // namespace

MainWindow::MainWindow(QWidget *parent) : QMainWindow(parent) {
  doc_ = new GraphDocument(this);
  undo_ = new QUndoStack(this);
  scene_ = new GraphScene(doc_, undo_, this);
  view_ = new GraphView(scene_, this);
  files_ = new ProjectFiles(this, doc_, undo_, view_);
  // A saved project finds its runs beside it under its name: the runs made before (an untitled
  // project's, in the user's runs folder) go there with it.
  connect(files_, &ProjectFiles::saved, this, [this] { keepWork(true); });
  tabs_ = new QTabWidget(this);
  tabs_->setObjectName("mainTabs");
  tabs_->addTab(view_, tr("Design"));
  // The tabs share one minimum size (the largest page's): each page scrolls when the room is
  // short, so that no page, whatever it shows, makes the window grow (with the Design tab's
  // panels beside it, the Explain tab's row of controls alone asked for more than 1024 pixels).
  train_ = new TrainPanel(doc_, undo_, tabs_);
  tabs_->addTab(scrollingPage(train_, tabs_), tr("Train"));
  explain_ = new ExplainPanel(
      doc_, [this] { return train_->runsFolder(); }, tabs_);
  tabs_->addTab(scrollingPage(explain_, tabs_), tr("Explain"));
  experiments_ = new ExperimentsPanel(doc_, tabs_);
  tabs_->addTab(scrollingPage(experiments_, tabs_), tr("Experiments"));
  setCentralWidget(tabs_);
  setDockOptions(QMainWindow::AnimatedDocks | QMainWindow::AllowTabbedDocks);

  palette_ = new PaletteWidget(this);
  auto *paletteDock = new QDockWidget(tr("Palette"), this);
  paletteDock->setObjectName("paletteDock");
  paletteDock->setWidget(palette_);
  addDockWidget(Qt::LeftDockWidgetArea, paletteDock);

  inspector_ = new InspectorWidget(doc_, undo_, this);
  auto *inspectorDock = scrollingDock(tr("Inspector"), "inspectorDock", inspector_, this);
  addDockWidget(Qt::RightDockWidgetArea, inspectorDock);

  data_ = new DataPanel(doc_, undo_, this);
  auto *dataDock = scrollingDock(tr("Data"), "dataDock", data_, this);
  addDockWidget(Qt::RightDockWidgetArea, dataDock);
  tabifyDockWidget(inspectorDock, dataDock);

  // The Library beside the inspector: what it holds is dragged onto the canvas like the palette's.
  library_ = new LibraryPanel(doc_, this);
  auto *libraryDock = new QDockWidget(tr("Library"), this);
  libraryDock->setObjectName("libraryDock");
  libraryDock->setWidget(library_);
  addDockWidget(Qt::RightDockWidgetArea, libraryDock);
  tabifyDockWidget(dataDock, libraryDock);
  inspectorDock->raise();
  partSaver_ = new PartSaver(this);

  auto *problemsDock = new QDockWidget(tr("Problems"), this);
  problemsDock->setObjectName("problemsDock");
  problems_ = new QListWidget(problemsDock);
  problems_->setObjectName("problemsList");
  problems_->setWordWrap(true);
  problemsDock->setWidget(problems_);
  addDockWidget(Qt::BottomDockWidgetArea, problemsDock);
  docks_ = {{"palette", paletteDock},
            {"inspector", inspectorDock},
            {"data", dataDock},
            {"library", libraryDock},
            {"problems", problemsDock}};
  for (auto &[name, d] : docks_)
    d->setMinimumWidth(name == "palette" ? 120 : name == "problems" ? 0 : 200);
  resizeDocks({problemsDock}, {100}, Qt::Vertical);
  resizeDocks({paletteDock, inspectorDock}, {165, 300}, Qt::Horizontal);

  paramsLabel_ = new QLabel(this);
  paramsLabel_->setObjectName("paramsLabel");
  validityLabel_ = new QLabel(this);
  validityLabel_->setObjectName("validityLabel");
  // A message is cut where the permanent labels begin ("Saved /home/me/work65,093 trained…" at
  // 1024×700): a line keeps the two apart, and the whole message is the bar's tooltip.
  auto *separator = new QFrame(this);
  separator->setObjectName("statusSeparator");
  separator->setFrameShape(QFrame::VLine);
  separator->setFrameShadow(QFrame::Sunken);
  separator->setFixedWidth(12);
  statusBar()->addPermanentWidget(separator);
  statusBar()->addPermanentWidget(paramsLabel_);
  statusBar()->addPermanentWidget(validityLabel_);
  connect(statusBar(), &QStatusBar::messageChanged, statusBar(), &QWidget::setToolTip);

  createActions();
  qApp->installEventFilter(this);
  // The wheel edits a spin box or choice box only while it has the focus; otherwise it scrolls.
  for (QWidget *box : findChildren<QAbstractSpinBox *>())
    wheelOnlyWithFocus(box);
  for (QWidget *box : findChildren<QComboBox *>())
    wheelOnlyWithFocus(box);

  connect(doc_, &GraphDocument::validated, this, [this] {
    updateStatus();
    updateProblems();
  });
  connect(scene_, &QGraphicsScene::selectionChanged, this, [this] {
    const QStringList ids = scene_->selectedIds();
    inspector_->showNode(ids.size() == 1 ? ids.front() : QString(), static_cast<int>(ids.size()));
    if (ids.size() == 1)
      docks_.at("inspector")->raise();
  });
  connect(scene_, &GraphScene::connectionRefused, this,
          [this](const QString &reason) { showRefusal(tr("Not connected: %1").arg(reason)); });
  // Another document (opened, new, recovered): a message about the one before ("Saved …") goes.
  // Whoever opened it may then say something about the new one (ProjectFiles::openAsNewDocument does).
  connect(doc_, &GraphDocument::modelReset, this, [this] {
    statusBar()->clearMessage();
    refusal_.clear();
    view_->showGraph(); // the scene is rebuilt by now (it connected first)
  });
  // A refusal is about the state it was refused in: the next edit that goes through clears it.
  connect(undo_, &QUndoStack::indexChanged, this, [this] {
    if (!refusal_.isEmpty() && statusBar()->currentMessage() == refusal_)
      statusBar()->clearMessage();
    refusal_.clear();
  });
  connect(view_, &GraphView::nodeTypeDropped, this, [this](const QString &type, QPointF at) { addNode(type, at); });
  connect(view_, &GraphView::partDropped, this, &MainWindow::addPart);
  connect(library_, &LibraryPanel::partActivated, this, [this](const QString &path) {
    addPart(path, scene_->freeSpot(view_->mapToScene(view_->viewport()->rect().center()) - QPointF(95, 40)));
  });
  scene_->setPartRefusal([this](const QStringList &ids) { return savePartRefusal(ids); });
  connect(scene_, &GraphScene::nodeAction, this, [this](const QString &action) {
    if (action == "delete") {
      if (auto *cmd = commands::removeSelection(doc_, scene_->selectedIds(), scene_->selectedEdges()))
        undo_->push(cmd);
    } else if (action == "duplicate") {
      copySelection();
      pasteClipboard(QPointF(40, 40));
    } else if (action == "copy") {
      copySelection();
    } else if (action == "share") {
      shareSelection();
    } else if (action == "unshare") {
      if (auto *cmd = commands::setShare(doc_, scene_->selectedIds(), QString()))
        undo_->push(cmd);
    } else if (action == "savePart") {
      savePartOfSelection();
    }
  });
  connect(inspector_, &InspectorWidget::editDataRequested, this, &MainWindow::showDataPanel);
  connect(train_, &TrainPanel::dataPanelRequested, this, &MainWindow::showDataPanel);
  connect(train_, &TrainPanel::problemsRequested, this, [this] {
    setCurrentTab("design");
    docks_.at("problems")->show();
    docks_.at("problems")->raise();
  });
  // A run's checkpoint goes to the Explain tab, named; one stopped early does not replace a
  // completed run's there.
  connect(train_, &TrainPanel::runFinished, this, [this](const RunFinished &r) {
    if (!r.checkpoint.isEmpty() && QFile::exists(r.checkpoint))
      explain_->offerRunCheckpoint(r.checkpoint, r.status);
  });
  connect(train_, &TrainPanel::checkpointFound, explain_, &ExplainPanel::setCheckpoint);
  connect(train_, &TrainPanel::runMoved, explain_, &ExplainPanel::runMoved);
  connect(experiments_, &ExperimentsPanel::folderMoved, explain_, &ExplainPanel::runMoved);
  // A run or an experiment in progress at the save goes to the project when it ends.
  connect(train_, &TrainPanel::runFinished, this, [this] {
    if (train_->keepWaiting())
      keepWork(false);
  });
  connect(experiments_, &ExperimentsPanel::freed, this, [this] { keepWork(false); });
  connect(train_, &TrainPanel::explainRequested, this, [this](const QString &checkpoint) {
    explain_->setCheckpoint(checkpoint);
    setCurrentTab("explain");
  });
  connect(experiments_, &ExperimentsPanel::openVariantRequested, this, [this](const QString &path) {
    if (!files_->maybeSave() || !files_->openAsNewDocument(path))
      return;
    // The variant keeps what its trial trained (<search>/trials/<variant>/checkpoint.pt, beside
    // <search>/variants/<variant>.particle.json): Train continues from it, Explain and Export use it.
    const QFileInfo file(path);
    const QString suffix = ".particle.json";
    const QString variant =
        file.fileName().endsWith(suffix) ? file.fileName().chopped(suffix.size()) : file.completeBaseName();
    const QString checkpoint = QDir(file.dir().filePath("../trials/" + variant)).absoluteFilePath("checkpoint.pt");
    const CheckpointFit fit =
        QFile::exists(checkpoint) ? checkpointFit(checkpoint.toStdString(), doc_->graph()) : CheckpointFit{};
    if (fit.fits()) {
      doc_->setStartCheckpoint(QDir::cleanPath(checkpoint));
      explain_->setCheckpoint(doc_->startCheckpoint());
      statusBar()->showMessage(tr("Opened %1 with its trial's checkpoint %2").arg(variant, doc_->startCheckpoint()),
                               8000);
    } else if (!fit.problem.empty()) {
      statusBar()->showMessage(
          tr("Opened %1 from initial weights: %2").arg(variant, QString::fromStdString(fit.problem)), 8000);
    }
    setCurrentTab("design");
  });
  connect(explain_, &ExplainPanel::branchActivated, this, [this](const QString &id) {
    if (auto *node = scene_->nodeItem(id)) {
      scene_->selectOnly({id});
      view_->centerOn(node);
    }
  });
  connect(palette_, &PaletteWidget::typeActivated, this, [this](const QString &type) {
    // Beside the node added last from the palette (to its right, in a row), while it is still
    // there; the first one goes to a free spot in the middle of the view.
    if (NodeItem *last = scene_->nodeItem(lastPaletteNode_)) {
      addNode(type, besideSpot(last->bodyRect()));
    } else {
      addNode(type, view_->mapToScene(view_->viewport()->rect().center()) - QPointF(95, 40), true);
    }
    const QStringList ids = scene_->selectedIds();
    lastPaletteNode_ = ids.size() == 1 ? ids.front() : QString();
    if (NodeItem *added = scene_->nodeItem(lastPaletteNode_))
      view_->ensureVisible(added);
  });
  connect(problems_, &QListWidget::itemClicked, this, [this](QListWidgetItem *item) {
    const QString id = item->data(Qt::UserRole).toString();
    if (auto *node = scene_->nodeItem(id)) {
      scene_->selectOnly({id});
      view_->centerOn(node);
    } else if (item->data(Qt::UserRole + 1).toBool()) {
      showDataPanel();
    }
  });
  connect(tabs_, &QTabWidget::currentChanged, this, &MainWindow::onTabChanged);

  QSettings settings;
  restoreGeometry(settings.value("window/geometry").toByteArray());
  restoreState(settings.value("window/state").toByteArray());
  if (!settings.contains("window/geometry")) {
    // A first start fills most of the screen, never more.
    const QRect screen = QGuiApplication::primaryScreen() ? QGuiApplication::primaryScreen()->availableGeometry()
                                                          : QRect(0, 0, 1600, 1000);
    resize(std::min(1400, screen.width()), std::min(880, screen.height()));
  }
  exporter_ = new ExportController(this);
  files_->newProject();
}

MainWindow::~MainWindow() {
  delete exporter_; // waits for an export in progress: it writes its files to the end
  delete files_;    // before the undo stack, which tells of its clean state while it is destroyed
  // The children outlive this class's part of the object: the undo stack, for one, tells of its
  // clean state while it is destroyed. Nothing may reach a MainWindow slot from then on.
  const auto children = findChildren<QObject *>();
  for (QObject *child : children)
    child->disconnect(this);
}

QDockWidget *MainWindow::dock(const QString &name) const {
  auto it = docks_.find(name);
  return it == docks_.end() ? nullptr : it->second;
}

void MainWindow::keepWork(bool onSave) {
  if (doc_->filePath().isEmpty())
    return;
  KeepReport report = train_->keepRuns();
  report.add(experiments_->keepFolders());
  if (report.empty())
    return;
  const QString file = QDir::toNativeSeparators(doc_->filePath());
  // One line the status bar shows whole: the file by its name, its runs folder as "runs/ beside
  // it" (the full paths are in the warning, when there is one).
  const QString root = QFileInfo(train_->runsFolder()).absoluteFilePath();
  QString line = report.text();
  if (root == QFileInfo(doc_->filePath()).absoluteDir().filePath("runs"))
    line.replace(root, tr("runs/ beside it"));
  const QString name = QFileInfo(doc_->filePath()).fileName();
  statusBar()->showMessage(onSave ? tr("Saved %1; %2").arg(name, line) : tr("Kept with %1: %2").arg(name, line),
                           onSave && report.problems.isEmpty() ? 12000 : 0);
  if (!report.problems.isEmpty()) {
    const QString what = onSave ? tr("%1 was saved, but not everything made before it was kept with it:").arg(file)
                                : tr("Not everything made before %1 was saved could be kept with it:").arg(file);
    QMessageBox box(QMessageBox::Warning, tr("Not everything was kept with the project"),
                    what + "\n\n" + report.problems.join("\n\n"), QMessageBox::Ok, this);
    box.setObjectName("keptWarning");
    box.setInformativeText((report.done + report.waiting).join("\n"));
    box.exec();
  }
}

void MainWindow::createActions() {
  auto *file = menuBar()->addMenu(tr("&File"));
  file->addAction(tr("&New"), QKeySequence::New, this, [this] {
    if (files_->maybeSave())
      files_->newProject();
  });
  file->addAction(tr("&Open…"), QKeySequence::Open, this, [this] {
    if (!files_->maybeSave())
      return;
    const QString path = QFileDialog::getOpenFileName(this, tr("Open project"), ProjectFiles::lastFolder(),
                                                      tr("Particle projects (*.particle.json *.json)"));
    if (!path.isEmpty())
      files_->open(path);
  });
  auto *examples = file->addMenu(tr("Open &Example"));
  for (const QString &path : exampleProjects())
    examples->addAction(QFileInfo(path).fileName().remove(".particle.json"), this, [this, path] {
      if (files_->maybeSave())
        files_->open(path);
    });
  examples->setEnabled(!examples->actions().isEmpty());
  files_->setRecentMenu(file->addMenu(tr("Open &Recent")));
  file->addAction(tr("&Save"), QKeySequence::Save, this, [this] { files_->save(); });
  file->addAction(tr("Save &As…"), QKeySequence("Ctrl+Shift+S"), this, [this] { files_->saveAsWithDialog(); });
  file->addSeparator();
  file->addAction(tr("&Export to PyTorch…"), QKeySequence("Ctrl+E"), this, [this] { exportModel(false); });
  file->addAction(tr("Export to O&NNX…"), QKeySequence("Ctrl+Shift+E"), this, [this] { exportModel(true); });
  // The report of what finished last in this session (a run, search, claims, learning curve or
  // transfer), or of a folder picked in the dialog.
  auto *report = new ReportExport(this);
  connect(train_, &TrainPanel::runFinished, report, [report](const RunFinished &r) { report->noteResult(r.outDir); });
  connect(experiments_, &ExperimentsPanel::searchFinished, report,
          [this, report] { report->noteResult(experiments_->searchFolder()); });
  connect(experiments_->claimsLab(), &ClaimsLab::experimentFinished, report, [this, report](bool ok) {
    if (ok)
      report->noteResult(experiments_->claimsLab()->resultsFolder());
  });
  connect(experiments_->transferLab(), &TransferLab::transferFinished, report,
          [this, report] { report->noteResult(experiments_->transferLab()->folder()); });
  // The latest result moved with the project (keepWork): the report offers it where it is now.
  const auto followReport = [report](const QString &from, const QString &to) {
    if (const QString latest = report->latestResult(); latest == from || latest.startsWith(from + "/"))
      report->noteResult(to + latest.mid(from.size()));
  };
  connect(train_, &TrainPanel::runMoved, report, followReport);
  connect(experiments_, &ExperimentsPanel::folderMoved, report, followReport);
  file->addAction(tr("Export &Report…"), QKeySequence("Ctrl+R"), this, [report] { report->exec(); });
  file->addSeparator();
  file->addAction(tr("&Quit"), QKeySequence("Ctrl+Q"), this, &QWidget::close);

  auto *edit = menuBar()->addMenu(tr("&Edit"));
  QAction *undo = undo_->createUndoAction(this, tr("&Undo"));
  undo->setShortcut(QKeySequence::Undo);
  QAction *redo = undo_->createRedoAction(this, tr("&Redo"));
  // Both the usual redo keys, each once: a key bound twice is ambiguous and does nothing.
  redo->setShortcuts({QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Z), QKeySequence(Qt::CTRL | Qt::Key_Y)});
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
    if (auto *cmd = commands::removeSelection(doc_, scene_->selectedIds(), scene_->selectedEdges()))
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
  // Keys that act on the canvas work while the canvas (or a window without another focus) has it,
  // so typing in a form is never taken over.
  QList<QAction *> canvasActions;
  for (QAction *a : edit->actions())
    if (a != undo && a != redo && !a->isSeparator()) {
      a->setShortcutContext(Qt::WindowShortcut);
      canvasActions.append(a);
    }

  auto *viewMenu = menuBar()->addMenu(tr("&View"));
  viewMenu->addAction(tr("&Design"), QKeySequence("Ctrl+1"), this, [this] { tabs_->setCurrentIndex(0); });
  viewMenu->addAction(tr("&Train"), QKeySequence("Ctrl+2"), this, [this] { tabs_->setCurrentIndex(1); });
  viewMenu->addAction(tr("E&xplain"), QKeySequence("Ctrl+3"), this, [this] { tabs_->setCurrentIndex(2); });
  viewMenu->addAction(tr("Ex&periments"), QKeySequence("Ctrl+4"), this, [this] { tabs_->setCurrentIndex(3); });
  viewMenu->addSeparator();
  canvasActions.append(viewMenu->addAction(tr("&Fit to Window"), QKeySequence("F"), view_, &GraphView::fitAll));
  canvasActions.append(viewMenu->addAction(tr("Zoom &In"), QKeySequence::ZoomIn, this, [this] { view_->zoomBy(1.2); }));
  canvasActions.append(
      viewMenu->addAction(tr("Zoom &Out"), QKeySequence::ZoomOut, this, [this] { view_->zoomBy(1 / 1.2); }));
  canvasActions.append(viewMenu->addAction(tr("&Auto-layout"), QKeySequence("Ctrl+L"), this, &MainWindow::autoLayout));
  QAction *snap = viewMenu->addAction(tr("&Snap to Grid"));
  snap->setCheckable(true);
  snap->setChecked(NodeItem::snapToGrid);
  connect(snap, &QAction::toggled, this, [](bool on) { NodeItem::snapToGrid = on; });
  viewMenu->addSeparator();
  // Every panel can be brought back after it was closed.
  for (const char *name : {"palette", "inspector", "data", "library", "problems"}) {
    QDockWidget *d = docks_.at(name);
    viewMenu->addAction(d->toggleViewAction());
    // A panel brought back comes to the front of its tab group.
    connect(d->toggleViewAction(), &QAction::triggered, d, [d](bool on) {
      if (on)
        d->raise();
    });
  }
  viewMenu->addSeparator();
  QAction *dataSet =
      viewMenu->addAction(tr("Data &Set…"), QKeySequence("Ctrl+Shift+D"), this, &MainWindow::showDataPanel);
  // To the front even when it is tabbed behind the inspector (its checkbox above would hide it).
  viewMenu->addAction(tr("Particle &Library"), QKeySequence("Ctrl+Shift+L"), this, [this] {
    setCurrentTab("design");
    docks_.at("library")->show();
    docks_.at("library")->raise();
  });

  auto *toolbar = addToolBar(tr("Main"));
  toolbar->setObjectName("mainToolbar");
  // The toolbar's buttons keep short labels (the menu says what will be undone), so the bar
  // never changes width under the mouse.
  QAction *undoButton = toolbar->addAction(tr("Undo"), undo_, &QUndoStack::undo);
  QAction *redoButton = toolbar->addAction(tr("Redo"), undo_, &QUndoStack::redo);
  undoButton->setEnabled(false);
  redoButton->setEnabled(false);
  connect(undo_, &QUndoStack::canUndoChanged, undoButton, &QAction::setEnabled);
  connect(undo_, &QUndoStack::canRedoChanged, redoButton, &QAction::setEnabled);
  connect(undo_, &QUndoStack::undoTextChanged, undoButton,
          [undoButton](const QString &t) { undoButton->setToolTip(tr("Undo %1 (Ctrl+Z)").arg(t)); });
  connect(undo_, &QUndoStack::redoTextChanged, redoButton,
          [redoButton](const QString &t) { redoButton->setToolTip(tr("Redo %1 (Ctrl+Shift+Z, Ctrl+Y)").arg(t)); });
  toolbar->addSeparator();
  canvasActions.append(toolbar->addAction(tr("Auto-layout"), this, &MainWindow::autoLayout));
  canvasActions.append(toolbar->addAction(tr("Fit"), view_, &GraphView::fitAll));
  canvasActions.append(toolbar->addAction(tr("Share"), this, &MainWindow::shareSelection));
  toolbar->addSeparator();
  toolbar->addAction(dataSet);
  viewMenu->addAction(toolbar->toggleViewAction());
  // What acts on the canvas's selection (delete, select all, copy, paste, share, layout) works on
  // the Design tab only, keys and menu alike: on another tab the canvas and what is selected on it
  // are hidden, and Delete pressed there on a chart must not remove nodes the user cannot see.
  // Undo and Redo stay: they are the document's, on every tab.
  const auto enableCanvasActions = [this, canvasActions] {
    for (QAction *a : canvasActions)
      a->setEnabled(tabs_->currentIndex() == kDesignTab);
  };
  connect(tabs_, &QTabWidget::currentChanged, this, enableCanvasActions);
  enableCanvasActions();
}

void MainWindow::showDataPanel() {
  setCurrentTab("design");
  docks_.at("data")->show();
  docks_.at("data")->raise();
}

void MainWindow::onTabChanged(int index) {
  // The design panels belong to the Design tab; the other tabs get the room. What the user had
  // open on each tab comes back when they return to it.
  auto &leaving = dockVisibility_[currentTab_];
  for (auto &[name, d] : docks_)
    leaving[name] = d->isVisible();
  currentTab_ = index;
  auto it = dockVisibility_.find(index);
  for (auto &[name, d] : docks_) {
    const bool show = it != dockVisibility_.end() ? it->second.at(name) : index == kDesignTab;
    d->setVisible(show);
  }
  // Showing tabbed panels brings the last one shown to the front: put the inspector there.
  if (docks_.at("inspector")->isVisible())
    docks_.at("inspector")->raise();
}

void MainWindow::showRefusal(const QString &message) {
  refusal_ = message;
  statusBar()->showMessage(message, 10000);
}

QPointF MainWindow::besideSpot(const QRectF &last) const {
  constexpr double kGap = 40;
  QPointF p(last.right() + kGap, last.top());
  for (int attempt = 0; attempt < 200; ++attempt) {
    const QRectF want(p, QSizeF(NodeItem::kWidth, 80));
    bool clear = true;
    for (QGraphicsItem *item : scene_->items(want.adjusted(-16, -16, 16, 16)))
      if (auto *node = dynamic_cast<NodeItem *>(item)) {
        clear = false;
        p.setX(std::max(p.x(), node->bodyRect().right() + kGap));
      }
    if (clear)
      break;
  }
  return p;
}

void MainWindow::addNode(const QString &type, QPointF scenePos, bool findFreeSpot) {
  QPointF at = scenePos;
  if (findFreeSpot)
    at = scene_->freeSpot(scenePos);
  else if (NodeItem::snapToGrid)
    at = QPointF(std::round(at.x() / NodeItem::kGrid) * NodeItem::kGrid,
                 std::round(at.y() / NodeItem::kGrid) * NodeItem::kGrid);
  QString id;
  if (auto *cmd = commands::addNode(doc_, type, at, &id)) {
    undo_->push(cmd);
    scene_->selectOnly({id});
  }
}

void MainWindow::addPart(const QString &path, QPointF scenePos) {
  PartInfo part;
  try {
    part = readPartInfo(path.toStdString());
  } catch (const std::exception &e) {
    showRefusal(tr("Cannot add the particle: %1").arg(QString::fromStdString(e.what())));
    return;
  }
  // Named as the project names its data: relative to its folder when the file is inside it.
  QString from = QFileInfo(path).absoluteFilePath();
  if (!doc_->filePath().isEmpty()) {
    const QString relative = QFileInfo(doc_->filePath()).absoluteDir().relativeFilePath(from);
    if (!relative.startsWith(".."))
      from = relative;
  }
  // A TorchScript node's module travels inside the particle: it is written beside the project
  // (modules/), once, and the node's path names it there.
  for (Node &n : part.nodes) {
    const PartBlob *blob = part.blob(partModuleBlob(n.id));
    if (!blob)
      continue;
    if (doc_->filePath().isEmpty()) {
      showRefusal(tr("Cannot add the particle: its TorchScript module (node %1) is written beside the project; "
                     "save the project first.")
                      .arg(QString::fromStdString(n.id)));
      return;
    }
    try {
      const std::string bytes = readPartBlob(path.toStdString(), blob->name);
      const QDir modules(QFileInfo(doc_->filePath()).absoluteDir().filePath("modules"));
      const QString stem = QFileInfo(path).completeBaseName() + "-" + QString::fromStdString(n.id);
      QString file = modules.filePath(stem + ".pt");
      // The same module already there (the particle added before) is used again.
      for (int k = 2; QFileInfo::exists(file) && readTextFile(file.toStdString()) != bytes; ++k)
        file = modules.filePath(QString("%1-%2.pt").arg(stem).arg(k));
      if (!QFileInfo::exists(file)) {
        QDir().mkpath(modules.path());
        writeFileAtomically(file.toStdString(), bytes);
      }
      n.params["path"] = QFileInfo(doc_->filePath()).absoluteDir().relativeFilePath(file).toStdString();
    } catch (const std::exception &e) {
      showRefusal(tr("Cannot add the particle: %1").arg(QString::fromStdString(e.what())));
      return;
    }
  }
  QPointF at = scenePos;
  if (NodeItem::snapToGrid)
    at = QPointF(std::round(at.x() / NodeItem::kGrid) * NodeItem::kGrid,
                 std::round(at.y() / NodeItem::kGrid) * NodeItem::kGrid);
  // The nodes with weights start from the particle's; a parameter-free one (an activation inside
  // a sub-graph) has nothing to take.
  const std::set<std::string> weighted = partNodesWithWeights(part, doc_->validation().data);
  auto takesWeights = [&](const Node &n) { return weighted.count(n.id) > 0; };
  QStringList ids;
  if (auto *cmd = commands::addPart(doc_, part.nodes, part.edges, from.toStdString(), takesWeights, at, &ids)) {
    undo_->push(cmd);
    scene_->selectOnly(ids);
    statusBar()->showMessage(tr("Added the particle %1 as %2, starting from its trained weights")
                                 .arg(QFileInfo(path).completeBaseName(), ids.join(", ")),
                             10000);
  }
}

QString MainWindow::savePartRefusal(const QStringList &ids) const {
  if (QString why = partRefusal(*doc_, ids); !why.isEmpty())
    return why;
  if (partSaver_->running())
    return tr("A particle is being saved; wait for it to finish.");
  if (partSources(*doc_, train_->runsFolder(), doc_->startCheckpoint(), 1).empty())
    return tr("No run of this graph kept a checkpoint yet: train it (Train tab), then save its trained parts.");
  return {};
}

void MainWindow::savePartOfSelection() {
  const QStringList ids = scene_->selectedIds();
  if (const QString why = savePartRefusal(ids); !why.isEmpty()) {
    showRefusal(tr("Cannot save as particle: %1").arg(why));
    return;
  }
  const auto sources = partSources(*doc_, train_->runsFolder(), doc_->startCheckpoint());
  // Beside the project (its particles/ folder), else in the user's library; a free name.
  QString folder = projectPartsFolder(doc_->filePath());
  if (folder.isEmpty())
    folder = libraryFolder();
  const QString stem = QString::fromStdString(safeRunName(doc_->project().name)) + "-" +
                       (ids.size() == 1 ? ids.front() : ids.front() + "-" + ids.back());
  QString file = QDir(folder).filePath(stem + ".particle-part");
  for (int n = 2; QFileInfo::exists(file); ++n)
    file = QDir(folder).filePath(QString("%1-%2.particle-part").arg(stem).arg(n));
  SavePartDialog dialog(sources, QDir::toNativeSeparators(file), this);
  if (dialog.exec() != QDialog::Accepted)
    return;
  const QString out = dialog.file();
  statusBar()->showMessage(tr("Saving the particle %1…").arg(out));
  connect(
      partSaver_, &PartSaver::finished, this,
      [this](const QString &saved, const QString &error) {
        statusBar()->clearMessage();
        if (!error.isEmpty()) {
          QMessageBox::warning(this, tr("Cannot save the particle"), error);
          return;
        }
        // Shown where it is now listed, selected, with its provenance below the list.
        library_->refresh();
        if (QTreeWidgetItem *item = library_->itemFor(saved)) {
          library_->tree()->setCurrentItem(item);
          docks_.at("library")->show();
          docks_.at("library")->raise();
        }
        statusBar()->showMessage(tr("Saved the particle %1 (listed in the Library panel)").arg(saved), 15000);
      },
      Qt::SingleShotConnection);
  partSaver_->start(doc_->project(), dialog.checkpoint(), ids, out);
}

void MainWindow::shareSelection() {
  // Nodes that cannot share (a Split caught by a rubber band around two sub-models) are left out
  // when at least two that can remain, and the status says so; else the refusal names them.
  QStringList ids, skipped;
  for (const QString &id : scene_->selectedIds()) {
    const Node *n = doc_->graph().find(id.toStdString());
    const NodeType *type = n ? Catalogue::instance().find(n->type) : nullptr;
    (type && type->shareable ? ids : skipped) << id;
  }
  if (ids.size() < 2) {
    ids = scene_->selectedIds();
    skipped.clear();
  }
  const QString refusal = shareRefusal(*doc_, ids);
  if (!refusal.isEmpty()) {
    showRefusal(tr("Cannot share: %1").arg(refusal));
    return;
  }
  // Reuse a group one of them is already in, with its scope; else a fresh name.
  const ShareTarget target = shareTarget(*doc_, ids);
  QString group = target.group;
  const bool tied = !group.isEmpty() && std::all_of(ids.begin(), ids.end(), [&](const QString &id) {
    const Node *n = doc_->graph().find(id.toStdString());
    return n && QString::fromStdString(n->share) == group;
  });
  if (tied) {
    statusBar()->showMessage(tr("%1 already share parameters (group %2): nothing to tie").arg(ids.join(", "), group),
                             8000);
    return;
  }
  if (group.isEmpty())
    group = QString::fromStdString(doc_->graph().uniqueId("shared"));
  if (auto *cmd = commands::setShare(doc_, ids, group, target.scope))
    undo_->push(cmd);
  if (!skipped.isEmpty())
    statusBar()->showMessage(tr("Tied %1 (group %2); left out %3: only sub-models and Linear layers share parameters")
                                 .arg(ids.join(", "), group, skipped.join(", ")),
                             10000);
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
    // The pasted group goes where it covers no other node: offset, then moved down until clear.
    QRectF bounds;
    for (const auto &n : clip.value("nodes", Json::array()))
      if (n.is_object() && n.contains("pos") && n["pos"].is_array() && n["pos"].size() == 2 &&
          n["pos"][0].is_number() && n["pos"][1].is_number())
        bounds = bounds.united(QRectF(n["pos"][0].get<double>(), n["pos"][1].get<double>(), NodeItem::kWidth, 80));
    QPointF shift = offset;
    for (int attempt = 0; attempt < 50 && bounds.isValid(); ++attempt) {
      const QRectF target = bounds.translated(shift).adjusted(-12, -12, 12, 12);
      bool clear = true;
      for (const auto &n : doc_->graph().nodes)
        if (auto *item = scene_->nodeItem(QString::fromStdString(n.id)); item && item->bodyRect().intersects(target))
          clear = false;
      if (clear)
        break;
      shift.ry() += 40;
    }
    if (auto *cmd = commands::paste(doc_, clip, shift, &ids))
      undo_->push(cmd);
  } catch (const std::exception &e) {
    statusBar()->showMessage(tr("Cannot paste: %1").arg(e.what()), 8000);
    return;
  }
  scene_->selectOnly(ids);
}

void MainWindow::updateStatus() {
  const Validation &v = doc_->validation();
  QString text = tr("%1 trained parameters").arg(withCommas(v.trainableParameters));
  if (v.trainableParameters < v.uniqueParameters)
    text += tr(" of %1 (the rest frozen)").arg(withCommas(v.uniqueParameters));
  if (v.totalParameters > v.uniqueParameters)
    text += tr(" (sharing saves %1)").arg(withCommas(v.totalParameters - v.uniqueParameters));
  // What one sample costs to run, counted from the node types (particle check prints the same).
  if (const std::string flops = flopsSummary(doc_->graph(), v); !flops.empty())
    text += v.flopsKnown ? tr(" · %1 FLOPs per sample").arg(QString::fromStdString(flops))
                         : tr(" · FLOPs %1").arg(QString::fromStdString(flops));
  // What training will take, beside what the machine has (validation warns or refuses past it).
  if (v.memory.total() > 0)
    text += tr(" · about %1 of memory to train (this machine: %2)")
                .arg(QString::fromStdString(memoryText(v.memory.total())),
                     QString::fromStdString(memoryText(machineMemoryBytes())));
  paramsLabel_->setText(text);
  paramsLabel_->setToolTip(v.memory.total() > 0 ? QString::fromStdString(memoryBreakdown(v.memory)) : QString());
  const int errors = v.errorCount();
  validityLabel_->setText(errors == 0 ? tr("✔ valid") : tr("✖ %n problem(s)", "", errors));
  validityLabel_->setStyleSheet(errors == 0 ? "color: #2e9d6b" : "color: #d03030");
}

void MainWindow::updateProblems() {
  problems_->clear();
  for (const auto &p : doc_->validation().problems) {
    auto *item = new QListWidgetItem(QString::fromStdString(p.format("")), problems_);
    item->setData(Qt::UserRole, QString::fromStdString(p.node));
    item->setData(Qt::UserRole + 1, p.code == ProblemCode::DataUnavailable || p.code == ProblemCode::BadDataset);
    item->setForeground(p.isError() ? QColor(0xd0, 0x30, 0x30) : QColor(0xb0, 0x70, 0x00));
  }
}

void MainWindow::setCurrentTab(const QString &name) {
  for (int i = 0; i < tabs_->count(); ++i)
    if (tabs_->tabText(i).compare(name, Qt::CaseInsensitive) == 0)
      tabs_->setCurrentIndex(i);
}

bool MainWindow::eventFilter(QObject *watched, QEvent *event) {
  // A window manager activates a closed dialog's parent; without one (a bare X server) no window
  // was active after Save as particle… or a file dialog, and no shortcut (Ctrl+O) worked until
  // the next click. A modal dialog closes while the user is in it (it blocks the rest), and only
  // when no window has taken the keyboard since, so another program's keeps it.
  if (event->type() == QEvent::Hide && watched->isWidgetType()) {
    auto *w = static_cast<QWidget *>(watched);
    if (w->windowType() == Qt::Dialog && w->isModal() && !QApplication::activeWindow() && w->parentWidget() &&
        w->parentWidget()->window()->isVisible())
      w->parentWidget()->window()->activateWindow();
  }
  return QMainWindow::eventFilter(watched, event);
}

void MainWindow::closeEvent(QCloseEvent *event) {
  if (!files_->maybeSave()) {
    event->ignore();
    return;
  }
  train_->shutdown();       // a running training stops after its batch and keeps its checkpoint
  experiments_->shutdown(); // a search stops; search.json keeps what finished
  // The Design tab's panels are what the next start shows.
  if (tabs_->currentIndex() != kDesignTab)
    tabs_->setCurrentIndex(kDesignTab);
  QSettings settings;
  settings.setValue("window/geometry", saveGeometry());
  settings.setValue("window/state", saveState());
  QFile::remove(ProjectFiles::recoveryPath()); // a clean exit leaves nothing to recover
  event->accept();
}

void MainWindow::exportModel(bool onnx) {
  const QString title = onnx ? tr("Export to ONNX") : tr("Export to PyTorch");
  if (exporter_->running()) {
    statusBar()->showMessage(tr("An export is still running."), 4000);
    return;
  }
  if (doc_->validation().errorCount() > 0) {
    QMessageBox::warning(this, title,
                         tr("The project has %n problem(s) (see Problems); fix them before exporting.", nullptr,
                            static_cast<int>(doc_->validation().errorCount())));
    return;
  }
  NewFolderDialog dialog(this, tr("%1: choose the folder to write to (a new one is created)").arg(title),
                         ProjectFiles::lastFolder());
  if (dialog.exec() != QDialog::Accepted || dialog.selectedFiles().isEmpty())
    return;
  const QString dir = QDir::cleanPath(dialog.selectedFiles().front());
  if (!QFileInfo(dir).isDir())
    return;
  ProjectFiles::rememberFolder(dir + "/"); // the next Save, Open or export starts there
  // The checkpoint the Explain tab holds (what the user explains: a stopped run does not replace a
  // completed one there), else the newest of this very graph; without one, the initial weights.
  QString checkpoint = explain_->checkpoint().isEmpty() ? train_->lastCheckpoint() : explain_->checkpoint();
  if (!checkpoint.isEmpty() && !checkpointFit(checkpoint.toStdString(), doc_->graph()).fits())
    checkpoint.clear();
  ExportRequest request;
  request.project = doc_->project();
  request.dir = dir;
  request.checkpoint = checkpoint;
  request.onnx = onnx;
  QApplication::setOverrideCursor(Qt::BusyCursor);
  statusBar()->showMessage(tr("Exporting to %1…").arg(dir));
  auto *cancel = new QPushButton(tr("Cancel export"), statusBar());
  cancel->setObjectName("cancelExportButton");
  statusBar()->addPermanentWidget(cancel);
  connect(cancel, &QPushButton::clicked, exporter_, &ExportController::cancel);
  connect(exporter_, &ExportController::progress, cancel,
          [this, dir](const QString &stage) { statusBar()->showMessage(tr("Exporting to %1: %2…").arg(dir, stage)); });
  connect(
      exporter_, &ExportController::finished, this,
      [this, cancel, dir, checkpoint, title](const QStringList &files, const QString &error, bool cancelled,
                                             const QString &check) {
        cancel->deleteLater();
        QApplication::restoreOverrideCursor();
        statusBar()->clearMessage();
        if (cancelled) {
          statusBar()->showMessage(tr("Export cancelled; %1 may hold some of its files.").arg(dir), 8000);
          return;
        }
        if (!error.isEmpty()) {
          QMessageBox::warning(this, tr("Cannot export"), error);
          return;
        }
        QMessageBox::information(
            this, title,
            tr("Exported to %1:\n%2\n\nWeights: %3.\nCheck it: python3 %1/model.py --check\nTrain it with plain "
               "PyTorch: python3 %1/train.py")
                    .arg(dir, files.join(", "),
                         checkpoint.isEmpty()
                             ? tr("the initial weights a run starts from (no checkpoint of this graph yet)")
                             : checkpoint) +
                (check.isEmpty() ? QString() : "\n\nONNX Runtime: " + check));
      },
      Qt::SingleShotConnection);
  exporter_->start(std::move(request));
}

} // namespace particle::ui
