#include "project/Project.h"
#include "project/Checkpoint.h"

#include "data/Cache.h"
#include "graph/Catalogue.h"

#include <cmath>
#include <filesystem>
#include <set>

namespace particle {

namespace {

[[noreturn]] void structural(const std::string &file, const std::string &where, const std::string &message) {
  throw Error(ErrorKind::Invalid, file + ": " + where + ": " + message);
}

void checkKeys(const Json &obj, const std::set<std::string> &allowed, const std::string &file,
               const std::string &where) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (!allowed.count(it.key())) {
      std::string list;
      for (const auto &a : allowed)
        list += (list.empty() ? "" : ", ") + a;
      structural(file, where.empty() ? it.key() : where + "." + it.key(), "unknown key (allowed here: " + list + ")");
    }
  }
}

std::string requireString(const Json &obj, const std::string &key, const std::string &file, const std::string &where) {
  if (!obj.contains(key))
    structural(file, where, "missing \"" + key + "\"");
  if (!obj[key].is_string())
    structural(file, where + "." + key, "must be a string, got " + obj[key].dump());
  return obj[key].get<std::string>();
}

Node parseNode(const Json &j, const std::string &file, const std::string &where) {
  if (!j.is_object())
    structural(file, where, R"(a node must be an object with "id" and "type")");
  checkKeys(j, {"id", "type", "pos", "params", "share", "share_scope", "init", "freeze", "adapter"}, file, where);
  Node n;
  n.id = requireString(j, "id", file, where);
  if (!Graph::isValidId(n.id))
    structural(file, where + ".id",
               "\"" + n.id + "\" is not a valid id (letters, digits and _, not starting with a digit)");
  n.type = requireString(j, "type", file, where);
  if (j.contains("pos")) {
    const Json &p = j["pos"];
    if (!p.is_array() || p.size() != 2 || !p[0].is_number() || !p[1].is_number())
      structural(file, where + ".pos", "must be [x, y], got " + p.dump());
    n.pos = std::array<double, 2>{p[0].get<double>(), p[1].get<double>()};
  }
  if (j.contains("params")) {
    if (!j["params"].is_object())
      structural(file, where + ".params", "must be an object, got " + j["params"].dump());
    n.params = j["params"];
  }
  if (j.contains("share")) {
    n.share = requireString(j, "share", file, where);
    if (n.share.empty())
      structural(file, where + ".share", "must not be empty (leave the key out for no sharing)");
  }
  if (j.contains("share_scope")) {
    n.shareScope = requireString(j, "share_scope", file, where);
    if (n.shareScope != "all" && n.shareScope != "trunk")
      structural(file, where + ".share_scope", "is \"" + n.shareScope + R"("; use "all" or "trunk")");
  }
  // Ranges (rank, alpha, the adapter's kind) and whether the source fits are the check's: the
  // editor holds such a node and shows the problem instead of refusing the file.
  const std::string node = " (node \"" + n.id + "\")";
  if (j.contains("init")) {
    const Json &init = j["init"];
    const std::string at = where + ".init";
    if (!init.is_object())
      structural(file, at, R"(must be an object {"from": FILE, "node": ID})" + node + ", got " + init.dump());
    checkKeys(init, {"from", "node"}, file, at);
    NodeInit value;
    value.from = requireString(init, "from", file, at);
    if (value.from.empty())
      structural(file, at + ".from", "must name a particle file, a run folder or a checkpoint" + node);
    if (init.contains("node"))
      value.node = requireString(init, "node", file, at);
    n.init = value;
  }
  if (j.contains("freeze")) {
    if (!j["freeze"].is_boolean())
      structural(file, where + ".freeze", "must be true or false" + node + ", got " + j["freeze"].dump());
    n.freeze = j["freeze"].get<bool>();
  }
  if (j.contains("adapter")) {
    const Json &a = j["adapter"];
    const std::string at = where + ".adapter";
    if (!a.is_object())
      structural(file, at, R"(must be an object {"kind": "lora", "rank": R, "alpha": A})" + node + ", got " + a.dump());
    checkKeys(a, {"kind", "rank", "alpha"}, file, at);
    NodeAdapter value;
    if (a.contains("kind"))
      value.kind = requireString(a, "kind", file, at);
    if (a.contains("rank")) {
      if (!a["rank"].is_number_integer())
        structural(file, at + ".rank", "must be a whole number" + node + ", got " + a["rank"].dump());
      value.rank = a["rank"].get<int64_t>();
    }
    if (a.contains("alpha")) {
      if (!a["alpha"].is_number())
        structural(file, at + ".alpha", "must be a number" + node + ", got " + a["alpha"].dump());
      value.alpha = a["alpha"].get<double>();
    }
    n.adapter = value;
  }
  return n;
}

