// `particle check`: validate a project; print per-node shapes, parameters and share savings.

#include "Commands.h"
#include "Common.h"

#include "graph/Catalogue.h"
#include "graph/Validator.h"
#include "project/ProjectCheck.h"

#include <algorithm>
#include <iomanip>
#include <iostream>
#include <sstream>

namespace particle::cli {

int runCheck(int argc, char **argv) {
  const Args args(argc, argv, 2, {});
  if (args.positional.size() != 1)
    throw UsageError("check takes one project file");
  const std::string file = args.positional[0];
  Project project;
  Validation v;
  if (auto code = loadValid(file, project, v)) {
    std::cerr << file << ": " << v.errorCount() << " error(s)\n";
    return *code;
  }
  // Column widths from the content.
  struct Row {
    std::string id, type, shapes, params, share;
  };
  std::vector<Row> rows;
  for (const auto &n : project.graph.nodes) {
    const NodeInfo *info = v.info(n.id);
    Row r{n.id, n.type, "", info && info->parameters ? withCommas(info->parameters) : "-", "-"};
    if (info && info->parameters && info->trainableParameters < info->parameters)
      r.params += info->trainableParameters ? " (" + withCommas(info->trainableParameters) + " trained)" : " (frozen)";
    if (info && info->shapesKnown) {
      std::string in;
      for (std::size_t i = 0; i < info->inputs.size(); ++i)
        in += (i ? " " : "") + inputShapeText(*info, i);
      if (info->gate)
        in += " gate:" + shapeToString(*info->gate);
      std::string out;
      if (info->outputs.size() > 1)
        out = std::to_string(info->outputs.size()) + "×" + outputShapeText(*info, 0);
      else
        out = info->outputs.empty() ? "" : outputShapeText(*info, 0);
      const NodeType *type = Catalogue::instance().find(n.type);
      const bool logits = type && type->role == NodeRole::Output;
      r.shapes = (in.empty() ? "data" : in) + " → " + (logits ? "logits " + out : out);
    } else {
      r.shapes = "(unused)";
    }
    if (!n.share.empty()) {
      // The member whose module (or, with scope trunk, whose trunk) this one uses.
      const auto built = v.sharing.nodes.find(n.id);
      const std::string from = built == v.sharing.nodes.end()
                                   ? std::string()
                                   : (built->second.module != n.id ? built->second.module : built->second.trunk);
      r.share = n.share + (n.shareScope == "trunk" ? " (trunk)" : "") + (from.empty() ? "" : " → " + from);
    }
    rows.push_back(r);
  }
  std::size_t w[5] = {4, 4, 5, 6, 5};
  for (const auto &r : rows) {
    w[0] = std::max(w[0], r.id.size());
    w[1] = std::max(w[1], r.type.size());
    w[2] = std::max(w[2], r.shapes.size());
    w[3] = std::max(w[3], r.params.size());
  }
  auto line = [&](const std::string &a, const std::string &b, const std::string &c, const std::string &d,
                  const std::string &e) {
    std::cout << std::left << std::setw(static_cast<int>(w[0]) + 2) << a << std::setw(static_cast<int>(w[1]) + 2) << b;
    // Shapes contain multi-byte arrows; pad by visible width.
    std::size_t visible = 0;
    for (unsigned char ch : c)
      visible += (ch & 0xC0) != 0x80;
    std::cout << c << std::string(w[2] + 2 > visible ? w[2] + 2 - visible : 2, ' ');
    std::cout << std::right << std::setw(static_cast<int>(w[3])) << d << "  " << std::left << e << "\n";
  };
  std::cout << project.name << " — " << file << "\n";
  if (v.dataKnown) {
    // The data as the probe sees it: the sample, the classes by name, the split sizes.
    const DataInfo &d = v.data;
    std::cout << "data: " << project.dataset.value("kind", std::string("?")) << ", sample "
              << shapeToString(d.sampleShape, !d.vocabulary.empty()) << ", " << d.classes << " classes";
    if (!d.classNames.empty()) {
      std::cout << " (";
      for (std::size_t i = 0; i < d.classNames.size() && i < 20; ++i)
        std::cout << (i ? ", " : "") << d.classNames[i];
      std::cout << (d.classNames.size() > 20 ? ", …)" : ")");
    }
    if (d.trainCount >= 0)
      std::cout << "; " << withCommas(d.trainCount) << " train, " << withCommas(d.validationCount) << " validation, "
                << withCommas(d.testCount) << " test";
    std::cout << "\n";
  }
  std::cout << "\n";
  line("node", "type", "shape", "params", "share");
  for (const auto &r : rows)
    line(r.id, r.type, r.shapes, r.params, r.share);
  const int64_t saving = v.totalParameters - v.uniqueParameters;
  const int64_t frozen = v.uniqueParameters - v.trainableParameters;
  std::vector<std::string> notes;
  if (frozen > 0)
    notes.push_back(withCommas(v.trainableParameters) + " trained, " + withCommas(frozen) + " frozen");
  if (saving > 0) {
    std::ostringstream share;
    share << withCommas(v.totalParameters) << " without sharing; sharing saves " << withCommas(saving) << ", "
          << std::fixed << std::setprecision(1)
          << 100.0 * static_cast<double>(saving) / static_cast<double>(v.totalParameters) << "%";
    notes.push_back(share.str());
  }
  std::cout << "\nparameters: " << withCommas(v.uniqueParameters) << (frozen > 0 ? "" : " trained");
  for (std::size_t i = 0; i < notes.size(); ++i)
    std::cout << (i ? "; " : " (") << notes[i];
  std::cout << (notes.empty() ? "" : ")") << "\n";
  if (const std::string flops = flopsSummary(project.graph, v); !flops.empty())
    std::cout << "FLOPs per sample: " << flops << (v.flopsKnown ? " (forward)" : "") << "\n";
  if (v.memory.total() > 0)
    std::cout << "memory: about " << memoryText(v.memory.total()) << " to train (" << memoryBreakdown(v.memory)
              << "); this machine has " << memoryText(machineMemoryBytes()) << "\n";
  for (const auto &p : v.problems)
    std::cout << p.format(file) << "\n";
  std::cout << "ok: " << project.graph.nodes.size() << " nodes, " << project.graph.edges.size() << " edges\n";
  return kExitOk;
}

} // namespace particle::cli
