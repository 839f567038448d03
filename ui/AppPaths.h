#pragma once
// Folders the app reads and writes: the bundled examples, the user's data location for runs,
// recovery files and the particle library, and the folders whose projects must not get run
// folders next to them.

#include <QString>
#include <QStringList>

namespace particle::ui {

// The bundled example projects (installed share folder, else the source tree's).
QString examplesFolder();
// The example projects, by file path.
QStringList exampleProjects();
// Runs of projects that live where runs should not be written (examples, read-only folders).
QString userRunsFolder();
// True for a project file that is a bundled example (opened as a template, never overwritten).
bool isExample(const QString &path);
// Where runs and searches of the project at `projectPath` go: next to it, or in the user's runs
// folder for examples, unsaved projects and read-only folders.
QString runsFolderFor(const QString &projectPath);
// The folder no run folder may be created in (the source tree, or the installed examples).
QString protectedFolder();
// The user's particle library: particles/ in the app's data location, made when first asked for.
QString libraryFolder();
// The particles of the project at `projectPath`: particles/ beside it; empty for a project not
// saved yet (or an example, which is opened as a template).
QString projectPartsFolder(const QString &projectPath);

} // namespace particle::ui
