// Kind "csv": a table with a header line; one label column (numbers 0..K-1, or text: each
// distinct value is a class, in sorted order, unless `classes` lists the names), the other (or the
// chosen) columns are numeric features.

#include "data/Dataset.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>

namespace particle {

namespace csv {

std::vector<std::string> splitLine(const std::string &line) {
  std::vector<std::string> cells;
  std::string cell;
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cell += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cell += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      cells.push_back(cell);
      cell.clear();
    } else if (c != '\r') {
      cell += c;
    }
  }
  cells.push_back(cell);
  return cells;
}

// A column key ("name" or a 0-based index) as a position in the header.
int64_t columnIndex(const Json &key, const std::vector<std::string> &header, const std::string &path) {
  if (key.is_number_integer()) {
    const int64_t i = key.get<int64_t>();
    if (i < 0 || i >= static_cast<int64_t>(header.size()))
      throw Error(ErrorKind::File, path + ":1: column index " + std::to_string(i) + " is out of range (" +
                                       std::to_string(header.size()) + " columns)");
    return i;
  }
  const std::string name = key.get<std::string>();
  for (std::size_t i = 0; i < header.size(); ++i)
    if (header[i] == name)
      return static_cast<int64_t>(i);
  throw Error(ErrorKind::File, path + ":1: no column named \"" + name + "\" in the header");
}

bool parseNumber(const std::string &cell, double &out) {
  if (cell.empty())
    return false;
  char *end = nullptr;
  out = std::strtod(cell.c_str(), &end);
  return end != cell.c_str() && *end == '\0' && std::isfinite(out);
}

// The label column's values and what they mean.
struct Labels {
  bool text = false;
  std::vector<std::string> names; // text labels: the classes, in index order
  int64_t classes = 0;
};

struct Table {
  std::string path;
  std::vector<std::string> header;
  int64_t label = -1;
  std::vector<int64_t> features;
};

Table openTable(const DatasetSpec &spec, std::ifstream &in) {
  Table t;
  t.path = spec.text("path");
  in.open(t.path);
  if (!in)
    throw Error(ErrorKind::File, t.path + ": cannot open CSV file");
  std::string line;
  if (!std::getline(in, line))
    throw Error(ErrorKind::File, t.path + ":1: empty file (a header line is required)");
  t.header = splitLine(line);
  t.label = columnIndex(spec.value("label_column"), t.header, t.path);
  const Json &chosen = spec.value("feature_columns");
  if (chosen.is_array()) {
    for (const auto &c : chosen) {
      const int64_t i = columnIndex(c, t.header, t.path);
      if (i == t.label)
        throw Error(ErrorKind::Invalid, "dataset.feature_columns: includes the label column");
      t.features.push_back(i);
    }
  } else {
    for (int64_t i = 0; i < static_cast<int64_t>(t.header.size()); ++i)
      if (i != t.label)
        t.features.push_back(i);
  }
  return t;
}

// One pass over the rows: every row is checked (its column count, its features are numbers), so
// that the probe — what the editor and `particle check` see — already names a bad line. With
// `keep`, the features and the label cells are kept for loading.
struct Scan {
  int64_t rows = 0;
  std::vector<float> features;
  std::vector<std::string> labelCells;
  std::vector<int64_t> lines; // the file line of each row (for label errors)
};

Scan scan(const DatasetSpec &spec, const Table &t, std::ifstream &in, bool keep) {
  Scan out;
  int64_t lineNo = 1;
  std::string line;
  while (std::getline(in, line)) {
    if (++lineNo % 4096 == 0)
      spec.checkCancelled();
    if (line.empty() || line == "\r")
      continue;
    const auto cells = splitLine(line);
    const std::string where = t.path + ":" + std::to_string(lineNo) + ": ";
    if (cells.size() != t.header.size())
      throw Error(ErrorKind::File, where + "has " + std::to_string(cells.size()) + " columns, the header has " +
                                       std::to_string(t.header.size()));
    for (auto c : t.features) {
      const std::string &cell = cells[static_cast<std::size_t>(c)];
      double v = 0;
      if (!parseNumber(cell, v))
        throw Error(ErrorKind::File, where + "column \"" + t.header[static_cast<std::size_t>(c)] +
                                         "\": " + (cell.empty() ? std::string("empty cell") : "\"" + cell + "\"") +
                                         " is not a number");
      if (keep)
        out.features.push_back(static_cast<float>(v));
    }
    out.labelCells.push_back(cells[static_cast<std::size_t>(t.label)]);
    out.lines.push_back(lineNo);
    ++out.rows;
  }
  (void)spec;
  return out;
}

