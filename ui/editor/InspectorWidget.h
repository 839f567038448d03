#pragma once
// The inspector: for the selected node, a form generated from its type's param schema (ranges and
// docs as tooltips, fields that do not apply hidden), its share group and scope, input and output
// shapes, parameter count and problems; for the Input node, a summary of the data set. Every edit
// is an undo command on the document. Editors are updated in place when the document changes and
// rebuilt only when another node (or type) is shown, never from inside an editor's own signal.

#include "base/Json.h"

#include <QWidget>

class QComboBox;
class QFormLayout;
class QLabel;
class QPushButton;
class QUndoStack;

namespace particle::ui {

class GraphDocument;
class SchemaForm;

class InspectorWidget : public QWidget {
  Q_OBJECT

public:
  InspectorWidget(GraphDocument *doc, QUndoStack *undo, QWidget *parent = nullptr);
  // Shows a node; empty: none, with `selected` saying how many nodes are selected.
  void showNode(const QString &id, int selected = 1);
  QString nodeId() const { return id_; }
  // The editor widget for a param, "share" or "share_scope" (for tests), or nullptr.
  QWidget *editorFor(const QString &param) const;
  SchemaForm *form() const { return form_; }

Q_SIGNALS:
  void editDataRequested(); // the Input node's "Data set…" button

private:
  void refresh();         // values, shapes and problems of the shown node, in place
  void rebuildIfNeeded(); // another node or type: new editors (deferred to the event loop)
  void commitParam(const QString &param, const particle::Json &value);
  void commitShare(const QString &group);
  void commitScope(const QString &scope);

  GraphDocument *doc_;
  QUndoStack *undo_;
  QString id_, shownType_;
  int selected_ = 0;
  bool rebuildQueued_ = false;
  QLabel *header_;
  SchemaForm *form_;
  QLabel *shareLabel_, *scopeLabel_;
  QComboBox *share_, *scope_;
  QFormLayout *extra_;
  QLabel *shapes_, *parameters_, *problems_, *data_;
  QPushButton *editData_;
};

} // namespace particle::ui
