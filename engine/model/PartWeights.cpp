#include "model/PartWeights.h"

#include "project/Checkpoint.h"
#include "project/PartFile.h"
#include "project/Project.h"

#include <filesystem>
#include <set>
#include <sstream>

namespace particle {

namespace fs = std::filesystem;

namespace {
using Tensors = std::map<std::string, torch::Tensor>;

bool startsWith(const std::string &text, const std::string &prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

// Every tensor below `archive` (a module a LibTorch OutputArchive saved), keyed by its dotted path.
void flatten(torch::serialize::InputArchive &archive, const std::string &prefix, Tensors &out) {
  for (const std::string &key : archive.keys()) {
    torch::serialize::InputArchive child;
    torch::Tensor tensor;
    if (archive.try_read(key, child))
      flatten(child, prefix + key + ".", out);
    else if (archive.try_read(key, tensor))
      out[prefix + key] = tensor;
  }
}

// The model's tensors in a checkpoint, keyed as weights.pt keys them ("p0.trunk.layers.0.weight").
Tensors checkpointTensors(const std::string &path, const CheckpointFile &file) {
  Tensors out;
  try {
    torch::serialize::InputArchive archive, model;
    std::istringstream in(file.payload);
    archive.load_from(in, torch::kCPU);
    archive.read("model", model);
    flatten(model, "", out);
  } catch (const c10::Error &e) {
    throw Error(ErrorKind::File, path + ": damaged checkpoint (" + std::string(e.what_without_backtrace()) + ")");
  }
  return out;
}

// The tensors under "<owner>." renamed to "<as><rest>".
void take(const Tensors &all, const std::string &owner, const std::string &as, Tensors &out) {
  const std::string prefix = owner + ".";
  for (const auto &[key, tensor] : all)
    if (startsWith(key, prefix))
      out[as + key.substr(prefix.size())] = tensor;
}

bool hasAny(const Tensors &all, const std::string &prefix) {
  auto it = all.lower_bound(prefix);
  return it != all.end() && startsWith(it->first, prefix);
}

std::string idList(const std::vector<std::string> &ids) {
  std::string out;
  for (const auto &id : ids)
    out += (out.empty() ? "" : ", ") + id;
  return out;
}

Tensors fromPart(const std::string &path, std::string node) {
  const PartInfo part = readPartInfo(path);
  if (node.empty()) {
    if (part.nodes.size() != 1)
      throw Error(ErrorKind::File, path + ": the part has " + std::to_string(part.nodes.size()) + " nodes (" +
                                       part.nodeList() + "); name the one to take");
    node = part.nodes[0].id;
  }
  if (!part.node(node))
    throw Error(ErrorKind::File, "no node " + node + " in " + path + "; it has " + part.nodeList());
  Tensors out;
  take(tensorsFromPickle(readPartBlob(path, kPartWeightsBlob), path), node, "", out);
  return out;
}

// A run's node: its own module's tensors, or those of the share group member that registered the
// module (scope "all") or the trunk (scope "trunk"), as the model builder registers them.
Tensors fromRun(const std::string &checkpoint, const std::string &node) {
  const CheckpointFile file = readCheckpointFile(checkpoint);
  const std::string projectFile = (fs::path(checkpoint).parent_path() / "project.particle.json").string();
  std::error_code ec;
  if (!fs::is_regular_file(projectFile, ec))
    throw Error(ErrorKind::File, checkpoint + ": no project.particle.json beside it (a run folder has one): its "
                                              "nodes and their share groups cannot be known");
  // The copy names its files by absolute paths (a TorchScript module's too), so its graph hash is
  // not the checkpoint's: it is read for the nodes and their share groups, the tensors come from
  // the checkpoint.
  const Project project = loadProject(projectFile);
  const Node *n = project.graph.find(node);
  if (!n) {
    std::vector<std::string> ids;
    for (const auto &other : project.graph.nodes)
      ids.push_back(other.id);
    throw Error(ErrorKind::File, node.empty() ? checkpoint + ": name the node to take; it has " + idList(ids)
                                              : "no node " + node + " in " + checkpoint + "; it has " + idList(ids));
  }
  const Tensors all = checkpointTensors(checkpoint, file);
  Tensors out;
  take(all, node, "", out);
  if (n->share.empty())
    return out;
  const bool trunkScope = n->shareScope == "trunk";
  if (trunkScope ? hasAny(out, "trunk.") : !out.empty())
    return out; // the member that registered the module (or the trunk)
  for (const auto &member : project.graph.nodes) {
    if (member.share != n->share || member.id == node)
      continue;
    if (trunkScope && hasAny(all, member.id + ".trunk.")) {
      take(all, member.id + ".trunk", "trunk.", out);
      return out;
    }
    if (!trunkScope && hasAny(all, member.id + ".")) {
      take(all, member.id, "", out);
      return out;
    }
  }
  return out;
}
} // namespace

Tensors tensorsFromPickle(const std::string &bytes, const std::string &file) {
  Tensors out;
  try {
    const c10::IValue value = torch::pickle_load(std::vector<char>(bytes.begin(), bytes.end()));
    if (!value.isGenericDict())
      throw Error(ErrorKind::File, file + ": the weights are not a dict of tensors");
    for (const auto &item : value.toGenericDict()) {
      if (!item.key().isString() || !item.value().isTensor())
        throw Error(ErrorKind::File, file + ": the weights are not a dict of names to tensors");
      out[item.key().toStringRef()] = item.value().toTensor();
    }
  } catch (const c10::Error &e) {
    throw Error(ErrorKind::File, file + ": unreadable weights (" + std::string(e.what_without_backtrace()) + ")");
  }
  return out;
}

std::string tensorsToPickle(const Tensors &tensors) {
  c10::Dict<std::string, torch::Tensor> dict;
  for (const auto &[key, tensor] : tensors)
    dict.insert(key, tensor.detach().cpu());
  const std::vector<char> bytes = torch::pickle_save(c10::IValue(dict));
  return std::string(bytes.begin(), bytes.end());
}

Tensors loadNodeWeights(const std::string &from, const std::string &node) {
  std::error_code ec;
  if (fs::is_directory(from, ec))
    return fromRun((fs::path(from) / "checkpoint.pt").string(), node);
  if (!fs::exists(from, ec))
    throw Error(ErrorKind::File, from + ": not found (a particle file, a run folder or a run's checkpoint.pt)");
  return looksLikePartFile(from) ? fromPart(from, node) : fromRun(from, node);
}

} // namespace particle
