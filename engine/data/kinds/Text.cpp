// Kind "text": texts with labels — a CSV/TSV or JSON-lines file with a text field and a label
// field, or a folder with one sub-folder of .txt files per class — turned into token ids
// [max_tokens] (0 padding, 1 a token outside the vocabulary). Tokenizer "words": the training
// split's most frequent lower-cased words. Tokenizer "sentencepiece": a SentencePiece model
// (unigram or BPE) trained on the training split by the particle-tokenize helper
// (data/Tokenizer.h), or the one dataset.tokenizer_model names. Validation and test never shape
// the vocabulary.

#include "data/Cache.h"
#include "data/Dataset.h"
#include "data/TextLengths.h"
#include "data/Tokenizer.h"
#include "data/kinds/CsvReader.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sys/stat.h>
#include <unordered_map>

namespace particle {

namespace text {

namespace fs = std::filesystem;

constexpr std::size_t kMaxWord = 40; // longer runs (encoded attachments) are cut

// The texts: one string per text, or with several text fields (`text_columns`) one per field
// and text, field-major: texts[f * n + i].
struct Corpus {
  std::vector<std::string> texts;
  std::vector<std::string> labels;
  int64_t fields = 1;
  int64_t repaired = 0;                  // texts that held bytes that are not UTF-8
  std::vector<std::size_t> repairedRows; // JSON lines: texts whose line was repaired before parsing
  std::size_t count() const { return labels.size(); }
  const std::string &text(std::size_t field, std::size_t i) const { return texts[field * labels.size() + i]; }
};

// The text fields to read: `text_columns` when given, else `text_column`.
std::vector<std::string> textKeys(const DatasetSpec &spec) {
  std::vector<std::string> keys;
  if (const Json &list = spec.value("text_columns"); list.is_array())
    for (const auto &k : list)
      keys.push_back(k.get<std::string>());
  if (keys.empty())
    keys.push_back(spec.text("text_column"));
  return keys;
}

// Rows of fields to field-major texts.
void fieldMajor(Corpus &c, const std::vector<std::vector<std::string>> &rows) {
  c.fields = rows.empty() ? 1 : static_cast<int64_t>(rows.front().size());
  c.texts.clear();
  for (int64_t f = 0; f < c.fields; ++f)
    for (const auto &r : rows)
      c.texts.push_back(r[static_cast<std::size_t>(f)]);
}

// The length of the well-formed UTF-8 sequence at `i` (the Unicode standard's table 3-7: no
// overlong forms, no surrogates U+D800..DFFF, nothing above U+10FFFF), or 0 when there is none;
// then `prefix` is the length of its maximal subpart (at least 1), which becomes one U+FFFD.
std::size_t utf8Sequence(const std::string &s, std::size_t i, std::size_t &prefix) {
  const auto c = static_cast<unsigned char>(s[i]);
  prefix = 1;
  if (c < 0x80)
    return 1;
  std::size_t n = 0;
  unsigned char low = 0x80, high = 0xBF; // the second byte's range
  if (c >= 0xC2 && c <= 0xDF)
    n = 2;
  else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    low = c == 0xE0 ? 0xA0 : 0x80;
    high = c == 0xED ? 0x9F : 0xBF;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    low = c == 0xF0 ? 0x90 : 0x80;
    high = c == 0xF4 ? 0x8F : 0xBF;
  } else {
    return 0;
  }
  for (std::size_t k = 1; k < n; ++k) {
    if (i + k >= s.size())
      return 0;
    const auto b = static_cast<unsigned char>(s[i + k]);
    if (b < (k == 1 ? low : 0x80) || b > (k == 1 ? high : 0xBF))
      return 0;
    prefix = k + 1;
  }
  return n;
}

// `s` with every byte sequence that is not well-formed UTF-8 replaced by U+FFFD (one per maximal
// subpart, as the Unicode standard recommends); true when any was.
bool repairUtf8(std::string &s) {
  std::string out;
  bool bad = false;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t prefix = 1;
    if (const std::size_t n = utf8Sequence(s, i, prefix); n > 0) {
      out.append(s, i, n);
      i += n;
    } else {
      out += "\xEF\xBF\xBD";
      bad = true;
      i += prefix;
    }
  }
  if (bad)
    s.swap(out);
  return bad;
}

