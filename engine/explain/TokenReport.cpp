#include "explain/TokenReport.h"

#include "data/Tokenizer.h"

#include <cmath>
#include <cstdio>

namespace particle {

namespace {

std::string escape(const std::string &w) {
  std::string out;
  for (char c : w)
    out += c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '&' ? "&amp;" : c == '"' ? "&quot;" : std::string(1, c);
  return out;
}

// White at 0, towards red (for) or blue (against) with |v| ≤ 1.
std::string colour(double v) {
  v = std::clamp(v, -1.0, 1.0);
  const int r = v >= 0 ? 255 : static_cast<int>(255 + 215 * v);
  const int g = static_cast<int>(255 - 150 * std::abs(v));
  const int b = v <= 0 ? 255 : static_cast<int>(255 - 215 * v);
  char hex[8];
  std::snprintf(hex, sizeof hex, "#%02x%02x%02x", r, g, b);
  return hex;
}

} // namespace

std::vector<TokenAttribution> tokenAttributions(const std::vector<std::string> &vocabulary, const torch::Tensor &ids,
                                                int64_t i, const std::vector<Explainer::Saliency> &saliency) {
  const auto row = ids[i].to(torch::kLong).cpu();
  const int64_t t = row.size(0);
  std::vector<torch::Tensor> maps;
  for (const auto &s : saliency)
    maps.push_back(s.map[s.map.size(0) > i ? i : 0].reshape({t}).to(torch::kDouble).cpu());
  std::vector<TokenAttribution> out;
  const bool pieces = isPieceVocabulary(vocabulary);
  const auto *pid = row.data_ptr<int64_t>();
  for (int64_t k = 0; k < t; ++k) {
    if (pid[k] == 0)
      continue; // padding
    TokenAttribution a;
    a.position = k;
    a.token = pid[k] < static_cast<int64_t>(vocabulary.size()) ? vocabulary[static_cast<std::size_t>(pid[k])]
                                                               : std::string("<unk>");
    const ReadableToken readable = readableToken(a.token, pieces);
    a.text = readable.text;
    a.joinsPrevious = readable.joinsPrevious;
    double best = 0;
    for (std::size_t b = 0; b < maps.size(); ++b) {
      const double v = maps[b].data_ptr<double>()[k];
      a.attribution += v;
      if (v != 0 && std::abs(v) >= best) {
        best = std::abs(v);
        a.branch = static_cast<int>(b);
      }
    }
    out.push_back(a);
  }
  return out;
}

std::string tokensHtml(const std::vector<TokenAttribution> &tokens, const std::vector<std::string> &branchNames) {
  double maxAbs = 1e-12;
  for (const auto &t : tokens)
    maxAbs = std::max(maxAbs, std::abs(t.attribution));
  std::string html;
  int branch = -2;
  for (const auto &t : tokens) {
    if (t.branch != branch && t.branch >= 0 && t.branch < static_cast<int>(branchNames.size())) {
      html += " <span style=\"background-color:#333333;color:#ffffff\">&nbsp;" +
              escape(branchNames[static_cast<std::size_t>(t.branch)]) + "&nbsp;</span>";
      branch = t.branch;
    }
    if (!t.joinsPrevious)
      html += " ";
    char title[64];
    std::snprintf(title, sizeof title, "%.3g", t.attribution);
    html += "<span style=\"background-color:" + colour(t.attribution / maxAbs) + "\" title=\"" + escape(t.token) +
            ": " + title + "\">" + escape(t.text) + "</span>";
  }
  return html;
}

std::string tokensLegendHtml() {
  std::string html = "<span style=\"background-color:" + colour(-1) + "\">&nbsp;against&nbsp;</span>";
  for (double v : {-0.5, 0.0, 0.5})
    html += "<span style=\"background-color:" + colour(v) + "\">&nbsp;&nbsp;&nbsp;</span>";
  html += "<span style=\"background-color:" + colour(1) + "\">&nbsp;for the class&nbsp;</span>";
  html += " &nbsp;each text scaled to its largest |attribution|; a dark label marks where the next sub-model "
          "begins reading.";
  return html;
}

} // namespace particle
