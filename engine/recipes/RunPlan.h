#pragma once
// Where a run's files go, the same for `particle train` and the app's Train tab: a fresh folder
// "<project name>-<timestamp>" under a runs root, the name cleaned so it cannot leave that root.

#include <memory>
#include <string>
#include <vector>

namespace particle {

// The project name as a folder name: letters, digits, '-', '_' and '.' kept, anything else
// (path separators, white space, control characters) becomes '-'; no leading '.' or '-' (so
// never "", "." or "..", nor a name a command would take for an option). At most 80 characters.
// Every file or folder name derived from a project name goes through it.
std::string safeRunName(const std::string &projectName);

// The marker file that says particle wrote a folder (a run, a search, an export): `--force`
// empties only folders that hold it. While a process works in the folder it holds an exclusive
// lock on this file (flock: it dies with the process), and the file names that process.
constexpr const char *kFolderMarker = ".particle";

// Set by a process that claimed a folder for the children it starts to work in (its pid): a
// child whose parent holds the claim shares it.
constexpr const char *kClaimedByParentVariable = "PARTICLE_FOLDER_CLAIMED_BY";

// A folder claimed by this process (see claimFolder); the lock is released when the last owner
// lets go of it.
class FolderClaim {
public:
  FolderClaim(std::string folder, int fd) : folder_(std::move(folder)), fd_(fd) {}
  ~FolderClaim();
  FolderClaim(const FolderClaim &) = delete;
  FolderClaim &operator=(const FolderClaim &) = delete;
  const std::string &folder() const { return folder_; }

private:
  std::string folder_;
  int fd_;
};

// Claims `dir` (created when missing) for this process's work of kind `what` ("run", "search",
// "export"): writes the marker and locks it. A folder claimed by another live process throws
// Error(File) naming the folder and that process; a claim this process holds already is shared.
// Temporary files of dead processes (a `*.tmp-<pid>` left by a kill during a save) are removed.
std::shared_ptr<FolderClaim> claimFolder(const std::string &dir, const std::string &what);
// Whether `dir` holds the marker (particle wrote it).
bool isParticleFolder(const std::string &dir);
// What the last process that claimed `dir` did there ("run", "search", "export"; "" when unknown).
std::string folderKind(const std::string &dir);
// Removes `dir`'s temporary files `NAME.tmp-<pid>` whose process is gone; returns how many.
int removeStaleTemporaries(const std::string &dir);

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

// One row of a run's metrics.csv (written by the trainer): the epoch and its train and validation
// accuracy.
struct RunEpoch {
  int epoch = 0;
  double trainAccuracy = 0, valAccuracy = 0;
};
// Every epoch of a run's metrics.csv, in order; empty when the file is missing or unreadable.
std::vector<RunEpoch> readRunEpochs(const std::string &metricsCsv);

} // namespace particle
