#include "recipes/Parts.h"

#include "model/PartWeights.h"
#include "project/ProjectCheck.h"
#include "project/ProjectPaths.h"
#include "recipes/GraphCheckpoint.h"
#include "train/RunFolder.h"

#include <ctime>
#include <filesystem>
#include <set>

namespace particle {

namespace fs = std::filesystem;

namespace {
std::string edgeText(const Edge &e) {
  return e.from.toString() + " → " + e.to.toString();
}

std::string edgeList(const std::vector<const Edge *> &edges) {
  std::string out;
  for (std::size_t i = 0; i < edges.size(); ++i)
    out += (i == 0 ? "" : i + 1 == edges.size() ? " and " : ", ") + edgeText(*edges[i]);
  return out;
}

std::string utcNow() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

// Where the part came from: the project, its data set and classes, the run and how it tested.
Json provenanceOf(const Project &project, const Validation &v, const std::string &runDir) {
  Json p = {{"project", project.name}};
  if (!project.path.empty())
    p["project_file"] = fs::absolute(project.path).lexically_normal().string();
  Json dataset = {{"kind", project.dataset.value("kind", "")}};
  Json classes = Json::array();
  for (int64_t c = 0; c < v.data.classes; ++c)
    classes.push_back(className(v.data, c));
  p["run"] = fs::absolute(runDir).lexically_normal().string();
  // A run that was stopped or failed before testing has no accuracy to report.
  std::optional<double> accuracy;
  try {
    const RunRecord record = readRunSummary(runDir);
    dataset["description"] = record.dataset;
    if (!record.classNames.empty())
      classes = record.classNames;
    if (!record.summary.failed() && record.summary.status != RunSummary::Status::Stopped &&
        record.summary.testAccuracy >= 0 && record.summary.testAccuracy <= 1)
      accuracy = record.summary.testAccuracy;
  } catch (const Error &) {
  }
  p["dataset"] = dataset;
  p["classes"] = classes;
  if (accuracy)
    p["test_accuracy"] = *accuracy;
  p["date"] = utcNow();
  p["particle_version"] = PARTICLE_VERSION;
  return p;
}
} // namespace

PartInfo savePart(const std::string &projectFile, const std::string &checkpoint,
                  const std::vector<std::string> &nodeIds, const std::string &out) {
  return savePart(loadProject(projectFile), checkpoint, nodeIds, out);
}

PartInfo savePart(const Project &project, const std::string &checkpoint, const std::vector<std::string> &nodeIds,
                  const std::string &out, const Validation *validated) {
  const std::string where = project.path.empty() ? project.name : project.path;
  if (nodeIds.empty())
    throw Error(ErrorKind::Usage, "name the node (or the nodes) to save as a particle");
  std::error_code ec;
  const std::string checkpointFile =
      fs::is_directory(checkpoint, ec) ? (fs::path(checkpoint) / "checkpoint.pt").string() : checkpoint;
  const std::string runDir = fs::path(checkpointFile).parent_path().string();
  const CheckpointFit fit = checkpointFit(checkpointFile, project.graph);
  if (fit.status == CheckpointFit::Status::Unreadable)
    throw Error(ErrorKind::File, fit.problem);
  if (!fit.fits())
    throw Error(ErrorKind::File, checkpointFile + ": trained on a different graph than " + where +
                                     " (nodes, params or edges changed since); save the particle from a run of it");

  Validation own;
  if (!validated)
    own = validate(project);
  const Validation &v = validated ? *validated : own;
  for (const Problem &p : v.problems)
    if (p.isError())
      throw Error(p.kind, p.format(where));

  std::set<std::string> chosen;
  for (const auto &id : nodeIds) {
    if (!project.graph.find(id))
      throw Error(ErrorKind::Usage, where + ": no node " + id + " to save");
    if (!chosen.insert(id).second)
      throw Error(ErrorKind::Usage, "node " + id + " is named twice");
  }
  // One way in (into a numbered port) and one output that leaves.
  std::vector<const Edge *> in, outs;
  PartInfo part;
  for (const Edge &e : project.graph.edges) {
    const bool from = chosen.count(e.from.node) > 0, to = chosen.count(e.to.node) > 0;
    if (from && to)
      part.edges.push_back(e);
    else if (to)
      in.push_back(&e);
    else if (from)
      outs.push_back(&e);
  }
  std::string what = nodeIds.size() == 1 ? where + ": node " : where + ": the nodes ";
  for (std::size_t i = 0; i < nodeIds.size(); ++i)
    what += (i ? ", " : "") + nodeIds[i];
  const std::string has = nodeIds.size() == 1 ? " has " : " have ";
  if (in.empty())
    throw Error(ErrorKind::Invalid, what + has + "no way in (no edge enters it): a particle takes one input");
  if (in.size() > 1)
    throw Error(ErrorKind::Invalid,
                what + has + std::to_string(in.size()) + " ways in (" + edgeList(in) + "): a particle takes one input");
  if (!in[0]->to.isNumbered())
    throw Error(ErrorKind::Invalid, what + (nodeIds.size() == 1 ? " is" : " are") + " entered at a gate (" +
                                        edgeText(*in[0]) + "): a particle takes its input at a numbered port");
  if (outs.empty())
    throw Error(ErrorKind::Invalid, what + has + "no way out (no edge leaves it): a particle gives one output");
  for (const Edge *e : outs)
    if (!(e->from == outs[0]->from))
      throw Error(ErrorKind::Invalid, what + has + "two outputs (" + edgeText(*outs[0]) + " and " + edgeText(*e) +
                                          "): a particle gives one output");
  const PortRef entry = in[0]->to, exit = outs[0]->from;
  const NodeInfo *entryInfo = v.info(entry.node), *exitInfo = v.info(exit.node);
  const std::size_t inPort = static_cast<std::size_t>(entry.index());
  const std::size_t outPort = exit.isNumbered() ? static_cast<std::size_t>(exit.index()) : 0;
  if (!entryInfo || entryInfo->inputs.size() <= inPort || !exitInfo || exitInfo->outputs.size() <= outPort)
    throw Error(ErrorKind::Invalid, where + ": the shapes of " + what + " are unknown; check the project");
  part.inputNode = entry.node;
  part.outputNode = exit.node;
  part.inputShape = entryInfo->inputs[inPort];
  part.outputShape = exitInfo->outputs[outPort];

  // The nodes in file order, without where their weights started or whether they were frozen; a
  // share group only when it still has two members here.
  std::map<std::string, int> members;
  for (const Node &n : project.graph.nodes)
    if (chosen.count(n.id) && !n.share.empty())
      ++members[n.share];
  const Project absolute = projectWithAbsolutePaths(project);
  std::map<std::string, torch::Tensor> weights;
  std::vector<std::pair<std::string, std::string>> blobs;
  for (std::size_t i = 0; i < project.graph.nodes.size(); ++i) {
    Node n = project.graph.nodes[i];
    if (!chosen.count(n.id))
      continue;
    n.init.reset();
    n.freeze = false;
    if (!n.share.empty() && members[n.share] < 2) {
      n.share.clear();
      n.shareScope.clear();
    }
    if (const NodeInfo *info = v.info(n.id)) {
      part.nodeInfo[n.id] = {info->inputs, info->outputs, info->parameters};
      part.parameters += info->parameters;
    }
    for (const auto &[key, tensor] : loadNodeWeights(checkpointFile, n.id))
      weights[n.id + "." + key] = tensor;
    // A TorchScript node's module travels with it (its weights are in "weights").
    if (n.type == "TorchScript")
      blobs.emplace_back(partModuleBlob(n.id),
                         readTextFile(absolute.graph.nodes[i].params.value("path", std::string())));
    part.nodes.push_back(std::move(n));
  }
  blobs.insert(blobs.begin(), {kPartWeightsBlob, tensorsToPickle(weights)});
  part.provenance = provenanceOf(project, v, runDir);
  writePartFile(out, part, blobs);
  return readPartInfo(out);
}

} // namespace particle
