#pragma once
// Shared by the test executables: paths, a small valid project, temp files.

#include "base/Json.h"
#include "project/Project.h"

#include <QByteArray>
#include <QElapsedTimer>
#include <QProcess>
#include <QString>
#include <QTemporaryDir>

#include <string>

namespace particle::test {

#ifdef __SANITIZE_ADDRESS__
// Under AddressSanitizer the processes a test starts (the CLI: a search's, a claims run's, a
// curve's or a transfer's trials, exports, reports, the app's Experiments tab) do not look for leaks
// when they exit: LeakSanitizer's scan costs each ~0.8 s of the ~3 s it takes to start, and the
// suite starts ~800 of them. The test process itself (the engine, the widgets, the app's in-process
// training and explaining) is checked as before, and so is every CLI command: tst_cli, the CLI's
// own test, defines PARTICLE_TEST_CHILDREN_CHECK_LEAKS and its processes keep the check.
inline const bool kChildrenSkipLeakCheck = [] {
#ifdef PARTICLE_TEST_CHILDREN_CHECK_LEAKS
  return false;
#else
  QByteArray options = qgetenv("ASAN_OPTIONS");
  if (!options.isEmpty())
    options += ':';
  qputenv("ASAN_OPTIONS", options + "detect_leaks=0");
  return true;
#endif
}();
#endif

inline std::string sourceDir() {
  return PARTICLE_SOURCE_DIR;
}
inline std::string examplePath(const std::string &name) {
  return sourceDir() + "/resources/examples/" + name + ".particle.json";
}
inline const char *const kExamples[] = {"seed-two-halves", "fashion-patches", "fashion-tokens", "synthetic-parts"};

// A small, valid, fast project: 4 synthetic parts, two tied MLPs, concat.
inline Json baseProject() {
  return Json::parse(R"({
    "format": "particle-studio", "version": 1, "name": "t",
    "dataset": {"kind": "synthetic", "parts": 4, "part_dim": 8, "informative": [0, 2], "classes": 4, "samples": 400},
    "nodes": [
      {"id": "input", "type": "Input"},
      {"id": "split", "type": "Split", "params": {"mode": "chunks", "parts": 4}},
      {"id": "a", "type": "MLP", "params": {"hidden": [16], "out": 8}, "share": "g"},
      {"id": "b", "type": "MLP", "params": {"hidden": [16], "out": 8}, "share": "g"},
      {"id": "c", "type": "MLP", "params": {"hidden": [16], "out": 8}},
      {"id": "d", "type": "MLP", "params": {"hidden": [16], "out": 8}},
      {"id": "combine", "type": "Combine", "params": {"mode": "concat"}},
      {"id": "head", "type": "Classifier"}
    ],
    "edges": [
      {"from": "input", "to": "split"},
      {"from": "split", "to": "a"}, {"from": "split:1", "to": "b"},
      {"from": "split:2", "to": "c"}, {"from": "split:3", "to": "d"},
      {"from": "a", "to": "combine"}, {"from": "b", "to": "combine:1"},
      {"from": "c", "to": "combine:2"}, {"from": "d", "to": "combine:3"},
      {"from": "combine", "to": "head"}
    ],
    "training": {"epochs": 1, "batch_size": 32, "threads": 1}
  })");
}

// XDG_CACHE_HOME set to `folder` while the guard lives, then back as it was: a user cache folder of
// the test's own (the matmul peaks measured afresh, not read from the shared test cache).
class CacheHomeAt {
public:
  explicit CacheHomeAt(const QString &folder) : before_(qgetenv("XDG_CACHE_HOME")) {
    qputenv("XDG_CACHE_HOME", folder.toUtf8());
  }
  ~CacheHomeAt() {
    if (before_.isEmpty())
      qunsetenv("XDG_CACHE_HOME");
    else
      qputenv("XDG_CACHE_HOME", before_);
  }
  CacheHomeAt(const CacheHomeAt &) = delete;
  CacheHomeAt &operator=(const CacheHomeAt &) = delete;

private:
  QByteArray before_;
};

inline std::string writeFile(const QTemporaryDir &dir, const std::string &name, const std::string &text) {
  const std::string path = dir.path().toStdString() + "/" + name;
  writeFileAtomically(path, text);
  return path;
}

// A program run to its end (killed after `timeoutMs`): exit code (-1 when it crashed), output, time.
struct ProcessRun {
  int code = -1;
  QString out, err;
  qint64 ms = 0;
  QString all() const { return out + err; }
};

inline ProcessRun runProcess(const QString &program, const QStringList &args,
                             const QProcessEnvironment &env = QProcessEnvironment::systemEnvironment(),
                             int timeoutMs = 600000, const QString &workingDirectory = {}) {
  QProcess p;
  p.setProcessEnvironment(env);
  if (!workingDirectory.isEmpty())
    p.setWorkingDirectory(workingDirectory);
  QElapsedTimer timer;
  timer.start();
  p.start(program, args);
  if (!p.waitForFinished(timeoutMs)) {
    p.kill();
    p.waitForFinished();
  }
  ProcessRun r;
  r.ms = timer.elapsed();
  r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
  r.out = QString::fromUtf8(p.readAllStandardOutput());
  r.err = QString::fromUtf8(p.readAllStandardError());
  return r;
}

} // namespace particle::test
