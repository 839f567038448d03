#include "forms/SchemaForm.h"

#include "forms/RangeSpinBox.h"

#include "schema/Range.h"

#include <QAbstractItemView>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QKeySequence>
#include <QLabel>
#include <QLineEdit>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QToolButton>

#include <climits>
#include <functional>
#include <cmath>

namespace particle::ui {

namespace {
constexpr const char *kProblemStyle = "color: #d03030";

// Ctrl+Z (and Ctrl+Shift+Z, Ctrl+Y) in a number box: while it holds typed text not yet taken, the
// box undoes the typing; once what it shows is the value the document took, the keys are the
// document's (Edit → Undo), as anywhere else in the window. Returns true when the box lets the
// keys go: the ShortcutOverride is left unaccepted, so the window's shortcut takes the key.
bool undoKeysAreTheDocuments(const QAbstractSpinBox *box, const QString &shown, QEvent *event) {
  if (event->type() != QEvent::ShortcutOverride)
    return false;
  const QKeySequence key(static_cast<QKeyEvent *>(event)->keyCombination());
  const bool undoKey = key == QKeySequence(Qt::CTRL | Qt::Key_Z) ||
                       key == QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Z) ||
                       key == QKeySequence(Qt::CTRL | Qt::Key_Y);
  if (!undoKey || box->text() != shown)
    return false;
  event->ignore();
  return true;
}

// A double spin box that shows numbers as people write them (0.001, 1e-05, 2.5) and steps by a
// tenth of the value's own magnitude, so one box serves a learning rate and a dropout alike.
class NumberBox : public QDoubleSpinBox {
public:
  explicit NumberBox(QWidget *parent) : QDoubleSpinBox(parent) {
    setDecimals(12);
    setStepType(QAbstractSpinBox::AdaptiveDecimalStepType);
    setKeyboardTracking(false);
  }
  QString textFromValue(double value) const override { return QString::number(value, 'g', 8); }
  double valueFromText(const QString &text) const override { return text.trimmed().toDouble(); }
  QValidator::State validate(QString &text, int &) const override {
    const QString t = text.trimmed();
    if (t.isEmpty() || t == "-" || t == "." || t.endsWith('e', Qt::CaseInsensitive) || t.endsWith('-') ||
        t.endsWith('+'))
      return QValidator::Intermediate;
    bool ok = false;
    const double v = t.toDouble(&ok);
    if (!ok)
      return QValidator::Invalid;
    return v >= minimum() && v <= maximum() ? QValidator::Acceptable : QValidator::Intermediate;
  }
  // Called with the text Enter or leaving the box could not take; the box then shows its value again.
  void fixup(QString &text) const override {
    if (refused)
      refused(text, shownValue());
  }
  QString shownValue() const {
    return value() == minimum() && !specialValueText().isEmpty() ? specialValueText() : textFromValue(value());
  }
  QLineEdit *edit() const { return lineEdit(); }
  std::function<void(const QString &, const QString &)> refused;

protected:
  bool event(QEvent *e) override { return undoKeysAreTheDocuments(this, shownValue(), e) || QDoubleSpinBox::event(e); }
};

// A range-aware whole-number box (forms/RangeSpinBox.h) whose undo keys undo the document once its
// value was taken.
class IntBox : public RangeSpinBox {
public:
  explicit IntBox(QWidget *parent) : RangeSpinBox(parent) {}
  QLineEdit *edit() const { return lineEdit(); }

protected:
  bool event(QEvent *e) override { return undoKeysAreTheDocuments(this, shownValue(), e) || QSpinBox::event(e); }
};

// Passes the wheel on to the parent while the box it watches has no focus.
class WheelGuard : public QObject {
public:
  explicit WheelGuard(QObject *parent) : QObject(parent) {}
  bool eventFilter(QObject *watched, QEvent *event) override {
    if (event->type() == QEvent::Wheel) {
      auto *w = qobject_cast<QWidget *>(watched);
      if (w && !w->hasFocus()) {
        event->ignore(); // the application offers an ignored wheel event to the parent
        return true;
      }
    }
    return QObject::eventFilter(watched, event);
  }
};

// What a number box says about text it could not take: the field's range, as validation words it.
QString rangeProblem(const Field &field, const QString &text) {
  bool ok = false;
  const double v = text.trimmed().toDouble(&ok);
  if (!ok)
    return {};
  // A whole number reads as typed ("is 2", not "is 2.0"), in either kind of field.
  const bool whole = std::isfinite(v) && v == std::round(v) && std::abs(v) < 9e18;
  const Json value = whole ? Json(static_cast<int64_t>(std::llround(v))) : Json(v);
  return QString::fromStdString(Schema::check(field, value));
}

bool isLineKind(FieldKind k) {
  return k == FieldKind::Text || k == FieldKind::Path || k == FieldKind::IntList || k == FieldKind::IntListList ||
         k == FieldKind::TextList || k == FieldKind::Column || k == FieldKind::ColumnList || k == FieldKind::Classes;
}

QStringList splitItems(const QString &text) {
  QStringList out;
  for (const QString &part : text.split(',', Qt::SkipEmptyParts)) {
    const QString t = part.trimmed();
    if (!t.isEmpty())
      out << t;
  }
  return out;
}

// An item of a column list: an index when it is a whole number.
Json columnItem(const QString &text) {
  bool isIndex = false;
  const qlonglong i = text.toLongLong(&isIndex);
  return isIndex ? Json(static_cast<int64_t>(i)) : Json(text.toStdString());
}
} // namespace

