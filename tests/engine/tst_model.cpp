// Graph → torch module: shapes against inference, parameter counts, tied weights, overrides.

#include "TestSupport.h"
#include "graph/Validator.h"
#include "model/Model.h"
#include "nodes/ChannelsLastPool.h"
#include "model/DnnlLinear.h"

#include <ATen/autocast_mode.h>

#include <optional>

#include <QtTest>

#include <cmath>
#include <limits>
#include <map>
#include <set>

using namespace particle;
using namespace particle::test;

namespace {
torch::Tensor sampleBatch(const Shape &sample, int64_t batch) {
  std::vector<int64_t> shape = {batch};
  shape.insert(shape.end(), sample.begin(), sample.end());
  return torch::rand(shape);
}

int64_t distinctNumel(torch::nn::Module &m) {
  int64_t n = 0;
  for (const auto &p : distinctParameters(m))
    n += p.numel();
  return n;
}

// Equal values, NaN where the other has NaN.
bool sameValues(const torch::Tensor &a, const torch::Tensor &b) {
  return a.sizes() == b.sizes() && a.scalar_type() == b.scalar_type() &&
         ((a == b) | (a.isnan() & b.isnan())).all().item<bool>();
}

// Values for the pool: "normal" (random), "ties" (small integers, so windows hold equal maxima),
// "special" (NaN, ±infinity and a few integers: windows with several NaNs, all −infinity…).
torch::Tensor poolInput(const std::vector<int64_t> &shape, const std::string &values) {
  if (values == "normal")
    return torch::randn(shape);
  if (values == "ties")
    return torch::randint(-2, 3, shape).to(torch::kFloat);
  const float inf = std::numeric_limits<float>::infinity();
  const auto choices = torch::tensor({std::nanf(""), -inf, inf, -1.0f, 0.0f, 1.0f});
  return choices.index({torch::randint(0, 6, shape, torch::kLong)});
}
} // namespace

class TestModel : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void initTestCase() { torch::manual_seed(0); }
  void examples_data();
  void examples();
  void combineModes_data();
  void combineModes();
  void tiedBranchesShareStorageAndGradient_data();
  void tiedBranchesShareStorageAndGradient();
  void trunkSharingKeepsOwnHeads();
  void overridesReplaceNodeOutputs();
  void attentionRowsSumToOne();
  void invalidProjectIsRefused();
  void channelsLastPoolMatchesTorch_data();
  void channelsLastPoolMatchesTorch();
  void channelsLastPoolUnderAutocast();
  void convNetPoolsTakeTheChannelsLastKernel();
  void convReluPoolMatchesTorch_data();
  void convReluPoolMatchesTorch();
  void convReluPoolLeavesOtherLayersToTorch();
  void convPoolLayerMatchesTorch_data();
  void convPoolLayerMatchesTorch();
  void convReluPoolUnderBf16Autocast();
  void denseLinearMatchesTorch_data();
  void denseLinearMatchesTorch();
  void denseLinearLeavesOtherCasesToTorch();
};

void TestModel::examples_data() {
  QTest::addColumn<QString>("name");
  for (const char *name : kExamples)
    QTest::newRow(name) << QString(name);
}

void TestModel::examples() {
  QFETCH(QString, name);
  const Project project = loadProject(examplePath(name.toStdString()));
  ParticleModel model(project);
  const Validation &v = model->validation();
  model->eval();
  torch::NoGradGuard noGrad;
  const auto result = model->forward(sampleBatch(v.data.sampleShape, 5));
  // Every node's real output has the inferred shape.
  for (const auto &[id, outputs] : result.outputs) {
    const NodeInfo *info = v.info(id);
    QVERIFY(info);
    if (project.graph.find(id)->type == "Classifier")
      continue;
    QCOMPARE(outputs.size(), info->outputs.size());
    for (std::size_t k = 0; k < outputs.size(); ++k) {
      Shape want = {5};
      want.insert(want.end(), info->outputs[k].begin(), info->outputs[k].end());
      QVERIFY2(outputs[k].sizes().vec() == want, (id + " " + shapeToString(outputs[k].sizes().vec())).c_str());
    }
  }
  QCOMPARE(result.logits.sizes().vec(), (std::vector<int64_t>{5, v.data.classes}));
  // `unique` is exactly what the optimiser trains.
  QCOMPARE(distinctNumel(*model), v.uniqueParameters);
  QCOMPARE(static_cast<int64_t>(model->parameters().size()), static_cast<int64_t>(distinctParameters(*model).size()));
}

void TestModel::combineModes_data() {
  QTest::addColumn<QString>("params");
  QTest::newRow("concat") << R"({"mode":"concat"})";
  QTest::newRow("sum") << R"({"mode":"sum"})";
  QTest::newRow("mean") << R"({"mode":"mean","dim":5})";
  QTest::newRow("max") << R"({"mode":"max"})";
  QTest::newRow("attention") << R"({"mode":"attention"})";
  QTest::newRow("gate") << R"({"mode":"gate"})";
  QTest::newRow("gate top2") << R"({"mode":"gate","top_k":2})";
}

