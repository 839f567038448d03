// The recipes both front ends call, tested without either: the variants a search tries, the
// graph diff the run history shows, the weight-versus-effect rule the Explain tab flags.

#include "TestSupport.h"
#include "data/Cache.h"
#include "project/ProjectCheck.h"
#include "project/Checkpoint.h"
#include "project/Project.h"
#include "recipes/Contributions.h"
#include "recipes/GraphCheckpoint.h"
#include "recipes/GraphDiff.h"
#include "recipes/Search.h"
#include "recipes/Variants.h"
#include "train/RunFolder.h"

#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <set>

using namespace particle;
using namespace particle::test;

class TestRecipes : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void variantsOfTheBaseProject();
  void variantsHonourPinsAndExclusions();
  void theDecompositionSiteIsFound();
  void aGraphWithoutASplitHasNoSite();
  void identicalGraphsHaveNoDiff();
  void diffNamesEveryChange();
  void aDefaultWrittenOutIsNoChange();
  void weightAndEffectDisagreeOnlyBeyondTheFairShare();
  void aRunFolderReadsBackWhatItWrote();
  void damagedRunFilesAreNamed();
  void searchFilesReadBackTyped();
};

namespace {
Project base() {
  return projectFromJson(baseProject(), "base.particle.json");
}
const std::string &axis(const Variant &v, const std::string &name) {
  static const std::string none;
  auto it = v.axes.find(name);
  return it == v.axes.end() ? none : it->second;
}
} // namespace

void TestRecipes::variantsOfTheBaseProject() {
  const Project project = base();
  const Validation validation = validate(project);
  QVERIFY(validation.ok());
  const std::vector<Variant> variants = makeVariants(project, validation);
  QVERIFY(variants.size() > 4);
  // The user's own graph first, the monolithic baselines last.
  QVERIFY(variants.front().original);
  QCOMPARE(axis(variants.front(), "parts"), std::string("4 chunks"));
  QVERIFY(variants.back().baseline);
  QCOMPARE(axis(variants.back(), "parts"), std::string("whole"));
  std::set<std::string> names;
  bool seenBaseline = false;
  for (const Variant &v : variants) {
    QVERIFY2(names.insert(v.name).second, v.name.c_str()); // every name once
    QVERIFY2(validate(v.project).ok(), v.name.c_str());    // every variant a valid project
    for (const char *a : {"parts", "width", "combine", "sharing"})
      QVERIFY2(!axis(v, a).empty(), (v.name + " lacks axis " + a).c_str());
    if (seenBaseline)
      QVERIFY2(v.baseline, (v.name + " comes after a baseline").c_str());
    seenBaseline = seenBaseline || v.baseline;
    QVERIFY(v.project.name.find(project.name + "-") == 0);
  }
  // The axes the search offers for this data set: 32 features cut 2, 4 or 8 ways.
  const auto axes = variantAxes(project, validation);
  QCOMPARE(axes.size(), std::size_t(4));
  QCOMPARE(axes[0].first, std::string("parts"));
  for (const char *expected : {"2 chunks", "4 chunks", "8 chunks", "whole"})
    QVERIFY2(std::count(axes[0].second.begin(), axes[0].second.end(), expected) == 1, expected);
}

void TestRecipes::variantsHonourPinsAndExclusions() {
  const Project project = base();
  const Validation validation = validate(project);
  VariantFilter filter;
  filter.add("sharing=none", true);
  filter.add("combine=sum", false);
  const std::vector<Variant> variants = makeVariants(project, validation, filter);
  QVERIFY(!variants.empty());
  for (const Variant &v : variants) {
    QVERIFY2(v.baseline || axis(v, "sharing") == "none", v.name.c_str());
    QVERIFY2(axis(v, "combine") != "sum", v.name.c_str());
  }
  VariantFilter bad;
  QVERIFY_THROWS_EXCEPTION(Error, bad.add("colour=red", true));
  QVERIFY_THROWS_EXCEPTION(Error, bad.add("sharing=", false)); // an axis without a value
  QVERIFY_THROWS_EXCEPTION(Error, bad.add("sharing", true));
}

