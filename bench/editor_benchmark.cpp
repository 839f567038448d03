// Editor load + layout time for a generated graph (200 nodes by default), and the time an edit
// takes to re-validate and refresh the canvas (offscreen).
//   QT_QPA_PLATFORM=offscreen build/bin/bench_editor [--nodes N] [--repeats R]

#include "MainWindow.h"
#include "document/Commands.h"
#include "document/GraphDocument.h"
#include "editor/GraphScene.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QUndoStack>

#include <algorithm>
#include <cstdio>

using namespace particle;

namespace {
// Input → Split(chunks K) → K × (MLP → Linear) → Combine(concat) → Classifier: 2K + 4 nodes.
Project generated(int nodes) {
  const int k = std::max(2, (nodes - 4) / 2);
  Project p;
  p.name = "generated";
  p.dataset = {{"kind", "synthetic"}, {"parts", k}, {"part_dim", 2}, {"classes", 3}, {"samples", 100}};
  p.graph.nodes.push_back(Node{"input", "Input", std::nullopt, Json::object(), "", ""});
  p.graph.nodes.push_back(Node{"split", "Split", std::nullopt, Json{{"mode", "chunks"}, {"parts", k}}, "", ""});
  p.graph.edges.push_back(Edge{PortRef{"input", "0"}, PortRef{"split", "0"}});
  for (int i = 0; i < k; ++i) {
    const std::string m = "m" + std::to_string(i), l = "l" + std::to_string(i);
    p.graph.nodes.push_back(Node{m, "MLP", std::nullopt, Json{{"hidden", {8}}, {"out", 4}}, "mlp", ""});
    p.graph.nodes.push_back(Node{l, "Linear", std::nullopt, Json{{"out", 4}}, "", ""});
    p.graph.edges.push_back(Edge{PortRef{"split", std::to_string(i)}, PortRef{m, "0"}});
    p.graph.edges.push_back(Edge{PortRef{m, "0"}, PortRef{l, "0"}});
    p.graph.edges.push_back(Edge{PortRef{l, "0"}, PortRef{"combine", std::to_string(i)}});
  }
  p.graph.nodes.push_back(Node{"combine", "Combine", std::nullopt, Json{{"mode", "concat"}}, "", ""});
  p.graph.nodes.push_back(Node{"head", "Classifier", std::nullopt, Json::object(), "", ""});
  p.graph.edges.push_back(Edge{PortRef{"combine", "0"}, PortRef{"head", "0"}});
  return p;
}
} // namespace

int main(int argc, char **argv) {
  QApplication app(argc, argv);
  int nodes = 200, repeats = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (QString(argv[i]) == "--nodes")
      nodes = std::atoi(argv[i + 1]);
    else if (QString(argv[i]) == "--repeats")
      repeats = std::atoi(argv[i + 1]);
  }
  ui::MainWindow window;
  window.resize(1400, 900);
  window.show();
  QApplication::processEvents();
  std::vector<double> load, layout, edit, pushOnly, groupEdit, validation;
  for (int r = 0; r < repeats; ++r) {
    const Project p = generated(nodes);
    QElapsedTimer t;
    t.start();
    window.document()->reset(p); // validation + scene build
    QApplication::processEvents();
    load.push_back(t.nsecsElapsed() / 1e6);
    t.restart();
    window.autoLayout();
    QApplication::processEvents();
    layout.push_back(t.nsecsElapsed() / 1e6);
    t.restart();
    window.undoStack()->push(ui::commands::setParam(window.document(), "l0", "out", Json(5)));
    pushOnly.push_back(t.nsecsElapsed() / 1e6);
    QApplication::processEvents();
    edit.push_back(t.nsecsElapsed() / 1e6);
    t.restart(); // the MLPs are one share group: this edit changes every one of them
    window.undoStack()->push(ui::commands::setParam(window.document(), "m0", "out", Json(5)));
    QApplication::processEvents();
    groupEdit.push_back(t.nsecsElapsed() / 1e6);
    t.restart();
    const Validation v = validate(window.document()->project(), window.document()->dataInfo());
    validation.push_back(t.nsecsElapsed() / 1e6);
    window.undoStack()->clear();
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::printf("editor, %zu-node generated graph, median of %d (offscreen)\n", window.document()->graph().nodes.size(),
              repeats);
  std::printf("  load (validate + build scene)  %8.1f ms\n", median(load));
  std::printf("  auto-layout (undoable)         %8.1f ms\n", median(layout));
  std::printf("  load + layout                  %8.1f ms   (goal < 300 ms at 200 nodes)\n",
              median(load) + median(layout));
  std::printf("  one param edit, drawn           %8.1f ms\n", median(edit));
  std::printf("    re-validation                %8.1f ms   (goal < 50 ms)\n", median(validation));
  std::printf("    re-validation + canvas items %8.1f ms\n", median(pushOnly));
  std::printf("  an edit of a %zu-member group   %8.1f ms\n", (window.document()->graph().nodes.size() - 4) / 2,
              median(groupEdit));
  window.undoStack()->setClean();
  return 0;
}