void TestModel::combineModes() {
  QFETCH(QString, params);
  Json doc = baseProject();
  doc["nodes"][6]["params"] = Json::parse(params.toStdString());
  const Project project = projectFromJson(doc, "t.json");
  ParticleModel model(project);
  const auto &v = model->validation();
  QCOMPARE(distinctNumel(*model), v.uniqueParameters);
  auto x = sampleBatch(v.data.sampleShape, 7);
  auto out = model->forward(x);
  QCOMPARE(out.logits.sizes().vec(), (std::vector<int64_t>{7, 4}));
  const std::string mode = doc["nodes"][6]["params"]["mode"];
  if (mode == "attention" || mode == "gate") {
    auto w = out.combineWeights.at("combine");
    QCOMPARE(w.sizes().vec(), (std::vector<int64_t>{7, 4}));
    QVERIFY(torch::allclose(w.sum(1), torch::ones({7}), 1e-5, 1e-6));
    if (doc["nodes"][6]["params"].value("top_k", 0) == 2)
      QVERIFY(((w > 0).sum(1) == 2).all().item<bool>());
  }
  if (mode == "gate")
    QVERIFY(out.auxLoss.item<double>() > 0);
  // Training signal reaches every parameter that affects the output.
  (out.logits.sum() + out.auxLoss).backward();
  for (const auto &p : model->named_parameters())
    QVERIFY2(p.value().grad().defined(), p.key().c_str());
}

void TestModel::tiedBranchesShareStorageAndGradient_data() {
  QTest::addColumn<QString>("scope");
  QTest::newRow("all") << "all";
  QTest::newRow("trunk") << "trunk";
}

void TestModel::tiedBranchesShareStorageAndGradient() {
  QFETCH(QString, scope);
  Project project = loadProject(examplePath("fashion-patches"));
  const std::vector<std::string> branches = {"p0", "p1", "p2", "p3"};
  for (const auto &b : branches)
    project.graph.find(b)->shareScope = scope == "all" ? "" : "trunk";
  ParticleModel model(project);
  QCOMPARE(distinctNumel(*model), model->validation().uniqueParameters);
  if (scope == "all") {
    // One module instance: the very same tensors.
    for (const auto &b : branches)
      QCOMPARE(model->nodeModule(b).get(), model->nodeModule("p0").get());
    const auto params0 = model->nodeModule("p0")->parameters();
    const auto params1 = model->nodeModule("p1")->parameters();
    QCOMPARE(params0.size(), params1.size());
    for (std::size_t i = 0; i < params0.size(); ++i)
      QCOMPARE(params0[i].data_ptr(), params1[i].data_ptr());
  }

  auto x = sampleBatch({1, 28, 28}, 3);
  // The first conv weight is shared under both scopes.
  auto weight = model->named_parameters()["p0.trunk.layers.0.weight"];
  auto gradOf = [&](const std::set<std::string> &live) {
    model->zero_grad();
    // Branches not in `live` are cut off from the graph (their outputs detached).
    const auto plain = model->forward(x);
    std::map<std::string, torch::Tensor> overrides;
    for (const auto &b : branches)
      if (!live.count(b))
        overrides[b] = plain.outputs.at(b)[0].detach();
    ForwardOptions opt;
    opt.overrides = &overrides;
    model->forward(x, opt).logits.sum().backward();
    return weight.grad().clone();
  };
  const auto full = gradOf({"p0", "p1", "p2", "p3"});
  torch::Tensor sum = torch::zeros_like(full);
  for (const auto &b : branches) {
    auto part = gradOf({b});
    QVERIFY2(part.abs().sum().item<double>() > 0, ("no gradient through branch " + b).c_str());
    sum += part;
  }
  // The shared weight's gradient is the sum of what each branch contributes.
  QVERIFY(torch::allclose(full, sum, 1e-4, 1e-6));
}

void TestModel::trunkSharingKeepsOwnHeads() {
  Json doc = baseProject();
  doc["nodes"][2]["share_scope"] = "trunk";
  doc["nodes"][3]["share_scope"] = "trunk";
  ParticleModel model(projectFromJson(doc, "t.json"));
  QCOMPARE(distinctNumel(*model), model->validation().uniqueParameters);
  auto a = model->nodeModule("a"), b = model->nodeModule("b");
  QVERIFY(a.get() != b.get());
  auto named = model->named_parameters();
  QVERIFY(named.contains("a.trunk.layers.0.weight"));
  QVERIFY(!named.contains("b.trunk.layers.0.weight"));
  QVERIFY(named.contains("b.head.weight"));
}

