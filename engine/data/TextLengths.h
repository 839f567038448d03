#pragma once
// How long the texts of a `text` data set are, in tokens: for the Data panel's preview (median,
// 95th percentile, longest, a suggested max_tokens) and for validation's "part-mostly-padding"
// warning (a Split part that is nothing but padding for most training texts). The text kind counts
// them while it probes or loads (engine/data/kinds/Text.cpp). Torch-free.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace particle {

struct DatasetSpec;

struct TokenLengths {
  int64_t maxTokens = 0;
  std::vector<std::string> fields;           // the text fields, in sample order (one without text_columns)
  std::vector<std::vector<int64_t>> lengths; // per field, each training text's tokens before the cut
  // SentencePiece: the pieces were counted after the cut at max_tokens, so a text of max_tokens
  // pieces may be longer.
  bool capped = false;
};

struct LengthSummary {
  int64_t texts = 0;
  int64_t median = 0, p95 = 0, longest = 0; // the lower median; the nearest-rank 95th percentile
  int64_t cut = 0;                          // texts longer than max_tokens
  int64_t suggested = 0;                    // a max_tokens for them: p95 rounded up to a multiple of 8
};

LengthSummary summarizeLengths(std::vector<int64_t> lengths, int64_t maxTokens);

// The training texts' token lengths of a `text` data set (read, or remembered from the last probe
// or load of the same data and keys); nullopt for another kind, and for the SentencePiece tokenizer
// before a load has encoded the texts. Throws Error(File) when the data cannot be read.
std::optional<TokenLengths> textTokenLengths(const DatasetSpec &spec);

} // namespace particle
