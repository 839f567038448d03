#pragma once
// What a document made before its project was saved goes with the project: the run, search,
// claims, learning-curve and transfer folders an untitled project (or an example) made in the
// user's runs folder move to the saved project's runs folder under its name; those made beside
// another saved project are copied (Save As: that project keeps its own). Each folder goes whole
// or not at all (a rename, else a copy into a temporary folder renamed into place, the original
// removed only then), never over a folder that is there already (another name is taken), and what
// its files say of where it is and whose it is follows it: the project's name in summary.json,
// search.json and the project copies, the paths inside it in every JSON file. Torch-free.

#include <QString>
#include <QStringList>

#include <functional>
#include <vector>

namespace particle::ui {

// What keeping did, for the status bar and, when something was not kept, the warning.
struct KeepReport {
  QStringList done;     // "1 run moved to D/runs"
  QStringList problems; // what was not kept, why, and where it still is
  QStringList waiting;  // in use now: follows when it ends
  void add(const KeepReport &other);
  bool empty() const { return done.isEmpty() && problems.isEmpty() && waiting.isEmpty(); }
  QString text() const; // every part, joined
};

class MadeFolders {
public:
  // The kinds a document makes: "" (a run, "<name>-<time>"), or "search", "claims", "curve",
  // "transfer" ("<kind>-<name>-<time>"), each made under the project's name then.
  void add(const QString &folder, const QString &kind, const QString &projectName);
  void clear();
  // Whether a folder was left because it was in use, to be kept when it is no longer.
  bool waiting() const { return waiting_; }
  // Takes every folder made that is not in `root` under the name it would have if made now (its
  // kind, `projectName`, its own time): moved out of `unowned` (the user's runs folder), copied
  // from anywhere else. `busy(folder)`: in use (a run or search writing to it), left for later.
  // `moved(from, to)`: a folder went (its files rewritten already), whoever holds a path inside
  // it follows.
  KeepReport keep(const QString &root, const QString &unowned, const QString &projectName,
                  const std::function<bool(const QString &)> &busy,
                  const std::function<void(const QString &, const QString &)> &moved);

private:
  struct Made {
    QString folder, kind, name;
  };
  std::vector<Made> made_;
  bool waiting_ = false;
};

// "<kind>-<safe name>-" (a run: "<safe name>-"), as the folders of that kind are named.
QString madeFolderPrefix(const QString &kind, const QString &projectName);

// Moves (`copy` false) or copies `from` to `to`, whole or not at all; `to` must not exist. Empty,
// or what failed and why (the file that could not be copied, the system's reason).
QString relocateFolder(const QString &from, const QString &to, bool copy);

// In every JSON file under `folder` (moved from `from`): a string naming `from` or a path inside it
// names the same place in `folder`; a "name" or "project" that is `oldName`, or begins with
// `oldName` and '-', begins with `newName` instead. Project files keep their layout. In every log
// (`*.log`, `*.err`: what the trials printed) `from`, where it stands as a path of its own or the
// start of one, becomes `folder`; the log keeps its modification time. Empty, or the files that
// could not be rewritten (each file is rewritten whole or left as it was).
QString retellFolder(const QString &folder, const QString &from, const QString &oldName, const QString &newName);

// Removes the partial copies (`.<name>.partial-<pid>`, see relocateFolder) in `folder` that no copy
// is writing any more: their process has ended, or its pid now runs another program than this one
// (a copy killed midway, the app closed by force). A live Particle Studio's stay. How many went.
int removeStalePartials(const QString &folder);

} // namespace particle::ui
