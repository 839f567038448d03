#pragma once
// The inspector: for the selected node, a form generated from its type's param schema (ranges and
// docs as tooltips, fields that do not apply hidden), its share group and scope, input and output
// shapes, parameter count (trained and frozen) and problems; where its weights start (a particle or
// another run, with Clear), freeze and a LoRA adapter for a node with weights; for the Input node,
// a summary of the data set. Every edit
// is an undo command on the document. Editors are updated in place when the document changes and
// rebuilt only when another node (or type) is shown, never from inside an editor's own signal.

#include "base/Json.h"

#include <QWidget>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QFormLayout;
class QSpinBox;
class QLabel;
class QPushButton;
class QUndoStack;

namespace particle {
struct Node;
struct NodeInfo;
} // namespace particle

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
  // The editor widget for a param, "share", "share_scope", "freeze", "adapter", "adapter_rank",
  // "adapter_alpha" or "init_clear" (for tests), or nullptr.
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
  void commitAdapter();
  void refreshWeights(const Node &n, const NodeInfo *info); // init, freeze, adapter rows

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
  QLabel *shapes_, *parameters_, *flops_, *problems_, *data_;
  QWidget *weights_, *initRow_;
  QFormLayout *weightsForm_;
  QLabel *init_, *initNode_;
  QPushButton *clearInit_;
  QCheckBox *freeze_;
  QComboBox *adapter_;
  QSpinBox *rank_;
  QDoubleSpinBox *alpha_;
  QPushButton *editData_;
};

} // namespace particle::ui
