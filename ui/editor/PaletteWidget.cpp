#include "editor/PaletteWidget.h"

#include "editor/GraphView.h"
#include "graph/Catalogue.h"

#include <QDrag>
#include <QHeaderView>
#include <QLineEdit>
#include <QMimeData>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace particle::ui {

namespace {
// Starts a drag carrying the node type.
class PaletteTree : public QTreeWidget {
public:
  using QTreeWidget::QTreeWidget;

protected:
  QMimeData *mimeData(const QList<QTreeWidgetItem *> &items) const override {
    if (items.isEmpty() || items.front()->data(0, Qt::UserRole).toString().isEmpty())
      return nullptr;
    auto *mime = new QMimeData;
    mime->setData(kNodeMimeType, items.front()->data(0, Qt::UserRole).toString().toUtf8());
    return mime;
  }
  QStringList mimeTypes() const override { return {kNodeMimeType}; }
};
} // namespace

PaletteWidget::PaletteWidget(QWidget *parent) : QWidget(parent) {
  auto *layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  filter_ = new QLineEdit(this);
  filter_->setPlaceholderText(tr("Filter nodes…"));
  filter_->setClearButtonEnabled(true);
  tree_ = new PaletteTree(this);
  tree_->setHeaderHidden(true);
  tree_->setDragEnabled(true);
  tree_->setDragDropMode(QAbstractItemView::DragOnly);
  tree_->setRootIsDecorated(false);
  tree_->setIndentation(12);
  tree_->setObjectName("paletteTree");
  filter_->setObjectName("paletteFilter");
  layout->addWidget(filter_);
  layout->addWidget(tree_);
  const auto &cat = Catalogue::instance();
  for (const auto &category : cat.categories()) {
    auto *group = new QTreeWidgetItem(tree_, {QString::fromStdString(category)});
    QFont f = group->font(0);
    f.setBold(true);
    group->setFont(0, f);
    group->setFlags(Qt::ItemIsEnabled);
    for (const auto &t : cat.entries()) {
      if (t.category != category)
        continue;
      auto *item = new QTreeWidgetItem(group, {QString::fromStdString(t.type)});
      item->setData(0, Qt::UserRole, QString::fromStdString(t.type));
      item->setToolTip(0, QString::fromStdString(t.doc) + "\n" + tr("Drag onto the canvas, or double-click to add."));
      item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemIsDragEnabled);
    }
  }
  tree_->expandAll();
  connect(filter_, &QLineEdit::textChanged, this, &PaletteWidget::applyFilter);
  // Double-click or Enter adds the type at a free spot in the middle of the canvas.
  connect(tree_, &QTreeWidget::itemActivated, this, [this](QTreeWidgetItem *item) {
    const QString type = item->data(0, Qt::UserRole).toString();
    if (!type.isEmpty())
      Q_EMIT typeActivated(type);
  });
}

void PaletteWidget::applyFilter(const QString &text) {
  for (int g = 0; g < tree_->topLevelItemCount(); ++g) {
    auto *group = tree_->topLevelItem(g);
    int shown = 0;
    for (int i = 0; i < group->childCount(); ++i) {
      auto *item = group->child(i);
      const bool match = text.isEmpty() || item->text(0).contains(text, Qt::CaseInsensitive) ||
                         item->toolTip(0).contains(text, Qt::CaseInsensitive);
      item->setHidden(!match);
      shown += match;
    }
    group->setHidden(shown == 0);
  }
}

int PaletteWidget::visibleTypes() const {
  int n = 0;
  for (int g = 0; g < tree_->topLevelItemCount(); ++g)
    for (int i = 0; i < tree_->topLevelItem(g)->childCount(); ++i)
      n += !tree_->topLevelItem(g)->child(i)->isHidden();
  return n;
}

} // namespace particle::ui
