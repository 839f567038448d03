#include "project/PartFile.h"

#include "base/JsonFields.h"
#include "project/Project.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

namespace particle {

namespace {
// "PARTICLE-PART 1 <crc32 of the header line, 8 hex digits>\n".
constexpr const char *kMagicPrefix = "PARTICLE-PART ";
constexpr int kFileFormat = 1;
// A header line longer than this is not ours (a sub-graph of thousands of nodes fits).
constexpr std::size_t kMaxHeader = std::size_t(16) << 20;

[[noreturn]] void damaged(const std::string &path, const std::string &what) {
  throw Error(ErrorKind::File, path + ": damaged particle file (" + what + ")");
}

// Up to `count` bytes at `offset`; fewer at the end of the file.
std::string readBytes(std::ifstream &in, uint64_t offset, uint64_t count, const std::string &path) {
  std::string bytes(count, '\0');
  in.clear();
  in.seekg(static_cast<std::streamoff>(offset));
  in.read(bytes.data(), static_cast<std::streamsize>(count));
  if (in.bad())
    throw Error(ErrorKind::File, path + ": read error");
  bytes.resize(static_cast<std::size_t>(in.gcount()));
  return bytes;
}

std::ifstream openPart(const std::string &path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    throw Error(ErrorKind::File, path + ": particle file not found");
  if (!std::filesystem::is_regular_file(path, ec))
    throw Error(ErrorKind::File, path + ": not a regular file (a folder, a device or a pipe)");
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error(ErrorKind::File, path + ": cannot open file for reading");
  return in;
}

// A shape: a non-empty list of whole numbers of at least 1 (`what` names it in messages).
Shape shapeOf(const Json &a, const JsonFields &fields, const std::string &what) {
  if (!a.is_array() || a.empty())
    fields.fail(what, "must be a shape (a list of sizes), got " + a.dump());
  Shape shape;
  for (const Json &d : a) {
    if (!d.is_number_integer() || d.get<int64_t>() < 1)
      fields.fail(what, "must hold whole numbers of at least 1, got " + a.dump());
    shape.push_back(d.get<int64_t>());
  }
  return shape;
}

Shape readShape(const JsonFields &fields, const char *key) {
  return shapeOf(fields.array(key), fields, key);
}

// "node_info": every node of the part by id, {"inputs": [shape…], "outputs": [shape…], "parameters": N}.
void readNodeInfo(const JsonFields &header, PartInfo &part, const std::string &path) {
  const Json &all = header.object("node_info");
  for (const Node &n : part.nodes) {
    if (!all.contains(n.id))
      header.fail("node_info", "has no entry for node " + n.id);
    const JsonFields f(all[n.id], path, header.path("node_info." + n.id));
    PartNodeInfo info;
    for (const char *key : {"inputs", "outputs"}) {
      const Json &shapes = f.array(key);
      for (std::size_t i = 0; i < shapes.size(); ++i)
        (std::string(key) == "inputs" ? info.inputs : info.outputs)
            .push_back(shapeOf(shapes[i], f, std::string(key) + "[" + std::to_string(i) + "]"));
    }
    info.parameters = f.integer("parameters", std::nullopt, 0);
    part.nodeInfo[n.id] = std::move(info);
  }
}

// The end where the part is entered or left: {"node": ID, "shape": [...]}, ID one of the part's.
void readEnd(const JsonFields &header, const char *key, const PartInfo &part, std::string &node, Shape &shape,
             const std::string &path) {
  const JsonFields end(header.object(key), path, header.path(key));
  node = end.string("node");
  if (!part.node(node))
    end.fail("node", "is \"" + node + "\", not a node of the part (it has " + part.nodeList() + ")");
  shape = readShape(end, "shape");
}

// Every provenance field this version writes, type-checked; none is required but the date.
void checkProvenance(const JsonFields &header, const std::string &path) {
  const JsonFields p(header.object("provenance"), path, header.path("provenance"));
  for (const char *key : {"project", "project_file", "run", "particle_version"})
    p.string(key, "");
  p.string("date");
  if (p.has("test_accuracy")) {
    const double accuracy = p.number("test_accuracy");
    if (!(accuracy >= 0 && accuracy <= 1))
      p.fail("test_accuracy", "is out of range (0 to 1)");
  }
  if (p.has("dataset")) {
    const JsonFields data(p.object("dataset"), path, p.path("dataset"));
    data.string("kind");
    data.string("description", "");
  }
  const Json &classes = p.array("classes", true);
  for (std::size_t i = 0; i < classes.size(); ++i)
    if (!classes[i].is_string())
      p.fail("classes", "must hold names (strings); entry " + std::to_string(i) + " is " + classes[i].dump());
}
} // namespace

bool looksLikePartFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::string start(std::char_traits<char>::length(kMagicPrefix), '\0');
  in.read(start.data(), static_cast<std::streamsize>(start.size()));
  return in && start == kMagicPrefix;
}