Edge parseEdge(const Json &j, const std::string &file, const std::string &where) {
  if (!j.is_object())
    structural(file, where, R"(an edge must be an object {"from": "node[:port]", "to": "node[:port]"})");
  checkKeys(j, {"from", "to"}, file, where);
  Edge e;
  for (const char *key : {"from", "to"}) {
    const std::string text = requireString(j, key, file, where);
    auto ref = PortRef::parse(text);
    if (!ref)
      structural(file, where + "." + key, "\"" + text + "\" is not a port reference (node, node:k or node:name)");
    (std::string(key) == "from" ? e.from : e.to) = *ref;
  }
  return e;
}

// Whole numbers are written without a fraction: files stay tidy and diff well.
Json tidyNumber(double v) {
  return std::floor(v) == v && std::abs(v) < 1e15 ? Json(static_cast<int64_t>(v)) : Json(v);
}

Json adapterToJson(const NodeAdapter &a) {
  return Json{{"kind", a.kind}, {"rank", a.rank}, {"alpha", tidyNumber(a.alpha)}};
}

Json nodeToJson(const Node &n) {
  Json j = Json::object();
  j["id"] = n.id;
  j["type"] = n.type;
  if (n.pos)
    j["pos"] = Json::array({tidyNumber((*n.pos)[0]), tidyNumber((*n.pos)[1])});
  if (!n.params.empty())
    j["params"] = n.params;
  if (!n.share.empty())
    j["share"] = n.share;
  if (!n.shareScope.empty())
    j["share_scope"] = n.shareScope;
  if (n.init) {
    j["init"] = Json{{"from", n.init->from}};
    if (!n.init->node.empty())
      j["init"]["node"] = n.init->node;
  }
  if (n.freeze)
    j["freeze"] = true;
  if (n.adapter)
    j["adapter"] = adapterToJson(*n.adapter);
  return j;
}

} // namespace

std::string Project::baseDir() const {
  if (path.empty())
    return std::filesystem::current_path().string();
  auto parent = std::filesystem::absolute(path).parent_path();
  return parent.string();
}

Project projectFromJson(const Json &doc, const std::string &file) {
  if (!doc.is_object())
    structural(file, "(top level)", "a project must be a JSON object");
  checkKeys(doc, {"format", "version", "name", "dataset", "nodes", "edges", "training", "ui"}, file, "");
  if (!doc.contains("format") || doc["format"] != "particle-studio")
    structural(file, "format", R"(missing or wrong: a project file starts with "format": "particle-studio")");
  if (!doc.contains("version") || !doc["version"].is_number_integer())
    structural(file, "version", "missing or not an integer");
  const int64_t version = doc["version"].get<int64_t>();
  if (version > kFormatVersion)
    structural(file, "version",
               "this file is format version " + std::to_string(version) + ", newer than this Particle Studio reads (" +
                   std::to_string(kFormatVersion) + "); open it with a newer release");
  if (version < 1)
    structural(file, "version", "version " + std::to_string(version) + " does not exist (the first is 1)");
  // Version 1 is the first format: there is nothing older to migrate yet.

  Project p;
  p.path = file;
  if (doc.contains("name")) {
    if (!doc["name"].is_string())
      structural(file, "name", "must be a string");
    p.name = doc["name"].get<std::string>();
  }
  if (doc.contains("dataset")) {
    if (!doc["dataset"].is_object())
      structural(file, "dataset", "must be an object");
    p.dataset = doc["dataset"];
  }
  if (doc.contains("training")) {
    if (!doc["training"].is_object())
      structural(file, "training", "must be an object");
    p.training = doc["training"];
  }
  if (doc.contains("ui"))
    p.ui = doc["ui"];
  for (const char *key : {"nodes", "edges"})
    if (!doc.contains(key) || !doc[key].is_array())
      structural(file, key, "missing or not a list");
  std::set<std::string> ids;
  for (std::size_t i = 0; i < doc["nodes"].size(); ++i) {
    const std::string where = "nodes[" + std::to_string(i) + "]";
    Node n = parseNode(doc["nodes"][i], file, where);
    if (!ids.insert(n.id).second)
      structural(file, where + ".id", "node id \"" + n.id + "\" is used twice");
    p.graph.nodes.push_back(std::move(n));
  }
  for (std::size_t i = 0; i < doc["edges"].size(); ++i)
    p.graph.edges.push_back(parseEdge(doc["edges"][i], file, "edges[" + std::to_string(i) + "]"));
  return p;
}