// What the label cells mean: numbers 0..K-1, or text (each distinct value a class, sorted,
// unless `classes` lists the names).
Labels labelsOf(const DatasetSpec &spec, const Table &t, const Scan &s) {
  const Json &classes = spec.value("classes");
  std::set<std::string> distinct;
  bool text = false;
  int64_t maxLabel = -1;
  std::size_t maxRow = 0;
  for (std::size_t r = 0; r < s.labelCells.size(); ++r) {
    const std::string &cell = s.labelCells[r];
    double v = 0;
    if (parseNumber(cell, v) && v >= 0 && std::floor(v) == v && v < 1e9) {
      if (static_cast<int64_t>(v) > maxLabel) {
        maxLabel = static_cast<int64_t>(v);
        maxRow = r;
      }
    } else {
      text = true;
    }
    if (distinct.size() <= 100000)
      distinct.insert(cell);
  }
  Labels labels;
  labels.text = text;
  if (classes.is_array()) {
    for (const auto &n : classes)
      labels.names.push_back(n.get<std::string>());
    labels.classes = static_cast<int64_t>(labels.names.size());
  } else if (text) {
    if (classes.is_number())
      throw Error(ErrorKind::Invalid, "dataset.classes: the labels in column \"" +
                                          t.header[static_cast<std::size_t>(t.label)] +
                                          "\" are text; list the class names or leave \"classes\" out");
    labels.names.assign(distinct.begin(), distinct.end()); // sorted
    labels.classes = static_cast<int64_t>(labels.names.size());
  } else {
    labels.classes = classes.is_number() ? static_cast<int64_t>(classes.get<double>()) : maxLabel + 1;
    if (maxLabel >= labels.classes)
      throw Error(ErrorKind::File, t.path + ":" + std::to_string(s.lines[maxRow]) + ": label " + s.labelCells[maxRow] +
                                       " is not a class index in [0, " + std::to_string(labels.classes) + ")");
  }
  labels.classes = std::max<int64_t>(2, labels.classes);
  return labels;
}

DataInfo probe(const DatasetSpec &spec) {
  std::ifstream in;
  const Table t = openTable(spec, in);
  DataInfo info;
  info.sampleShape = {static_cast<int64_t>(t.features.size())};
  if (t.features.empty())
    throw Error(ErrorKind::File, t.path + ":1: no feature columns: the table has only its label column");
  const Scan s = scan(spec, t, in, false);
  const Labels labels = labelsOf(spec, t, s); // labels are checked before the row count
  info.classes = labels.classes;
  info.classNames = labels.names;
  for (auto c : t.features)
    info.featureNames.push_back(t.header[static_cast<std::size_t>(c)]);
  if (s.rows < 10)
    throw Error(ErrorKind::File, t.path + ": only " + std::to_string(s.rows) + " data rows; need at least 10");
  setSplitCounts(info, spec, s.rows, spec.number("test_fraction"));
  return info;
}

void load(const DatasetSpec &spec, Dataset &d) {
  std::ifstream in;
  const Table t = openTable(spec, in);
  const Scan s = scan(spec, t, in, true);
  const Labels labels = labelsOf(spec, t, s);
  std::map<std::string, int64_t> byName;
  for (std::size_t i = 0; i < labels.names.size(); ++i)
    byName[labels.names[i]] = static_cast<int64_t>(i);
  const bool named = !byName.empty() && (labels.text || spec.value("classes").is_array());
  std::vector<int64_t> ys;
  ys.reserve(s.labelCells.size());
  for (std::size_t r = 0; r < s.labelCells.size(); ++r) {
    const std::string &cell = s.labelCells[r];
    const std::string where = t.path + ":" + std::to_string(s.lines[r]) + ": ";
    double y = 0;
    const bool number = parseNumber(cell, y) && y >= 0 && std::floor(y) == y;
    if (named) {
      if (auto it = byName.find(cell); it != byName.end()) {
        ys.push_back(it->second);
        continue;
      }
      // Numeric labels with listed names index the list.
      if (!labels.text && number && y < static_cast<double>(labels.classes)) {
        ys.push_back(static_cast<int64_t>(y));
        continue;
      }
      throw Error(ErrorKind::File,
                  where + "label \"" + cell + "\" is not one of the classes listed in dataset.classes");
    }
    if (!parseNumber(cell, y))
      throw Error(ErrorKind::File, where + "column \"" + t.header[static_cast<std::size_t>(t.label)] + "\": \"" + cell +
                                       "\" is not a number");
    if (!number || y >= static_cast<double>(labels.classes))
      throw Error(ErrorKind::File,
                  where + "label " + cell + " is not a class index in [0, " + std::to_string(labels.classes) + ")");
    ys.push_back(static_cast<int64_t>(y));
  }
  if (ys.size() < 10)
    throw Error(ErrorKind::File, t.path + ": only " + std::to_string(ys.size()) + " data rows; need at least 10");
  auto x =
      torch::tensor(s.features).reshape({static_cast<int64_t>(ys.size()), static_cast<int64_t>(t.features.size())});
  auto y = torch::tensor(ys, torch::kLong);
  assignSplits(d, x, y, spec, true, spec.number("test_fraction"));
}

} // namespace csv

DataKind csvDataKind() {
  DataKind k;
  k.name = "csv";
  k.doc = "A table with a header line: numeric feature columns and a label column (class indices or text).";
  k.keys = {
      required(pathField("path", "The CSV file (header line required)", false, "CSV files (*.csv);;All files (*)")),
      required(columnField("label_column", "The label column: its name or 0-based index")),
      columnListField("feature_columns", "Feature columns (default: every column but the label)"),
      floatField("test_fraction", 0.2, 0.0, 0.9, "Share held out for testing"),
      classesField("classes", "Number of classes, or their names (text labels map to them; default: from "
                              "the label column)")};
  k.probe = csv::probe;
  k.load = csv::load;
  k.columns = [](const Json &keys) -> std::vector<std::string> {
    if (!keys.contains("path") || !keys["path"].is_string())
      return {};
    std::ifstream in(keys["path"].get<std::string>());
    std::string line;
    if (!in || !std::getline(in, line))
      return {};
    return csv::splitLine(line);
  };
  return k;
}

} // namespace particle
