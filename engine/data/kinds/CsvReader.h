#pragma once
// Reading delimited text (RFC 4180) through libcsv, record by record with line numbers: the
// kinds "csv" and "text" share it.

#include "data/DatasetSpec.h"

#include <csv.h>

#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace particle::csv {

// A cell: absent (an unquoted empty field) or its text.
using Cell = std::optional<std::string>;

// The delimiter the key names; "auto": a tab for .tsv/.tab files, else the most frequent of
// , ; tab | on the header line (a comma when none is).
inline unsigned char delimiterOf(const std::string &key, const std::string &path, const std::string &headerLine) {
  if (key == "comma")
    return ',';
  if (key == "semicolon")
    return ';';
  if (key == "tab")
    return '\t';
  if (key == "pipe")
    return '|';
  const auto dot = path.rfind('.');
  const std::string ext = dot == std::string::npos ? std::string() : path.substr(dot);
  if (ext == ".tsv" || ext == ".tab")
    return '\t';
  unsigned char best = ',';
  std::size_t bestCount = 0;
  for (unsigned char c : {',', ';', '\t', '|'}) {
    std::size_t count = 0;
    bool quoted = false;
    for (char h : headerLine) {
      if (h == '"')
        quoted = !quoted;
      else if (!quoted && static_cast<unsigned char>(h) == c)
        ++count;
    }
    if (count > bestCount) {
      best = c;
      bestCount = count;
    }
  }
  return best;
}

// Reads a delimited file record by record through libcsv, feeding it a line at a time so that
// every record knows the line it is on (the line where its first field ends). A quote never
// closed or a stray quote is an error naming the line.
class Reader {
public:
  using OnRecord = std::function<bool(std::vector<Cell> &cells, int64_t line)>; // false: stop

  Reader(const std::string &path, const std::string &delimiterKey, const DatasetSpec *spec = nullptr)
      : path_(path), spec_(spec) {
    in_.open(path, std::ios::binary);
    if (!in_)
      throw Error(ErrorKind::File, path + ": cannot open CSV file");
    std::string first;
    const auto pos = in_.tellg();
    std::getline(in_, first);
    in_.clear();
    in_.seekg(pos);
    if (csv_init(&parser_, CSV_STRICT | CSV_STRICT_FINI | CSV_EMPTY_IS_NULL | CSV_APPEND_NULL) != 0)
      throw Error(ErrorKind::File, path + ": cannot start the CSV parser");
    csv_set_delim(&parser_, delimiterOf(delimiterKey, path, first));
  }
  ~Reader() { csv_free(&parser_); }
  Reader(const Reader &) = delete;
  Reader &operator=(const Reader &) = delete;

  void read(const OnRecord &onRecord) {
    onRecord_ = &onRecord;
    std::string line;
    while (!stop_ && std::getline(in_, line)) {
      ++lineNo_;
      if (spec_ && lineNo_ % 4096 == 0)
        spec_->checkCancelled();
      const bool blank = line.empty() || line == "\r";
      if (!blank && firstOpenLine_ == 0)
        firstOpenLine_ = lineNo_;
      line += '\n';
      if (csv_parse(&parser_, line.data(), line.size(), &Reader::onField, &Reader::onRow, this) != line.size() &&
          !stop_)
        throw Error(ErrorKind::File, path_ + ":" + std::to_string(lineNo_) + ": " + problem());
    }
    if (!stop_ && csv_fini(&parser_, &Reader::onField, &Reader::onRow, this) != 0)
      throw Error(ErrorKind::File, path_ + ":" + std::to_string(firstOpenLine_) + ": " + problem());
  }

private:
  std::string problem() {
    if (csv_error(&parser_) == CSV_EPARSE)
      return "a quoted field is never closed, or a quote stands inside an unquoted field (RFC 4180: "
             "quote the whole field and double the quotes in it)";
    return csv_strerror(csv_error(&parser_));
  }
  static void onField(void *data, std::size_t size, void *self) {
    auto *r = static_cast<Reader *>(self);
    if (r->cells_.empty())
      r->recordLine_ = r->lineNo_;
    if (data)
      r->cells_.emplace_back(std::string(static_cast<const char *>(data), size));
    else
      r->cells_.emplace_back(std::nullopt);
  }
  static void onRow(int, void *self) {
    auto *r = static_cast<Reader *>(self);
    if (!r->stop_ && !(*r->onRecord_)(r->cells_, r->recordLine_))
      r->stop_ = true;
    r->cells_.clear();
    r->firstOpenLine_ = 0;
  }

  std::string path_;
  const DatasetSpec *spec_;
  std::ifstream in_;
  csv_parser parser_{};
  const OnRecord *onRecord_ = nullptr;
  std::vector<Cell> cells_;
  int64_t lineNo_ = 0, recordLine_ = 0, firstOpenLine_ = 0;
  bool stop_ = false;
};

} // namespace particle::csv