void wheelOnlyWithFocus(QWidget *box) {
  if (box->property("wheelOnlyWithFocus").toBool())
    return;
  box->setProperty("wheelOnlyWithFocus", true);
  box->setFocusPolicy(Qt::StrongFocus); // not Qt::WheelFocus: the wheel does not take the focus
  box->installEventFilter(new WheelGuard(box));
}

QString fieldText(const Field &field, const Json &value) {
  if (value.is_null())
    return {};
  switch (field.kind) {
  case FieldKind::Text:
  case FieldKind::Path: return value.is_string() ? QString::fromStdString(value.get<std::string>()) : QString();
  case FieldKind::Column:
    return value.is_string() ? QString::fromStdString(value.get<std::string>()) : QString::fromStdString(value.dump());
  case FieldKind::IntList:
  case FieldKind::TextList:
  case FieldKind::ColumnList:
  case FieldKind::Classes: {
    if (!value.is_array())
      return QString::fromStdString(value.dump());
    QStringList parts;
    for (const auto &x : value)
      parts << (x.is_string() ? QString::fromStdString(x.get<std::string>()) : QString::fromStdString(x.dump()));
    return parts.join(", ");
  }
  default: return QString::fromStdString(compactJson(value));
  }
}

Json parseFieldText(const Field &field, const QString &rawText, QString *error) {
  const QString text = rawText.trimmed();
  if (text.isEmpty()) {
    if (field.required && error)
      *error = QObject::tr("is required");
    return nullptr;
  }
  Json value;
  switch (field.kind) {
  case FieldKind::Text:
  case FieldKind::Path: value = text.toStdString(); break;
  case FieldKind::Column: value = columnItem(text); break;
  case FieldKind::TextList: {
    value = Json::array();
    for (const QString &item : splitItems(text))
      value.push_back(item.toStdString());
    break;
  }
  case FieldKind::ColumnList: {
    value = Json::array();
    for (const QString &item : splitItems(text))
      value.push_back(columnItem(item));
    break;
  }
  case FieldKind::Classes: {
    bool isCount = false;
    const qlonglong count = text.toLongLong(&isCount);
    if (isCount) {
      value = static_cast<int64_t>(count);
    } else {
      value = Json::array();
      for (const QString &item : splitItems(text))
        value.push_back(item.toStdString());
    }
    break;
  }
  case FieldKind::IntList: {
    const QString t = text.startsWith('[') ? text : "[" + text + "]";
    try {
      value = Json::parse(t.toStdString());
    } catch (const std::exception &) {
      if (error)
        *error = QObject::tr("write integers separated by commas, %1").arg(QString::fromStdString(field.placeholder));
      return nullptr;
    }
    break;
  }
  case FieldKind::IntListList:
    // Groups may be typed plainly: "age, height; 3; city" (a list per ';', indices or names).
    if (!text.startsWith('[')) {
      value = Json::array();
      for (const QString &group : text.split(';')) {
        Json items = Json::array();
        for (const QString &item : splitItems(group))
          items.push_back(columnItem(item));
        value.push_back(items);
      }
      break;
    }
    [[fallthrough]];
  default: try { value = Json::parse(text.toStdString());
    } catch (const std::exception &) {
      if (error)
        *error = QObject::tr("write a list of lists, %1").arg(QString::fromStdString(field.placeholder));
      return nullptr;
    }
    break;
  }
  const std::string problem = Schema::check(field, value);
  if (!problem.empty() && error)
    *error = QString::fromStdString(problem);
  return value;
}

