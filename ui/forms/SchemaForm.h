#pragma once
// A form generated from a Schema: one editor per field (check box, spin box, number box, choice
// box, text or list line, path with Browse), fields that do not apply hidden, values checked as
// typed. Editors are built once per schema and updated in place, so an edit never destroys the
// widget in use: it keeps its focus and its text cursor. Used by the inspector (node params), the
// Data panel (the data kind's keys) and the Train tab (the training section).

#include "schema/Schema.h"

#include <QComboBox>
#include <QPointer>
#include <QWidget>

#include <functional>
#include <map>

class QGridLayout;
class QLabel;
class QToolButton;

namespace particle::ui {

// A choice box that does not ask for the width of its longest item, so a form stays usable in a
// narrow dock (the list pops up at full width; the tooltip has the whole text).
inline QComboBox *compact(QComboBox *combo) {
  combo->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  combo->setMinimumContentsLength(6);
  return combo;
}

// The mouse wheel changes `box` (a spin box, a choice box) only while it has the keyboard focus;
// otherwise the wheel goes on to what holds it, so a form scrolls under the pointer without editing
// the fields that pass under it. The box no longer takes the focus from the wheel.
void wheelOnlyWithFocus(QWidget *box);

class SchemaForm : public QWidget {
  Q_OBJECT

public:
  explicit SchemaForm(QWidget *parent = nullptr);

  // Builds the editors for `schema`. `identity` names the schema (a node type, a data kind):
  // the same identity keeps the existing editors.
  void setSchema(const Schema &schema, const QString &identity);
  const QString &identity() const { return identity_; }
  // Shows these values (absent or null: the field's default) without emitting anything. An editor
  // that has focus and already shows the value is left alone.
  void setValues(const Json &given);
  // A problem to show under a field (validation's message); fields not named are cleared.
  void setProblems(const std::map<std::string, QString> &problems);
  // Choices offered for a Text or Column field (a CSV's header, the devices): `values` are what is
  // stored, `labels` what is shown (defaults to the values).
  void setSuggestions(const QString &field, const QStringList &values, const QStringList &labels = {});
  // Relative paths are shown and chosen against this folder (the project's).
  void setBaseDir(const QString &dir) { baseDir_ = dir; }
  // Which fields accept edits (all when unset).
  void setEditable(const std::function<bool(const std::string &)> &editable);
  // Fields not shown whatever the values (an Input's normalize over token ids).
  void setHiddenFields(const QStringList &fields);

  QWidget *editor(const QString &field) const;
  bool fieldVisible(const QString &field) const;
  QString problemText(const QString &field) const;

Q_SIGNALS:
  // The user changed a field; a null value means "back to the default".
  void edited(const QString &field, const particle::Json &value);

private:
  struct Row {
    Field field;
    QLabel *label = nullptr;
    QWidget *editor = nullptr; // what has focus: a spin box, a line edit, a combo…
    QWidget *holder = nullptr; // what sits in the grid (the editor, or it with a Browse button)
    QLabel *problem = nullptr; // validation's message under the field
    QString inputProblem;      // what is wrong with the text being typed (not sent)
    QString validationProblem; // what validation says about the stored value
  };
  void build();
  QWidget *makeEditor(Row &row);
  void showValue(Row &row, const Json &value);
  void updateVisibility();
  bool inUse(const Row &r) const;
  void refreshProblem(Row &row);
  void commitText(Row &row);
  // A number box's text: out of range while typed, refused by Enter or focus-out, or finished.
  void numberTyped(const QString &field, const QString &text);
  void refuseNumber(const QString &field, const QString &text, const QString &kept);
  void numberFinished(const QString &field);
  void clearNumberProblem(const QString &field);
  Row *row(const QString &field);
  const Row *row(const QString &field) const;

  Schema schema_;
  QString identity_;
  QString baseDir_;
  Json shown_ = Json::object(); // effective values on display
  std::vector<Row> rows_;
  QGridLayout *grid_ = nullptr;
  QToolButton *advancedToggle_ = nullptr;
  bool showAdvanced_ = false;
  bool refusedNow_ = false; // a number box just refused its text (until its editingFinished)
  std::function<bool(const std::string &)> editable_;
  std::map<QString, std::pair<QStringList, QStringList>> suggestions_;
  QStringList hidden_;
};

// Text ↔ value for the line-edited kinds ("128, 64" ↔ [128, 64]); an empty text is null.
QString fieldText(const Field &field, const Json &value);
// Parses what the user typed; sets `error` when it cannot be read or fails the field's check.
Json parseFieldText(const Field &field, const QString &text, QString *error);

} // namespace particle::ui
