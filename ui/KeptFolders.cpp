#include "KeptFolders.h"

#include "base/Json.h"
#include "project/Project.h"
#include "recipes/RunPlan.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <limits>
#include <map>

#include <unistd.h>

namespace particle::ui {

namespace {
QString tr(const char *text) {
  return QCoreApplication::translate("MadeFolders", text);
}

// "1 run", "2 searches", for the report.
QString kindCount(const QString &kind, int n) {
  const bool one = n == 1;
  const char *noun = kind == "search"     ? (one ? "search" : "searches")
                     : kind == "claims"   ? (one ? "claims folder" : "claims folders")
                     : kind == "curve"    ? (one ? "learning curve" : "learning curves")
                     : kind == "transfer" ? (one ? "transfer" : "transfers")
                                          : (one ? "run" : "runs");
  return QString("%1 %2").arg(n).arg(tr(noun));
}

QString kindOne(const QString &kind) {
  if (kind.isEmpty())
    return tr("the run %1");
  if (kind == "curve")
    return tr("the learning curve %1");
  if (kind == "claims")
    return tr("the claims folder %1");
  return tr("the %1 %2").arg(kind);
}

// Copies one file whole, its data on disk before it returns, with the original's modification
// time (the Explain tab dates a checkpoint by it). Empty, or the file that could not be copied and
// the system's reason ("No space left on device").
QString copyFile(const QString &from, const QString &to) {
  QFile in(from), out(to);
  const auto failed = [&](const QFileDevice &file) {
    return tr("%1 could not be copied (%2)").arg(from, file.errorString());
  };
  if (!in.open(QIODevice::ReadOnly))
    return failed(in);
  // Unbuffered: a write that fails says why (a full disk) where it fails.
  if (!out.open(QIODevice::WriteOnly | QIODevice::NewOnly | QIODevice::Unbuffered))
    return failed(out);
  QByteArray block(1 << 20, Qt::Uninitialized);
  for (;;) {
    const qint64 n = in.read(block.data(), block.size());
    if (n < 0)
      return failed(in);
    if (n == 0)
      break;
    // A write cut short (the disk filled) is tried again for the rest: that one fails and says why.
    for (qint64 written = 0; written < n;) {
      const qint64 w = out.write(block.constData() + written, n - written);
      if (w <= 0)
        return failed(out);
      written += w;
    }
  }
  if (!out.flush())
    return failed(out);
  if (::fsync(out.handle()) != 0)
    return tr("%1 could not be copied (%2)").arg(from, QString::fromLocal8Bit(std::strerror(errno)));
  out.setFileTime(QFileInfo(from).lastModified(), QFileDevice::FileModificationTime);
  return {};
}

// Copies a folder with what it holds; empty, or the first thing that could not be copied.
QString copyFolder(const QString &from, const QString &to) {
  if (!QDir().mkpath(to))
    return tr("%1: cannot create the folder").arg(to);
  for (const QFileInfo &f : QDir(from).entryInfoList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot)) {
    const QString target = QDir(to).filePath(f.fileName());
    if (QString error = f.isDir() ? copyFolder(f.filePath(), target) : copyFile(f.filePath(), target); !error.isEmpty())
      return error;
  }
  return {};
}

struct Retelling {
  std::vector<std::string> from; // the old folder, as spelled where it was made and canonically
  std::string to, oldName, newName;
};

bool startsWith(const std::string &s, const std::string &prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

// Rewrites `j` in place; true when something changed.
bool retell(Json &j, const std::string &key, const Retelling &r) {
  if (j.is_string()) {
    std::string s = j.get<std::string>();
    for (const std::string &from : r.from)
      if (s == from || startsWith(s, from + "/")) {
        j = r.to + s.substr(from.size());
        return true;
      }
    if ((key == "name" || key == "project") && r.oldName != r.newName &&
        (s == r.oldName || startsWith(s, r.oldName + "-"))) {
      j = r.newName + s.substr(r.oldName.size());
      return true;
    }
    return false;
  }
  bool changed = false;
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it)
      changed = retell(it.value(), it.key(), r) || changed;
  } else if (j.is_array()) {
    for (Json &item : j)
      changed = retell(item, {}, r) || changed;
  }
  return changed;
}