void TestModel::overridesReplaceNodeOutputs() {
  ParticleModel model(projectFromJson(baseProject(), "t.json"));
  model->eval();
  torch::NoGradGuard noGrad;
  auto x = sampleBatch({32}, 4);
  const auto base = model->forward(x);
  // With a base and no overrides, nothing is recomputed and the result is identical.
  ForwardOptions reuse;
  reuse.base = &base;
  QVERIFY(torch::equal(model->forward(x, reuse).logits, base.logits));
  // Overriding a branch changes the logits exactly as a zero branch through concat → linear would.
  std::map<std::string, torch::Tensor> overrides = {{"c", torch::zeros({4, 8})}};
  ForwardOptions opt;
  opt.overrides = &overrides;
  opt.base = &base;
  const auto changed = model->forward(x, opt);
  QVERIFY(!torch::allclose(changed.logits, base.logits));
  QVERIFY(torch::equal(changed.outputs.at("c")[0], torch::zeros({4, 8})));
  QVERIFY(torch::equal(changed.outputs.at("a")[0], base.outputs.at("a")[0]));
  auto w = model->named_parameters()["head.linear.weight"]; // [4, 32]; branch c is columns 16..23
  auto expected = base.logits - base.outputs.at("c")[0].matmul(w.narrow(1, 16, 8).t());
  QVERIFY(torch::allclose(changed.logits, expected, 1e-5, 1e-5));
  // A Split output port can be overridden too ("split:2").
  std::map<std::string, torch::Tensor> splitOverride = {{"split:2", torch::zeros({4, 8})}};
  ForwardOptions opt2;
  opt2.overrides = &splitOverride;
  QVERIFY(!torch::allclose(model->forward(x, opt2).outputs.at("c")[0], base.outputs.at("c")[0]));
}

void TestModel::attentionRowsSumToOne() {
  ParticleModel model(loadProject(examplePath("fashion-tokens")));
  model->eval();
  torch::NoGradGuard noGrad;
  ForwardOptions opt;
  opt.recordAttention = true;
  const auto out = model->forward(sampleBatch({1, 28, 28}, 2), opt);
  for (const char *id : {"left", "right"}) {
    const auto &layers = out.attention.at(id);
    QCOMPARE(static_cast<int>(layers.size()), 2);
    for (const auto &a : layers) {
      QCOMPARE(a.sizes().vec(), (std::vector<int64_t>{2, 4, 8, 8})); // batch, heads, T, T
      QVERIFY(torch::allclose(a.sum(-1), torch::ones({2, 4, 8}), 1e-5, 1e-6));
    }
  }
}

void TestModel::invalidProjectIsRefused() {
  Json doc = baseProject();
  doc["nodes"][4]["params"]["out"] = 0;
  try {
    ParticleModel model(projectFromJson(doc, "bad.json"));
    QFAIL("an invalid project must not build");
  } catch (const Error &e) {
    QCOMPARE(e.kind(), ErrorKind::Invalid);
    QVERIFY(std::string(e.what()).find("node 'c'") != std::string::npos);
  }
}

void TestModel::channelsLastPoolMatchesTorch_data() {
  QTest::addColumn<bool>("bf16");
  QTest::addColumn<QList<qint64>>("shape");
  QTest::addColumn<QString>("values");
  for (const bool bf16 : {false, true}) {
    const QByteArray p = bf16 ? "bf16 " : "fp32 ";
    QTest::newRow(p + "fashion-patches' first map") << bf16 << QList<qint64>{8, 32, 14, 14} << "normal";
    QTest::newRow(p + "ties, odd height and width") << bf16 << QList<qint64>{3, 64, 7, 7} << "ties";
    QTest::newRow(p + "NaN and infinities, odd height") << bf16 << QList<qint64>{4, 5, 9, 6} << "special";
    QTest::newRow(p + "NaN and infinities, odd width") << bf16 << QList<qint64>{4, 17, 4, 5} << "special";
    QTest::newRow(p + "one channel, 2×3") << bf16 << QList<qint64>{5, 1, 2, 3} << "ties";
    // Enough rows that LibTorch's grain splits them over the threads (two, below).
    QTest::newRow(p + "a batch of 128 first maps") << bf16 << QList<qint64>{128, 32, 14, 14} << "normal";
    QTest::newRow(p + "ties, odd sizes, a batch of 100") << bf16 << QList<qint64>{100, 64, 7, 7} << "ties";
  }
}

