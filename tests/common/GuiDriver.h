#pragma once
// Drives the app as a person does: QTest mouse and key events at positions read from the widgets
// and the view. Nothing here calls the application's own slots or setters; state is only read, to
// find where to click and to check what happened.

#include "MainWindow.h"
#include "editor/GraphScene.h"
#include "editor/GraphView.h"
#include "editor/InspectorWidget.h"
#include "editor/NodeItem.h"

#include <QAbstractItemView>
#include <QApplication>
#include <QComboBox>
#include <QCompleter>
#include <QDialog>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QLineEdit>
#include <QListView>
#include <QMessageBox>
#include <QPushButton>
#include <QStyle>
#include <QStyleOptionSpinBox>
#include <QTimer>
#include <QTreeWidget>
#include <QtTest>

#include <functional>

namespace particle::test {

// True when `w` or one of its children has the keyboard focus.
inline bool hasFocusWithin(QWidget *w) {
  QWidget *f = QApplication::focusWidget();
  return f && (f == w || w->isAncestorOf(f));
}

// Clicks a node's header (where a person grabs it), on the canvas.
inline void clickNode(ui::GraphView *view, ui::NodeItem *node, Qt::KeyboardModifiers mods = {}) {
  const QPointF header = node->mapToScene(QPointF(60, 10));
  view->ensureVisible(node);
  QTest::mouseClick(view->viewport(), Qt::LeftButton, mods, view->mapFromScene(header));
}

// Presses at one scene point, moves in steps, releases at another (a port-to-port drag).
inline void dragOnView(ui::GraphView *view, QPointF fromScene, QPointF toScene) {
  QWidget *vp = view->viewport();
  const QPoint a = view->mapFromScene(fromScene), b = view->mapFromScene(toScene);
  QTest::mousePress(vp, Qt::LeftButton, {}, a);
  for (int i = 1; i <= 4; ++i)
    QTest::mouseMove(vp, a + (b - a) * i / 4);
  QTest::mouseRelease(vp, Qt::LeftButton, {}, b);
}

// Double-clicks a type in the palette's tree.
inline bool doubleClickPaletteType(QTreeWidget *tree, const QString &type) {
  QTreeWidgetItem *target = nullptr;
  for (QTreeWidgetItem *item : tree->findItems(type, Qt::MatchExactly | Qt::MatchRecursive))
    if (item->parent()) // a type, not the category of the same name
      target = item;
  if (!target)
    return false;
  tree->scrollToItem(target);
  const QPoint at = tree->visualItemRect(target).center();
  QTest::mouseClick(tree->viewport(), Qt::LeftButton, {}, at);
  QTest::mouseDClick(tree->viewport(), Qt::LeftButton, {}, at);
  return true;
}

// Opens a combo box with the mouse and clicks the item with this text (or data) in its popup.
inline bool chooseWithMouse(QComboBox *combo, const QString &textOrData) {
  // On the arrow: an editable box opens its list there (elsewhere it is a text field).
  QTest::mouseClick(combo, Qt::LeftButton, {}, QPoint(combo->width() - 8, combo->height() / 2));
  QAbstractItemView *popup = combo->view();
  if (!QTest::qWaitFor([&] { return popup->isVisible(); }, 10000))
    return false;
  // The list ignores the release of the click that opened it for a double-click interval.
  QTest::qWait(QApplication::doubleClickInterval() + 50);
  int row = combo->findText(textOrData);
  if (row < 0)
    row = combo->findData(textOrData);
  if (row < 0)
    return false;
  const QModelIndex index = popup->model()->index(row, combo->modelColumn());
  popup->scrollTo(index);
  const QRect rect = popup->visualRect(index);
  QTest::mouseClick(popup->viewport(), Qt::LeftButton, {}, rect.center());
  return QTest::qWaitFor([&] { return !popup->isVisible(); }, 10000);
}

// Selects all of a text field's text and types over it, then presses `finish` (Enter or Tab).
inline void typeInto(QWidget *field, const QString &text, Qt::Key finish = Qt::Key_Return) {
  QTest::mouseClick(field, Qt::LeftButton, {}, QPoint(8, field->height() / 2));
  QTest::keyClick(field, Qt::Key_A, Qt::ControlModifier);
  QTest::keyClicks(QApplication::focusWidget() ? QApplication::focusWidget() : field, text);
  QTest::keyClick(QApplication::focusWidget() ? QApplication::focusWidget() : field, finish);
}

// Clicks a spin box's up (or down) arrow.
inline void clickSpinArrow(QAbstractSpinBox *spin, bool up) {
  QStyleOptionSpinBox opt;
  opt.initFrom(spin);
  opt.subControls = QStyle::SC_SpinBoxUp | QStyle::SC_SpinBoxDown;
  opt.buttonSymbols = spin->buttonSymbols();
  opt.frame = spin->hasFrame();
  const QRect r =
      spin->style()->subControlRect(QStyle::CC_SpinBox, &opt, up ? QStyle::SC_SpinBoxUp : QStyle::SC_SpinBoxDown, spin);
  QTest::mouseClick(spin, Qt::LeftButton, {}, r.center());
}

// Answers the next modal file dialog: chooses the name filter containing `filter` (when given),
// types `path` into its file name field and presses Enter. Call it before the action that opens
// the dialog; it runs once the dialog is up. Returns a flag that says whether it ran.
inline std::shared_ptr<bool> answerFileDialog(const QString &path, const QString &filter = {}) {
  auto done = std::make_shared<bool>(false);
  auto attempt = std::make_shared<std::function<void(int)>>();
  // The pending timer owns the attempt; the attempt refers to itself weakly (no cycle, no leak).
  std::weak_ptr<std::function<void(int)>> self = attempt;
  *attempt = [=](int tries) {
    auto *dialog = qobject_cast<QFileDialog *>(QApplication::activeModalWidget());
    if (!dialog) {
      if (auto again = self.lock(); again && tries > 0)
        QTimer::singleShot(50, [again, tries] { (*again)(tries - 1); });
      else
        qWarning("answerFileDialog: no file dialog came up within 30 s (the modal widget is %s)",
                 QApplication::activeModalWidget() ? QApplication::activeModalWidget()->metaObject()->className()
                                                   : "none");
      return;
    }
    if (!filter.isEmpty())
      if (auto *types = dialog->findChild<QComboBox *>("fileTypeCombo"))
        for (int i = 0; i < types->count(); ++i)
          if (types->itemText(i).contains(filter, Qt::CaseInsensitive))
            chooseWithMouse(types, types->itemText(i));
    auto *name = dialog->findChild<QLineEdit *>("fileNameEdit");
    if (!name)
      return;
    // The window manager gives a new dialog the focus; the offscreen platform does not always
    // (a slow sanitizer build shows it after the main window was activated again).
    if (QApplication::activeWindow() != dialog)
      QApplication::setActiveWindow(dialog);
    QTest::mouseClick(name, Qt::LeftButton);
    QTest::keyClick(name, Qt::Key_A, Qt::ControlModifier);
    QTest::keyClicks(name, path);
    // The file name completer may have popped up meanwhile (it lists the folder asynchronously,
    // so on a slow build it often has): Escape closes it as it would for a person, then Enter.
    if (QWidget *popup = name->completer() ? name->completer()->popup() : nullptr; popup && popup->isVisible())
      QTest::keyClick(popup, Qt::Key_Escape);
    QTest::keyClick(name, Qt::Key_Return);
    if (dialog->isVisible()) { // Enter went to a completer that popped up just then: again
      if (auto again = self.lock(); again && tries > 0) {
        QTimer::singleShot(50, [again, tries] { (*again)(tries - 1); });
      } else { // give up without hanging the test: it fails on `done`
        auto *buttons = dialog->findChild<QDialogButtonBox *>("buttonBox");
        QPushButton *ok =
            buttons ? buttons->button(dialog->acceptMode() == QFileDialog::AcceptSave ? QDialogButtonBox::Save
                                                                                      : QDialogButtonBox::Open)
                    : nullptr;
        qWarning("answerFileDialog: the dialog stayed open; its name field holds \"%s\", folder %s, "
                 "button %s, focus %s",
                 qPrintable(name->text()), qPrintable(dialog->directory().path()),
                 ok ? (ok->isEnabled() ? "enabled" : "disabled") : "missing",
                 QApplication::focusWidget() ? QApplication::focusWidget()->metaObject()->className() : "none");
        QTest::keyClick(dialog, Qt::Key_Escape);
      }
      return;
    }
    *done = true;
  };
  QTimer::singleShot(50, [attempt] { (*attempt)(600); }); // up to 30 s (a sanitizer build is slow)
  return done;
}

// Reads the next modal message box and closes it with Enter, as a person would. Call it before the
// action that shows the box; once it ran, `shown` is set and `text` holds the box's message.
// Setting `stop` ends the wait early (when no box is expected after all).
struct MessageBoxAnswer {
  bool shown = false, stop = false;
  QString title, text;
};
inline std::shared_ptr<MessageBoxAnswer> answerMessageBox() {
  auto answer = std::make_shared<MessageBoxAnswer>();
  auto attempt = std::make_shared<std::function<void(int)>>();
  std::weak_ptr<std::function<void(int)>> self = attempt;
  *attempt = [answer, self](int tries) {
    if (answer->stop)
      return;
    auto *box = qobject_cast<QMessageBox *>(QApplication::activeModalWidget());
    if (!box) {
      if (auto again = self.lock(); again && tries > 0)
        QTimer::singleShot(50, [again, tries] { (*again)(tries - 1); });
      return;
    }
    answer->shown = true;
    answer->title = box->windowTitle();
    answer->text = box->text();
    QTest::keyClick(box, Qt::Key_Return);
  };
  QTimer::singleShot(50, [attempt] { (*attempt)(600); }); // up to 30 s
  return answer;
}

// Clicks node `id` on the canvas and returns the Inspector's editor for `param` once it shows
// (null when it does not within 3 s).
inline QWidget *inspectorEditor(particle::ui::MainWindow *window, const QString &id, const QString &param) {
  auto *item = window->scene()->nodeItem(id);
  if (!item)
    return nullptr;
  clickNode(window->view(), item);
  QWidget *editor = nullptr;
  (void)QTest::qWaitFor(
      [&] {
        editor = window->inspector()->editorFor(param);
        return window->inspector()->nodeId() == id && editor && editor->isVisible();
      },
      3000);
  return editor;
}

} // namespace particle::test
