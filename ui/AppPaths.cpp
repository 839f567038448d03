#include "AppPaths.h"

#include "recipes/RunPlan.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QStandardPaths>

namespace particle::ui {

QString examplesFolder() {
  const QString installed = QCoreApplication::applicationDirPath() + "/../share/particle-studio/examples";
  if (QFileInfo::exists(installed))
    return QDir(installed).canonicalPath();
  return QDir(QString(PARTICLE_SOURCE_DIR) + "/resources/examples").absolutePath();
}

QStringList exampleProjects() {
  QStringList out;
  const QDir dir(examplesFolder());
  for (const QString &name : dir.entryList({"*.particle.json"}, QDir::Files, QDir::Name))
    out << dir.filePath(name);
  return out;
}

QString userRunsFolder() {
  return QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation) + "/runs";
}

bool isExample(const QString &path) {
  if (path.isEmpty())
    return false;
  const QString folder = QFileInfo(path).absoluteDir().canonicalPath();
  return !folder.isEmpty() && folder == QDir(examplesFolder()).canonicalPath();
}

QString protectedFolder() {
  const QString installed = QCoreApplication::applicationDirPath() + "/../share/particle-studio";
  if (QFileInfo::exists(installed))
    return QDir(installed).canonicalPath();
  return QDir(QString(PARTICLE_SOURCE_DIR)).absolutePath();
}

QString runsFolderFor(const QString &projectPath) {
  if (projectPath.isEmpty() || isExample(projectPath))
    return userRunsFolder();
  return QString::fromStdString(
      defaultRunsRoot(projectPath.toStdString(), userRunsFolder().toStdString(), protectedFolder().toStdString()));
}

QString libraryFolder() {
  QString folder = QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation) + "/particles";
  QDir().mkpath(folder);
  return folder;
}

QString projectPartsFolder(const QString &projectPath) {
  if (projectPath.isEmpty() || isExample(projectPath))
    return {};
  return QFileInfo(projectPath).absoluteDir().filePath("particles");
}

} // namespace particle::ui
