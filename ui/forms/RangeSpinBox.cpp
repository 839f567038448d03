#include "forms/RangeSpinBox.h"

namespace particle::ui {

QValidator::State RangeSpinBox::validate(QString &text, int &pos) const {
  const QString t = text.trimmed();
  // A minus starts a negative number even where none is allowed: it is shown, and the form says why
  // the number is not taken, instead of the keystroke being dropped.
  if (t == "-")
    return QValidator::Intermediate;
  bool ok = false;
  const qlonglong v = t.toLongLong(&ok);
  if (ok && (v < minimum() || v > maximum()))
    return QValidator::Intermediate;
  return QSpinBox::validate(text, pos);
}

void RangeSpinBox::fixup(QString &text) const {
  const QString typed = text.trimmed();
  QSpinBox::fixup(text);
  if (refused)
    refused(typed, shownValue());
}

QString RangeSpinBox::shownValue() const {
  return value() == minimum() && !specialValueText().isEmpty() ? specialValueText() : textFromValue(value());
}

} // namespace particle::ui
