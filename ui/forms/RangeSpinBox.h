#pragma once

#include <QSpinBox>

#include <functional>

namespace particle::ui {

// A whole-number box that lets a number outside its range be typed and shown as typed ("99999" is
// not cut to "9999", "-5" is not read as 5), so the form beside it can say why the number is not
// taken; Enter or leaving the box then keeps the value before and calls `refused` with the text it
// could not take and the value it kept (as the box shows it: its special text at the minimum).
// The schema forms of the Data and Train tabs and the Explain tab's samples box use it.
class RangeSpinBox : public QSpinBox {
public:
  explicit RangeSpinBox(QWidget *parent = nullptr) : QSpinBox(parent) {}
  QValidator::State validate(QString &text, int &pos) const override;
  void fixup(QString &text) const override;
  // The value as the box shows it: its special value text at the minimum, if it has one.
  QString shownValue() const;
  std::function<void(const QString &typed, const QString &kept)> refused;
};

} // namespace particle::ui