SchemaForm::SchemaForm(QWidget *parent) : QWidget(parent) {
  grid_ = new QGridLayout(this);
  grid_->setContentsMargins(0, 0, 0, 0);
  grid_->setColumnStretch(1, 1);
  // A refused number's message says which value the box kept; once the user has gone on to edit
  // another setting it is old news, and goes (a line's unreadable text stays in it, and so does its
  // message).
  connect(this, &SchemaForm::edited, this, [this](const QString &field) {
    for (auto &r : rows_)
      if (QString::fromStdString(r.field.name) != field && !r.inputProblem.isEmpty() &&
          qobject_cast<QAbstractSpinBox *>(r.editor) && !r.editor->hasFocus()) {
        r.inputProblem.clear();
        refreshProblem(r);
      }
  });
}

void SchemaForm::setSchema(const Schema &schema, const QString &identity) {
  if (identity == identity_ && !rows_.empty() == !schema.empty())
    return;
  schema_ = schema;
  identity_ = identity;
  build();
}

void SchemaForm::build() {
  // The form is rebuilt only when its schema changes (another node type or data kind), never from
  // an editor's own signal: the editors emit `edited`, and the owner updates values in place.
  for (auto &r : rows_) {
    delete r.label;
    delete r.holder;
    delete r.problem;
  }
  rows_.clear();
  delete advancedToggle_;
  advancedToggle_ = nullptr;
  int line = 0;
  bool anyAdvanced = false;
  for (const auto &f : schema_.fields()) {
    Row r;
    r.field = f;
    r.label = new QLabel(QString::fromStdString(f.label()), this);
    r.label->setToolTip(QString::fromStdString(f.doc));
    r.label->setWordWrap(true); // "categorical columns" takes two lines in a narrow dock, not a scroll bar
    r.holder = makeEditor(r);
    r.label->setBuddy(r.editor);
    r.problem = new QLabel(this);
    r.problem->setWordWrap(true);
    r.problem->setStyleSheet(kProblemStyle);
    r.problem->setObjectName("problem:" + QString::fromStdString(f.name));
    r.problem->hide();
    grid_->addWidget(r.label, line, 0);
    grid_->addWidget(r.holder, line, 1);
    grid_->addWidget(r.problem, line + 1, 1);
    line += 2;
    anyAdvanced |= f.advanced;
    rows_.push_back(std::move(r));
  }
  if (anyAdvanced) {
    advancedToggle_ = new QToolButton(this);
    advancedToggle_->setObjectName("advancedToggle");
    advancedToggle_->setCheckable(true);
    advancedToggle_->setChecked(showAdvanced_);
    advancedToggle_->setText(showAdvanced_ ? tr("Fewer settings") : tr("More settings…"));
    advancedToggle_->setAutoRaise(true);
    connect(advancedToggle_, &QToolButton::toggled, this, [this](bool on) {
      showAdvanced_ = on;
      advancedToggle_->setText(on ? tr("Fewer settings") : tr("More settings…"));
      updateVisibility();
    });
    grid_->addWidget(advancedToggle_, line, 0, 1, 2, Qt::AlignLeft);
  }
  for (auto &r : rows_)
    showValue(r, shown_.is_object() && shown_.contains(r.field.name) ? shown_[r.field.name] : r.field.defaultValue);
  updateVisibility();
}

