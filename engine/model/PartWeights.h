#pragma once
// A node's trained weights, wherever they were saved: a particle file (its "weights" blob), or a
// run — its folder or its checkpoint.pt, read with the project copy beside it so that a member of a
// share group gets the group's module (registered under the first member) and, with share_scope
// "trunk", the shared trunk beside its own last layer (docs/DECISIONS.md "Module names").

#include <torch/torch.h>

#include <map>
#include <string>

namespace particle {

// The weights of `node` (keys relative to that node's module, e.g. "trunk.layers.0.weight"), from
// a particle file or from a run folder / checkpoint.pt. `node` may be empty for a particle file of
// one node. Throws Error(File) naming the file (and the nodes it has when `node` is not one).
std::map<std::string, torch::Tensor> loadNodeWeights(const std::string &from, const std::string &node);

// The tensors of a particle file's "weights" blob or of weights.pt as LibTorch pickles them: a dict
// of full names → tensor, and back. Throws Error(File) naming `file` when the bytes are not one.
std::map<std::string, torch::Tensor> tensorsFromPickle(const std::string &bytes, const std::string &file);
std::string tensorsToPickle(const std::map<std::string, torch::Tensor> &tensors);

} // namespace particle
