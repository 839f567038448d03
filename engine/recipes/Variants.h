#pragma once
// Decompositions of a project's graph, for `particle search` and the Experiments tab: the same
// data and head, the input cut differently (number of parts and Split mode), the sub-model
// wider or narrower, the branches joined differently (Combine mode) and shared differently
// (none / trunk / all), and always the monolithic baseline — no Split, the sub-model once on the
// whole input. Each variant is a valid project. Torch-free.

#include "project/Project.h"
#include "project/ProjectCheck.h"

#include <map>
#include <string>
#include <vector>

namespace particle {

// The axes a variant is placed on, by name: "parts", "width", "combine", "sharing".
using VariantAxes = std::map<std::string, std::string>;

struct Variant {
  std::string name;      // "2x2-w1-attention-trunk", "monolithic-w1"
  VariantAxes axes;      // every axis; the baseline has parts "whole"
  Project project;       // valid, named "<project>-<variant>"
  bool baseline = false; // the monolithic baseline
  bool original = false; // the graph the user made (same model as the project)
};

// Axes values the user pins (only these) or excludes (all but these), e.g. {"sharing", {"none"}}.
struct VariantFilter {
  std::map<std::string, std::vector<std::string>> pinned, excluded;
  bool allows(const std::string &axis, const std::string &value) const;
  // Parses "axis=v1,v2" (one --pin or --exclude); throws Error(Usage) naming the axis or value.
  void add(const std::string &spec, bool pin);
};

// The part of the graph that is varied: a Split whose parts each go through a chain of nodes
// into one input of a Combine.
struct DecompositionSite {
  std::string split, combine;
  std::vector<std::vector<std::string>> branches; // node ids, Split side first, one chain per part
};
// Throws Error(Invalid) with a sentence when the graph has no Split to vary, or when its branches
// are not plain chains from the Split into one Combine.
DecompositionSite findDecompositionSite(const Graph &graph);

// Every valid variant the filter allows, the project's own graph first (marked original), the
// baselines last; variants that validation refuses are left out, those with the same model
// as another kept once. `validation` is the project's (its data info and shapes).
std::vector<Variant> makeVariants(const Project &project, const Validation &validation,
                                  const VariantFilter &filter = {});

// The axis names and, for the project's data, the values each can take (for --help and the tab).
std::vector<std::pair<std::string, std::vector<std::string>>> variantAxes(const Project &project,
                                                                          const Validation &validation);

} // namespace particle