// A character that continues a file or folder name: "<folder>-2" and "<folder>.old" are other
// folders than "<folder>".
bool nameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
}

// Rewrites a log's text in place: the old folder, where it stands as a path of its own or begins
// one ("<from>/trials/…"), names the new one — not where it ends a longer path ("/elsewhere<from>")
// or begins a longer name ("<from>-2"). True when something changed.
bool retellText(std::string &text, const Retelling &r) {
  bool changed = false;
  for (const std::string &from : r.from) {
    if (from.empty())
      continue;
    std::string out;
    std::size_t pos = 0;
    for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, pos)) {
      const std::size_t end = at + from.size();
      const bool starts = at == 0 || !(nameChar(text[at - 1]) || text[at - 1] == '/');
      const bool ends = end == text.size() || text[end] == '/' || !nameChar(text[end]);
      out.append(text, pos, at - pos);
      out += starts && ends ? r.to : from;
      changed = changed || (starts && ends);
      pos = end;
    }
    if (pos > 0) {
      out.append(text, pos, std::string::npos);
      text = std::move(out);
    }
  }
  return changed;
}

// The file name of the program `pid` runs, where the system says (Linux); empty where it does not,
// or will not (another user's process).
QString programOf(qint64 pid) {
  QString program = QFileInfo(QString("/proc/%1/exe").arg(pid)).symLinkTarget();
  program.remove(QRegularExpression(" \\(deleted\\)$")); // its file replaced since it started (relinked)
  return QFileInfo(program).fileName();
}

// Whether the process `pid` runs now and runs this program (another window's copy in progress, or
// another instance's): then its partial copy is still being written. A pid that has ended, or that
// the system has given to another program since, left its copy behind.
bool copyingNow(qint64 pid) {
  if (pid == QCoreApplication::applicationPid())
    return true;
  if (pid <= 0 || pid > std::numeric_limits<pid_t>::max())
    return false;
  if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)
    return false;
  // Where its program cannot be told, the copy is taken to be live.
  const QString program = programOf(pid), mine = programOf(QCoreApplication::applicationPid());
  return program.isEmpty() || mine.isEmpty() || program == mine;
}

// The file's new text in the layout it had: a project file as projects are written (when it was
// written so), other JSON indented, or on one line, as it was.
std::string relaid(const std::string &path, const std::string &text, const Json &before, const Json &after) {
  if (QString::fromStdString(path).endsWith(".particle.json"))
    try {
      if (projectToText(projectFromJson(before, path)) == text)
        return projectToText(projectFromJson(after, path));
    } catch (const std::exception &) {
      // Not a project as this version writes them: written as JSON below.
    }
  const auto newline = text.find('\n');
  const bool oneLine = newline == std::string::npos || newline + 1 == text.size();
  return after.dump(oneLine ? -1 : 2) + "\n";
}
} // namespace

void KeepReport::add(const KeepReport &other) {
  // "1 run moved to D/runs" and "1 search moved to D/runs" say it once: "1 run, 1 search moved to …".
  for (const QString &line : other.done) {
    const QRegularExpression where(" (" + QRegularExpression::escape(tr("moved")) + "|" +
                                   QRegularExpression::escape(tr("copied")) + ") " +
                                   QRegularExpression::escape(tr("to")) + " ");
    const auto at = line.indexOf(where);
    const QString tail = at < 0 ? QString() : line.mid(at);
    auto same = std::find_if(done.begin(), done.end(), [&](const QString &d) { return at >= 0 && d.endsWith(tail); });
    if (same == done.end())
      done << line;
    else
      *same = same->left(same->size() - tail.size()) + ", " + line.left(at) + tail;
  }
  problems += other.problems;
  waiting += other.waiting;
}

