#pragma once
// The Data panel: choose the data set and fix it in the app. The kind, then a form generated from
// that kind's keys (paths with Browse, a CSV's columns offered by name), every field checked as
// typed; below, what the data holds: sample count per split, sample shape, the classes with their
// names and a few samples (thumbnails for images, rows for tables). Every change is an undoable
// edit of the project and re-runs shape inference like any other edit.

#include <QWidget>

class QComboBox;
class QLabel;
class QListWidget;
class QTableWidget;
class QUndoStack;

namespace particle::ui {

class GraphDocument;
class SchemaForm;
class DataPreviewController;
struct DataPreview;

class DataPanel : public QWidget {
  Q_OBJECT

public:
  DataPanel(GraphDocument *doc, QUndoStack *undo, QWidget *parent = nullptr);
  ~DataPanel() override;

  QComboBox *kindBox() const { return kind_; }
  SchemaForm *form() const { return form_; }
  QLabel *statusLabel() const { return status_; }
  QLabel *summaryLabel() const { return summary_; }
  QListWidget *thumbnails() const { return thumbnails_; }
  QTableWidget *rows() const { return rows_; }
  // True once the preview of the current data set arrived.
  bool previewReady() const { return previewReady_; }

Q_SIGNALS:
  void previewUpdated();

private:
  void refresh();
  void requestPreview();
  void onPreview(const DataPreview &p);

  GraphDocument *doc_;
  QUndoStack *undo_;
  DataPreviewController *preview_;
  QComboBox *kind_;
  QLabel *kindDoc_, *status_, *summary_;
  SchemaForm *form_;
  QListWidget *thumbnails_;
  QTableWidget *rows_;
  QString previewedSection_;
  bool previewReady_ = false;
};

} // namespace particle::ui
