#include "project/ProjectPaths.h"

#include "data/DatasetSpec.h"

namespace particle {

Project projectWithAbsolutePaths(const Project &project) {
  Project copy = project;
  copy.dataset = withAbsolutePaths(project.dataset, project.baseDir());
  return copy;
}

} // namespace particle
