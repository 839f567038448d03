#pragma once
// One self-contained HTML report of a folder the other recipes wrote (`particle report`, File →
// Export report… in the app): a run (summary.json), a search (search.json), claims (claims.json),
// a transfer experiment (transfer.json) or learning curves (curve.json). Every figure is an inline
// SVG drawn by explain/Chart.h, the styles are inline and there are no scripts, so the file opens
// offline, can be mailed to a colleague and printed. A run's report also evaluates the checkpoint
// on the test split (the confusion matrix, per-class metrics) and explains a few test samples.

#include <cstdint>
#include <functional>
#include <string>

namespace particle {

enum class ReportKind { Run, Search, Claims, Transfer, Curve };
// "run", "search", "claims", "transfer", "learning curve".
const char *reportKindName(ReportKind kind);

// What `dir` holds, by the file that names its kind. Throws Error(File) naming the folder when it
// holds none of them.
ReportKind reportKind(const std::string &dir);

struct ReportOptions {
  int64_t explainSamples = 64; // a run's test samples explained (attributions per branch)
  int64_t saliencySamples = 8; // of those, the ones whose integrated gradients are drawn
  // Called before each slow stage with a few words saying what it does ("evaluating the test split").
  std::function<void(const std::string &stage)> progress;
};

// The report's whole text. Throws Error(File) naming the file and field of a damaged input.
std::string reportHtml(const std::string &dir, const ReportOptions &options = {});

} // namespace particle
