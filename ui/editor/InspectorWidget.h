#pragma once
// The inspector: a form generated from the selected node's param schema (with ranges and
// docs), its share group and scope, input/output shapes and parameter count. Every edit is an
// undo command on the document.

#include <QWidget>

class QFormLayout;
class QLabel;
class QUndoStack;

namespace particle::ui {

class GraphDocument;

class InspectorWidget : public QWidget {
  Q_OBJECT

public:
  InspectorWidget(GraphDocument *doc, QUndoStack *undo, QWidget *parent = nullptr);
  void showNode(const QString &id); // empty: nothing selected
  QString nodeId() const { return id_; }
  // The editor widget for a param (for tests), or nullptr.
  QWidget *editorFor(const QString &param) const;

private:
  void rebuild();
  void commit(const QString &param, const QString &text);

  GraphDocument *doc_;
  QUndoStack *undo_;
  QString id_;
  QFormLayout *form_;
  QLabel *header_;
  bool rebuilding_ = false;
};

} // namespace particle::ui
