#include "library/LibraryPanel.h"

#include "AppPaths.h"
#include "document/GraphDocument.h"
#include "editor/GraphView.h"
#include "graph/Catalogue.h"
#include "graph/Validator.h"

#include <QDesktopServices>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QFileSystemWatcher>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QMenu>
#include <QMessageBox>
#include <QMimeData>
#include <QPushButton>
#include <QTimer>
#include <QTreeWidget>
#include <QUrl>
#include <QVBoxLayout>

namespace particle::ui {

namespace {
constexpr int kPathRole = Qt::UserRole;
constexpr int kDetailRole = Qt::UserRole + 1;

// Starts a drag carrying the particle file's path.
class PartTree : public QTreeWidget {
public:
  using QTreeWidget::QTreeWidget;

protected:
  QMimeData *mimeData(const QList<QTreeWidgetItem *> &items) const override {
    if (items.isEmpty() || items.front()->data(0, kPathRole).toString().isEmpty())
      return nullptr;
    auto *mime = new QMimeData;
    mime->setData(kPartMimeType, items.front()->data(0, kPathRole).toString().toUtf8());
    return mime;
  }
  QStringList mimeTypes() const override { return {kPartMimeType}; }
};

QString withCommas(int64_t v) {
  return QLocale(QLocale::English).toString(static_cast<qlonglong>(v));
}

// A provenance value as a person reads it: text as it is, lists joined, numbers plain.
QString plain(const Json &value) {
  if (value.is_string())
    return QString::fromStdString(value.get<std::string>());
  if (value.is_array()) {
    QStringList parts;
    for (const auto &v : value)
      parts << plain(v);
    return parts.join(", ");
  }
  // A data set section: what it describes itself as.
  if (value.is_object() && value.contains("description") && value["description"].is_string())
    return QString::fromStdString(value["description"].get<std::string>());
  return QString::fromStdString(value.dump());
}

// What the panel says about a readable particle, as lines "label: value" (HTML-escaped).
QStringList describe(const PartInfo &info) {
  QStringList lines;
  const Json &p = info.provenance;
  auto add = [&](const QString &label, const QString &value) {
    if (!value.isEmpty())
      lines << QString("<b>%1</b>: %2").arg(label, value.toHtmlEscaped());
  };
  auto text = [&](const char *key) { return p.is_object() && p.contains(key) ? plain(p[key]) : QString(); };
  add(QObject::tr("from project"), text("project"));
  add(QObject::tr("data set"), text("dataset"));
  add(QObject::tr("classes"), text("classes"));
  if (p.is_object() && p.contains("test_accuracy") && p["test_accuracy"].is_number())
    add(QObject::tr("test accuracy"), QString("%1%").arg(100 * p["test_accuracy"].get<double>(), 0, 'f', 1));
  add(QObject::tr("run"), text("run"));
  add(QObject::tr("date"), text("date"));
  QStringList nodes;
  for (const auto &n : info.nodes)
    nodes << QString("%1 (%2)").arg(QString::fromStdString(n.id), QString::fromStdString(n.type));
  add(QObject::tr("nodes"), nodes.join(", "));
  add(QObject::tr("parameters"), withCommas(info.parameters));
  add(QObject::tr("shapes"), QString("%1 → %2").arg(QString::fromStdString(shapeToString(info.inputShape)),
                                                    QString::fromStdString(shapeToString(info.outputShape))));
  // Whatever else the file says about its origin (a later version's keys) is shown as written.
  if (p.is_object())
    for (const auto &[key, value] : p.items())
      if (key != "project" && key != "dataset" && key != "classes" && key != "test_accuracy" && key != "run" &&
          key != "date")
        add(QString::fromStdString(key).replace('_', ' '), plain(value));
  return lines;
}
// Shows `folder` in the file manager; where there is none (a bare desktop), says where it is in a
// box whose text can be selected and copied. `where` is a sentence with %1 for the folder.
void showFolder(QWidget *parent, const QString &title, const QString &folder, const QString &where) {
  if (QDesktopServices::openUrl(QUrl::fromLocalFile(folder)))
    return;
  QMessageBox box(QMessageBox::Information, title,
                  QObject::tr("No file manager could show the folder. %1")
                      .arg(where.arg(QDir::toNativeSeparators(folder).toHtmlEscaped())),
                  QMessageBox::Ok, parent);
  box.setTextFormat(Qt::RichText);
  box.setTextInteractionFlags(Qt::TextSelectableByMouse);
  box.exec();
}
} // namespace

std::set<std::string> partNodesWithWeights(const PartInfo &part, const DataInfo &data) {
  Graph g;
  for (Node n : part.nodes) {
    n.init.reset();
    n.freeze = false;
    n.adapter.reset();
    g.nodes.push_back(std::move(n));
  }
  g.edges = part.edges;
  for (const NodeType &t : Catalogue::instance().entries())
    if (t.role == NodeRole::DataSource) {
      Node source;
      source.id = g.uniqueId("source");
      source.type = t.type;
      g.nodes.push_back(source);
      g.edges.push_back(Edge{PortRef{source.id}, PortRef{part.inputNode}});
      break;
    }
  DataInfo fed = data;
  fed.sampleShape = part.inputShape;
  const Validation v = validateGraph(g, &fed);
  std::set<std::string> out;
  for (const Node &n : part.nodes) {
    const NodeInfo *info = v.info(n.id);
    const NodeType *type = Catalogue::instance().find(n.type);
    // Shapes that cannot be known here (a type that needs more of the data set): the sub-models
    // and layers that can be shared are the ones with weights.
    const bool weights = info && info->shapesKnown ? info->parameters > 0
                                                   : type && (type->role == NodeRole::SubModel || type->shareable);
    if (weights)
      out.insert(n.id);
  }
  return out;
}

LibraryPanel::LibraryPanel(GraphDocument *doc, QWidget *parent) : QWidget(parent), doc_(doc) {
  auto *layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  tree_ = new PartTree(this);
  tree_->setObjectName("libraryTree");
  tree_->setHeaderHidden(true);
  tree_->setRootIsDecorated(false);
  tree_->setIndentation(12);
  // Each particle on two lines (its name, then its size and accuracy), wrapped to the dock's width
  // rather than cut: the dock is narrow beside the canvas.
  tree_->setWordWrap(true);
  tree_->setTextElideMode(Qt::ElideNone);
  tree_->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  tree_->setAlternatingRowColors(true); // where one particle's two lines end and the next begins
  tree_->setDragEnabled(true);
  tree_->setDragDropMode(QAbstractItemView::DragOnly);
  tree_->setToolTip(tr("Drag a particle onto the canvas to add it with its trained weights"));
  layout->addWidget(tree_, 1);
  tree_->setContextMenuPolicy(Qt::CustomContextMenu);
  connect(tree_, &QWidget::customContextMenuRequested, this, &LibraryPanel::showMenu);
  detail_ = new QLabel(this);
  detail_->setObjectName("libraryDetail");
  detail_->setWordWrap(true);
  detail_->setTextFormat(Qt::RichText);
  detail_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  detail_->setAlignment(Qt::AlignTop | Qt::AlignLeft);
  layout->addWidget(detail_);
  auto *buttons = new QHBoxLayout;
  openLibrary_ = new QPushButton(tr("Open Library Folder"), this);
  openLibrary_->setObjectName("openLibraryButton");
  openLibrary_->setToolTip(tr("Show your particle library's folder (%1): particles copied there are listed here")
                               .arg(QDir::toNativeSeparators(libraryFolder())));
  connect(openLibrary_, &QPushButton::clicked, this, [this] {
    showFolder(this, tr("Your particle library"), libraryFolder(),
               tr("Your particle library is<br><b>%1</b><br>Copy .particle-part files there to have them in every "
                  "project."));
  });
  refresh_ = new QPushButton(tr("Refresh"), this);
  refresh_->setObjectName("refreshLibraryButton");
  connect(refresh_, &QPushButton::clicked, this, &LibraryPanel::refresh);
  buttons->addWidget(openLibrary_);
  buttons->addWidget(refresh_);
  buttons->addStretch();
  layout->addLayout(buttons);

  watcher_ = new QFileSystemWatcher(this);
  pending_ = new QTimer(this);
  pending_->setSingleShot(true);
  pending_->setInterval(200);
  connect(pending_, &QTimer::timeout, this, &LibraryPanel::refresh);
  connect(watcher_, &QFileSystemWatcher::directoryChanged, pending_, qOverload<>(&QTimer::start));
  connect(tree_, &QTreeWidget::currentItemChanged, this, &LibraryPanel::showDetail);
  connect(tree_, &QTreeWidget::itemActivated, this, [this](QTreeWidgetItem *item) {
    if (item && !item->data(0, kPathRole).toString().isEmpty() && (item->flags() & Qt::ItemIsDragEnabled))
      Q_EMIT partActivated(item->data(0, kPathRole).toString());
  });
  // Another project has another particles/ folder (and a project saved for the first time, one).
  connect(doc_, &GraphDocument::modelReset, this, &LibraryPanel::refresh);
  connect(doc_, &GraphDocument::validated, this, [this] {
    if (projectPartsFolder(doc_->filePath()) != projectFolder_)
      refresh();
  });
  refresh();
}

QTreeWidgetItem *LibraryPanel::itemFor(const QString &path) const {
  const QString wanted = QFileInfo(path).absoluteFilePath();
  for (int g = 0; g < tree_->topLevelItemCount(); ++g) {
    QTreeWidgetItem *group = tree_->topLevelItem(g);
    for (int i = 0; i < group->childCount(); ++i)
      if (QFileInfo(group->child(i)->data(0, kPathRole).toString()).absoluteFilePath() == wanted)
        return group->child(i);
  }
  return nullptr;
}

void LibraryPanel::watchFolders() {
  if (!watcher_->directories().isEmpty())
    watcher_->removePaths(watcher_->directories());
  QStringList folders = {libraryFolder()};
  if (!projectFolder_.isEmpty()) {
    // The project's particles/ may not exist yet: its parent tells when it is made.
    folders << (QFileInfo::exists(projectFolder_) ? projectFolder_ : QFileInfo(projectFolder_).absolutePath());
  }
  for (const QString &folder : folders)
    if (QFileInfo(folder).isDir())
      watcher_->addPath(folder);
}

void LibraryPanel::refresh() {
  const QString selected = tree_->currentItem() ? tree_->currentItem()->data(0, kPathRole).toString() : QString();
  projectFolder_ = projectPartsFolder(doc_->filePath());
  watchFolders();
  tree_->clear();
  QTreeWidgetItem *current = nullptr;
  auto list = [&](const QString &title, const QString &folder, const QString &empty) {
    auto *group = new QTreeWidgetItem(tree_, {title});
    QFont bold = group->font(0);
    bold.setBold(true);
    group->setFont(0, bold);
    group->setFlags(Qt::ItemIsEnabled);
    group->setToolTip(0, QDir::toNativeSeparators(folder));
    const QFileInfoList files =
        folder.isEmpty() ? QFileInfoList()
                         : QDir(folder).entryInfoList({"*.particle-part"}, QDir::Files | QDir::Readable, QDir::Name);
    for (const QFileInfo &file : files) {
      auto *item = new QTreeWidgetItem(group);
      item->setData(0, kPathRole, file.absoluteFilePath());
      const QString name = file.fileName().chopped(QString(".particle-part").size());
      try {
        const PartInfo info = readPartInfo(file.absoluteFilePath().toStdString());
        const QStringList lines = describe(info);
        const Json &p = info.provenance;
        const QString accuracy =
            p.is_object() && p.contains("test_accuracy") && p["test_accuracy"].is_number()
                ? QString(" · %1% test accuracy").arg(100 * p["test_accuracy"].get<double>(), 0, 'f', 1)
                : QString();
        item->setText(0, QString("%1\n%2 params%3").arg(name, withCommas(info.parameters), accuracy));
        item->setData(0, kDetailRole, QString("<b>%1</b><br>%2").arg(name.toHtmlEscaped(), lines.join("<br>")));
        item->setToolTip(0, QString("<p style='white-space:pre'>%1</p>").arg(lines.join("<br>")));
        item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemIsDragEnabled);
      } catch (const std::exception &e) {
        // Listed with its error: a file the user put there and does not see would be a mystery.
        item->setText(0, tr("%1\ncannot be read").arg(name));
        item->setForeground(0, QColor(0xd0, 0x30, 0x30));
        const QString why = QString::fromStdString(e.what()).toHtmlEscaped();
        item->setData(0, kDetailRole,
                      QString("<b>%1</b><br><span style='color:#d03030'>%2</span>").arg(name.toHtmlEscaped(), why));
        item->setToolTip(0, why);
        item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable);
      }
      if (item->data(0, kPathRole).toString() == selected)
        current = item;
    }
    if (files.isEmpty()) {
      auto *none = new QTreeWidgetItem(group, {empty});
      none->setFlags(Qt::ItemIsEnabled);
      none->setForeground(0, palette().color(QPalette::PlaceholderText));
    }
    group->setExpanded(true);
  };
  list(tr("Your library"), libraryFolder(), tr("none yet"));
  list(tr("This project"), projectFolder_,
       projectFolder_.isEmpty() ? tr("save the project to keep particles beside it")
                                : tr("none in %1").arg(QDir::toNativeSeparators(projectFolder_)));
  if (current)
    tree_->setCurrentItem(current);
  showDetail();
}

