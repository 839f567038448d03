#include "editor/InspectorWidget.h"
#include "editor/ParameterText.h"

#include "document/Commands.h"
#include "document/GraphDocument.h"
#include "forms/SchemaForm.h"
#include "graph/Catalogue.h"
#include "project/ProjectCheck.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileInfo>
#include <QFormLayout>
#include <QGridLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QResizeEvent>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QTimer>
#include <QUndoStack>
#include <QVBoxLayout>

#include <set>

namespace particle::ui {

namespace {

// A label that never asks for more width than it has: its text is cut in the middle to fit (a
// particle's long file name keeps its start and its end), the tooltip has the whole.
class ElidedLabel : public QLabel {
public:
  using QLabel::QLabel;
  void setFullText(const QString &text) {
    full_ = text;
    elide();
  }

protected:
  void resizeEvent(QResizeEvent *event) override {
    QLabel::resizeEvent(event);
    elide();
  }

private:
  void elide() {
    const QString shown = fontMetrics().elidedText(full_, Qt::ElideMiddle, contentsRect().width());
    if (shown != text())
      setText(shown);
  }
  QString full_;
};
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
  parameters_->setObjectName("inspectorParameters");
  extra->addRow(tr("parameters"), parameters_);
  // One sample's forward FLOPs through this node, counted from its type (each member of a share
  // group at its own application): which particle the compute goes to.
  flops_ = new QLabel(this);
  flops_->setObjectName("inspectorFlops");
  flops_->setToolTip(tr("Floating-point operations of one sample's forward pass through this node (a multiply-add "
                        "counts 2); the status bar sums them over the graph"));
  extra->addRow(tr("FLOPs"), flops_);
  layout->addLayout(extra);
  // Where the weights start, whether they train, and the adapter that trains instead: a form of
  // its own with no word-wrapped text. (Qt 6.4's QFormLayout writes past its buffer computing the
  // height of a form whose rows are hidden while a row's text wraps.)
  weights_ = new QWidget(this);
  weightsForm_ = new QFormLayout(weights_);
  weightsForm_->setContentsMargins(0, 0, 0, 0);
  weightsForm_->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
  layout->addWidget(weights_);
  initRow_ = new QWidget(this);
  auto *initLayout = new QGridLayout(initRow_);
  initLayout->setContentsMargins(0, 0, 0, 0);
  init_ = new ElidedLabel(initRow_);
  init_->setObjectName("initLabel");
  init_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  // A long file name is elided at the dock's edge (the tooltip has the whole path) rather than
  // widening the Inspector; it has the row's whole width, the node and Clear are on the next line.
  init_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  initNode_ = new QLabel(initRow_);
  initNode_->setObjectName("initNodeLabel");
  clearInit_ = new QPushButton(tr("Clear"), initRow_);
  clearInit_->setObjectName("clearInitButton");
  clearInit_->setToolTip(tr("Start from fresh weights instead"));
  connect(clearInit_, &QPushButton::clicked, this, [this] {
    if (auto *cmd = commands::setInit(doc_, id_, std::nullopt))
      undo_->push(cmd);
  });
  initLayout->addWidget(init_, 0, 0, 1, 2);
  initLayout->addWidget(initNode_, 1, 0);
  initLayout->addWidget(clearInit_, 1, 1);
  initLayout->setColumnStretch(0, 1);
  weightsForm_->addRow(tr("starts from"), initRow_);
  freeze_ = new QCheckBox(tr("frozen"), this);
  freeze_->setObjectName("param:freeze");
  freeze_->setToolTip(tr("A frozen node does not train: its weights stay exactly the ones it starts from (a "
                         "particle's, with \"starts from\")"));
  connect(freeze_, &QCheckBox::toggled, this, [this](bool on) {
    if (auto *cmd = commands::setFreeze(doc_, id_, on))
      undo_->push(cmd);
  });
  weightsForm_->addRow(tr("freeze"), freeze_);
  adapter_ = compact(new QComboBox(this));
  adapter_->setObjectName("param:adapter");
  adapter_->addItem(tr("none"), "");
  adapter_->addItem(tr("LoRA (low-rank)"), "lora");
  adapter_->setToolTip(tr("LoRA: low-rank adapters on the node's Linear and convolution layers train, its own "
                          "weights stay as they start"));
  connect(adapter_, &QComboBox::currentIndexChanged, this, &InspectorWidget::commitAdapter);
  weightsForm_->addRow(tr("adapter"), adapter_);
  rank_ = new QSpinBox(this);
  rank_->setObjectName("param:adapter_rank");
  rank_->setRange(1, 1024);
  rank_->setKeyboardTracking(false); // a typed number is one edit, when it is done
  rank_->setToolTip(tr("The adapters' rank: each layer of n inputs and m outputs trains r·(n + m) numbers"));
  connect(rank_, &QSpinBox::valueChanged, this, &InspectorWidget::commitAdapter);
  weightsForm_->addRow(tr("LoRA rank"), rank_);
  alpha_ = new QDoubleSpinBox(this);
  alpha_->setObjectName("param:adapter_alpha");
  alpha_->setRange(0.01, 10000);
  alpha_->setDecimals(2);
  alpha_->setKeyboardTracking(false);
  alpha_->setToolTip(tr("The adapters' scale: their output is multiplied by alpha / rank"));
  connect(alpha_, &QDoubleSpinBox::valueChanged, this, &InspectorWidget::commitAdapter);
  weightsForm_->addRow(tr("LoRA alpha"), alpha_);
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
  if (param == "freeze")
    return freeze_;
  if (param == "adapter")
    return adapter_;
  if (param == "adapter_rank")
    return rank_;
  if (param == "adapter_alpha")
    return alpha_;
  if (param == "init_clear")
    return clearInit_;
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
  for (QWidget *w : std::initializer_list<QWidget *>{share_, scope_, shapes_, parameters_, flops_})
    extra_->setRowVisible(w, n != nullptr);
  weights_->setVisible(n != nullptr);
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
      // Rebuilding the list empties the field; while it has the focus (Return just committed a new
      // group) it must keep showing that name, or leaving the field would commit the blank.
      const QString shown = share_->currentText();
      share_->clear();
      share_->addItems(items);
      share_->setEditText(shown);
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
  refreshWeights(*n, info);
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

void InspectorWidget::refreshWeights(const Node &n, const NodeInfo *info) {
  parameters_->setText(parameterText(doc_->validation(), n.id, false));
  if (info && info->flopsKnown)
    flops_->setText(tr("%1 per sample").arg(QString::fromStdString(flopsText(info->flops))));
  else
    flops_->setText(info && info->shapesKnown ? tr("not counted for this node type") : QStringLiteral("-"));
  // A node without weights has nothing to start from, freeze or adapt (unless the file says so:
  // then the rows show it, and the check says why it does not apply).
  const bool weights = (info && info->parameters > 0) || n.init || n.freeze || n.adapter;
  weights_->setVisible(weights);
  const bool adaptable = (info && !info->adaptable.empty()) || n.adapter;
  weightsForm_->setRowVisible(adapter_, adaptable);
  weightsForm_->setRowVisible(rank_, adaptable && n.adapter.has_value());
  weightsForm_->setRowVisible(alpha_, adaptable && n.adapter.has_value());
  if (n.init) {
    const QString from = QString::fromStdString(n.init->from);
    static_cast<ElidedLabel *>(init_)->setFullText(QFileInfo(from).fileName());
    initNode_->setText(n.init->node.empty() ? QString() : tr("node %1").arg(QString::fromStdString(n.init->node)));
    init_->setToolTip(from);
  } else {
    static_cast<ElidedLabel *>(init_)->setFullText(tr("fresh weights"));
    init_->setToolTip(tr("Drag a particle from the Library onto the canvas to add a node that starts from its "
                         "trained weights"));
  }
  clearInit_->setVisible(n.init.has_value());
  initNode_->setVisible(n.init.has_value());
  const QSignalBlocker blockFreeze(freeze_), blockAdapter(adapter_), blockRank(rank_), blockAlpha(alpha_);
  freeze_->setChecked(n.freeze);
  adapter_->setCurrentIndex(n.adapter ? 1 : 0);
  const NodeAdapter shown = n.adapter.value_or(NodeAdapter{});
  if (!rank_->hasFocus())
    rank_->setValue(static_cast<int>(shown.rank));
  if (!alpha_->hasFocus())
    alpha_->setValue(shown.alpha);
}

void InspectorWidget::commitAdapter() {
  const Node *n = id_.isEmpty() ? nullptr : doc_->graph().find(id_.toStdString());
  if (!n)
    return;
  std::optional<NodeAdapter> adapter;
  if (adapter_->currentData().toString() == "lora") {
    adapter = n->adapter.value_or(NodeAdapter{});
    // Choosing LoRA starts from the defaults; the spin boxes edit an adapter that is there.
    if (n->adapter) {
      adapter->rank = rank_->value();
      adapter->alpha = alpha_->value();
    }
  }
  if (adapter == n->adapter)
    return;
  if (auto *cmd = commands::setAdapter(doc_, id_, adapter))
    undo_->push(cmd);
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
