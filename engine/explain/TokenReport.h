#pragma once
// Token explanations of text data: every token of a sample with its attribution toward the
// explained class (integrated gradients on the embeddings, summed over each token's vector) and
// the branch (sub-model) that read it; as HTML for the Explain tab and `particle explain`'s
// tokens.html. The colours and the branch marks are the same in both.

#include "explain/Explainer.h"

#include <string>
#include <vector>

namespace particle {

// `token` is the vocabulary's entry (a word, or a SentencePiece piece such as "▁free").
struct TokenAttribution {
  std::string token;
  int64_t position = 0;
  double attribution = 0;
  int branch = -1;            // index into the saliency list; −1 when no branch reads the position
  std::string text;           // as it reads (SentencePiece's "▁" dropped)
  bool joinsPrevious = false; // a SentencePiece piece inside a word: no space before it
};

// The tokens of sample `i` of `ids` [N, T] (padding left out) with the summed attribution of the
// branches' maps ([N, T] each, from Explainer::integratedGradients) and the branch that read each.
std::vector<TokenAttribution> tokenAttributions(const std::vector<std::string> &vocabulary, const torch::Tensor &ids,
                                                int64_t i, const std::vector<Explainer::Saliency> &saliency);

// An HTML fragment: the tokens as spans coloured by attribution (red for, blue against, each
// sample scaled to its largest |attribution|), a dark label where the next branch begins. Plain
// inline styles, so that Qt's rich text shows it as a browser does.
std::string tokensHtml(const std::vector<TokenAttribution> &tokens, const std::vector<std::string> &branchNames);

// The colour scale's explanation, for above the fragments.
std::string tokensLegendHtml();

} // namespace particle