std::string readText(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error(ErrorKind::File, path + ": cannot open the file");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string labelText(const Json &v) {
  if (v.is_string())
    return v.get<std::string>();
  if (v.is_number_integer())
    return std::to_string(v.get<int64_t>());
  if (v.is_boolean())
    return v.get<bool>() ? "true" : "false";
  return v.dump();
}

Corpus readFolder(const DatasetSpec &spec, const std::string &root) {
  Corpus c;
  std::vector<fs::path> classes;
  std::error_code ec;
  for (const auto &e : fs::directory_iterator(root, ec))
    if (e.is_directory(ec) && e.path().filename().string()[0] != '.')
      classes.push_back(e.path());
  std::sort(classes.begin(), classes.end());
  if (classes.size() < 2)
    throw Error(ErrorKind::File, root + ": needs one folder of .txt files per class, at least two (found " +
                                     std::to_string(classes.size()) + ")");
  for (const auto &folder : classes) {
    std::vector<std::string> files;
    for (const auto &e : fs::recursive_directory_iterator(folder, ec))
      if (e.is_regular_file(ec) && e.path().extension() == ".txt")
        files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    if (files.empty())
      throw Error(ErrorKind::File, folder.string() + ": no .txt files in this class folder");
    for (const auto &f : files) {
      if (c.texts.size() % 256 == 0)
        spec.checkCancelled();
      c.texts.push_back(readText(f));
      c.labels.push_back(folder.filename().string());
    }
  }
  return c;
}

Corpus readJsonLines(const DatasetSpec &spec, const std::string &path, const std::vector<std::string> &textKeys,
                     const std::string &labelKey) {
  Corpus c;
  std::vector<std::vector<std::string>> rows;
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error(ErrorKind::File, path + ": cannot open the file");
  std::string line;
  int64_t lineNo = 0;
  while (std::getline(in, line)) {
    if (++lineNo % 4096 == 0)
      spec.checkCancelled();
    if (line.find_first_not_of(" \t\r") == std::string::npos)
      continue;
    // JSON text must be UTF-8: bytes that are not are replaced (and the text counted) as in CSV
    // files and .txt folders, before parsing, instead of refusing the line.
    if (repairUtf8(line))
      c.repairedRows.push_back(c.labels.size());
    Json j;
    try {
      j = Json::parse(line);
    } catch (const std::exception &e) {
      std::string why = e.what();
      if (const auto at = why.find("parse error"); at != std::string::npos)
        why = why.substr(at);
      throw Error(ErrorKind::File, path + ":" + std::to_string(lineNo) + ": not JSON (" + why + ")");
    }
    const std::string where = path + ":" + std::to_string(lineNo) + ": ";
    if (!j.is_object())
      throw Error(ErrorKind::File, where + "each line must be a JSON object");
    std::vector<std::string> row;
    for (const auto &textKey : textKeys) {
      if (!j.contains(textKey) || !j[textKey].is_string())
        throw Error(ErrorKind::File, where + "no text field \"" + textKey + "\" (dataset.text_column)");
      row.push_back(j[textKey].get<std::string>());
    }
    if (!j.contains(labelKey) || j[labelKey].is_null())
      throw Error(ErrorKind::File, where + "no label field \"" + labelKey + "\" (dataset.label_column)");
    rows.push_back(std::move(row));
    c.labels.push_back(labelText(j[labelKey]));
  }
  fieldMajor(c, rows);
  return c;
}

Corpus readTable(const DatasetSpec &spec, const std::string &path, const std::vector<std::string> &textKeys,
                 const std::string &labelKey) {
  Corpus c;
  std::vector<std::vector<std::string>> rows;
  csv::Reader reader(path, "auto", &spec);
  std::vector<std::string> header;
  std::vector<int64_t> textAt(textKeys.size(), -1);
  int64_t labelAt = -1;
  reader.read([&](std::vector<csv::Cell> &cells, int64_t line) {
    if (header.empty()) {
      for (auto &cell : cells)
        header.push_back(cell.value_or(std::string()));
      for (std::size_t i = 0; i < header.size(); ++i) {
        for (std::size_t k = 0; k < textKeys.size(); ++k)
          if (header[i] == textKeys[k])
            textAt[k] = static_cast<int64_t>(i);
        if (header[i] == labelKey)
          labelAt = static_cast<int64_t>(i);
      }
      for (std::size_t k = 0; k < textKeys.size(); ++k)
        if (textAt[k] < 0)
          throw Error(ErrorKind::File, path + ":1: no column named \"" + textKeys[k] + "\" (dataset.text_column)");
      if (labelAt < 0)
        throw Error(ErrorKind::File, path + ":1: no column named \"" + labelKey + "\" (dataset.label_column)");
      return true;
    }
    if (cells.size() != header.size())
      throw Error(ErrorKind::File, path + ":" + std::to_string(line) + ": has " + std::to_string(cells.size()) +
                                       " columns, the header has " + std::to_string(header.size()));
    const auto &label = cells[static_cast<std::size_t>(labelAt)];
    if (!label || label->empty())
      throw Error(ErrorKind::File, path + ":" + std::to_string(line) + ": the label is empty");
    std::vector<std::string> row;
    for (auto at : textAt)
      row.push_back(cells[static_cast<std::size_t>(at)].value_or(std::string()));
    rows.push_back(std::move(row));
    c.labels.push_back(*label);
    return true;
  });
  if (header.empty())
    throw Error(ErrorKind::File, path + ":1: empty file (a header line is required)");
  fieldMajor(c, rows);
  return c;
}

Corpus read(const DatasetSpec &spec) {
  const std::string path = spec.text("path");
  const std::vector<std::string> keys = textKeys(spec);
  const std::string labelKey = spec.text("label_column");
  std::error_code ec;
  Corpus c;
  if (fs::is_directory(path, ec)) {
    if (keys.size() > 1)
      badDatasetKey("text_columns", "a folder of .txt files has one text per file; several "
                                    "text fields need a CSV or JSON-lines file");
    c = readFolder(spec, path);
  } else if (!fs::exists(path, ec)) {
    throw Error(ErrorKind::File, path + ": no such file or folder");
  } else {
    const std::string ext = fs::path(path).extension().string();
    c = ext == ".jsonl" || ext == ".json" || ext == ".ndjson" ? readJsonLines(spec, path, keys, labelKey)
                                                              : readTable(spec, path, keys, labelKey);
  }
  if (c.count() < 10)
    throw Error(ErrorKind::File, path + ": only " + std::to_string(c.count()) + " texts; need at least 10");
  std::vector<bool> repaired(c.count(), false);
  for (std::size_t row : c.repairedRows)
    repaired[row] = true;
  for (std::size_t k = 0; k < c.texts.size(); ++k)
    if (repairUtf8(c.texts[k]))
      repaired[k % c.count()] = true;
  c.repaired = std::count(repaired.begin(), repaired.end(), true);
  return c;
}

// Lower-cased words: runs of ASCII letters and digits and of non-ASCII (UTF-8) bytes.
template <typename Fn> void words(const std::string &text, Fn &&onWord) {
  std::string word;
  auto flush = [&] {
    if (!word.empty())
      onWord(word);
    word.clear();
  };
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80) {
      if (word.size() < kMaxWord)
        word += ch;
    } else if (c >= 'A' && c <= 'Z') {
      if (word.size() < kMaxWord)
        word += static_cast<char>(c - 'A' + 'a');
    } else {
      flush();
    }
  }
  flush();
}