// Forward values and the input's gradient equal to LibTorch's max_pool2d(x, 2), and with the
// ReLU to its relu_(max_pool2d(x, 2)), bit for bit.
void TestModel::channelsLastPoolMatchesTorch() {
  QFETCH(bool, bf16);
  QFETCH(QList<qint64>, shape);
  QFETCH(QString, values);
  const std::vector<int64_t> sizes(shape.begin(), shape.end());
  const auto dtype = bf16 ? torch::kBFloat16 : torch::kFloat;
  const auto x = poolInput(sizes, values.toStdString()).to(dtype).contiguous(at::MemoryFormat::ChannelsLast);
  const int threads = torch::get_num_threads();
  torch::set_num_threads(2);
  const auto restore = qScopeGuard([threads] { torch::set_num_threads(threads); });
  for (const bool relu : {false, true}) {
    const auto ours = x.clone().requires_grad_(), theirs = x.clone().requires_grad_();
    const auto y = nodes::maxPool2x2(ours, relu);
    auto expected = torch::max_pool2d(theirs, 2);
    if (relu)
      torch::relu_(expected);
    // The kernel of ChannelsLastPool ran, not LibTorch's ops behind it.
    QVERIFY(y.grad_fn()->name().find("MaxPool2x2") != std::string::npos);
    QVERIFY(sameValues(y, expected));
    const auto g = torch::randn(expected.sizes()).to(dtype);
    y.backward(g);
    expected.backward(g);
    QVERIFY(ours.grad().is_contiguous(at::MemoryFormat::ChannelsLast));
    QVERIFY(sameValues(ours.grad(), theirs.grad()));

    // Any other layout is LibTorch's ops themselves.
    if (!x.is_contiguous())
      QVERIFY(nodes::maxPool2x2(x.contiguous().requires_grad_(), relu).grad_fn()->name().find("MaxPool2x2") ==
              std::string::npos);
  }
}

// Under bf16 autocast, as a ConvNet trains: the convolution's bfloat16 channels-last output pooled
// with its ReLU, against LibTorch's pool and relu_, and the gradient that reaches that output.
void TestModel::channelsLastPoolUnderAutocast() {
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(3, 16, 3).padding(1));
  conv->weight.set_data(conv->weight.data().contiguous(at::MemoryFormat::ChannelsLast));
  const auto x = torch::randn({4, 3, 11, 10}).contiguous(at::MemoryFormat::ChannelsLast);
  std::vector<torch::Tensor> outs, grads;
  for (const bool ours : {true, false}) {
    at::autocast::set_cpu_enabled(true);
    at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
    auto h = conv->forward(x);
    h.retain_grad();
    auto y = ours ? nodes::maxPool2x2(h, true) : torch::max_pool2d(h, 2);
    if (!ours)
      torch::relu_(y);
    const auto loss = y.square().sum();
    at::autocast::set_cpu_enabled(false);
    at::autocast::clear_cache();
    QCOMPARE(h.scalar_type(), torch::kBFloat16);
    QVERIFY(h.is_contiguous(at::MemoryFormat::ChannelsLast));
    loss.backward();
    outs.push_back(y.detach());
    grads.push_back(h.grad());
  }
  QVERIFY(sameValues(outs[0], outs[1]));
  QVERIFY(sameValues(grads[0], grads[1]));
}

namespace {
// bfloat16 autocast on the CPU, as the Trainer turns it on for `training.precision` "bf16", for the
// scope of the guard.
struct Bf16Autocast {
  Bf16Autocast() {
    at::autocast::set_cpu_enabled(true);
    at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
  }
  ~Bf16Autocast() {
    at::autocast::set_cpu_enabled(false);
    at::autocast::clear_cache();
  }
};

// The largest difference between a and b relative to the largest magnitude of b.
double relativeDifference(const torch::Tensor &a, const torch::Tensor &b) {
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>() /
         (b.to(torch::kDouble).abs().max().item<double>() + 1e-12);
}
} // namespace

// Every pool of fashion-patches' ConvNets, the first layer's (one input channel, where channels-last
// strides are ambiguous) included, runs ChannelsLastPool's kernel and none LibTorch's — in float32
// and under bfloat16 autocast (`training.precision` "bf16").
void TestModel::convNetPoolsTakeTheChannelsLastKernel() {
  ParticleModel model(loadProject(examplePath("fashion-patches")));
  model->train();
  for (const bool bf16 : {false, true}) {
    torch::Tensor logits;
    {
      std::optional<Bf16Autocast> autocast;
      if (bf16)
        autocast.emplace();
      logits = model->forward(sampleBatch({1, 28, 28}, 2)).logits;
    }
    std::map<std::string, int> counts;
    std::set<torch::autograd::Node *> seen;
    std::vector<torch::autograd::Node *> open = {logits.grad_fn().get()};
    while (!open.empty()) {
      torch::autograd::Node *node = open.back();
      open.pop_back();
      if (!node || !seen.insert(node).second)
        continue;
      const std::string name = node->name();
      ++counts[name.find("MaxPool2x2") != std::string::npos ? "ours" : name];
      for (const auto &edge : node->next_edges())
        open.push_back(edge.function.get());
    }
    // Four trunk calls: the first layer's convolution, ReLU and pool in one pass (convReluPool2x2,
    // on a CPU with AVX-512), the second layer's convolution and pool as one function
    // (ConvPoolLayer, whose pool is ChannelsLastPool's kernel); no convolution or pool of
    // LibTorch's in the graph.
    const bool fused = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
    int layers = 0, firstLayers = 0;
    for (const auto &[name, count] : counts) {
      if (name.find("ConvPoolLayer") != std::string::npos)
        layers += count;
      if (name.find("ConvReluPool") != std::string::npos)
        firstLayers += count;
    }
    QCOMPARE(counts["ours"], 0);
    QCOMPARE(layers, fused ? 4 : 8);
    QCOMPARE(firstLayers, fused ? 4 : 0);
    QCOMPARE(counts["ConvolutionBackward0"], 0);
    QCOMPARE(counts["MaxPool2DWithIndicesBackward0"], 0);
    QCOMPARE(logits.scalar_type(), bf16 ? torch::kBFloat16 : torch::kFloat);
  }
}

