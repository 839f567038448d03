#include "project/ProjectPaths.h"

#include "data/DatasetSpec.h"
#include "graph/Catalogue.h"

#include <filesystem>

namespace particle {

Project projectWithAbsolutePaths(const Project &project) {
  Project copy = project;
  copy.dataset = withAbsolutePaths(project.dataset, project.baseDir());
  // A node's init source is named relative to the project too.
  for (auto &node : copy.graph.nodes)
    if (node.init && !std::filesystem::path(node.init->from).is_absolute())
      node.init->from = (std::filesystem::path(project.baseDir()) / node.init->from).lexically_normal().string();
  // So are the files a node's params name (a TorchScript module).
  for (auto &node : copy.graph.nodes)
    if (const NodeType *type = Catalogue::instance().find(node.type))
      for (const auto &f : type->params.fields())
        if (f.kind == FieldKind::Path && node.params.contains(f.name) && node.params[f.name].is_string() &&
            !std::filesystem::path(node.params[f.name].get<std::string>()).is_absolute())
          node.params[f.name] = (std::filesystem::path(project.baseDir()) / node.params[f.name].get<std::string>())
                                    .lexically_normal()
                                    .string();
  return copy;
}

} // namespace particle