void TestRecipes::theDecompositionSiteIsFound() {
  const DecompositionSite site = findDecompositionSite(base().graph);
  QCOMPARE(site.split, std::string("split"));
  QCOMPARE(site.combine, std::string("combine"));
  QCOMPARE(site.branches.size(), std::size_t(4));
  QCOMPARE(site.branches[0], std::vector<std::string>{"a"});
  QCOMPARE(site.branches[3], std::vector<std::string>{"d"});
}

void TestRecipes::aGraphWithoutASplitHasNoSite() {
  Json doc = baseProject();
  doc["nodes"] = Json::array({{{"id", "input"}, {"type", "Input"}},
                              {{"id", "m"}, {"type", "MLP"}, {"params", {{"hidden", {16}}, {"out", 8}}}},
                              {{"id", "head"}, {"type", "Classifier"}}});
  doc["edges"] = Json::array({{{"from", "input"}, {"to", "m"}}, {{"from", "m"}, {"to", "head"}}});
  const Project project = projectFromJson(doc, "whole.particle.json");
  try {
    findDecompositionSite(project.graph);
    QFAIL("a graph without a Split has no decomposition to vary");
  } catch (const Error &e) {
    QCOMPARE(e.kind(), ErrorKind::Invalid);
    QVERIFY2(std::string(e.what()).find("Split") != std::string::npos, e.what());
  }
}

void TestRecipes::identicalGraphsHaveNoDiff() {
  const Graph g = base().graph;
  QVERIFY(diffGraphs(g, g).empty());
}

void TestRecipes::diffNamesEveryChange() {
  const Graph then = base().graph;
  Graph now = then;
  auto find = [&](const std::string &id) -> Node & {
    return *std::find_if(now.nodes.begin(), now.nodes.end(), [&](const Node &n) { return n.id == id; });
  };
  find("a").params["out"] = 16;     // a param changed
  find("c").params.erase("hidden"); // a param back to its default
  find("combine").params["dim"] = 4;
  find("b").share = ""; // out of its share group
  find("c").freeze = true;
  find("a").adapter = NodeAdapter{"lora", 2, 8};
  now.nodes.erase(std::find_if(now.nodes.begin(), now.nodes.end(), [](const Node &n) { return n.id == "d"; }));
  Node extra = find("c");
  extra.id = "e";
  now.nodes.push_back(extra);
  now.edges.erase(std::remove_if(now.edges.begin(), now.edges.end(),
                                 [](const Edge &e) { return e.from.node == "d" || e.to.node == "d"; }),
                  now.edges.end());
  const std::vector<std::string> diff = diffGraphs(then, now);
  const std::set<std::string> got(diff.begin(), diff.end());
  QCOMPARE(got.size(), diff.size()); // no sentence twice
  for (const char *expected : {"a.out: 8 → 16", "c.hidden: [16] → default", "combine.dim: default → 4",
                               "b: share group \"g\" → \"\"", "d removed", "e added", "edge split:3 → d removed",
                               "edge d → combine:3 removed", "c: frozen", "a: no adapter → lora rank 2"})
    QVERIFY2(got.count(expected), (std::string("missing: ") + expected + "\ngot: " +
                                   [&] {
                                     std::string all;
                                     for (const auto &d : diff)
                                       all += d + "\n";
                                     return all;
                                   }())
                                      .c_str());
  QCOMPARE(diff.size(), std::size_t(10));
}