void TestModel::convReluPoolMatchesTorch_data() {
  QTest::addColumn<QList<qint64>>("shape"); // the input [N, Cin, H, W]
  QTest::addColumn<int>("kernel");
  QTest::addColumn<int>("channels");
  QTest::addColumn<QString>("values");
  QTest::newRow("fashion-patches' first layer") << QList<qint64>{8, 1, 14, 14} << 3 << 32 << "normal";
  // Enough rows and samples that LibTorch's grain splits them over the threads (two, below).
  QTest::newRow("a batch of 128 patches") << QList<qint64>{128, 1, 14, 14} << 3 << 32 << "normal";
  QTest::newRow("RGB, odd height and width") << QList<qint64>{5, 3, 11, 10} << 3 << 16 << "normal";
  QTest::newRow("5 × 5, odd height, 48 channels") << QList<qint64>{6, 1, 9, 8} << 5 << 48 << "normal";
  QTest::newRow("ties: small integers") << QList<qint64>{7, 1, 6, 7} << 3 << 16 << "ties";
}

// A first layer on images: convolution, ReLU and 2×2 pool in one pass, against LibTorch's conv2d
// and ChannelsLastPool's pool (which equals LibTorch's, above). The values bit for bit: the same
// fused multiply-adds in the same order as oneDNN's kernel here. The weight and bias gradients are
// the same sums in another order: equal within float32 rounding, not bit for bit.
void TestModel::convReluPoolMatchesTorch() {
  if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw"))
    QSKIP("convReluPool2x2 takes its own kernel on a CPU with AVX-512 only");
  QFETCH(QList<qint64>, shape);
  QFETCH(int, kernel);
  QFETCH(int, channels);
  QFETCH(QString, values);
  std::vector<int64_t> sizes(shape.begin(), shape.end());
  // A patch of a larger image, as Split hands it on: a view with the image's strides.
  const auto whole = poolInput({sizes[0], sizes[1], 2 * sizes[2], 2 * sizes[3]}, values.toStdString());
  const auto x = whole.narrow(2, sizes[2], sizes[2]).narrow(3, 1, sizes[3]);
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(sizes[1], channels, kernel).padding(kernel / 2));
  if (values == "ties") { // small integer weights and bias: many windows with equal maxima, and zeros
    conv->weight.set_data(torch::randint(-1, 2, conv->weight.sizes()).to(torch::kFloat));
    conv->bias.set_data(torch::randint(-1, 2, conv->bias.sizes()).to(torch::kFloat));
  }
  conv->weight.set_data(torch::empty_like(conv->weight, at::MemoryFormat::ChannelsLast).copy_(conv->weight));
  const int threads = torch::get_num_threads();
  torch::set_num_threads(2);
  const auto restore = qScopeGuard([threads] { torch::set_num_threads(threads); });
  std::vector<torch::Tensor> outs, weightGrads, biasGrads;
  for (const bool ours : {true, false}) {
    conv->zero_grad();
    const auto y =
        ours ? nodes::convReluPool2x2(x, conv->weight, conv->bias) : nodes::maxPool2x2(conv->forward(x), true);
    if (ours) // the kernel ran, not the ops behind it
      QVERIFY2(y.grad_fn()->name().find("ConvReluPool") != std::string::npos, y.grad_fn()->name().c_str());
    QVERIFY(y.is_contiguous(at::MemoryFormat::ChannelsLast));
    torch::manual_seed(3);
    y.backward(torch::randn(y.sizes()));
    outs.push_back(y.detach());
    weightGrads.push_back(conv->weight.grad().clone());
    biasGrads.push_back(conv->bias.grad().clone());
  }
  QVERIFY(sameValues(outs[0], outs[1]));
  QCOMPARE(weightGrads[0].sizes(), weightGrads[1].sizes());
  // The same sums in another order: within a few units of float32 rounding of the largest.
  for (const auto &[a, b] : {std::pair{weightGrads[0], weightGrads[1]}, std::pair{biasGrads[0], biasGrads[1]}}) {
    const double scale = b.abs().max().item<double>() + 1e-12;
    const double diff = (a - b).abs().max().item<double>() / scale;
    QVERIFY2(diff <= 1e-5, qPrintable(QString("largest difference %1 of the largest gradient").arg(diff)));
  }
}

