#include "recipes/Variants.h"

#include "graph/Catalogue.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>
#include <sstream>

namespace particle {

bool VariantFilter::allows(const std::string &axis, const std::string &value) const {
  if (auto p = pinned.find(axis);
      p != pinned.end() && std::find(p->second.begin(), p->second.end(), value) == p->second.end())
    return false;
  if (auto e = excluded.find(axis);
      e != excluded.end() && std::find(e->second.begin(), e->second.end(), value) != e->second.end())
    return false;
  return true;
}

void VariantFilter::add(const std::string &spec, bool pin) {
  static const std::set<std::string> axes = {"parts", "width", "combine", "sharing"};
  const auto eq = spec.find('=');
  const std::string axis = spec.substr(0, eq);
  if (eq == std::string::npos || !axes.count(axis))
    throw Error(ErrorKind::Usage, std::string(pin ? "--pin" : "--exclude") + " \"" + spec +
                                      "\": give axis=value[,value…] with axis parts, width, combine or sharing");
  std::vector<std::string> values;
  std::stringstream in(spec.substr(eq + 1));
  for (std::string v; std::getline(in, v, ',');)
    if (!v.empty())
      values.push_back(v);
  if (values.empty())
    throw Error(ErrorKind::Usage, std::string(pin ? "--pin " : "--exclude ") + axis + ": no value given");
  auto &to = pin ? pinned[axis] : excluded[axis];
  to.insert(to.end(), values.begin(), values.end());
}

namespace {

const NodeType *typeOf(const Node &n) {
  return Catalogue::instance().find(n.type);
}

NodeRole roleOf(const Node &n) {
  const NodeType *t = typeOf(n);
  return t ? t->role : NodeRole::Layer;
}

// The combiner's param the search varies: the enum field its type gives searchChoices.
const Field *joinField(const Node &combine) {
  if (const NodeType *t = typeOf(combine))
    for (const auto &f : t->params.fields())
      if (!f.searchChoices.empty())
        return &f;
  return nullptr;
}

} // namespace

namespace {
DecompositionSite siteAt(const Graph &graph, const std::string &split) {
  DecompositionSite site;
  site.split = split;
  // Follow each outgoing edge of the Split through single-input, single-output nodes to a Combine.
  std::map<int, std::vector<std::string>> byPort;
  for (const Edge *e : graph.outgoing(site.split)) {
    std::vector<std::string> chain;
    std::string at = e->to.node;
    std::string into;
    for (int guard = 0; guard < 64; ++guard) {
      const Node *n = graph.find(at);
      if (!n)
        break;
      if (roleOf(*n) == NodeRole::Combiner) {
        into = n->id;
        break;
      }
      chain.push_back(at);
      const auto out = graph.outgoing(at);
      if (out.size() != 1 || graph.incoming(at).size() != 1)
        break;
      at = out[0]->to.node;
    }
    if (into.empty() || chain.empty())
      throw Error(ErrorKind::Invalid, "Split '" + site.split + "': part " + e->from.port +
                                          " does not go through a chain of sub-models into a Combine, so the search "
                                          "cannot vary this decomposition");
    if (!site.combine.empty() && site.combine != into)
      throw Error(ErrorKind::Invalid, "Split '" + site.split + "': its parts reach different Combines ('" +
                                          site.combine + "', '" + into +
                                          "'); the search varies one Split into one Combine");
    site.combine = into;
    byPort[e->from.isNumbered() ? e->from.index() : 0] = chain;
  }
  for (auto &[port, chain] : byPort)
    site.branches.push_back(chain);
  if (site.branches.empty())
    throw Error(ErrorKind::Invalid, "Split '" + site.split + "' has no connected parts to vary");
  if (!joinField(*graph.find(site.combine)))
    throw Error(ErrorKind::Invalid,
                "'" + site.combine + "' has no way of joining its branches that the search can vary");
  return site;
}
} // namespace

DecompositionSite findDecompositionSite(const Graph &graph) {
  // The first Split whose parts reach one Combine: a Split in front of it (the fields of a text,
  // one of them taken) is not the decomposition. Without one, the first Split's reason.
  std::optional<Error> first;
  for (const auto &n : graph.nodes)
    if (const NodeType *t = typeOf(n); t && t->role == NodeRole::Decomposer && t->decompositions) {
      try {
        return siteAt(graph, n.id);
      } catch (const Error &e) {
        if (!first)
          first = e;
      }
    }
  if (first)
    throw *first;
  throw Error(ErrorKind::Invalid, "the graph has no Split node, so there is no decomposition to vary; add a Split "
                                  "whose parts go through sub-models into a Combine");
}

namespace {

// The decomposer's cuts of its input, and the label of its own.
Decompositions decompositionsOf(const Node &split, const NodeInfo *info, int parts) {
  const Shape in = info && !info->inputs.empty() ? info->inputs[0] : Shape{};
  const bool tokens = info && !info->inputTokens.empty() && info->inputTokens[0];
  return typeOf(split)->decompositions(split.params, in, tokens, parts);
}

bool isWidth(const NodeType *type, const std::string &param) {
  const Field *f = type ? type->param(param) : nullptr;
  return f && f->width;
}

Json scaled(const NodeType *type, const Json &params, double factor) {
  Json out = params;
  for (auto it = out.begin(); it != out.end(); ++it) {
    if (!isWidth(type, it.key()))
      continue;
    auto scale = [&](int64_t v) { return std::max<int64_t>(1, static_cast<int64_t>(std::llround(v * factor))); };
    if (it.value().is_number_integer())
      it.value() = scale(it.value().get<int64_t>());
    else if (it.value().is_array())
      for (auto &x : it.value())
        if (x.is_number_integer())
          x = scale(x.get<int64_t>());
  }
  return out;
}

// Width params not written fall back to the type's defaults: write them, so they can be scaled.
Json withWidthDefaults(const Node &n, const Validation &v) {
  Json p = n.params;
  if (const NodeInfo *info = v.info(n.id))
    for (auto it = info->params.begin(); it != info->params.end(); ++it)
      if (isWidth(typeOf(n), it.key()) && !p.contains(it.key()) && !it.value().is_null())
        p[it.key()] = it.value();
  return p;
}

std::string stemOf(const std::string &id) {
  std::string s = id;
  while (!s.empty() && std::isdigit(static_cast<unsigned char>(s.back())))
    s.pop_back();
  if (!s.empty() && (s.back() == '_' || s.back() == '-'))
    s.pop_back();
  return s.empty() ? "part" : s;
}

struct Template {
  std::vector<Node> chain; // branch 0's nodes, width params written out
};

bool hasTrunk(const Node &n) {
  return roleOf(n) == NodeRole::SubModel;
}

// Rebuilds the decomposition: the Split's params, `parts` copies of the template chain scaled
// by `width`, the combiner's join and the sharing; or, for `parts` 0, the monolithic graph.
Graph rebuild(const Graph &g, const DecompositionSite &site, const Template &t, const Json &splitParams, int parts,
              double width, const std::string &join, const std::string &sharing) {
  std::set<std::string> removed;
  for (const auto &chain : site.branches)
    removed.insert(chain.begin(), chain.end());
  Graph out;
  for (const auto &n : g.nodes)
    if (!removed.count(n.id))
      out.nodes.push_back(n);
  for (const auto &e : g.edges)
    if (!removed.count(e.from.node) && !removed.count(e.to.node))
      out.edges.push_back(e);
  auto chainIds = [&](int part) {
    std::vector<std::string> ids;
    for (const auto &n : t.chain) {
      std::string id = stemOf(n.id) + (parts > 0 ? std::to_string(part) : std::string());
      while (out.find(id) || std::find(ids.begin(), ids.end(), id) != ids.end())
        id += "_";
      ids.push_back(id);
    }
    return ids;
  };
  auto addChain = [&](int part) {
    auto ids = chainIds(part);
    for (std::size_t k = 0; k < t.chain.size(); ++k) {
      Node n = t.chain[k];
      n.id = ids[k];
      n.pos.reset();
      n.params = scaled(typeOf(n), n.params, width);
      n.share.clear();
      n.shareScope.clear();
      const NodeType *type = typeOf(n);
      if (parts > 1 && type && type->shareable && sharing != "none" && (sharing == "all" || hasTrunk(n))) {
        n.share = stemOf(t.chain[k].id) + "-shared";
        n.shareScope = sharing == "trunk" ? "trunk" : "";
      }
      out.nodes.push_back(n);
      if (k > 0)
        out.edges.push_back({PortRef{ids[k - 1], "0"}, PortRef{ids[k], "0"}});
    }
    return ids;
  };
  if (parts == 0) { // monolithic: what fed the Split feeds the chain; the chain feeds what the Combine fed
    const auto ids = addChain(0);
    for (auto &e : out.edges) {
      if (e.to.node == site.split)
        e.to = PortRef{ids.front(), "0"};
      if (e.from.node == site.combine)
        e.from = PortRef{ids.back(), "0"};
    }
    out.removeNode(site.split);
    out.removeNode(site.combine);
    return out;
  }
  if (Node *split = out.find(site.split))
    split->params = splitParams;
  if (Node *combine = out.find(site.combine))
    combine->params = Json{{joinField(*combine)->name, join}};
  for (int p = 0; p < parts; ++p) {
    const auto ids = addChain(p);
    out.edges.push_back({PortRef{site.split, std::to_string(p)}, PortRef{ids.front(), "0"}});
    out.edges.push_back({PortRef{ids.back(), "0"}, PortRef{site.combine, std::to_string(p)}});
  }
  return out;
}

std::string widthLabel(double w) {
  return w == 0.5 ? "w0.5" : w == 2 ? "w2" : "w1";
}

std::string sharingOf(const Graph &g, const DecompositionSite &site) {
  bool any = false, trunk = false;
  for (const auto &chain : site.branches)
    for (const auto &id : chain)
      if (const Node *n = g.find(id); n && !n->share.empty()) {
        any = true;
        trunk = trunk || n->shareScope == "trunk";
      }
  return !any ? "none" : trunk ? "trunk" : "all";
}

} // namespace

std::vector<std::pair<std::string, std::vector<std::string>>> variantAxes(const Project &project,
                                                                          const Validation &validation) {
  const DecompositionSite site = findDecompositionSite(project.graph);
  const Decompositions cuts = decompositionsOf(*project.graph.find(site.split), validation.info(site.split),
                                               static_cast<int>(site.branches.size()));
  std::vector<std::string> parts;
  parts.reserve(cuts.offered.size() + 2);
  for (const auto &o : cuts.offered)
    parts.push_back(o.label);
  if (std::find(parts.begin(), parts.end(), cuts.own) == parts.end())
    parts.insert(parts.begin(), cuts.own);
  parts.emplace_back("whole");
  return {{"parts", parts},
          {"width", {"w0.5", "w1", "w2"}},
          {"combine", joinField(*project.graph.find(site.combine))->searchChoices},
          {"sharing", {"none", "trunk", "all"}}};
}

std::vector<Variant> makeVariants(const Project &project, const Validation &validation, const VariantFilter &filter) {
  const DecompositionSite site = findDecompositionSite(project.graph);
  const Graph &g = project.graph;
  const Node *split = g.find(site.split);
  const NodeInfo *info = validation.info(site.split);
  if (!info || info->inputs.empty())
    throw Error(ErrorKind::Invalid, "Split '" + site.split + "': its input shape is unknown; fix the graph first");
  Template t;
  for (const auto &id : site.branches.front())
    if (const Node *n = g.find(id)) {
      Node copy = *n;
      copy.params = withWidthDefaults(*n, validation);
      t.chain.push_back(copy);
    }
  const int ownParts = static_cast<int>(site.branches.size());
  const Decompositions cuts = decompositionsOf(*split, info, ownParts);
  const std::string &ownLabel = cuts.own;
  const Node &combine = *g.find(site.combine);
  const Field &join = *joinField(combine);
  const std::string ownCombine = combine.params.value(join.name, join.defaultValue.get<std::string>());
  const std::string ownSharing = sharingOf(g, site);

  std::vector<Variant> out;
  std::set<std::string> seen; // graph hashes
  auto keep = [&](Variant v) {
    v.project.name = project.name + "-" + v.name;
    v.project.ui = Json();
    v.project.path.clear();
    const Validation check = validate(v.project, validation.dataKnown ? &validation.data : nullptr);
    if (!check.ok())
      return;
    if (!seen.insert(graphHash(v.project.graph)).second)
      return;
    out.push_back(std::move(v));
  };
  auto allowed = [&](const VariantAxes &axes) {
    for (const auto &[axis, value] : axes)
      if (!filter.allows(axis, value))
        return false;
    return true;
  };
  // The user's own graph, as it is.
  const VariantAxes ownAxes = {{"parts", ownLabel}, {"width", "w1"}, {"combine", ownCombine}, {"sharing", ownSharing}};
  {
    Variant v;
    v.original = true;
    v.axes = ownAxes;
    v.name = "own";
    v.project = project;
    if (allowed(v.axes))
      keep(v);
  }
  std::vector<Decomposition> parts = cuts.offered;
  if (std::none_of(parts.begin(), parts.end(), [&](const Decomposition &o) { return o.label == ownLabel; }))
    parts.insert(parts.begin(), Decomposition{ownLabel, split->params, ownParts});
  for (const auto &p : parts)
    for (double w : {1.0, 0.5, 2.0})
      for (const std::string &c : join.searchChoices)
        for (const std::string s : {"none", "trunk", "all"}) {
          if (s == "trunk" && std::none_of(t.chain.begin(), t.chain.end(), hasTrunk))
            continue;
          Variant v;
          v.axes = {{"parts", p.label}, {"width", widthLabel(w)}, {"combine", c}, {"sharing", s}};
          if (!allowed(v.axes) || v.axes == ownAxes) // the user's graph is there already, as "own"
            continue;
          std::string label = p.label;
          std::replace(label.begin(), label.end(), ' ', '-');
          v.name = label;
          v.name += "-" + widthLabel(w) + "-" + c;
          v.name += "-" + s;
          v.project = project;
          v.project.graph = rebuild(g, site, t, p.params, p.parts, w, c, s);
          keep(v);
        }
  for (double w : {1.0, 0.5, 2.0}) {
    Variant v;
    v.baseline = true;
    v.axes = {{"parts", "whole"}, {"width", widthLabel(w)}, {"combine", "none"}, {"sharing", "none"}};
    if (!filter.allows("parts", "whole") || !filter.allows("width", widthLabel(w)))
      continue;
    v.name = "monolithic-" + widthLabel(w);
    v.project = project;
    v.project.graph = rebuild(g, site, t, Json(), 0, w, "", "none");
    keep(v);
  }
  return out;
}

} // namespace particle