// The training texts' words that occur at least `minCount` times, the `size` − 2 most frequent
// (ties in byte order), after "<pad>" and "<unk>".
std::vector<std::string> vocabularyOf(const Corpus &c, const std::vector<int64_t> &train, int64_t size,
                                      int64_t minCount) {
  std::unordered_map<std::string, int64_t> counts;
  for (int64_t f = 0; f < c.fields; ++f)
    for (int64_t i : train)
      words(c.text(static_cast<std::size_t>(f), static_cast<std::size_t>(i)),
            [&](const std::string &w) { ++counts[w]; });
  std::vector<std::pair<std::string, int64_t>> ranked;
  for (auto &[w, n] : counts)
    if (n >= minCount)
      ranked.emplace_back(w, n);
  std::sort(ranked.begin(), ranked.end(), [](const auto &a, const auto &b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  std::vector<std::string> vocab{"<pad>", "<unk>"};
  for (const auto &[w, n] : ranked) {
    if (static_cast<int64_t>(vocab.size()) >= size)
      break;
    vocab.push_back(w);
  }
  return vocab;
}

// The training texts' token counts per field; `count(k)` counts text k (field-major, as corpus.texts).
template <typename Count>
TokenLengths lengthsOf(const DatasetSpec &spec, const Corpus &c, const std::vector<int64_t> &train, Count &&count) {
  TokenLengths l;
  l.maxTokens = spec.integer("max_tokens");
  l.fields = textKeys(spec);
  if (static_cast<int64_t>(l.fields.size()) != c.fields)
    l.fields.assign(1, "text"); // a folder of .txt files
  for (int64_t f = 0; f < c.fields; ++f) {
    std::vector<int64_t> field;
    field.reserve(train.size());
    for (int64_t i : train)
      field.push_back(count(static_cast<std::size_t>(f) * c.count() + static_cast<std::size_t>(i)));
    l.lengths.push_back(std::move(field));
  }
  return l;
}

// Everything the probe and the loader share: the corpus, its classes, which texts train, the vocabulary.
struct Prepared {
  Corpus corpus;
  std::vector<std::string> classes;
  torch::Tensor labels; // [N] int64
  Dataset indices;      // the splits of the text indices ([n, 1] int64 "samples")
  std::vector<std::string> vocabulary;
  // Tokenizer "sentencepiece", when loading: each text's ids (field-major, as corpus.texts) and the model.
  std::vector<std::vector<int32_t>> pieceIds;
  std::string pieceModel;
  std::optional<TokenLengths> lengths; // the training texts' token counts, when known
};

bool usesPieces(const DatasetSpec &spec) {
  return spec.text("tokenizer") == "sentencepiece";
}

std::string givenModel(const DatasetSpec &spec) {
  const Json &m = spec.value("tokenizer_model");
  return m.is_string() ? m.get<std::string>() : std::string();
}

// The SentencePiece request for a prepared corpus: every text, flagged when it trains.
PieceRequest pieceRequest(const DatasetSpec &spec, const Corpus &c, const std::vector<int64_t> &train) {
  PieceRequest r;
  for (const auto &t : c.texts)
    r.texts.push_back(&t);
  r.train.assign(c.texts.size(), 0);
  for (int64_t f = 0; f < c.fields; ++f)
    for (int64_t i : train)
      r.train[static_cast<std::size_t>(f) * c.count() + static_cast<std::size_t>(i)] = 1;
  r.vocabSize = spec.integer("vocab_size");
  r.type = spec.text("model");
  r.model = givenModel(spec);
  r.maxTokens = spec.integer("max_tokens");
  const std::string path = spec.text("path");
  std::error_code ec;
  r.root = fs::is_directory(path, ec) ? path : fs::path(path).parent_path().string();
  if (r.root.empty())
    r.root = ".";
  r.spec = &spec;
  return r;
}

// `loading`: the loader wants the ids. The probe (on every edit in the app) only wants the
// vocabulary's size, which is vocab_size exactly (SentencePiece trains with a hard limit), so it
// never trains a model: it reads the cache when it can and names the pieces by number else.
Prepared prepare(const DatasetSpec &spec, bool loading) {
  Prepared p;
  p.corpus = read(spec);
  p.classes = p.corpus.labels;
  std::sort(p.classes.begin(), p.classes.end());
  p.classes.erase(std::unique(p.classes.begin(), p.classes.end()), p.classes.end());
  if (p.classes.size() < 2)
    throw Error(ErrorKind::File, spec.text("path") + ": every text has the label \"" + p.classes.front() +
                                     "\"; a classifier needs at least two classes");
  std::map<std::string, int64_t> index;
  for (std::size_t i = 0; i < p.classes.size(); ++i)
    index[p.classes[i]] = static_cast<int64_t>(i);
  std::vector<int64_t> ys;
  for (const auto &l : p.corpus.labels)
    ys.push_back(index.at(l));
  p.labels = torch::tensor(ys, torch::kLong);
  const auto n = static_cast<int64_t>(ys.size());
  assignSplits(p.indices, torch::arange(n, torch::kLong).unsqueeze(1), p.labels, spec, true,
               spec.number("test_fraction"));
  const auto trainIdx = p.indices.trainX.squeeze(1).contiguous();
  std::vector<int64_t> train(trainIdx.data_ptr<int64_t>(), trainIdx.data_ptr<int64_t>() + trainIdx.numel());
  if (!usesPieces(spec)) {
    p.vocabulary = vocabularyOf(p.corpus, train, spec.integer("vocab_size"), spec.integer("min_count"));
    p.lengths = lengthsOf(spec, p.corpus, train, [&](std::size_t k) {
      int64_t n = 0;
      words(p.corpus.texts[k], [&](const std::string &) { ++n; });
      return n;
    });
    return p;
  }
  const PieceRequest request = pieceRequest(spec, p.corpus, train);
  if (!loading && request.model.empty()) {
    if (auto pieces = cachedPieces(request)) {
      p.vocabulary = std::move(*pieces);
    } else {
      p.vocabulary = {"<pad>", "<unk>"};
      for (int64_t i = 2; i < request.vocabSize; ++i)
        p.vocabulary.push_back("<piece " + std::to_string(i) + ">");
    }
    return p;
  }
  PieceResult tokens = sentencePieceTokens(request);
  p.vocabulary = std::move(tokens.tokens.pieces);
  p.pieceIds = std::move(tokens.tokens.ids);
  p.pieceModel = tokens.modelFile;
  p.lengths =
      lengthsOf(spec, p.corpus, train, [&](std::size_t k) { return static_cast<int64_t>(p.pieceIds[k].size()); });
  p.lengths->capped = true;
  return p;
}

DataInfo infoOf(const DatasetSpec &spec, const Prepared &p) {
  DataInfo info;
  info.sampleShape = {p.corpus.fields * spec.integer("max_tokens")};
  if (p.corpus.fields > 1)
    info.featureNames = textKeys(spec); // the fields, in sample order (Split mode "fields")
  info.classes = static_cast<int64_t>(p.classes.size());
  info.classNames = p.classes;
  info.vocabulary = p.vocabulary;
  setSplitCounts(info, spec, static_cast<int64_t>(p.corpus.count()), spec.number("test_fraction"));
  return info;
}

// The probe runs on every edit in the app: keep the last answer while the data and keys are the same.
std::string fingerprint(const DatasetSpec &spec) {
  std::string key = spec.params.dump() + "|" + std::to_string(spec.validationFraction) + "|" +
                    std::to_string(spec.seed) + "|" + std::to_string(spec.limit);
  const std::string path = spec.text("path");
  std::error_code ec;
  key += "|" + fileStamp(path);
  if (fs::is_directory(path, ec))
    for (const auto &e : fs::directory_iterator(path, ec))
      key += "|" + fileStamp(e.path().string());
  if (const std::string model = givenModel(spec); !model.empty())
    key += "|" + fileStamp(model);
  return key;
}

// The token lengths of the data set probed or loaded last (textTokenLengths asks on every
// validation in the app: it must not read the texts again).
struct RememberedLengths {
  std::mutex mutex;
  std::string key;
  std::optional<TokenLengths> lengths;

  static RememberedLengths &instance() {
    static RememberedLengths r;
    return r;
  }
  void remember(const std::string &k, const std::optional<TokenLengths> &l) {
    std::lock_guard<std::mutex> lock(mutex);
    // A probe knows no SentencePiece lengths: it keeps those a load of the same data counted.
    if (!l && k == key)
      return;
    key = k;
    lengths = l;
  }
  bool find(const std::string &k, std::optional<TokenLengths> &out) {
    std::lock_guard<std::mutex> lock(mutex);
    if (k != key)
      return false;
    out = lengths;
    return true;
  }
};

DataInfo probe(const DatasetSpec &spec) {
  static std::mutex mutex;
  static std::string lastKey;
  static DataInfo last;
  const std::string key = fingerprint(spec);
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (key == lastKey)
      return last;
  }
  const Prepared p = prepare(spec, false);
  RememberedLengths::instance().remember(key, p.lengths);
  DataInfo info = infoOf(spec, p);
  std::lock_guard<std::mutex> lock(mutex);
  lastKey = key;
  last = info;
  return info;
}

// The header's names (CSV, TSV) or the first object's keys (JSON lines); none for a folder.
std::vector<std::string> columnsOf(const Json &keys) {
  if (!keys.contains("path") || !keys["path"].is_string())
    return {};
  const std::string path = keys["path"].get<std::string>();
  std::error_code ec;
  if (fs::is_directory(path, ec) || !fs::is_regular_file(path, ec))
    return {};
  std::vector<std::string> names;
  const std::string ext = fs::path(path).extension().string();
  if (ext == ".jsonl" || ext == ".json" || ext == ".ndjson") {
    std::ifstream in(path, std::ios::binary);
    std::string line;
    while (std::getline(in, line) && line.find_first_not_of(" \t\r") == std::string::npos) {
    }
    repairUtf8(line);
    const Json j = Json::parse(line, nullptr, false);
    if (j.is_object())
      for (auto it = j.begin(); it != j.end(); ++it)
        names.push_back(it.key());
    return names;
  }
  try {
    csv::Reader reader(path, "auto");
    reader.read([&](std::vector<csv::Cell> &cells, int64_t) {
      for (auto &cell : cells)
        names.push_back(cell.value_or(std::string()));
      return false;
    });
  } catch (const Error &) {
    return {};
  }
  return names;
}

// Words to ids: each field of a text gets its own max_tokens positions, in the order of text_columns.
void encodeWords(const DatasetSpec &spec, const Prepared &p, int64_t *px, int64_t width) {
  const int64_t t = spec.integer("max_tokens"), fields = p.corpus.fields;
  const auto n = static_cast<int64_t>(p.corpus.count());
  std::unordered_map<std::string, int64_t> ids;
  for (std::size_t i = 0; i < p.vocabulary.size(); ++i)
    ids[p.vocabulary[i]] = static_cast<int64_t>(i);
  for (int64_t i = 0; i < n; ++i) {
    if (i % 256 == 0)
      spec.checkCancelled();
    for (int64_t f = 0; f < fields; ++f) {
      int64_t at = 0;
      words(p.corpus.text(static_cast<std::size_t>(f), static_cast<std::size_t>(i)), [&](const std::string &w) {
        if (at < t) {
          const auto it = ids.find(w);
          px[i * width + f * t + at++] = it == ids.end() ? 1 : it->second;
        }
      });
    }
  }
}

void load(const DatasetSpec &spec, Dataset &d) {
  Prepared p = prepare(spec, true);
  RememberedLengths::instance().remember(fingerprint(spec), p.lengths);
  d.info = infoOf(spec, p);
  const int64_t t = spec.integer("max_tokens"), fields = p.corpus.fields, width = fields * t;
  const auto n = static_cast<int64_t>(p.corpus.count());
  auto x = torch::zeros({n, width}, torch::kLong);
  auto *px = x.data_ptr<int64_t>();
  if (usesPieces(spec)) {
    for (int64_t f = 0; f < fields; ++f)
      for (int64_t i = 0; i < n; ++i) {
        const auto &ids = p.pieceIds[static_cast<std::size_t>(f * n + i)];
        std::copy(ids.begin(), ids.begin() + std::min<int64_t>(t, static_cast<int64_t>(ids.size())),
                  px + i * width + f * t);
      }
    d.tokenizerModel = p.pieceModel;
    d.notes = std::to_string(p.vocabulary.size()) + " SentencePiece pieces (" +
              (givenModel(spec).empty() ? spec.text("model") + ", trained on the training split)"
                                        : "from " + p.pieceModel + ")");
  } else {
    encodeWords(spec, p, px, width);
    d.notes = std::to_string(p.vocabulary.size()) + " words in the vocabulary";
  }
  auto pick = [&](const torch::Tensor &idx) { return x.index_select(0, idx.squeeze(1)); };
  d.trainX = pick(p.indices.trainX);
  d.trainY = p.indices.trainY;
  d.valX = pick(p.indices.valX);
  d.valY = p.indices.valY;
  d.testX = pick(p.indices.testX);
  d.testY = p.indices.testY;
  if (p.corpus.repaired > 0)
    d.notes += "; " + std::to_string(p.corpus.repaired) + " text(s) held bytes that are not UTF-8 (replaced by U+FFFD)";
}

} // namespace text