// Where its kernel does not apply, convReluPool2x2 is LibTorch's convolution and maxPool2x2: an
// input that wants its gradient (a later layer, saliency), channels not a multiple of 16, too many
// taps, an even kernel, or turned off for a benchmark. (bfloat16 autocast takes it: below.)
void TestModel::convReluPoolLeavesOtherLayersToTorch() {
  auto fusedFor = [](const torch::Tensor &x, int64_t cin, int64_t channels, int64_t kernel) {
    torch::nn::Conv2d conv(torch::nn::Conv2dOptions(cin, channels, kernel).padding(kernel / 2));
    const auto y = nodes::convReluPool2x2(x, conv->weight, conv->bias);
    const auto expected = nodes::maxPool2x2(conv->forward(x), true);
    return std::pair{y.grad_fn() && y.grad_fn()->name().find("ConvReluPool") != std::string::npos,
                     sameValues(y, expected)};
  };
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
  const auto image = torch::randn({4, 1, 10, 10});
  QCOMPARE(fusedFor(image, 1, 32, 3), std::pair(avx512, true));
  QCOMPARE(fusedFor(image.clone().requires_grad_(), 1, 32, 3), std::pair(false, true));
  QCOMPARE(fusedFor(image, 1, 24, 3), std::pair(false, true));
  QCOMPARE(fusedFor(image, 1, 32, 4), std::pair(false, true));
  const auto map = torch::randn({4, 8, 10, 10}); // 8 × 3 × 3 taps
  QCOMPARE(fusedFor(map, 8, 32, 3), std::pair(false, true));
  nodes::setConvReluPoolEnabled(false);
  QCOMPARE(fusedFor(image, 1, 32, 3), std::pair(false, true));
  nodes::setConvReluPoolEnabled(true);
  // Without a gradient being recorded the input's requires_grad does not matter.
  torch::NoGradGuard noGrad;
  QCOMPARE(fusedFor(image.clone().requires_grad_(), 1, 32, 3).second, true);
}

namespace {
// A later ConvNet layer as TrunkModuleImpl makes it (channels-last weights); for values other than
// "normal", small integer weights and bias: windows with equal maxima, exact sums.
torch::nn::Conv2d laterLayer(int64_t in, int channels, int kernel, const QString &values) {
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(in, channels, kernel).padding(kernel / 2));
  if (values != "normal") {
    conv->weight.set_data(torch::randint(-1, 2, conv->weight.sizes()).to(torch::kFloat));
    conv->bias.set_data(torch::randint(-1, 2, conv->bias.sizes()).to(torch::kFloat));
  }
  conv->weight.set_data(torch::empty_like(conv->weight, at::MemoryFormat::ChannelsLast).copy_(conv->weight));
  return conv;
}
} // namespace

void TestModel::convPoolLayerMatchesTorch_data() {
  QTest::addColumn<QList<qint64>>("shape"); // the input [N, Cin, H, W]
  QTest::addColumn<int>("kernel");
  QTest::addColumn<int>("channels");
  QTest::addColumn<QString>("values");
  // "fp32"; under bf16 autocast "bf16" (the previous layer's bfloat16 output) or "bf16, fp32 input".
  QTest::addColumn<QString>("precision");
  for (const QString precision : {"fp32", "bf16", "bf16, fp32 input"}) {
    const QByteArray tag = " (" + precision.toUtf8() + ")";
    QTest::newRow("fashion-patches' second layer" + tag)
        << QList<qint64>{128, 32, 7, 7} << 3 << 64 << "normal" << precision;
    QTest::newRow("even sizes, 5 × 5" + tag) << QList<qint64>{6, 8, 10, 8} << 5 << 24 << "normal" << precision;
    QTest::newRow("ties: small integers" + tag) << QList<qint64>{9, 16, 7, 6} << 3 << 32 << "ties" << precision;
    QTest::newRow("NaN and infinities" + tag) << QList<qint64>{5, 4, 6, 5} << 3 << 16 << "special" << precision;
  }
}