QString KeepReport::text() const {
  return (done + problems + waiting).join("; ");
}

QString madeFolderPrefix(const QString &kind, const QString &projectName) {
  const std::string name = safeRunName(projectName.toStdString());
  return QString::fromStdString(kind.isEmpty() ? name : safeRunName(kind.toStdString() + "-" + name)) + "-";
}

QString relocateFolder(const QString &from, const QString &to, bool copy) {
  const QFileInfo target(to);
  const QString parent = target.absolutePath();
  if (!QDir().mkpath(parent))
    return tr("%1: cannot create the folder").arg(parent);
  if (target.exists() || target.isSymLink())
    return tr("%1: is there already").arg(to);
  if (!copy && QDir().rename(from, to)) // Qt renames without replacing what is there
    return {};
  // A hidden name of this process's own, so that no history lists it and no other save takes it.
  const QString partial = QDir(parent).filePath("." + target.fileName() + ".partial-" +
                                                QString::number(QCoreApplication::applicationPid()));
  QDir(partial).removeRecursively();
  QString error = copyFolder(from, partial);
  if (error.isEmpty() && !QDir().rename(partial, to))
    error = tr("%1: taken meanwhile").arg(to);
  if (!error.isEmpty()) {
    QDir(partial).removeRecursively();
    return error;
  }
  if (!copy)
    QDir(from).removeRecursively();
  return {};
}