std::string partModuleBlob(const std::string &node) {
  return "modules/" + node + ".pt";
}

const PartBlob *PartInfo::blob(const std::string &name) const {
  for (const auto &b : blobs)
    if (b.name == name)
      return &b;
  return nullptr;
}

const Node *PartInfo::node(const std::string &id) const {
  for (const auto &n : nodes)
    if (n.id == id)
      return &n;
  return nullptr;
}

std::string PartInfo::nodeList() const {
  std::string out;
  for (const auto &n : nodes)
    out += (out.empty() ? "" : ", ") + n.id;
  return out;
}

void writePartFile(const std::string &path, const PartInfo &part,
                   const std::vector<std::pair<std::string, std::string>> &blobs) {
  // The nodes and edges exactly as a project file writes them.
  Project graphOnly;
  graphOnly.graph.nodes = part.nodes;
  graphOnly.graph.edges = part.edges;
  const Json doc = projectToJson(graphOnly);
  Json header = {{"format", "particle-part"},
                 {"version", kPartVersion},
                 {"nodes", doc["nodes"]},
                 {"edges", doc["edges"]},
                 {"input", {{"node", part.inputNode}, {"shape", part.inputShape}}},
                 {"output", {{"node", part.outputNode}, {"shape", part.outputShape}}},
                 {"parameters", part.parameters},
                 {"node_info", Json::object()},
                 {"provenance", part.provenance},
                 {"blobs", Json::array()}};
  for (const Node &n : part.nodes) {
    const auto it = part.nodeInfo.find(n.id);
    const PartNodeInfo info = it == part.nodeInfo.end() ? PartNodeInfo() : it->second;
    header["node_info"][n.id] = {{"inputs", info.inputs}, {"outputs", info.outputs}, {"parameters", info.parameters}};
  }
  std::string data;
  for (const auto &[name, bytes] : blobs) {
    header["blobs"].push_back(
        {{"name", name}, {"offset", data.size()}, {"size", bytes.size()}, {"crc32", crc32Hex(bytes)}});
    data += bytes;
  }
  const std::string line = header.dump();
  writeFileAtomically(path,
                      kMagicPrefix + std::to_string(kFileFormat) + " " + crc32Hex(line) + "\n" + line + "\n" + data);
}

