#include "editor/InspectorWidget.h"

#include "document/Commands.h"
#include "document/GraphDocument.h"
#include "graph/Catalogue.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QSpinBox>
#include <QUndoStack>
#include <QVBoxLayout>

namespace particle::ui {

namespace {
QString listText(const Json &v) {
  if (v.is_null())
    return {};
  if (v.is_array() && std::all_of(v.begin(), v.end(), [](const Json &x) { return x.is_number(); })) {
    QStringList parts;
    for (const auto &x : v)
      parts << QString::fromStdString(x.dump());
    return parts.join(", ");
  }
  return QString::fromStdString(compactJson(v));
}

// "128, 64" → [128, 64]; "[[0,1],[2]]" stays JSON; "" → null (the param's default).
Json parseList(const QString &text) {
  const QString t = text.trimmed();
  if (t.isEmpty())
    return nullptr;
  try {
    return Json::parse(t.startsWith('[') ? t.toStdString() : "[" + t.toStdString() + "]");
  } catch (const std::exception &) {
    return Json(t.toStdString()); // validation will say what is wrong with it
  }
}
} // namespace

InspectorWidget::InspectorWidget(GraphDocument *doc, QUndoStack *undo, QWidget *parent)
    : QWidget(parent), doc_(doc), undo_(undo) {
  auto *layout = new QVBoxLayout(this);
  header_ = new QLabel(this);
  header_->setWordWrap(true);
  header_->setTextFormat(Qt::RichText);
  layout->addWidget(header_);
  form_ = new QFormLayout;
  form_->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
  layout->addLayout(form_);
  layout->addStretch();
  connect(doc_, &GraphDocument::validated, this, &InspectorWidget::rebuild);
  rebuild();
}

void InspectorWidget::showNode(const QString &id) {
  id_ = id;
  rebuild();
}

QWidget *InspectorWidget::editorFor(const QString &param) const {
  return findChild<QWidget *>("param:" + param);
}

void InspectorWidget::commit(const QString &param, const QString &text) {
  if (rebuilding_ || id_.isEmpty())
    return;
  const Node *n = doc_->graph().find(id_.toStdString());
  const NodeType *type = n ? Catalogue::instance().find(n->type) : nullptr;
  if (!type)
    return;
  if (param == "share") {
    if (auto *cmd = commands::setShare(doc_, {id_}, text.trimmed(), QString::fromStdString(n->shareScope)))
      undo_->push(cmd);
    return;
  }
  if (param == "share_scope") {
    if (auto *cmd = commands::setShare(doc_, {id_}, QString::fromStdString(n->share), text))
      undo_->push(cmd);
    return;
  }
  const ParamSpec *spec = type->param(param.toStdString());
  if (!spec)
    return;
  Json value;
  switch (spec->kind) {
  case ParamKind::Bool: value = text == "true"; break;
  case ParamKind::Int: value = text.toLongLong(); break;
  case ParamKind::Float: value = text.toDouble(); break;
  case ParamKind::Enum: value = text.toStdString(); break;
  default: value = parseList(text); break;
  }
  const Json current = n->params.contains(spec->name) ? n->params[spec->name] : spec->defaultValue;
  if (current == value)
    return;
  if (auto *cmd = commands::setParam(doc_, id_, param, value))
    undo_->push(cmd);
}

void InspectorWidget::rebuild() {
  rebuilding_ = true;
  while (form_->rowCount() > 0)
    form_->removeRow(0);
  const Node *n = id_.isEmpty() ? nullptr : doc_->graph().find(id_.toStdString());
  if (!n) {
    id_.clear();
    header_->setText(tr("<i>Select a node to edit its parameters.</i>"));
    rebuilding_ = false;
    return;
  }
  const NodeType *type = Catalogue::instance().find(n->type);
  const NodeInfo *info = doc_->validation().info(n->id);
  QString head = QString("<b>%1</b> — %2").arg(QString::fromStdString(n->id), QString::fromStdString(n->type));
  if (type)
    head += "<br><small>" + QString::fromStdString(type->doc).toHtmlEscaped() + "</small>";
  header_->setText(head);
  if (type) {
    for (const auto &spec : type->params) {
      const QString name = QString::fromStdString(spec.name);
      const Json value = n->params.contains(spec.name) ? n->params[spec.name] : spec.defaultValue;
      QWidget *editor = nullptr;
      switch (spec.kind) {
      case ParamKind::Bool: {
        auto *box = new QCheckBox(this);
        box->setChecked(value.is_boolean() && value.get<bool>());
        connect(box, &QCheckBox::toggled, this, [this, name](bool on) { commit(name, on ? "true" : "false"); });
        editor = box;
        break;
      }
      case ParamKind::Int: {
        auto *spin = new QSpinBox(this);
        spin->setRange(static_cast<int>(std::max(spec.min, -2e9)), static_cast<int>(std::min(spec.max, 2e9)));
        spin->setValue(value.is_number() ? value.get<int>() : 0);
        spin->setKeyboardTracking(false);
        connect(spin, &QSpinBox::valueChanged, this, [this, name](int v) { commit(name, QString::number(v)); });
        editor = spin;
        break;
      }
      case ParamKind::Float: {
        auto *spin = new QDoubleSpinBox(this);
        spin->setDecimals(4);
        spin->setSingleStep(0.05);
        spin->setRange(spec.min, spec.max);
        spin->setValue(value.is_number() ? value.get<double>() : 0.0);
        spin->setKeyboardTracking(false);
        connect(spin, &QDoubleSpinBox::valueChanged, this,
                [this, name](double v) { commit(name, QString::number(v, 'g', 10)); });
        editor = spin;
        break;
      }
      case ParamKind::Enum: {
        auto *combo = new QComboBox(this);
        for (const auto &c : spec.choices)
          combo->addItem(QString::fromStdString(c));
        combo->setCurrentText(value.is_string() ? QString::fromStdString(value.get<std::string>()) : QString());
        connect(combo, &QComboBox::currentTextChanged, this, [this, name](const QString &t) { commit(name, t); });
        editor = combo;
        break;
      }
      default: {
        auto *line = new QLineEdit(listText(value), this);
        line->setPlaceholderText(spec.kind == ParamKind::IntList ? "e.g. 128, 64" : "e.g. [[0, 1], [2]]");
        connect(line, &QLineEdit::editingFinished, this, [this, name, line] { commit(name, line->text()); });
        editor = line;
        break;
      }
      }
      editor->setObjectName("param:" + name);
      QString tip = QString::fromStdString(spec.doc);
      if (spec.kind == ParamKind::Int || spec.kind == ParamKind::Float)
        tip += QString(" (%1 … %2)").arg(spec.min).arg(spec.max);
      editor->setToolTip(tip);
      form_->addRow(name, editor);
    }
    if (type->shareable) {
      auto *share = new QLineEdit(QString::fromStdString(n->share), this);
      share->setObjectName("param:share");
      share->setPlaceholderText(tr("none (type a group name to tie weights)"));
      connect(share, &QLineEdit::editingFinished, this, [this, share] { commit("share", share->text()); });
      form_->addRow(tr("share group"), share);
      if (type->trunkShareable && !n->share.empty()) {
        auto *scope = new QComboBox(this);
        scope->setObjectName("param:share_scope");
        scope->addItems({"all", "trunk"});
        scope->setCurrentText(n->shareScope.empty() ? "all" : QString::fromStdString(n->shareScope));
        scope->setToolTip(tr("trunk: share every layer but the last"));
        connect(scope, &QComboBox::currentTextChanged, this, [this](const QString &t) { commit("share_scope", t); });
        form_->addRow(tr("share scope"), scope);
      }
    }
  }
  QString shapes;
  if (info && info->shapesKnown) {
    QStringList in;
    for (const auto &s : info->inputs)
      in << QString::fromStdString(shapeToString(s));
    QStringList out;
    for (const auto &s : info->outputs)
      out << QString::fromStdString(shapeToString(s));
    shapes = (in.isEmpty() ? tr("data") : in.join(" ")) + " → " + out.join(" ");
  } else {
    shapes = tr("unknown (see Problems)");
  }
  form_->addRow(tr("shapes"), new QLabel(shapes, this));
  form_->addRow(
      tr("parameters"),
      new QLabel(info ? QLocale(QLocale::English).toString(static_cast<qlonglong>(info->parameters)) : "-", this));
  for (const auto &p : doc_->validation().problems)
    if (p.node == n->id) {
      auto *label = new QLabel(QString::fromStdString(p.message), this);
      label->setWordWrap(true);
      label->setStyleSheet(p.severity == Problem::Severity::Error ? "color: #d03030" : "color: #b07000");
      form_->addRow(p.severity == Problem::Severity::Error ? tr("error") : tr("warning"), label);
    }
  rebuilding_ = false;
}

} // namespace particle::ui