QWidget *SchemaForm::makeEditor(Row &r) {
  const Field &f = r.field;
  const QString name = QString::fromStdString(f.name);
  QString tip = QString::fromStdString(f.doc);
  if (excludesZero(f))
    tip += " (> 0)";
  else if (f.kind == FieldKind::Int || f.kind == FieldKind::Float)
    tip += QString(" (%1 … %2)").arg(f.min).arg(f.max);
  QWidget *editor = nullptr;
  QWidget *holder = nullptr;
  switch (f.kind) {
  case FieldKind::Bool: {
    auto *box = new QCheckBox(this);
    connect(box, &QCheckBox::toggled, this, [this, name](bool on) { Q_EMIT edited(name, Json(on)); });
    editor = box;
    break;
  }
  case FieldKind::Int: {
    auto *spin = new IntBox(this);
    spin->setRange(static_cast<int>(std::max(f.min, double(INT_MIN))),
                   static_cast<int>(std::min(f.max, double(INT_MAX))));
    spin->setKeyboardTracking(false);
    spin->setAccelerated(true);
    if (!f.zeroMeans.empty() && f.min <= 0)
      spin->setSpecialValueText(QString::fromStdString(f.zeroMeans));
    spin->refused = [this, name](const QString &text, const QString &kept) { refuseNumber(name, text, kept); };
    connect(spin, &QSpinBox::valueChanged, this, [this, name](int v) {
      clearNumberProblem(name);
      Q_EMIT edited(name, Json(v));
    });
    connect(spin->edit(), &QLineEdit::textEdited, this, [this, name](const QString &text) { numberTyped(name, text); });
    connect(spin, &QSpinBox::editingFinished, this, [this, name] { numberFinished(name); });
    editor = spin;
    break;
  }
  case FieldKind::Float: {
    auto *box = new NumberBox(this);
    // The box keeps 12 decimals: a field that takes any number > 0 refuses 0 and what rounds to it.
    box->setRange(excludesZero(f) ? 1e-12 : f.min, std::min(f.max, 1e15));
    if (!f.zeroMeans.empty() && f.min <= 0)
      box->setSpecialValueText(QString::fromStdString(f.zeroMeans));
    box->refused = [this, name](const QString &text, const QString &kept) { refuseNumber(name, text, kept); };
    connect(box, &QDoubleSpinBox::valueChanged, this, [this, name](double v) {
      clearNumberProblem(name);
      Q_EMIT edited(name, Json(v));
    });
    connect(box->edit(), &QLineEdit::textEdited, this, [this, name](const QString &text) { numberTyped(name, text); });
    connect(box, &QDoubleSpinBox::editingFinished, this, [this, name] { numberFinished(name); });
    editor = box;
    break;
  }
  case FieldKind::Enum: {
    auto *combo = compact(new QComboBox(this));
    for (const auto &c : f.choices)
      combo->addItem(QString::fromStdString(c), QString::fromStdString(c));
    connect(combo, &QComboBox::currentIndexChanged, this, [this, name, combo](int index) {
      if (index >= 0)
        Q_EMIT edited(name, Json(combo->itemData(index).toString().toStdString()));
    });
    editor = combo;
    break;
  }
  case FieldKind::Column: {
    // A column is chosen from the table's header once it is known (setSuggestions), or typed.
    auto *combo = compact(new QComboBox(this));
    combo->setEditable(true);
    combo->setInsertPolicy(QComboBox::NoInsert);
    combo->lineEdit()->setPlaceholderText(QString::fromStdString(f.placeholder));
    connect(combo, &QComboBox::activated, this, [this, name] {
      if (Row *rr = row(name))
        commitText(*rr);
    });
    connect(combo->lineEdit(), &QLineEdit::editingFinished, this, [this, name] {
      if (Row *rr = row(name))
        commitText(*rr);
    });
    editor = combo;
    break;
  }
  default: {
    auto *line = new QLineEdit(this);
    line->setPlaceholderText(QString::fromStdString(f.placeholder));
    line->setClearButtonEnabled(false);
    connect(line, &QLineEdit::textEdited, this, [this, name, line](const QString &text) {
      if (Row *rr = row(name)) {
        QString error;
        parseFieldText(rr->field, text, &error);
        rr->inputProblem = error;
        line->setStyleSheet(error.isEmpty() ? QString() : "QLineEdit { border: 1px solid #d03030; }");
        refreshProblem(*rr);
      }
    });
    connect(line, &QLineEdit::editingFinished, this, [this, name] {
      if (Row *rr = row(name))
        commitText(*rr);
    });
    editor = line;
    if (f.kind == FieldKind::Path) {
      holder = new QWidget(this);
      auto *h = new QHBoxLayout(holder);
      h->setContentsMargins(0, 0, 0, 0);
      h->setSpacing(2);
      h->addWidget(line, 1);
      auto *browse = new QToolButton(holder);
      browse->setText(tr("Browse…"));
      browse->setObjectName("browse:" + name);
      browse->setToolTip(f.folder ? tr("Choose a folder") : tr("Choose a file"));
      h->addWidget(browse);
      const bool folder = f.folder;
      const QString filter = QString::fromStdString(f.fileFilter);
      connect(browse, &QToolButton::clicked, this, [this, name, line, folder, filter] {
        QString start = line->text().isEmpty() ? baseDir_ : QDir(baseDir_).absoluteFilePath(line->text());
        QString chosen = folder ? QFileDialog::getExistingDirectory(this, tr("Choose a folder"), start)
                                : QFileDialog::getOpenFileName(this, tr("Choose a file"), start, filter);
        if (chosen.isEmpty())
          return;
        // Inside the project's folder a path is stored relative, so the project can move with its data.
        if (!baseDir_.isEmpty()) {
          const QString relative = QDir(baseDir_).relativeFilePath(chosen);
          if (!relative.startsWith(".."))
            chosen = relative;
        }
        line->setText(chosen);
        if (Row *rr = row(name))
          commitText(*rr);
      });
    }
    break;
  }
  }
  editor->setObjectName("param:" + name);
  editor->setToolTip(tip);
  if (qobject_cast<QAbstractSpinBox *>(editor) || qobject_cast<QComboBox *>(editor))
    wheelOnlyWithFocus(editor);
  r.editor = editor;
  return holder ? holder : editor;
}