QString retellFolder(const QString &folder, const QString &from, const QString &oldName, const QString &newName) {
  Retelling r;
  for (const QString &spelling : {from, QFileInfo(from).absoluteFilePath(), QDir::cleanPath(from)})
    if (std::find(r.from.begin(), r.from.end(), spelling.toStdString()) == r.from.end())
      r.from.push_back(spelling.toStdString());
  r.to = QFileInfo(folder).absoluteFilePath().toStdString();
  r.oldName = oldName.toStdString();
  r.newName = newName.toStdString();
  QStringList failed;
  // What the trials printed names where they wrote ("wrote …/trials/own/{metrics.csv,…}").
  QDirIterator logs(folder, {"*.log", "*.err"}, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
  while (logs.hasNext()) {
    const QString file = logs.next();
    const QFileInfo info = logs.fileInfo();
    if (info.isSymLink() || info.size() > static_cast<qint64>(kMaxJsonBytes))
      continue;
    const QDateTime written = info.lastModified();
    std::string text;
    try {
      text = readTextFile(file.toStdString());
    } catch (const std::exception &) {
      continue; // unreadable: left as it is
    }
    if (!retellText(text, r))
      continue;
    try {
      writeFileAtomically(file.toStdString(), text);
    } catch (const std::exception &e) {
      failed << QString::fromUtf8(e.what());
      continue;
    }
    QFile log(file);
    if (log.open(QIODevice::ReadWrite))
      log.setFileTime(written, QFileDevice::FileModificationTime);
  }
  QDirIterator files(folder, {"*.json"}, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
  while (files.hasNext()) {
    const std::string path = files.next().toStdString();
    if (files.fileInfo().size() > static_cast<qint64>(kMaxJsonBytes))
      continue;
    std::string text;
    Json before;
    try {
      text = readTextFile(path);
      before = parseJson(text, path);
    } catch (const std::exception &) {
      continue; // not JSON we could read: left as it is
    }
    Json after = before;
    if (!retell(after, {}, r))
      continue;
    try {
      writeFileAtomically(path, relaid(path, text, before, after));
    } catch (const std::exception &e) {
      failed << QString::fromUtf8(e.what());
    }
  }
  return failed.join("; ");
}

int removeStalePartials(const QString &folder) {
  static const QRegularExpression partialName("^\\..+\\.partial-([0-9]+)$");
  int removed = 0;
  const QDir dir(folder);
  for (const QFileInfo &f : dir.entryInfoList({".*.partial-*"}, QDir::Dirs | QDir::Hidden | QDir::NoDotAndDotDot)) {
    const QRegularExpressionMatch m = partialName.match(f.fileName());
    if (!m.hasMatch() || f.isSymLink())
      continue;
    bool number = false;
    const qint64 pid = m.captured(1).toLongLong(&number);
    if (number && copyingNow(pid))
      continue;
    if (QDir(f.filePath()).removeRecursively())
      ++removed;
  }
  return removed;
}

void MadeFolders::add(const QString &folder, const QString &kind, const QString &projectName) {
  made_.push_back({folder, kind, projectName});
}

void MadeFolders::clear() {
  made_.clear();
  waiting_ = false;
}

KeepReport MadeFolders::keep(const QString &root, const QString &unowned, const QString &projectName,
                             const std::function<bool(const QString &)> &busy,
                             const std::function<void(const QString &, const QString &)> &moved) {
  KeepReport report;
  waiting_ = false;
  // A copy into this folder killed midway (its process gone) left its hidden partial folder: it
  // goes now, whether or not anything is kept this time.
  removeStalePartials(root);
  std::map<QString, int> movedKinds, copiedKinds;
  const QString unownedPath = QFileInfo(unowned).absoluteFilePath();
  for (Made &m : made_) {
    const QFileInfo folder(m.folder);
    if (!folder.isDir())
      continue; // removed by the user meanwhile
    const QString oldPrefix = madeFolderPrefix(m.kind, m.name);
    const QString rest =
        folder.fileName().startsWith(oldPrefix) ? folder.fileName().mid(oldPrefix.size()) : folder.fileName();
    const QString wanted = QDir(root).filePath(madeFolderPrefix(m.kind, projectName) + rest);
    if (folder.absoluteFilePath() == QFileInfo(wanted).absoluteFilePath())
      continue;
    if (busy(m.folder)) {
      waiting_ = true;
      report.waiting << tr("%1 is in use: it stays in %2 and goes to %3 when it ends")
                            .arg(kindOne(m.kind).arg(folder.fileName()), folder.absolutePath(), root);
      continue;
    }
    const bool copy = folder.absolutePath() != unownedPath;
    // Never over a folder that is there (another project's, or one made meanwhile): the next name.
    QString to = wanted, error;
    for (int n = 2;; ++n) {
      if (!QFileInfo::exists(to) && !QFileInfo(to).isSymLink()) {
        error = relocateFolder(m.folder, to, copy);
        if (error.isEmpty() || !QFileInfo::exists(to))
          break;
      }
      if (n > 999) {
        error = tr("%1: no free name beside it").arg(wanted);
        break;
      }
      to = wanted + "-" + QString::number(n);
    }
    if (!error.isEmpty()) {
      report.problems << tr("%1 was not %2 to %3 (%4); nothing of it was lost: it is still in %5")
                             .arg(kindOne(m.kind).arg(folder.fileName()), copy ? tr("copied") : tr("moved"), root,
                                  error, folder.absolutePath());
      continue;
    }
    if (const QString failed = retellFolder(to, m.folder, m.name, projectName); !failed.isEmpty())
      report.problems << tr("%1 still names its old place or project in: %2").arg(to, failed);
    ++(copy ? copiedKinds : movedKinds)[m.kind];
    const QString from = m.folder;
    m = {to, m.kind, projectName};
    moved(from, to);
  }
  for (const auto &[kinds, verb] : {std::pair{&movedKinds, tr("moved")}, std::pair{&copiedKinds, tr("copied")}}) {
    QStringList counts;
    for (const auto &[kind, n] : *kinds)
      counts << kindCount(kind, n);
    if (!counts.isEmpty())
      report.done << QString("%1 %2 %3 %4").arg(counts.join(", "), verb, tr("to"), root);
  }
  return report;
}

} // namespace particle::ui