Project projectFromText(const std::string &text, const std::string &fileName) {
  return projectFromJson(parseJson(text, fileName), fileName);
}

Project loadProject(const std::string &path) {
  std::error_code ec;
  if (const auto size = std::filesystem::file_size(path, ec); !ec && size > kMaxJsonBytes)
    throw Error(ErrorKind::File, path + ": " + std::to_string(size >> 20) + " MiB; project files are limited to " +
                                     std::to_string(kMaxJsonBytes >> 20) + " MiB");
  return projectFromText(readTextFile(path), path);
}

Json projectToJson(const Project &p) {
  Json doc = Json::object();
  doc["format"] = "particle-studio";
  doc["version"] = kFormatVersion;
  doc["name"] = p.name;
  doc["dataset"] = p.dataset;
  Json nodes = Json::array();
  for (const auto &n : p.graph.nodes)
    nodes.push_back(nodeToJson(n));
  doc["nodes"] = nodes;
  Json edges = Json::array();
  for (const auto &e : p.graph.edges)
    edges.push_back(Json{{"from", e.from.toString()}, {"to", e.to.toString()}});
  doc["edges"] = edges;
  doc["training"] = p.training;
  if (!p.ui.is_null())
    doc["ui"] = p.ui;
  return doc;
}

std::string projectToText(const Project &p) {
  const Json doc = projectToJson(p);
  std::string out = "{\n";
  bool first = true;
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    if (!first)
      out += ",\n";
    first = false;
    out += "  " + Json(it.key()).dump() + ": ";
    const Json &v = it.value();
    if ((it.key() == "nodes" || it.key() == "edges") && !v.empty()) {
      out += "[\n";
      for (std::size_t i = 0; i < v.size(); ++i)
        out += "    " + compactJson(v[i]) + (i + 1 < v.size() ? ",\n" : "\n");
      out += "  ]";
    } else {
      out += compactJson(v);
    }
  }
  return out + "\n}\n";
}

void saveProject(const Project &project, const std::string &path) {
  writeFileAtomically(path, projectToText(project));
}

namespace {
// `asWritten`: every param as the file spells it, as the hash was before 2026-12-05.
std::string hashOfGraph(const Graph &graph, bool asWritten) {
  Json j = Json::array();
  // The adapter adds tensors to the checkpoint; init and freeze change only where the weights start
  // and whether they move, so a checkpoint still fits the graph whose node was frozen since. A param
  // written with its default value builds the same model as one left out.
  for (const auto &n : graph.nodes) {
    Json node{{"id", n.id},
              {"type", n.type},
              {"params", asWritten ? n.params : paramsBeyondDefaults(n)},
              {"share", n.share},
              {"scope", n.shareScope}};
    if (n.adapter)
      node["adapter"] = adapterToJson(*n.adapter);
    j.push_back(node);
  }
  for (const auto &e : graph.edges)
    j.push_back(e.from.toString() + ">" + e.to.toString());
  // FNV-1a 64: stable across platforms and releases, unlike std::hash.
  const std::string text = j.dump();
  return hex16(fnv(kFnvStart, text.data(), text.size()));
}
} // namespace

std::string graphHash(const Graph &graph) {
  return hashOfGraph(graph, false);
}

bool checkpointFitsGraph(const std::string &hash, const Graph &graph) {
  return hash == hashOfGraph(graph, false) || hash == hashOfGraph(graph, true);
}

} // namespace particle
