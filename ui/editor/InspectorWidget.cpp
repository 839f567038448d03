#include "editor/InspectorWidget.h"

#include "document/Commands.h"
#include "document/GraphDocument.h"
#include "forms/SchemaForm.h"
#include "graph/Catalogue.h"

#include <QComboBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalBlocker>
#include <QTimer>
#include <QUndoStack>
#include <QVBoxLayout>

#include <set>

namespace particle::ui {

namespace {
QString withCommas(int64_t v) {
  return QLocale(QLocale::English).toString(static_cast<qlonglong>(v));
}
} // namespace

InspectorWidget::InspectorWidget(GraphDocument *doc, QUndoStack *undo, QWidget *parent)
    : QWidget(parent), doc_(doc), undo_(undo) {
  auto *layout = new QVBoxLayout(this);
  header_ = new QLabel(this);
  header_->setWordWrap(true);
  header_->setTextFormat(Qt::RichText);
  layout->addWidget(header_);
  form_ = new SchemaForm(this);
  layout->addWidget(form_);
  connect(form_, &SchemaForm::edited, this, &InspectorWidget::commitParam);

  extra_ = new QFormLayout;
  auto *extra = extra_;
  extra->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
  share_ = compact(new QComboBox(this));
  share_->setEditable(true);
  share_->setInsertPolicy(QComboBox::NoInsert);
  share_->setObjectName("param:share");
  share_->lineEdit()->setPlaceholderText(tr("none (name a group to tie weights)"));
  share_->setToolTip(tr("Nodes in the same share group use one module (tied weights). Pick a group or type a "
                        "new name; empty: not shared."));
  connect(share_, &QComboBox::activated, this, [this] { commitShare(share_->currentText()); });
  connect(share_->lineEdit(), &QLineEdit::editingFinished, this, [this] { commitShare(share_->currentText()); });
  shareLabel_ = new QLabel(tr("share group"), this);
  shareLabel_->setBuddy(share_);
  extra->addRow(shareLabel_, share_);
  scope_ = compact(new QComboBox(this));
  scope_->setObjectName("param:share_scope");
  scope_->addItem(tr("all layers"), "all");
  scope_->addItem(tr("all but the last (trunk)"), "trunk");
  scope_->setToolTip(tr("trunk: the members share every layer but the last, so each keeps its own output layer"));
  connect(scope_, &QComboBox::currentIndexChanged, this,
          [this](int index) { commitScope(scope_->itemData(index).toString()); });
  scopeLabel_ = new QLabel(tr("share scope"), this);
  scopeLabel_->setBuddy(scope_);
  extra->addRow(scopeLabel_, scope_);
  shapes_ = new QLabel(this);
  shapes_->setWordWrap(true);
  shapes_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  extra->addRow(tr("shapes"), shapes_);
  parameters_ = new QLabel(this);
  extra->addRow(tr("parameters"), parameters_);
  layout->addLayout(extra);
  data_ = new QLabel(this);
  data_->setWordWrap(true);
  layout->addWidget(data_);
  editData_ = new QPushButton(tr("Data set…"), this);
  editData_->setObjectName("editDataButton");
  editData_->setToolTip(tr("Choose or fix the data set in the Data panel"));
  connect(editData_, &QPushButton::clicked, this, &InspectorWidget::editDataRequested);
  layout->addWidget(editData_, 0, Qt::AlignLeft);
  problems_ = new QLabel(this);
  problems_->setWordWrap(true);
  problems_->setTextFormat(Qt::RichText);
  layout->addWidget(problems_);
  layout->addStretch();
  connect(doc_, &GraphDocument::validated, this, [this] {
    rebuildIfNeeded();
    refresh();
  });
  rebuildIfNeeded();
  refresh();
}

void InspectorWidget::showNode(const QString &id, int selected) {
  id_ = id;
  selected_ = id.isEmpty() ? selected : 1;
  rebuildIfNeeded();
  refresh();
}

QWidget *InspectorWidget::editorFor(const QString &param) const {
  if (param == "share")
    return share_;
  if (param == "share_scope")
    return scope_;
  return form_->editor(param);
}

void InspectorWidget::rebuildIfNeeded() {
  const Node *n = id_.isEmpty() ? nullptr : doc_->graph().find(id_.toStdString());
  const QString type = n ? QString::fromStdString(n->type) : QString();
  if (type == shownType_ && form_->identity() == (n ? id_ + "/" + type : QString()))
    return;
  // New editors replace the old ones later, from the event loop: the change that asked for it
  // may be running inside one of those editors' signals.
  if (rebuildQueued_)
    return;
  rebuildQueued_ = true;
  QTimer::singleShot(0, this, [this] {
    rebuildQueued_ = false;
    const Node *node = id_.isEmpty() ? nullptr : doc_->graph().find(id_.toStdString());
    const NodeType *t = node ? Catalogue::instance().find(node->type) : nullptr;
    shownType_ = node ? QString::fromStdString(node->type) : QString();
    form_->setSchema(t ? t->params : Schema{}, node ? id_ + "/" + shownType_ : QString());
    refresh();
  });
}

void InspectorWidget::refresh() {
  const Node *n = id_.isEmpty() ? nullptr : doc_->graph().find(id_.toStdString());
  const NodeType *type = n ? Catalogue::instance().find(n->type) : nullptr;
  const bool pending = n && (QString::fromStdString(n->type) != shownType_ ||
                             form_->identity() != id_ + "/" + QString::fromStdString(n->type));
  for (QWidget *w : std::initializer_list<QWidget *>{form_, data_, editData_, problems_})
    w->setVisible(n != nullptr);
  for (QWidget *w : std::initializer_list<QWidget *>{share_, scope_, shapes_, parameters_})
    extra_->setRowVisible(w, n != nullptr);
  if (!n) {
    header_->setText(selected_ > 1 ? tr("<i>%1 nodes selected: select one to edit its parameters; Ctrl+G ties "
                                        "sub-models' parameters, Delete removes the selection.</i>")
                                         .arg(selected_)
                                   : tr("<i>Select a node to edit its parameters.</i>"));
    return;
  }
  QString head =
      QString("<b>%1</b> — %2")
          .arg(QString::fromStdString(n->id).toHtmlEscaped(), QString::fromStdString(n->type).toHtmlEscaped());
  if (type)
    head += "<br><small>" + QString::fromStdString(type->doc).toHtmlEscaped() + "</small>";
  else
    head += "<br><small>" + tr("Unknown node type: see Problems.") + "</small>";
  header_->setText(head);
  const Validation &v = doc_->validation();
  std::map<std::string, QString> paramProblems;
  QStringList other;
  for (const auto &p : v.problems) {
    if (p.node != n->id)
      continue;
    const QString text = QString::fromStdString(p.message).toHtmlEscaped();
    if (!p.param.empty() && type && type->param(p.param))
      paramProblems[p.param] += (paramProblems[p.param].isEmpty() ? "" : "\n") + QString::fromStdString(p.message);
    else
      other << QString("<span style='color:%1'>%2%3</span>")
                   .arg(p.isError() ? "#d03030" : "#b07000", p.isError() ? "" : tr("warning: "), text);
  }
  if (!pending) {
    form_->setValues(n->params);
    form_->setProblems(paramProblems);
    // Token ids are never standardised: a data source over text offers no normalize.
    const bool tokens = type && type->role == NodeRole::DataSource && !v.data.vocabulary.empty();
    form_->setHiddenFields(tokens ? QStringList{"normalize"} : QStringList{});
  }
  problems_->setText(other.join("<br>"));
  problems_->setVisible(!other.isEmpty());
  // Share group: every group in the graph is offered.
  const bool shareable = type && type->shareable;
  extra_->setRowVisible(share_, shareable);
  if (shareable) {
    std::set<std::string> groups;
    for (const auto &m : doc_->graph().nodes)
      if (!m.share.empty())
        groups.insert(m.share);
    const QSignalBlocker block(share_);
    QStringList items = {QString()};
    for (const auto &g : groups)
      items << QString::fromStdString(g);
    bool same = share_->count() == items.size();
    for (int i = 0; same && i < items.size(); ++i)
      same = share_->itemText(i) == items[i];
    if (!same) {
      share_->clear();
      share_->addItems(items);
    }
    const QString group = QString::fromStdString(n->share);
    if (share_->currentText() != group && !share_->hasFocus())
      share_->setCurrentIndex(std::max(0, share_->findText(group)));
  }
  const bool scoped = shareable && type->trunkShareable && !n->share.empty();
  extra_->setRowVisible(scope_, scoped);
  if (scoped) {
    const QSignalBlocker block(scope_);
    scope_->setCurrentIndex(n->shareScope == "trunk" ? 1 : 0);
  }
  const NodeInfo *info = v.info(n->id);
  if (info && info->shapesKnown) {
    QStringList in, out;
    for (std::size_t i = 0; i < info->inputs.size(); ++i)
      in << QString::fromStdString(inputShapeText(*info, i));
    for (std::size_t i = 0; i < info->outputs.size(); ++i)
      out << QString::fromStdString(outputShapeText(*info, i));
    if (out.size() > 1 && out.count(out.front()) == out.size())
      out = QStringList{QString("%1 × %2").arg(out.size()).arg(out.front())};
    shapes_->setText((in.isEmpty() ? tr("data") : in.join(" ")) + " → " + out.join(" "));
  } else {
    shapes_->setText(tr("unknown (see Problems)"));
  }
  parameters_->setText(info ? withCommas(info->parameters) : "-");
  const bool input = type && type->role == NodeRole::DataSource;
  data_->setVisible(input);
  editData_->setVisible(input);
  if (input) {
    const DataInfo *d = doc_->dataInfo();
    const QString kind = doc_->project().dataset.is_object() && doc_->project().dataset.contains("kind")
                             ? QString::fromStdString(doc_->project().dataset["kind"].dump())
                             : tr("none");
    if (d)
      data_->setText(tr("Data set %1: %2 train · %3 validation · %4 test, sample %5, %6 classes")
                         .arg(kind)
                         .arg(d->trainCount)
                         .arg(d->validationCount)
                         .arg(d->testCount)
                         .arg(QString::fromStdString(shapeToString(d->sampleShape, !d->vocabulary.empty())))
                         .arg(d->classes));
    else
      data_->setText(tr("<span style='color:#d03030'>The data set %1 cannot be read: %2</span>")
                         .arg(kind, doc_->dataError().toHtmlEscaped()));
  }
}

void InspectorWidget::commitParam(const QString &param, const Json &value) {
  if (id_.isEmpty())
    return;
  const Node *n = doc_->graph().find(id_.toStdString());
  if (!n)
    return;
  const std::string key = param.toStdString();
  const Json current = n->params.contains(key) ? n->params[key] : Json();
  if (current == value)
    return;
  if (auto *cmd = commands::setParam(doc_, id_, param, value))
    undo_->push(cmd);
}

void InspectorWidget::commitShare(const QString &text) {
  const Node *n = id_.isEmpty() ? nullptr : doc_->graph().find(id_.toStdString());
  if (!n)
    return;
  const QString group = text.trimmed();
  if (group == QString::fromStdString(n->share))
    return;
  if (auto *cmd = commands::setShare(doc_, {id_}, group, QString::fromStdString(n->shareScope)))
    undo_->push(cmd);
}

void InspectorWidget::commitScope(const QString &scope) {
  const Node *n = id_.isEmpty() ? nullptr : doc_->graph().find(id_.toStdString());
  if (!n || n->share.empty() || scope == (n->shareScope.empty() ? "all" : QString::fromStdString(n->shareScope)))
    return;
  // The whole group changes scope together (members must agree).
  QStringList members;
  for (const auto &m : doc_->graph().nodes)
    if (m.share == n->share)
      members << QString::fromStdString(m.id);
  if (auto *cmd = commands::setShare(doc_, members, QString::fromStdString(n->share), scope))
    undo_->push(cmd);
}

} // namespace particle::ui
