#pragma once
// A copy of a project that can be saved anywhere: a run folder, a search's variants, the app's
// helper workers and an export keep the project they used, and it must still name the same data.

#include "project/Project.h"

namespace particle {

// The project with its data set's relative paths, its nodes' init sources and the files its
// nodes' params name made absolute (against its own folder).
Project projectWithAbsolutePaths(const Project &project);

} // namespace particle