// A param written with its default value (the base's Combine mode "concat") is the same graph as
// one left out: no line in the run history's diff, and a checkpoint of either fits the other.
void TestRecipes::aDefaultWrittenOutIsNoChange() {
  const Graph then = base().graph;
  QCOMPARE(then.find("combine")->params["mode"], Json("concat"));
  Graph now = then;
  now.find("combine")->params.erase("mode");
  now.find("a")->params["dropout"] = nullptr;   // null: the default
  now.find("c")->params["activation"] = "relu"; // the default, written out
  now.find("d")->params["dropout"] = 0;         // the default 0.0, as an integer
  QVERIFY(now.find("combine")->params != then.find("combine")->params);
  QVERIFY(diffGraphs(then, now).empty());
  QVERIFY(diffGraphs(now, then).empty());

  QTemporaryDir dir;
  const std::string checkpoint = dir.filePath("checkpoint.pt").toStdString();
  writeCheckpointFile(checkpoint,
                      {{"format", "particle-studio-checkpoint"},
                       {"version", kCheckpointVersion},
                       {"graph_hash", graphHash(then)},
                       {"epoch", 1},
                       {"step", 1}},
                      "payload");
  QVERIFY(checkpointFit(checkpoint, now).fits());
  // A checkpoint from before defaults were left out of the hash (its params hashed as written,
  // "mode": "concat" included) still fits the graph it was trained on.
  Json asWritten = Json::array();
  for (const auto &n : then.nodes) {
    Json node{{"id", n.id}, {"type", n.type}, {"params", n.params}, {"share", n.share}, {"scope", n.shareScope}};
    asWritten.push_back(node);
  }
  for (const auto &e : then.edges)
    asWritten.push_back(e.from.toString() + ">" + e.to.toString());
  const std::string dump = asWritten.dump();
  const std::string old = hex16(fnv(kFnvStart, dump.data(), dump.size())); // FNV-1a 64, as graphHash
  QVERIFY(old != graphHash(then)); // the default written out did change the old hash
  const std::string older = dir.filePath("older.pt").toStdString();
  writeCheckpointFile(older,
                      {{"format", "particle-studio-checkpoint"},
                       {"version", kCheckpointVersion},
                       {"graph_hash", old},
                       {"epoch", 1},
                       {"step", 1}},
                      "payload");
  QVERIFY(checkpointFit(older, then).fits());
  // A value other than the default still is another graph.
  now.find("combine")->params["mode"] = "sum";
  QCOMPARE(diffGraphs(then, now), std::vector<std::string>{"combine.mode: default → \"sum\""});
  QCOMPARE(checkpointFit(checkpoint, now).status, CheckpointFit::Status::OtherGraph);
  QCOMPARE(checkpointFit(older, now).status, CheckpointFit::Status::OtherGraph);
}

void TestRecipes::weightAndEffectDisagreeOnlyBeyondTheFairShare() {
  // Four branches: the fair share is 0.25.
  QVERIFY(weightEffectDisagree(0.10, 0.30, 4));  // weighted under half of it, contributes above it
  QVERIFY(weightEffectDisagree(0.40, 0.10, 4));  // weighted above it, contributes under half of it
  QVERIFY(!weightEffectDisagree(0.10, 0.20, 4)); // low weight, contribution not above the fair share
  QVERIFY(!weightEffectDisagree(0.25, 0.05, 4)); // weight exactly fair is not "above"
  QVERIFY(!weightEffectDisagree(0.125, 0.9, 4)); // exactly half is not "under half"
  QVERIFY(!weightEffectDisagree(0.30, 0.125, 4));
  QVERIFY(!weightEffectDisagree(0.5, 0.5, 2));
  QVERIFY(!weightEffectDisagree(0.0, 1.0, 0)); // no branches: nothing to flag
}

