#pragma once
// Where a run's files go, the same for `particle train` and the app's Train tab: a fresh folder
// "<project name>-<timestamp>" under a runs root, the name cleaned so it cannot leave that root.

#include "base/Folders.h"

#include <memory>
#include <string>
#include <vector>

namespace particle {

// The project name as a folder name: letters, digits, '-', '_' and '.' kept, anything else
// (path separators, white space, control characters) becomes '-'; no leading '.' or '-' (so
// never "", "." or "..", nor a name a command would take for an option). At most 80 characters.
// Every file or folder name derived from a project name goes through it.
std::string safeRunName(const std::string &projectName);

// "<safe name>-YYYYmmdd-HHMMSS-mmm" under `runsRoot`, created with its marker; a unique suffix is
// added when the folder exists already. Throws Error(File) naming the folder when it cannot be
// created.
std::string newRunFolder(const std::string &runsRoot, const std::string &projectName);

// The default runs root of a project: "<project folder>/runs", unless that folder cannot be
// written to, or lies inside `protectedRoot` (the installed examples or the source tree): then
// `fallbackRoot` (the user's data location).
std::string defaultRunsRoot(const std::string &projectPath, const std::string &fallbackRoot,
                            const std::string &protectedRoot = {});

// An explicit output folder, claimed for this process (keep the claim for the work's life):
// created when missing. One that exists and holds files is refused (Error(Usage) naming it)
// unless `resume` (the work continues there) or `force` (it is emptied first: only a folder with
// particle's marker, never one particle did not write), so that two runs never mix their files.
// A folder another live process works in is refused (Error(File)).
std::shared_ptr<FolderClaim> prepareOutFolder(const std::string &dir, bool force, bool resume,
                                              const std::string &what = "run");

} // namespace particle
