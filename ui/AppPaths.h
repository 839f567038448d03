#pragma once
// Folders the app reads and writes: the bundled examples, the user's data location for runs and
// recovery files, and the folders whose projects must not get run folders next to them.

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

} // namespace particle::ui
