#pragma once
// The project's "dataset" section and the registry of data kinds. Each kind is one file under
// engine/data/kinds/ (its keys as a Schema, its probe and its loader) plus one line in
// engine/data/kinds/Builtins.cpp. Torch-free: the editor and `particle check` learn the sample
// shape, the classes and the split sizes from the probe without loading the data.

#include "base/Registry.h"
#include "graph/Problem.h"
#include "graph/Shape.h"
#include "base/Json.h"
#include "schema/Schema.h"

#include <atomic>
#include <exception>
#include <memory>
#include <functional>
#include <string>
#include <vector>

namespace particle {

struct DataKind;
struct Dataset;

// A parsed, checked "dataset" section.
// Thrown by a load whose DatasetSpec::cancel was set.
struct LoadCancelled : std::exception {
  const char *what() const noexcept override { return "loading the data set was cancelled"; }
};

struct DatasetSpec {
  std::string kind;
  const DataKind *type = nullptr;
  Json params = Json::object(); // every key of the kind, defaults filled in, paths resolved
  double validationFraction = 0.1;
  uint64_t seed = 0;
  int64_t limit = 0;      // use at most this many training samples (0: all)
  uint64_t limitSeed = 0; // which `limit` samples: 0 the first of the training split, else drawn with this seed
  // The classes kept, in their new order (names or 0-based indices as written; empty: all). The
  // kept ones are relabelled 0..k-1 in this order and keep their names.
  Json selectClasses = Json::array();
  std::string baseDir;
  // Not from the file: set by whoever may abandon the load (the app's data preview). Loaders call
  // checkCancelled() between pieces of work; a set flag ends the load with LoadCancelled.
  std::shared_ptr<const std::atomic<bool>> cancel;
  void checkCancelled() const;

  // Typed reads of the kind's keys (already checked).
  std::string text(const char *key) const;
  int64_t integer(const char *key) const;
  double number(const char *key) const;
  bool flag(const char *key) const;
  const Json &value(const char *key) const;
};

struct DataKind {
  std::string name;
  std::string doc;
  Schema keys; // the kind's own keys; the common ones (commonDatasetKeys) are every kind's
  // Checks that span keys (both test files or neither…); throws Error(Invalid) naming "dataset.<key>".
  std::function<void(const DatasetSpec &)> check;
  // Sample shape, classes (with names when the data has them) and split sizes, reading as little
  // as it can (headers, the label column). Throws Error(File) naming the file.
  std::function<DataInfo(const DatasetSpec &)> probe;
  // The whole data set, split. Throws Error(File) naming the file (and line, for text formats).
  std::function<void(const DatasetSpec &, Dataset &)> load;
  // The loader fills Dataset::info itself (what the probe would say), so loading does not probe
  // first: for kinds whose probe costs a pass over many files.
  bool loadSetsInfo = false;
  // Tables: the column names a user picks from, read from the keys given so far (paths resolved;
  // the other keys may still be missing). Throws Error(File) when the file cannot be read.
  std::function<std::vector<std::string>(const Json &keys)> columns;
  // What the loaded data depends on that a run keeps beside its project copy, and that reading one
  // of its checkpoints uses again (the text kind: the SentencePiece model it encoded with).
  // `keepWithRun` copies it into the run folder and names it in the copy's section; `fromRun`
  // fills a section that names none from the folder of a run's checkpoint. Both optional.
  std::function<void(const Dataset &, Json &section, const std::string &runDir)> keepWithRun;
  std::function<void(Json &section, const std::string &runDir)> fromRun;
};

// Defined in engine/data/kinds/Builtins.cpp.
std::vector<DataKind> builtinDataKinds();

// The data kinds by name (base/Registry.h: instance, add, find, entries, names); the built-ins
// come from engine/data/kinds/Builtins.cpp, a test may add its own with add.
class DataKinds : public Registry<DataKinds, DataKind, &DataKind::name> {
private:
  friend class Registry<DataKinds, DataKind, &DataKind::name>;
  DataKinds() : Registry(builtinDataKinds()) {}
};

// The keys every kind takes: validation_fraction, seed, limit, limit_seed, select_classes.
const Schema &commonDatasetKeys();
// Every key of a kind: its own and the common ones (what the Data panel shows).
Schema datasetSchema(const DataKind &kind);

// Throws the KeyError of a wrong "dataset" key (code bad-dataset; data-unavailable when `kind` is
// File): what a section check or a kind says about one of its keys.
[[noreturn]] void badDatasetKey(const std::string &key, const std::string &message,
                                ErrorKind kind = ErrorKind::Invalid);

// Parses and checks the section. Unknown keys and bad values throw Error(Invalid) naming the
// key as "dataset.<key>". Relative paths resolve against `baseDir`.
DatasetSpec parseDatasetSpec(const Json &section, const std::string &baseDir);

// The section with its relative paths made absolute (a copy of the project kept with a run
// still names the same files).
Json withAbsolutePaths(const Json &section, const std::string &baseDir);

// The kind's keepWithRun for `data`, loaded from `section` (nothing for a kind without one).
void keepDataWithRun(const Dataset &data, Json &section, const std::string &runDir);
// The section as the run of `checkpoint` read it (resuming, explaining, exporting): the kind's
// fromRun with the checkpoint's folder; nothing when `checkpoint` is empty.
void useRunData(Json &section, const std::string &checkpoint);

// The columns of a tabular data set (empty for other kinds, or when the file cannot be read yet).
std::vector<std::string> datasetColumns(const Json &section, const std::string &baseDir);

// Sample shape, classes and split sizes. Missing or unreadable files throw Error(File).
DataInfo probeDataset(const DatasetSpec &spec);

// The original indices of the classes `select_classes` keeps, in its order, resolved against the
// data's class names (or indices); empty when it keeps all. An unknown name or an index out of
// range throws Error(Invalid) naming dataset.select_classes and the class.
std::vector<int64_t> selectedClasses(const DatasetSpec &spec, const DataInfo &info);
// `info` as the selection leaves it: k classes with their names and counts. The split sizes become
// unknown (-1) until the data is loaded: which samples fall into which split is drawn at random.
void applyClassSelection(DataInfo &info, const std::vector<int64_t> &kept);

// Split sizes as the loaders carve them: test (when the data has no test split of its own, given
// by `testFraction`), validation, then the rest for training, capped at `limit`.
void setSplitCounts(DataInfo &info, const DatasetSpec &spec, int64_t samples, double testFraction,
                    int64_t ownTestSamples = -1);

// The folder used for kind fashion-mnist: "path", else $PARTICLE_DATA, else Debian's.
std::string fashionMnistFolder(const DatasetSpec &spec);

} // namespace particle
