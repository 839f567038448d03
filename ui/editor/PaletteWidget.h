#pragma once
// The node palette: categories and types from the catalogue, a filter box, drag onto the canvas
// or double-click to add at the view centre.

#include <QWidget>

class QLineEdit;
class QTreeWidget;

namespace particle::ui {

class PaletteWidget : public QWidget {
  Q_OBJECT

public:
  explicit PaletteWidget(QWidget *parent = nullptr);
  QLineEdit *filterBox() const { return filter_; }
  QTreeWidget *tree() const { return tree_; }
  // Number of types shown under the current filter.
  int visibleTypes() const;

Q_SIGNALS:
  void typeActivated(const QString &type);

private:
  void applyFilter(const QString &text);
  QLineEdit *filter_;
  QTreeWidget *tree_;
};

} // namespace particle::ui
