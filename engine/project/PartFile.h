#pragma once
// Particle files (NAME.particle-part): a trained sub-model that travels — one node, or a sub-graph
// with one way in and one way out — with its weights and where it came from. A first line with
// the container format and the CRC-32 of the header line, a one-line JSON header (the nodes and
// edges as a project file writes them, the input and output node and shape, the parameter count,
// the provenance, and the table of the blobs: name, offset, size, CRC-32), then the blobs. The
// header is read without LibTorch and without reading the blobs (the Library panel lists many
// files); a blob is checked against its own CRC when it is read. Written like checkpoints: in
// memory first, then atomically. docs/FORMAT.md "Particle files".

#include "base/Json.h"
#include "graph/Graph.h"
#include "graph/Shape.h"

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace particle {

// The newest particle file version this program reads and writes.
constexpr int kPartVersion = 1;
// The blob of the part's tensors: a pickled dict "<node>.<name>" → tensor, as weights.pt.
constexpr const char *kPartWeightsBlob = "weights";
// The blob holding a TorchScript node's module file: "modules/<node>.pt".
std::string partModuleBlob(const std::string &node);

struct PartBlob {
  std::string name;
  uint64_t offset = 0; // from the first byte after the header line
  uint64_t size = 0;
  std::string crc32; // 8 hex digits
};

// What validation found for one node of the part when it was saved.
struct PartNodeInfo {
  std::vector<Shape> inputs, outputs; // per port
  int64_t parameters = 0;
};

struct PartInfo { // the header, checked
  Json header;    // as written
  std::vector<Node> nodes;
  std::vector<Edge> edges;           // the sub-graph (ids as in the source)
  std::string inputNode, outputNode; // where it is entered / left
  Shape inputShape, outputShape;
  int64_t parameters = 0;
  std::map<std::string, PartNodeInfo> nodeInfo; // every node's shapes and parameters
  Json provenance = Json::object();             // project, dataset, classes, run, test_accuracy, date, ...
  std::vector<PartBlob> blobs;                  // in file order
  uint64_t blobsStart = 0;                      // the file offset of the first blob
  const PartBlob *blob(const std::string &name) const;
  const Node *node(const std::string &id) const;
  // "p0, p1": the node ids, for messages.
  std::string nodeList() const;
};

// Whether `path` starts as a particle file does (anything else is not one; nothing is checked).
bool looksLikePartFile(const std::string &path);
// Throws Error(File) naming the path and the field when the file is missing, not a particle file,
// truncated or damaged, a header field is missing or of the wrong type, or it was written by a
// newer version.
PartInfo readPartInfo(const std::string &path);
// The bytes of blob `name`, checked against its CRC; throws Error(File) naming the path and blob.
std::string readPartBlob(const std::string &path, const std::string &name);
// Writes `part`'s nodes, edges, input, output, parameters, node info and provenance with `blobs` (name →
// bytes, in this order); the header and blobs table are made here. Throws Error(File) naming the
// path (the previous file is untouched on failure).
void writePartFile(const std::string &path, const PartInfo &part,
                   const std::vector<std::pair<std::string, std::string>> &blobs);

} // namespace particle