PartInfo readPartInfo(const std::string &path) {
  std::ifstream in = openPart(path);
  std::error_code ec;
  const uint64_t fileSize = std::filesystem::file_size(path, ec);
  // The first two lines only, a piece at a time: the Library panel reads many files, some of them
  // large (a ResNet is 45 MB of weights).
  const std::string prefix = kMagicPrefix;
  std::string start;
  for (std::ptrdiff_t lines = 0; lines < 2 && start.size() < kMaxHeader + 64;) {
    const std::string piece = readBytes(in, start.size(), 1 << 16, path);
    if (piece.empty())
      break;
    start += piece;
    lines += std::count(piece.begin(), piece.end(), '\n');
    if (start.compare(0, prefix.size(), prefix) != 0)
      break; // not ours: refused below without reading on
  }
  const std::size_t magicEnd = start.find('\n');
  if (start.compare(0, prefix.size(), prefix) != 0 || magicEnd == std::string::npos || magicEnd > 64)
    throw Error(ErrorKind::File, path + ": not a particle file (no particle file header)");
  const std::string magic = start.substr(prefix.size(), magicEnd - prefix.size()); // "1 <crc>"
  if (!magic.empty() && std::isdigit(static_cast<unsigned char>(magic[0])) && std::atoi(magic.c_str()) > kFileFormat)
    throw Error(ErrorKind::File, path + ": written by a newer Particle Studio (particle file format " +
                                     magic.substr(0, magic.find(' ')) + "; this version reads format " +
                                     std::to_string(kFileFormat) + ")");
  if (magic.size() != 10 || magic.compare(0, 2, "1 ") != 0 ||
      magic.find_first_not_of("0123456789abcdef", 2) != std::string::npos)
    damaged(path, "unreadable first line");
  const std::size_t headerStart = magicEnd + 1;
  const std::size_t end = start.find('\n', headerStart);
  if (end == std::string::npos)
    damaged(path, "the header is cut off");
  const std::string line = start.substr(headerStart, end - headerStart);
  if (crc32Hex(line) != magic.substr(2))
    damaged(path, "checksum mismatch: the header changed since it was written");

  PartInfo part;
  try {
    part.header = Json::parse(line);
  } catch (const std::exception &) {
    damaged(path, "unreadable header");
  }
  const JsonFields h(part.header, path, "header");
  if (h.string("format") != "particle-part")
    throw Error(ErrorKind::File, path + ": not a particle file (header.format is \"" + h.string("format") + "\")");
  const int64_t version = h.integer("version", std::nullopt, 1, 1 << 20);
  if (version > kPartVersion)
    throw Error(ErrorKind::File, path + ": written by a newer Particle Studio (particle file version " +
                                     std::to_string(version) + "; this version reads " + std::to_string(kPartVersion) +
                                     ")");

  // The nodes and edges through the project file's own reader, so they are checked the same way.
  Json doc = {{"format", "particle-studio"},
              {"version", kFormatVersion},
              {"nodes", h.array("nodes")},
              {"edges", h.array("edges")}};
  try {
    Project graphOnly = projectFromJson(doc, path + ": header");
    part.nodes = std::move(graphOnly.graph.nodes);
    part.edges = std::move(graphOnly.graph.edges);
  } catch (const Error &e) {
    throw Error(ErrorKind::File, e.what());
  }
  if (part.nodes.empty())
    h.fail("nodes", "is empty (a part has at least one node)");
  for (std::size_t i = 0; i < part.edges.size(); ++i)
    for (const PortRef *ref : {&part.edges[i].from, &part.edges[i].to})
      if (!part.node(ref->node))
        h.fail("edges[" + std::to_string(i) + "]",
               "names \"" + ref->node + "\", not a node of the part (it has " + part.nodeList() + ")");
  readEnd(h, "input", part, part.inputNode, part.inputShape, path);
  readEnd(h, "output", part, part.outputNode, part.outputShape, path);
  part.parameters = h.integer("parameters", std::nullopt, 0);
  readNodeInfo(h, part, path);
  checkProvenance(h, path);
  part.provenance = h.object("provenance");

  // The blobs follow one another from the end of the header line to the end of the file.
  part.blobsStart = end + 1;
  const Json &table = h.array("blobs");
  uint64_t next = 0;
  std::set<std::string> names;
  for (std::size_t i = 0; i < table.size(); ++i) {
    const JsonFields b(table[i], path, "header.blobs[" + std::to_string(i) + "]");
    PartBlob blob;
    blob.name = b.string("name");
    blob.offset = static_cast<uint64_t>(b.integer("offset", std::nullopt, 0));
    blob.size = static_cast<uint64_t>(b.integer("size", std::nullopt, 0));
    blob.crc32 = b.string("crc32");
    if (blob.crc32.size() != 8 || blob.crc32.find_first_not_of("0123456789abcdef") != std::string::npos)
      b.fail("crc32", "must be 8 hex digits");
    if (!names.insert(blob.name).second)
      b.fail("name", "\"" + blob.name + "\" is used twice");
    if (blob.offset != next)
      b.fail("offset", "is " + std::to_string(blob.offset) + ", the blob before ends at " + std::to_string(next));
    next += blob.size;
    part.blobs.push_back(std::move(blob));
  }
  if (fileSize != part.blobsStart + next)
    throw Error(ErrorKind::File, path + ": damaged particle file: the file is " + std::to_string(fileSize) +
                                     " bytes, its header says " + std::to_string(part.blobsStart + next) +
                                     " (truncated or extended)");
  if (!part.blob(kPartWeightsBlob))
    h.fail("blobs", std::string("has no \"") + kPartWeightsBlob + "\" blob");
  for (const Node &n : part.nodes)
    if (n.type == "TorchScript" && !part.blob(partModuleBlob(n.id)))
      h.fail("blobs", "has no \"" + partModuleBlob(n.id) + "\" blob for the TorchScript node " + n.id);
  return part;
}

std::string readPartBlob(const std::string &path, const std::string &name) {
  const PartInfo part = readPartInfo(path);
  const PartBlob *blob = part.blob(name);
  if (!blob)
    throw Error(ErrorKind::File, path + ": the particle file has no blob \"" + name + "\"");
  std::ifstream in = openPart(path);
  std::string bytes = readBytes(in, part.blobsStart + blob->offset, blob->size, path);
  if (bytes.size() != blob->size)
    damaged(path, "blob \"" + name + "\" is cut off");
  if (crc32Hex(bytes) != blob->crc32)
    damaged(path, "checksum mismatch in blob \"" + name + "\": it changed since it was written");
  return bytes;
}

} // namespace particle
