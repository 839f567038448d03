#pragma once
// The two files between the engine and particle-tokenize, the SentencePiece helper. SentencePiece
// runs in a process of its own because Debian's libsentencepiece carries a protobuf-lite whose
// symbols clash with the protobuf that LibTorch loads (docs/DECISIONS.md); the engine writes the
// texts, the helper trains or loads a model and writes the token ids. Little-endian, as written.
//
//   texts:  "PSTEXTS1", u64 count, then per text: u8 train (1: in the training split), u64 size, bytes
//   tokens: "PSTOKEN1", u64 pieces, per piece: u32 size, bytes; u64 count, u64 max_tokens,
//           then per text: u32 n (≤ max_tokens), n × i32 ids
//
// Header-only and standard C++ only: the helper links neither LibTorch nor Qt.

#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace particle::tokenfiles {

constexpr char kTextsMagic[9] = "PSTEXTS1";
constexpr char kTokensMagic[9] = "PSTOKEN1";

struct Tokens {
  std::vector<std::string> pieces;       // id → piece ("<pad>" 0, "<unk>" 1, "▁word", "ing"…)
  std::vector<std::vector<int32_t>> ids; // per text, at most maxTokens
  uint64_t maxTokens = 0;
};

namespace detail {
template <typename T> void put(std::ostream &out, T v) {
  out.write(reinterpret_cast<const char *>(&v), sizeof v);
}
template <typename T> bool get(std::istream &in, T &v) {
  return static_cast<bool>(in.read(reinterpret_cast<char *>(&v), sizeof v));
}
inline uint64_t remaining(std::istream &in) {
  const auto at = in.tellg();
  in.seekg(0, std::ios::end);
  const auto end = in.tellg();
  in.seekg(at);
  return at < 0 || end < at ? 0 : static_cast<uint64_t>(end - at);
}
} // namespace detail

// Writes the texts (each with its training flag); false when the file cannot be written.
inline bool writeTexts(const std::string &path, const std::vector<const std::string *> &texts,
                       const std::vector<uint8_t> &train) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out)
    return false;
  out.write(kTextsMagic, 8);
  detail::put<uint64_t>(out, texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    detail::put<uint8_t>(out, i < train.size() ? train[i] : 0);
    detail::put<uint64_t>(out, texts[i]->size());
    out.write(texts[i]->data(), static_cast<std::streamsize>(texts[i]->size()));
  }
  out.flush();
  return static_cast<bool>(out);
}

// Reads texts written by writeTexts; an empty string when it could, else what is wrong.
inline std::string readTexts(const std::string &path, std::vector<std::string> &texts, std::vector<uint8_t> &train) {
  std::ifstream in(path, std::ios::binary);
  char magic[8];
  if (!in || !in.read(magic, 8) || std::memcmp(magic, kTextsMagic, 8) != 0)
    return path + ": not a texts file";
  uint64_t count = 0;
  if (!detail::get(in, count) || count > detail::remaining(in) / 9)
    return path + ": a bad count of texts";
  texts.resize(count);
  train.resize(count);
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t size = 0;
    if (!detail::get(in, train[i]) || !detail::get(in, size) || size > detail::remaining(in))
      return path + ": cut short at text " + std::to_string(i);
    texts[i].resize(size);
    in.read(texts[i].data(), static_cast<std::streamsize>(size));
  }
  return {};
}

inline bool writeTokens(const std::string &path, const Tokens &t) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out)
    return false;
  out.write(kTokensMagic, 8);
  detail::put<uint64_t>(out, t.pieces.size());
  for (const auto &p : t.pieces) {
    detail::put<uint32_t>(out, static_cast<uint32_t>(p.size()));
    out.write(p.data(), static_cast<std::streamsize>(p.size()));
  }
  detail::put<uint64_t>(out, t.ids.size());
  detail::put<uint64_t>(out, t.maxTokens);
  for (const auto &row : t.ids) {
    detail::put<uint32_t>(out, static_cast<uint32_t>(row.size()));
    out.write(reinterpret_cast<const char *>(row.data()), static_cast<std::streamsize>(row.size() * 4));
  }
  out.flush();
  return static_cast<bool>(out);
}

// Reads a tokens file, checking every size against the file and every id against the pieces;
// an empty string when it could, else what is wrong.
inline std::string readTokens(const std::string &path, Tokens &t) {
  std::ifstream in(path, std::ios::binary);
  char magic[8];
  if (!in || !in.read(magic, 8) || std::memcmp(magic, kTokensMagic, 8) != 0)
    return path + ": not a tokens file";
  uint64_t pieces = 0;
  if (!detail::get(in, pieces) || pieces > detail::remaining(in) / 4)
    return path + ": a bad count of pieces";
  t.pieces.resize(pieces);
  for (auto &p : t.pieces) {
    uint32_t size = 0;
    if (!detail::get(in, size) || size > detail::remaining(in))
      return path + ": cut short in the pieces";
    p.resize(size);
    in.read(p.data(), size);
  }
  uint64_t count = 0;
  if (!detail::get(in, count) || !detail::get(in, t.maxTokens) || count > detail::remaining(in) / 4)
    return path + ": a bad count of texts";
  t.ids.resize(count);
  for (auto &row : t.ids) {
    uint32_t n = 0;
    if (!detail::get(in, n) || n > t.maxTokens || uint64_t(n) * 4 > detail::remaining(in))
      return path + ": cut short in the token ids";
    row.resize(n);
    in.read(reinterpret_cast<char *>(row.data()), static_cast<std::streamsize>(n) * 4);
    for (int32_t id : row)
      if (id < 0 || static_cast<uint64_t>(id) >= pieces)
        return path + ": a token id outside the pieces";
  }
  return {};
}

} // namespace particle::tokenfiles