void LibraryPanel::showMenu(const QPoint &at) {
  QTreeWidgetItem *item = tree_->itemAt(at);
  const QString path = item ? item->data(0, kPathRole).toString() : QString();
  if (path.isEmpty())
    return;
  const QFileInfo file(path);
  const QString mine = QDir(libraryFolder()).filePath(file.fileName());
  QMenu menu(this);
  // A project's particle into the library every project lists (saving puts it beside the project).
  QAction *copy = menu.addAction(tr("Copy to My Library"), this, [this, path, mine, file] {
    if (QFileInfo::exists(mine))
      QMessageBox::information(this, tr("Copy to My Library"),
                               tr("Your library already has a particle named %1.").arg(file.fileName()));
    else if (!QFile::copy(path, mine))
      QMessageBox::warning(
          this, tr("Copy to My Library"),
          tr("Cannot copy %1 to %2.").arg(QDir::toNativeSeparators(path), QDir::toNativeSeparators(mine)));
    else {
      refresh();
      if (QTreeWidgetItem *copied = itemFor(mine))
        tree_->setCurrentItem(copied);
    }
  });
  copy->setEnabled(file.absolutePath() != QFileInfo(libraryFolder()).absoluteFilePath());
  if (!copy->isEnabled())
    copy->setToolTip(tr("It is in your library"));
  menu.addAction(tr("Show in Folder"), this, [this, file] {
    showFolder(this, tr("Show in Folder"), file.absolutePath(),
               tr("%1 is in<br><b>%2</b>").arg(file.fileName().toHtmlEscaped()));
  });
  menu.addSeparator();
  menu.addAction(tr("Delete…"), this, [this, path, file] {
    QMessageBox ask(QMessageBox::Question, tr("Delete particle"),
                    tr("Delete the particle %1?<br>%2<br>A project whose nodes start from it will no longer find "
                       "their weights.")
                        .arg(file.fileName().toHtmlEscaped(), QDir::toNativeSeparators(path).toHtmlEscaped()),
                    QMessageBox::Yes | QMessageBox::No, this);
    ask.setDefaultButton(QMessageBox::No);
    if (ask.exec() != QMessageBox::Yes)
      return;
    if (!QFile::remove(path))
      QMessageBox::warning(this, tr("Delete particle"), tr("Cannot delete %1.").arg(QDir::toNativeSeparators(path)));
    refresh();
  });
  menu.exec(tree_->viewport()->mapToGlobal(at));
}

void LibraryPanel::showDetail() {
  QTreeWidgetItem *item = tree_->currentItem();
  const QString text = item ? item->data(0, kDetailRole).toString() : QString();
  detail_->setText(text.isEmpty() ? tr("<i>Select a particle to see where it came from; drag it onto the canvas "
                                       "to add it with its trained weights.</i>")
                                  : text);
}

} // namespace particle::ui