// A later layer (an input that wants its gradient): LibTorch's convolution and the pool with its
// ReLU as one function, against conv2d and maxPool2x2 as two. Values and the input and weight
// gradients bit for bit (the same oneDNN calls); the bias gradient is the same sum in another order.
// Under bf16 autocast the function casts as autocast casts a convolution's and hands the gradients
// back in the types that came in: again bit for bit but for the bias gradient, which it sums in
// float32 where LibTorch's is rounded to bfloat16 (within bfloat16's rounding, 2⁻⁸, of the largest).
void TestModel::convPoolLayerMatchesTorch() {
  QFETCH(QList<qint64>, shape);
  QFETCH(int, kernel);
  QFETCH(int, channels);
  QFETCH(QString, values);
  QFETCH(QString, precision);
  const bool bf16 = precision.startsWith("bf16"), bf16Input = precision == "bf16";
  const std::vector<int64_t> sizes(shape.begin(), shape.end());
  const auto x = poolInput(sizes, values.toStdString()).contiguous(at::MemoryFormat::ChannelsLast);
  auto conv = laterLayer(sizes[1], channels, kernel, values);
  const int threads = torch::get_num_threads();
  torch::set_num_threads(2);
  const auto restore = qScopeGuard([threads] { torch::set_num_threads(threads); });
  std::vector<torch::Tensor> outs, inputGrads, weightGrads, biasGrads;
  for (const bool ours : {true, false}) {
    conv->zero_grad();
    const auto in = (bf16Input ? x.to(torch::kBFloat16) : x.clone()).requires_grad_();
    torch::Tensor y;
    {
      std::optional<Bf16Autocast> autocast;
      if (bf16)
        autocast.emplace();
      y = ours ? nodes::convReluPool2x2(in, conv->weight, conv->bias)
               : nodes::maxPool2x2(torch::conv2d(in, conv->weight, conv->bias, 1, kernel / 2), true);
    }
    QCOMPARE(y.grad_fn()->name().find("ConvPoolLayer") != std::string::npos, ours);
    QCOMPARE(y.scalar_type(), bf16 ? torch::kBFloat16 : torch::kFloat);
    QVERIFY(y.is_contiguous(at::MemoryFormat::ChannelsLast));
    torch::manual_seed(3);
    y.backward(torch::randn(y.sizes()).to(y.scalar_type()));
    outs.push_back(y.detach());
    inputGrads.push_back(in.grad());
    weightGrads.push_back(conv->weight.grad().clone());
    biasGrads.push_back(conv->bias.grad().clone());
  }
  QCOMPARE(inputGrads[0].scalar_type(), bf16Input ? torch::kBFloat16 : torch::kFloat);
  QCOMPARE(weightGrads[0].scalar_type(), torch::kFloat);
  QVERIFY(sameValues(outs[0], outs[1]));
  QVERIFY(sameValues(inputGrads[0], inputGrads[1]));
  QVERIFY(sameValues(weightGrads[0], weightGrads[1]));
  // NaN and infinities in the input reach the weight gradient, never the bias gradient.
  QVERIFY(biasGrads[0].isfinite().all().item<bool>() && biasGrads[1].isfinite().all().item<bool>());
  const double diff = relativeDifference(biasGrads[0], biasGrads[1]);
  QVERIFY2(diff <= (bf16 ? 1.0 / 256 : 1e-5),
           qPrintable(QString("largest difference %1 of the largest bias gradient").arg(diff)));

  // A layer turned off takes LibTorch's convolution and maxPool2x2 as before.
  nodes::setConvPoolLayerEnabled(false);
  QVERIFY(nodes::convReluPool2x2(x.clone().requires_grad_(), conv->weight, conv->bias)
              .grad_fn()
              ->name()
              .find("ConvPoolLayer") == std::string::npos);
  nodes::setConvPoolLayerEnabled(true);
}

// Under bfloat16 autocast a first layer on images still takes its own pass, in float32, and rounds
// only its output to bfloat16: the float32 layer's output `.to(kBFloat16)` bit for bit, with the
// float32 layer's weight and bias gradients for the same (bfloat16) output gradient. It is closer to
// the float32 layer than LibTorch's bfloat16 convolution, which rounds the image and the weights too.
void TestModel::convReluPoolUnderBf16Autocast() {
  if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw"))
    QSKIP("convReluPool2x2 takes its own kernel on a CPU with AVX-512 only");
  const auto whole = torch::randn({128, 1, 28, 28});
  const auto x = whole.narrow(2, 14, 14).narrow(3, 0, 14); // a patch, as Split hands it on
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(1, 32, 3).padding(1));
  conv->weight.set_data(torch::empty_like(conv->weight, at::MemoryFormat::ChannelsLast).copy_(conv->weight));
  torch::Tensor y, lib;
  {
    Bf16Autocast autocast;
    y = nodes::convReluPool2x2(x, conv->weight, conv->bias);
    lib = nodes::maxPool2x2(torch::conv2d(x, conv->weight, conv->bias, 1, 1), true).detach();
  }
  QCOMPARE(y.scalar_type(), torch::kBFloat16);
  QVERIFY2(y.grad_fn()->name().find("ConvReluPool") != std::string::npos, y.grad_fn()->name().c_str());
  QVERIFY(y.is_contiguous(at::MemoryFormat::ChannelsLast));
  torch::manual_seed(3);
  const auto g = torch::randn(y.sizes()).to(torch::kBFloat16);
  y.backward(g);
  const auto weightGrad = conv->weight.grad().clone(), biasGrad = conv->bias.grad().clone();
  QCOMPARE(weightGrad.scalar_type(), torch::kFloat);

  conv->zero_grad();
  const auto exact = nodes::maxPool2x2(conv->forward(x), true);
  const auto rounded = exact.to(torch::kBFloat16);
  QVERIFY(sameValues(y.detach(), rounded.detach()));
  rounded.backward(g);
  for (const auto &[a, b] : {std::pair{weightGrad, conv->weight.grad()}, std::pair{biasGrad, conv->bias.grad()}}) {
    const double diff = relativeDifference(a, b);
    QVERIFY2(diff <= 1e-5, qPrintable(QString("largest difference %1 of the largest gradient").arg(diff)));
  }
  const double ours = relativeDifference(y.detach(), exact.detach());
  const double theirs = relativeDifference(lib, exact.detach());
  QVERIFY2(ours > 0 && ours < theirs, qPrintable(QString("ours %1, LibTorch's bfloat16 %2").arg(ours).arg(theirs)));
}