void TestRecipes::aRunFolderReadsBackWhatItWrote() {
  QTemporaryDir dir;
  const RunFolder folder(dir.path().toStdString());
  RunRecord record;
  record.summary.status = RunSummary::Status::EarlyStopped;
  record.summary.testAccuracy = 0.875;
  record.summary.epochs = 2;
  record.name = "t";
  folder.writeSummary(record);
  RunEpoch a, b;
  a.epoch = 1;
  a.step = 10;
  a.valAccuracy = 0.5;
  b.epoch = 2;
  b.step = 20;
  b.trainLoss = 0.25;
  b.valAccuracy = 0.75;
  folder.writeMetrics({a, b});
  const RunRecord back = readRunSummary(folder.dir());
  QCOMPARE(back.summary.status, RunSummary::Status::EarlyStopped);
  QCOMPARE(back.summary.testAccuracy, 0.875);
  QCOMPARE(back.summary.epochs, 2);
  const std::vector<RunEpoch> epochs = readRunMetrics(folder.dir());
  QCOMPARE(epochs.size(), std::size_t(2));
  QCOMPARE(epochs[1].epoch, 2);
  QCOMPARE(epochs[1].step, int64_t(20));
  QCOMPARE(epochs[1].trainLoss, 0.25);
  QCOMPARE(epochs[1].valAccuracy, 0.75);
  QTemporaryDir none;
  QVERIFY(readRunMetrics(none.path().toStdString()).empty()); // no metrics.csv: no epochs
}

void TestRecipes::damagedRunFilesAreNamed() {
  QTemporaryDir dir;
  const std::string run = dir.path().toStdString();
  writeFile(dir, "metrics.csv", "epoch,step,val_accuracy\n1,10,0.5\n2,2x,0.7\n");
  try {
    readRunMetrics(run);
    QFAIL("a cell that is not a number is refused");
  } catch (const Error &e) {
    const std::string what = e.what();
    QVERIFY2(what.find("metrics.csv:3") != std::string::npos && what.find("step") != std::string::npos, e.what());
  }
  writeFile(dir, "summary.json", R"({"status": "completed", "test_accuracy": "high"})");
  try {
    readRunSummary(run);
    QFAIL("a field of the wrong type is refused");
  } catch (const Error &e) {
    const std::string what = e.what();
    QVERIFY2(what.find("summary.json") != std::string::npos && what.find("test_accuracy") != std::string::npos,
             e.what());
  }
  writeFile(dir, "summary.json", R"({"status": "sideways"})");
  QVERIFY_THROWS_EXCEPTION(Error, readRunSummary(run)); // a status this program never writes
}

void TestRecipes::searchFilesReadBackTyped() {
  const Json search = Json::parse(R"({"project": "t", "settings": {"budget": "2m"},
    "variants": [{"name": "own", "axes": {"parts": "4 chunks"}, "original": true},
                 {"name": "monolithic-w1", "axes": {"parts": "whole"}, "baseline": true}],
    "trials": [], "pareto": ["own"], "winner": "own", "rungs": 2})");
  const SearchFile file = readSearchJson(search, "search.json");
  QCOMPARE(file.project, std::string("t"));
  QCOMPARE(file.variants.size(), std::size_t(2));
  QVERIFY(file.variant("own") && file.variant("own")->original);
  QCOMPARE(file.variant("own")->axis("parts"), std::string("4 chunks"));
  QVERIFY(file.variant("monolithic-w1")->baseline);
  QVERIFY(!file.variant("nothing"));
  QCOMPARE(file.winner, std::string("own"));
  QCOMPARE(file.rungs, 2);
  Json bad = search;
  bad["pareto"] = Json::array({1});
  try {
    readSearchJson(bad, "search.json");
    QFAIL("a pareto entry that is not a name is refused");
  } catch (const Error &e) {
    QVERIFY2(std::string(e.what()).find("pareto[0]") != std::string::npos, e.what());
  }
  bad = search;
  bad.erase("trials");
  QVERIFY_THROWS_EXCEPTION(Error, readSearchJson(bad, "search.json"));
}

QTEST_GUILESS_MAIN(TestRecipes)
#include "tst_recipes.moc"