void SchemaForm::commitText(Row &r) {
  auto *line = qobject_cast<QLineEdit *>(r.editor);
  auto *combo = qobject_cast<QComboBox *>(r.editor);
  const QString text = line ? line->text() : combo ? combo->currentText() : QString();
  const Json current = shown_.is_object() && shown_.contains(r.field.name) ? shown_[r.field.name] : Json();
  QString error;
  const Json value = parseFieldText(r.field, text, &error);
  r.inputProblem = error;
  refreshProblem(r);
  if (!error.isEmpty())
    return; // nothing unreadable is stored; the field says what is wrong
  if (line)
    line->setStyleSheet(QString());
  if (fieldText(r.field, value) == fieldText(r.field, current))
    return;
  Q_EMIT edited(QString::fromStdString(r.field.name), value);
}

void SchemaForm::numberTyped(const QString &field, const QString &text) {
  // While typing: an out-of-range number says why it will not be taken, as a text field does.
  Row *r = row(field);
  if (!r)
    return;
  const QString problem = rangeProblem(r->field, text);
  if (problem != r->inputProblem) {
    r->inputProblem = problem;
    refreshProblem(*r);
  }
}

void SchemaForm::refuseNumber(const QString &field, const QString &text, const QString &kept) {
  Row *r = row(field);
  if (!r)
    return;
  const QString problem = rangeProblem(r->field, text);
  if (problem.isEmpty())
    return;
  // The box shows its value again; the message stays and says which value was kept.
  r->inputProblem = kept.isEmpty() ? problem : tr("%1; kept %2").arg(problem, kept);
  refusedNow_ = true;
  refreshProblem(*r);
}

