// `particle part save` and `particle part info`: a trained particle saved from a run as a
// .particle-part file, and what such a file holds (docs/FORMAT.md "Particle files").

#include "Commands.h"
#include "Common.h"

#include "recipes/Parts.h"

#include <array>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>

namespace fs = std::filesystem;

namespace particle::cli {

namespace {
constexpr const char *kExtension = ".particle-part";

std::string shapesText(const std::vector<Shape> &shapes) {
  std::string out;
  for (const auto &s : shapes)
    out += (out.empty() ? "" : ", ") + shapeToString(s);
  return out.empty() ? "-" : out;
}

// Characters as a terminal shows them: UTF-8 continuation bytes take no column ("→").
std::size_t textWidth(const std::string &text) {
  std::size_t n = 0;
  for (unsigned char c : text)
    n += (c & 0xC0) != 0x80;
  return n;
}

int save(int argc, char **argv) {
  const Args args(argc, argv, 3, {"--checkpoint", "--node", "--out"}, {"--force"});
  if (args.positional.size() != 1)
    throw UsageError("part save takes one project file");
  const auto checkpoint = args.get("--checkpoint");
  if (!checkpoint)
    throw UsageError("part save needs --checkpoint CKPT (a run's checkpoint.pt or its folder)");
  const std::vector<std::string> nodes = commaList(args.get("--node").value_or(""));
  if (nodes.empty())
    throw UsageError("part save needs --node ID (or ID,ID,… for a sub-graph)");
  const auto out = args.get("--out");
  if (!out)
    throw UsageError(std::string("part save needs --out FILE") + kExtension);
  if (fs::path(*out).extension() != kExtension)
    throw UsageError("--out must name a " + std::string(kExtension) + " file, got \"" + *out + "\"");
  std::error_code ec;
  if (fs::exists(*out, ec) && !args.get("--force"))
    throw UsageError(*out + " exists; pass --force to replace it");
  Project project;
  Validation v;
  if (auto code = loadValid(args.positional[0], project, v))
    return *code;
  const PartInfo part = savePart(project, *checkpoint, nodes, *out, &v);
  std::cout << "saved " << part.nodeList() << " (" << shapeToString(part.inputShape) << " → "
            << shapeToString(part.outputShape) << ", " << withCommas(part.parameters) << " parameters";
  if (part.provenance.contains("test_accuracy"))
    std::cout << "; its run tested at " << percent(part.provenance["test_accuracy"].get<double>());
  std::cout << ") to " << *out << "\n";
  return kExitOk;
}

int info(int argc, char **argv) {
  const Args args(argc, argv, 3, {}, {"--json"});
  if (args.positional.size() != 1)
    throw UsageError("part info takes one particle file");
  const std::string file = args.positional[0];
  const PartInfo part = readPartInfo(file);
  if (args.get("--json")) {
    std::cout << part.header.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << file << ": particle file version " << part.header["version"].get<int>() << ", " << part.nodes.size()
            << (part.nodes.size() == 1 ? " node, " : " nodes, ") << withCommas(part.parameters) << " parameters\n";
  std::cout << "  input   " << part.inputNode << " " << shapeToString(part.inputShape) << "\n";
  std::cout << "  output  " << part.outputNode << " " << shapeToString(part.outputShape) << "\n\n";
  // A table: the widths of its columns from their longest cell.
  std::vector<std::array<std::string, 5>> rows = {{"node", "type", "shapes (in → out)", "parameters", "params"}};
  for (const Node &n : part.nodes) {
    const PartNodeInfo &ni = part.nodeInfo.at(n.id);
    rows.push_back({n.id, n.type, shapesText(ni.inputs) + " → " + shapesText(ni.outputs), withCommas(ni.parameters),
                    compactJson(n.params) + (n.share.empty() ? "" : "  share " + n.share)});
  }
  std::array<std::size_t, 5> widths{};
  for (const auto &row : rows)
    for (std::size_t c = 0; c < row.size(); ++c)
      widths[c] = std::max(widths[c], textWidth(row[c]));
  for (const auto &row : rows) {
    std::cout << " ";
    for (std::size_t c = 0; c < row.size(); ++c)
      std::cout << " " << row[c] << (c + 1 < row.size() ? std::string(widths[c] - textWidth(row[c]) + 1, ' ') : "");
    std::cout << "\n";
  }
  if (!part.edges.empty()) {
    std::cout << "  edges   ";
    for (std::size_t i = 0; i < part.edges.size(); ++i)
      std::cout << (i ? ", " : "") << part.edges[i].from.toString() << " → " << part.edges[i].to.toString();
    std::cout << "\n";
  }
  // What the file carries: the weights and any TorchScript module file.
  std::cout << "  blobs   ";
  for (std::size_t i = 0; i < part.blobs.size(); ++i)
    std::cout << (i ? ", " : "") << part.blobs[i].name << " " << withCommas(static_cast<int64_t>(part.blobs[i].size))
              << " bytes";
  std::cout << "\n";
  const Json &p = part.provenance;
  const auto line = [](const char *label, const std::string &value) {
    if (!value.empty())
      std::cout << "  " << std::left << std::setw(15) << label << value << "\n";
  };
  std::cout << "\nprovenance\n";
  line("project",
       p.value("project", "") + (p.contains("project_file") ? " (" + p["project_file"].get<std::string>() + ")" : ""));
  // The description starts with the kind ("synthetic: 280 train, …"); older runs may have none.
  if (p.contains("dataset"))
    line("data set", p["dataset"].value("description", p["dataset"].value("kind", "")));
  std::string classes;
  for (const auto &c : p.value("classes", Json::array()))
    classes += (classes.empty() ? "" : ", ") + c.get<std::string>();
  line("classes", classes);
  line("run", p.value("run", ""));
  if (p.contains("test_accuracy"))
    line("test accuracy", percent(p["test_accuracy"].get<double>()));
  line("saved", p.value("date", "") +
                    (p.contains("particle_version") ? " by Particle Studio " + p.value("particle_version", "") : ""));
  return kExitOk;
}
} // namespace

int runPart(int argc, char **argv) {
  const std::string sub = argc > 2 ? argv[2] : "";
  if (sub == "save")
    return save(argc, argv);
  if (sub == "info")
    return info(argc, argv);
  throw UsageError(sub.empty() ? "part needs save or info" : "part: unknown subcommand \"" + sub + "\" (save or info)");
}

} // namespace particle::cli
