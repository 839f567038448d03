#pragma once
// Folders particle writes (runs, searches, exports) are claimed: a marker file that says particle
// wrote the folder and a lock held for the work's life, so that two processes never mix their
// files and `--force` never empties a folder particle did not write.

#include <memory>
#include <string>

namespace particle {

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

} // namespace particle
