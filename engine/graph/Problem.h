#pragma once
// Problems as programs see them: a code with a stable name, the node, param, port or edge it is
// about, and the sentence for the user. The graph's checks (graph/Validator.h) and a whole
// project's (project/ProjectCheck.h) report them; a section's parser throws a KeyError, which
// carries the same code and the key it is about.

#include "base/Error.h"

#include <string>

namespace particle {

// What a problem is about, for programs (the editor decides by code, never by wording).
enum class ProblemCode {
  DataUnavailable,    // the data set cannot be read (missing file, bad header…)
  BadDataset,         // a "dataset" key is wrong
  BadTraining,        // a "training" key is wrong
  UnknownType,        // no such node type
  UnknownParam,       // the type has no such param
  BadParam,           // a param value fails its schema
  ShareNotAllowed,    // the type has nothing to share
  TrunkNotAllowed,    // share_scope "trunk" on a type without a trunk
  ScopeWithoutGroup,  // share_scope without a share group
  ShareMismatch,      // members of a share group differ (type, scope, params, input shape)
  ShareAlone,         // warning: a share group with one member
  EdgeToMissingNode,  // an edge names a node that does not exist
  SelfLoop,           // an edge from a node to itself
  NoSuchOutputPort,   // an edge leaves from a port the node does not have
  NoSuchInputPort,    // an edge arrives at a port the node does not have
  InputTakenTwice,    // two edges into one input port
  NoInputNode,        // the graph has no data source
  ExtraInputNode,     // more than one data source
  NoClassifier,       // the graph has no output node
  ExtraClassifier,    // more than one output node
  Cycle,              // the node is part of a cycle
  InputNotConnected,  // a single-input node's input is free
  TooFewBranches,     // a Combiner has fewer branches than it needs
  PortGap,            // numbered input ports with a gap
  ShapeError,         // the node's shape rule refused its inputs or params
  NoPath,             // no path from the data source to the output
  DoesNotReachOutput, // warning: the node's output does not reach the output node
  UnusedOutputs,      // warning: some output ports of a node are not connected
  ClassCountMismatch, // the Classifier has fewer classes than the data set's labels
  PartMostlyPadding,  // warning: a decomposer's part over token ids is only padding for most training texts
  RareClass,          // warning: a class of the data set has very few samples (or none)
  PartsOverlap,       // warning: a decomposer puts some input elements in more than one part
  UnusedFeatures,     // warning: a decomposer leaves some input elements out of every part
  MemoryTooLarge,     // training needs more memory than the machine has (the estimate, not a guess)
  MemoryHigh,         // warning: training needs most of the machine's available memory
  NoWeights,          // init, freeze or adapter on a node that has no weights (a data source, a decomposer)
  BadAdapter,         // the adapter's kind, rank or alpha is wrong, or the node has no layer to adapt
  InitMismatch,       // the init source's node differs from this one (type, shapes, parameter count)
  InitUnavailable,    // the init source cannot be read, or has no such node
};
// A stable name for a code ("shape-error"), used in tests and machine-readable output.
const char *problemCodeName(ProblemCode code);

struct Problem {
  enum class Severity { Error, Warning };
  Severity severity = Severity::Error;
  ProblemCode code = ProblemCode::ShapeError;
  ErrorKind kind = ErrorKind::Invalid; // File when data files are missing or unreadable
  std::string node;                    // empty for project-level problems
  std::string param; // the param (or "dataset.x", "training.x", a node's "init.from", "freeze", "adapter.rank")
  std::string port;  // the input port when relevant
  int edge = -1;     // index into graph.edges when relevant
  std::string message;

  bool isError() const { return severity == Severity::Error; }
  // "FILE: node 'ID': message" (the CLI's format); without a file, "node 'ID': message".
  std::string format(const std::string &file) const;
};

// An error about one key of the project's "dataset" or "training" section. what() is the whole
// sentence ("dataset.path: no such file"); programs read the key and the code instead of it.
class KeyError : public Error {
public:
  // `section` "dataset" or "training", `field` the key in it, `detail` what is wrong with it.
  KeyError(ErrorKind kind, ProblemCode code, const std::string &section, const std::string &field,
           const std::string &detail)
      : Error(kind, section + "." + field + ": " + detail), code_(code), section_(section), field_(field),
        detail_(detail) {}
  ProblemCode code() const { return code_; }
  const std::string &section() const { return section_; }
  const std::string &field() const { return field_; }
  std::string key() const { return section_ + "." + field_; } // "dataset.path"
  const std::string &detail() const { return detail_; }

private:
  ProblemCode code_;
  std::string section_, field_, detail_;
};

} // namespace particle
