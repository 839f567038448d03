#pragma once
// SentencePiece tokens for the text data kind. SentencePiece runs in particle-tokenize, a helper
// process without LibTorch (data/TokenFiles.h says why); the model it trains and the token ids it
// writes are cached beside the data, keyed by the texts and the options, so only the first load
// trains. A run keeps the model it trained with as tokenizer.model, and its project copy names it
// (dataset.tokenizer_model), so explain and resume encode exactly as training did. Torch-free.

#include "data/TokenFiles.h"
#include "base/Json.h"

#include <optional>
#include <string>
#include <vector>

namespace particle {

struct DatasetSpec;

struct PieceRequest {
  std::vector<const std::string *> texts; // every text to encode
  std::vector<uint8_t> train;             // per text: 1 when it is in the training split
  int64_t vocabSize = 8000;
  std::string type = "unigram"; // or "bpe"
  std::string model;            // a trained model to encode with; empty: train one on the training texts
  int64_t maxTokens = 256;
  std::string root;                  // the data's folder: the cache is <root>/.particle-cache
  const DatasetSpec *spec = nullptr; // for cancellation
};

struct PieceResult {
  tokenfiles::Tokens tokens;
  std::string modelFile; // the model that encoded them (trained and cached, or the one given)
  bool fromCache = false;
};

// The texts' token ids (at most maxTokens each) and the pieces; from the cache, else by running
// the helper. Throws Error(File) with the helper's message, naming dataset.vocab_size when it is
// more than the texts allow, or saying where the helper was looked for.
PieceResult sentencePieceTokens(const PieceRequest &request);

// The pieces, when the cache holds this request's tokens (no helper run): what the probe uses.
std::optional<std::vector<std::string>> cachedPieces(const PieceRequest &request);

// The helper: $PARTICLE_TOKENIZE, else particle-tokenize beside this program or in ../bin beside
// it, else on PATH. Empty when none is found.
std::string tokenizeProgram();

// Copies `model` into `outDir` as tokenizer.model (atomically; nothing when it already is that
// file) and returns the copy's absolute path.
std::string keepTokenizerWithRun(const std::string &model, const std::string &outDir);

// Whether a vocabulary is SentencePiece's (some piece starts with "▁", its word-start mark).
bool isPieceVocabulary(const std::vector<std::string> &vocabulary);

// How a token reads in running text. Words stand apart; of SentencePiece pieces, one that starts
// with "▁" begins a word (the mark dropped) and any other joins the piece before it.
struct ReadableToken {
  std::string text;
  bool joinsPrevious = false;
};
ReadableToken readableToken(const std::string &token, bool pieces);

} // namespace particle