LengthSummary summarizeLengths(std::vector<int64_t> lengths, int64_t maxTokens) {
  LengthSummary s;
  if (lengths.empty())
    return s;
  std::sort(lengths.begin(), lengths.end());
  const auto n = static_cast<int64_t>(lengths.size());
  s.texts = n;
  s.median = lengths[static_cast<std::size_t>((n - 1) / 2)];
  s.p95 = lengths[static_cast<std::size_t>(std::max<int64_t>((95 * n + 99) / 100, 1) - 1)];
  s.longest = lengths.back();
  s.cut = static_cast<int64_t>(lengths.end() - std::upper_bound(lengths.begin(), lengths.end(), maxTokens));
  s.suggested = std::clamp<int64_t>((s.p95 + 7) / 8 * 8, 8, 100000);
  return s;
}

std::optional<TokenLengths> textTokenLengths(const DatasetSpec &spec) {
  if (spec.kind != "text")
    return std::nullopt;
  const std::string key = text::fingerprint(spec);
  std::optional<TokenLengths> out;
  if (text::RememberedLengths::instance().find(key, out))
    return out;
  out = text::prepare(spec, false).lengths;
  text::RememberedLengths::instance().remember(key, out);
  return out;
}

namespace text {
// A run that kept its SentencePiece model: a section with the sentencepiece tokenizer and no
// tokenizer_model of its own encodes with the run's, as the run did.
void fromRun(Json &section, const std::string &runDir) {
  const auto tokenizer = section.find("tokenizer");
  if (tokenizer == section.end() || !tokenizer->is_string() || tokenizer->get<std::string>() != "sentencepiece" ||
      (section.contains("tokenizer_model") && !section["tokenizer_model"].is_null()))
    return;
  std::error_code ec;
  const fs::path kept = fs::path(runDir) / "tokenizer.model";
  if (fs::exists(kept, ec))
    section["tokenizer_model"] = kept.string();
}

void keepWithRun(const Dataset &data, Json &section, const std::string &runDir) {
  if (!data.tokenizerModel.empty())
    section["tokenizer_model"] = keepTokenizerWithRun(data.tokenizerModel, runDir);
}
} // namespace text

