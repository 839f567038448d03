// The built-in node types, one line each. A new type is one file in this folder (its schema,
// shape rule, module and role; Flatten.cpp is the smallest) defining `NodeType <name>NodeType()`,
// plus one line in this list.

#include "graph/Catalogue.h"

#define PARTICLE_BUILTIN_NODE_TYPES(X)                                                                                 \
  X(inputNodeType)                                                                                                     \
  X(splitNodeType)                                                                                                     \
  X(patchifyNodeType)                                                                                                  \
  X(mlpNodeType)                                                                                                       \
  X(convNetNodeType)                                                                                                   \
  X(attentionNodeType)                                                                                                 \
  X(linearNodeType)                                                                                                    \
  X(activationNodeType)                                                                                                \
  X(dropoutNodeType)                                                                                                   \
  X(layerNormNodeType)                                                                                                 \
  X(flattenNodeType)                                                                                                   \
  X(embeddingNodeType)                                                                                                 \
  X(conv1dNodeType)                                                                                                    \
  X(poolNodeType)                                                                                                      \
  X(combineNodeType)                                                                                                   \
  X(classifierNodeType)                                                                                                \
  X(torchScriptNodeType)

namespace particle {

namespace nodes {
#define PARTICLE_DECLARE(make) NodeType make();
PARTICLE_BUILTIN_NODE_TYPES(PARTICLE_DECLARE)
#undef PARTICLE_DECLARE
} // namespace nodes

std::vector<NodeType> builtinNodeTypes() {
  std::vector<NodeType> types;
#define PARTICLE_MAKE(make) types.push_back(nodes::make());
  PARTICLE_BUILTIN_NODE_TYPES(PARTICLE_MAKE)
#undef PARTICLE_MAKE
  return types;
}

} // namespace particle