void SchemaForm::numberFinished(const QString &field) {
  Row *r = row(field);
  if (r && !refusedNow_ && !r->inputProblem.isEmpty()) {
    r->inputProblem.clear(); // finished with a number in range: nothing to say any more
    refreshProblem(*r);
  }
  refusedNow_ = false;
}

void SchemaForm::clearNumberProblem(const QString &field) {
  Row *r = row(field);
  if (r && !r->inputProblem.isEmpty()) {
    r->inputProblem.clear();
    refreshProblem(*r);
  }
}

void SchemaForm::showValue(Row &r, const Json &value) {
  QWidget *e = r.editor;
  const QSignalBlocker block(e);
  if (auto *box = qobject_cast<QCheckBox *>(e)) {
    box->setChecked(value.is_boolean() && value.get<bool>());
  } else if (auto *spin = qobject_cast<QSpinBox *>(e)) {
    const int v = value.is_number()
                      ? static_cast<int>(std::clamp(value.get<double>(), double(INT_MIN), double(INT_MAX)))
                      : spin->minimum();
    if (spin->value() != v)
      r.inputProblem.clear(); // another value came (undo, another node): the refusal is old news
    if (spin->value() != v || !spin->hasFocus())
      spin->setValue(v);
  } else if (auto *num = qobject_cast<QDoubleSpinBox *>(e)) {
    const double v = value.is_number() ? value.get<double>() : num->minimum();
    if (num->value() != v)
      r.inputProblem.clear();
    if (num->value() != v || !num->hasFocus())
      num->setValue(v);
  } else if (auto *combo = qobject_cast<QComboBox *>(e)) {
    if (combo->isEditable()) {
      const QString text = fieldText(r.field, value);
      const int index = combo->findData(text);
      if (combo->currentText() != text && !(combo->hasFocus() && index >= 0 && combo->currentIndex() == index)) {
        if (index >= 0)
          combo->setCurrentIndex(index);
        else
          combo->setEditText(text);
      }
      if (!combo->hasFocus())
        combo->lineEdit()->setCursorPosition(0); // a long choice shows its start ("auto (GPU…"), not its end
    } else {
      const int index =
          combo->findData(value.is_string() ? QString::fromStdString(value.get<std::string>()) : QString());
      if (combo->currentIndex() != index)
        combo->setCurrentIndex(index);
    }
  } else if (auto *line = qobject_cast<QLineEdit *>(e)) {
    const QString text = fieldText(r.field, value);
    // The text being typed stays as it is while it says the same thing (cursor and all).
    QString ignored;
    const bool same = fieldText(r.field, parseFieldText(r.field, line->text(), &ignored)) == text;
    if (!same || !line->hasFocus()) {
      if (line->text() != text)
        line->setText(text);
      r.inputProblem.clear();
      line->setStyleSheet(QString());
    }
  }
}

void SchemaForm::setValues(const Json &given) {
  shown_ = schema_.effective(given.is_object() ? given : Json::object());
  for (auto &r : rows_)
    showValue(r, shown_[r.field.name]);
  updateVisibility();
}

void SchemaForm::setHiddenFields(const QStringList &fields) {
  if (fields == hidden_)
    return;
  hidden_ = fields;
  updateVisibility();
}

// An advanced setting the project has changed from its default shows with the folded form too: a
// reopened project that augments its training says so without "More settings…".
bool SchemaForm::inUse(const Row &r) const {
  if (!shown_.is_object() || !shown_.contains(r.field.name))
    return false;
  const Json &v = shown_[r.field.name];
  return !v.is_null() && v != r.field.defaultValue;
}

