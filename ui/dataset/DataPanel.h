#pragma once
// The Data panel: choose the data set and fix it in the app. The kind, then a form generated from
// that kind's keys (paths with Browse, a CSV's columns offered by name), every field checked as
// typed; below, what the data holds: sample count per split, sample shape, the classes with their
// names and a few samples (thumbnails for images, rows for tables; for audio thumbnails and the
// chosen one as a spectrogram with axes in s and Hz). Every change is an undoable edit of the
// project and re-runs shape inference like any other edit.

#include "graph/Shape.h"

#include <QWidget>

class QComboBox;
class QLabel;
class QListWidget;
class QTableWidget;
class QUndoStack;

namespace particle::ui {

class GraphDocument;
class SchemaForm;
class SpectrogramView;
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
  SpectrogramView *spectrogram() const { return spectrogram_; } // audio: the thumbnail chosen
  // True once the preview of the current data set arrived.
  bool previewReady() const { return previewReady_; }

Q_SIGNALS:
  void previewUpdated();

private:
  void refresh();
  void requestPreview();
  void onPreview(const DataPreview &p);
  void showAudioSample(int index);

  GraphDocument *doc_;
  QUndoStack *undo_;
  DataPreviewController *preview_;
  QComboBox *kind_;
  QLabel *kindDoc_, *status_, *summary_;
  SchemaForm *form_;
  QListWidget *thumbnails_;
  QTableWidget *rows_;
  SpectrogramView *spectrogram_;
  // Audio: the previewed samples (values, axes, class names), drawn as the thumbnail chosen.
  QVector<QVector<float>> audioValues_;
  QStringList audioTitles_;
  particle::DataInfo::Audio audio_;
  int audioRows_ = 0, audioCols_ = 0;
  QString previewedSection_;
  bool previewReady_ = false;
};

} // namespace particle::ui