DataKind textDataKind() {
  DataKind k;
  k.name = "text";
  k.doc = "Texts with labels: a CSV/TSV or JSON-lines file with a text and a label field, or a folder with one "
          "sub-folder of .txt files per class; cut into words, the training split's most frequent kept.";
  k.keys = {required(pathField("path", "The file (CSV, TSV, JSON lines) or the folder of class folders", false,
                               "Texts (*.csv *.tsv *.jsonl *.json);;All files (*)")),
            textField("text_column", "text", "The text's column or JSON field"),
            textField("label_column", "label", "The label's column or JSON field"),
            listField("text_columns", FieldKind::TextList, nullptr, 0, 0,
                      "Several text fields (e.g. subject, body): each gets max_tokens positions, in this order "
                      "(Split mode \"fields\" cuts them apart); instead of text_column"),
            enumField("tokenizer", {"words", "sentencepiece"},
                      "How texts become tokens: lower-cased words (letters and digits), or SentencePiece pieces "
                      "learned from the training split"),
            intField("vocab_size", 20000, 3, 1000000,
                     "Vocabulary size: the most frequent training words (others become <unk>), or the pieces "
                     "SentencePiece learns"),
            intField("min_count", 2, 1, 1000000, "A word must occur this often in the training split (words)"),
            enumField("model", {"unigram", "bpe"}, "SentencePiece's model: unigram language model or BPE"),
            pathField("tokenizer_model",
                      "A trained SentencePiece .model to encode with instead of training one (a run's project "
                      "copy names the run's tokenizer.model)",
                      false, "SentencePiece models (*.model);;All files (*)"),
            intField("max_tokens", 256, 1, 100000, "Tokens per text: longer texts are cut, shorter ones padded"),
            floatField("test_fraction", 0.2, 0.0, 0.9, "Share held out for testing")};
  k.check = [](const DatasetSpec &s) {
    if (!text::usesPieces(s) && !text::givenModel(s).empty())
      badDatasetKey("tokenizer_model", "a SentencePiece model needs tokenizer \"sentencepiece\"");
  };
  k.probe = text::probe;
  k.load = text::load;
  k.loadSetsInfo = true;
  k.columns = text::columnsOf;
  k.keepWithRun = text::keepWithRun;
  k.fromRun = text::fromRun;
  return k;
}

} // namespace particle