void SchemaForm::updateVisibility() {
  for (auto &r : rows_) {
    // (and one being typed into stays, though its value went back to the default)
    const QWidget *focus = QApplication::focusWidget();
    const bool typing = focus && (focus == r.holder || r.holder->isAncestorOf(focus));
    const bool visible = schema_.applies(r.field, shown_) &&
                         (!r.field.advanced || showAdvanced_ || inUse(r) || typing) &&
                         !hidden_.contains(QString::fromStdString(r.field.name));
    r.label->setVisible(visible);
    r.holder->setVisible(visible);
    refreshProblem(r);
    if (!visible)
      r.problem->hide();
    const bool editable = !editable_ || editable_(r.field.name);
    r.holder->setEnabled(editable);
  }
}

void SchemaForm::setProblems(const std::map<std::string, QString> &problems) {
  for (auto &r : rows_) {
    auto it = problems.find(r.field.name);
    r.validationProblem = it == problems.end() ? QString() : it->second;
    refreshProblem(r);
  }
}

void SchemaForm::refreshProblem(Row &r) {
  const QString text = !r.inputProblem.isEmpty() ? r.inputProblem : r.validationProblem;
  r.problem->setText(text);
  r.problem->setVisible(!text.isEmpty() && r.holder->isVisibleTo(this));
}

void SchemaForm::setSuggestions(const QString &field, const QStringList &values, const QStringList &labels) {
  Row *r = row(field);
  if (!r)
    return;
  const QStringList shownLabels = labels.isEmpty() ? values : labels;
  if (suggestions_[field] == std::make_pair(values, shownLabels))
    return;
  suggestions_[field] = {values, shownLabels};
  // A line becomes an editable choice box once there is something to choose from.
  auto *combo = qobject_cast<QComboBox *>(r->editor);
  if (!combo) {
    if (!isLineKind(r->field.kind) || r->field.kind == FieldKind::Path)
      return;
    combo = compact(new QComboBox(this));
    combo->setEditable(true);
    combo->setInsertPolicy(QComboBox::NoInsert);
    combo->setObjectName(r->editor->objectName());
    combo->setToolTip(r->editor->toolTip());
    combo->lineEdit()->setPlaceholderText(QString::fromStdString(r->field.placeholder));
    wheelOnlyWithFocus(combo);
    const QString name = QString::fromStdString(r->field.name);
    connect(combo, &QComboBox::activated, this, [this, name] {
      if (Row *rr = row(name))
        commitText(*rr);
    });
    connect(combo->lineEdit(), &QLineEdit::editingFinished, this, [this, name] {
      if (Row *rr = row(name))
        commitText(*rr);
    });
    delete grid_->replaceWidget(r->holder, combo); // the replaced layout item is ours to delete
    delete r->holder;
    r->holder = combo;
    r->editor = combo;
    r->label->setBuddy(combo);
  }
  const QSignalBlocker block(combo);
  const QString text = combo->currentText();
  combo->clear();
  for (int i = 0; i < values.size(); ++i)
    combo->addItem(shownLabels.value(i, values[i]), values[i]);
  const int index = combo->findData(text);
  if (index >= 0)
    combo->setCurrentIndex(index);
  else
    combo->setEditText(text);
  showValue(*r, shown_.is_object() && shown_.contains(r->field.name) ? shown_[r->field.name] : Json());
  updateVisibility();
}

void SchemaForm::setEditable(const std::function<bool(const std::string &)> &editable) {
  editable_ = editable;
  updateVisibility();
}

QWidget *SchemaForm::editor(const QString &field) const {
  const Row *r = row(field);
  return r ? r->editor : nullptr;
}

bool SchemaForm::fieldVisible(const QString &field) const {
  const Row *r = row(field);
  return r && r->holder->isVisibleTo(this);
}

QString SchemaForm::problemText(const QString &field) const {
  const Row *r = row(field);
  return r && r->problem->isVisibleTo(this) ? r->problem->text() : QString();
}

SchemaForm::Row *SchemaForm::row(const QString &field) {
  for (auto &r : rows_)
    if (QString::fromStdString(r.field.name) == field)
      return &r;
  return nullptr;
}

const SchemaForm::Row *SchemaForm::row(const QString &field) const {
  for (const auto &r : rows_)
    if (QString::fromStdString(r.field.name) == field)
      return &r;
  return nullptr;
}

} // namespace particle::ui