void TestModel::denseLinearMatchesTorch_data() {
  QTest::addColumn<QList<qint64>>("shape"); // rows, in, out
  QTest::newRow("fashion-patches' head") << QList<qint64>{128, 576, 96};
  QTest::newRow("odd sizes") << QList<qint64>{7, 33, 5};
  QTest::newRow("one row") << QList<qint64>{1, 16, 3};
  QTest::newRow("one row, a head's width") << QList<qint64>{1, 576, 96};
  QTest::newRow("two rows") << QList<qint64>{2, 96, 10};
}

// denseLinear against torch::linear: values and the three gradients equal within float32 rounding
// (oneDNN's products sum in another order than OpenBLAS's), the bias gradient LibTorch's sum.
void TestModel::denseLinearMatchesTorch() {
  if (!dnnlLinearAvailable())
    QSKIP("LibTorch's oneDNN does not export dnnl_sgemm here: denseLinear is torch::linear");
  QFETCH(QList<qint64>, shape);
  torch::nn::Linear layer(shape[1], shape[2]);
  const auto x = torch::randn({shape[0], shape[1]});
  const auto g = torch::randn({shape[0], shape[2]});
  const int threads = torch::get_num_threads();
  torch::set_num_threads(2);
  const auto restore = qScopeGuard([threads] { torch::set_num_threads(threads); });
  std::vector<torch::Tensor> outs, inputGrads, weightGrads, biasGrads;
  for (const bool ours : {true, false}) {
    layer->zero_grad();
    const auto in = x.clone().requires_grad_();
    const auto y = ours ? denseLinear(in, layer->weight, layer->bias) : torch::linear(in, layer->weight, layer->bias);
    QCOMPARE(y.grad_fn()->name().find("dnnl_linear") != std::string::npos, ours);
    y.backward(g);
    outs.push_back(y.detach());
    inputGrads.push_back(in.grad());
    weightGrads.push_back(layer->weight.grad().clone());
    biasGrads.push_back(layer->bias.grad().clone());
  }
  for (const auto &[a, b] : {std::pair{outs[0], outs[1]}, std::pair{inputGrads[0], inputGrads[1]},
                             std::pair{weightGrads[0], weightGrads[1]}}) {
    QCOMPARE(a.sizes(), b.sizes());
    const double diff = (a - b).abs().max().item<double>() / (b.abs().max().item<double>() + 1e-12);
    QVERIFY2(diff <= 1e-5, qPrintable(QString("largest difference %1 of the largest value").arg(diff)));
  }
  QVERIFY(sameValues(biasGrads[0], biasGrads[1]));
}

// Where oneDNN's products do not apply, denseLinear is torch::linear itself: a strided input, a
// batch of sequences [B, T, D], no bias, bfloat16 autocast, or turned off for a benchmark.
void TestModel::denseLinearLeavesOtherCasesToTorch() {
  torch::nn::Linear layer(12, 4);
  auto takesOurs = [&](const torch::Tensor &x) {
    const auto y = denseLinear(x, layer->weight, layer->bias);
    const auto expected = torch::linear(x, layer->weight, layer->bias);
    return std::pair{y.grad_fn()->name().find("dnnl_linear") != std::string::npos,
                     torch::allclose(y.to(torch::kFloat), expected.to(torch::kFloat), 1e-4, 1e-5)};
  };
  const auto x = torch::randn({6, 12});
  QCOMPARE(takesOurs(x), std::pair(dnnlLinearAvailable(), true));
  QCOMPARE(takesOurs(torch::randn({12, 6}).t()), std::pair(false, true));
  QCOMPARE(takesOurs(torch::randn({2, 3, 12})), std::pair(false, true));
  torch::nn::Linear unbiased(torch::nn::LinearOptions(12, 4).bias(false));
  const auto y = denseLinear(x, unbiased->weight, unbiased->bias);
  QVERIFY(y.grad_fn()->name().find("dnnl_linear") == std::string::npos);
  QVERIFY(sameValues(y, torch::linear(x, unbiased->weight)));
  setDnnlLinearEnabled(false);
  QCOMPARE(takesOurs(x), std::pair(false, true));
  setDnnlLinearEnabled(true);
  at::autocast::set_cpu_enabled(true);
  at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
  QCOMPARE(takesOurs(x), std::pair(false, true));
  at::autocast::set_cpu_enabled(false);
  at::autocast::clear_cache();
}

QTEST_GUILESS_MAIN(TestModel)
#include "tst_model.moc"
