// Kind "csv": a table with a header line, read as RFC 4180 by libcsv (quoted fields with
// delimiters, quotes and line breaks). One label column (numbers 0..K-1, or text: each distinct
// value is a class, in sorted order, unless `classes` lists the names); the other (or the chosen)
// columns are features: numbers, or text one-hot encoded when listed in `categorical_columns`.
// Empty cells are refused with file:line, or with `missing: "mean"` filled from the training
// split (numbers) or left all-zero (categories). Numbers are standardised by the Input node from
// the training split, as every kind's are.

#include "data/Dataset.h"
#include "data/kinds/CsvReader.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>

namespace particle {

namespace csv {

constexpr std::size_t kMaxCategories = 1000;

// The header of a table (empty when the file has no lines).
std::vector<std::string> readHeader(const std::string &path, const std::string &delimiterKey) {
  Reader reader(path, delimiterKey);
  std::vector<std::string> header;
  reader.read([&](std::vector<Cell> &cells, int64_t) {
    for (auto &c : cells)
      header.push_back(c.value_or(std::string()));
    return false;
  });
  return header;
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
  while (end && (*end == ' ' || *end == '\t' || *end == '\r'))
    ++end;
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
  std::vector<bool> categorical; // per feature column
  bool fillMissing = false;
};

Table openTable(const DatasetSpec &spec) {
  Table t;
  t.path = spec.text("path");
  t.header = readHeader(t.path, spec.text("delimiter"));
  if (t.header.empty())
    throw Error(ErrorKind::File, t.path + ":1: empty file (a header line is required)");
  t.label = columnIndex(spec.value("label_column"), t.header, t.path);
  std::set<int64_t> categorical;
  if (const Json &c = spec.value("categorical_columns"); c.is_array())
    for (const auto &key : c) {
      const int64_t i = columnIndex(key, t.header, t.path);
      if (i == t.label)
        badDatasetKey("categorical_columns", "includes the label column (text labels "
                                             "are classes already)");
      categorical.insert(i);
    }
  const Json &chosen = spec.value("feature_columns");
  if (chosen.is_array()) {
    for (const auto &c : chosen) {
      const int64_t i = columnIndex(c, t.header, t.path);
      if (i == t.label)
        badDatasetKey("feature_columns", "includes the label column");
      t.features.push_back(i);
    }
    for (int64_t c : categorical)
      if (std::find(t.features.begin(), t.features.end(), c) == t.features.end())
        badDatasetKey("categorical_columns",
                      "\"" + t.header[static_cast<std::size_t>(c)] + "\" is not one of dataset.feature_columns");
  } else {
    for (int64_t i = 0; i < static_cast<int64_t>(t.header.size()); ++i)
      if (i != t.label)
        t.features.push_back(i);
  }
  for (int64_t c : t.features)
    t.categorical.push_back(categorical.count(c) > 0);
  t.fillMissing = spec.text("missing") == "mean";
  return t;
}

// One pass over the rows: every row is checked (its column count, its numeric features are
// numbers, missing cells), so that the probe — what the editor and `particle check` see — already
// names a bad line. Numbers are kept (NaN for a missing one, filled after the split), categorical
// cells as text, and the categories of each categorical column are collected.
struct Scan {
  int64_t rows = 0;
  std::vector<float> numbers;                       // rows × numeric feature columns
  std::vector<std::vector<std::string>> categories; // per categorical column, its cells in row order
  std::vector<std::set<std::string>> distinct;      // per categorical column
  std::vector<std::string> labelCells;
  std::vector<int64_t> lines; // the file line of each row (for label errors)
};

Scan scan(const DatasetSpec &spec, const Table &t, bool keep) {
  Scan out;
  const auto categoricalCount = static_cast<std::size_t>(std::count(t.categorical.begin(), t.categorical.end(), true));
  out.categories.resize(categoricalCount);
  out.distinct.resize(categoricalCount);
  Reader reader(t.path, spec.text("delimiter"), &spec);
  bool header = true;
  reader.read([&](std::vector<Cell> &cells, int64_t lineNo) {
    if (header) {
      header = false;
      return true;
    }
    const std::string where = t.path + ":" + std::to_string(lineNo) + ": ";
    if (cells.size() != t.header.size())
      throw Error(ErrorKind::File, where + "has " + std::to_string(cells.size()) + " columns, the header has " +
                                       std::to_string(t.header.size()));
    std::size_t k = 0;
    for (std::size_t f = 0; f < t.features.size(); ++f) {
      const auto c = static_cast<std::size_t>(t.features[f]);
      const Cell &cell = cells[c];
      const std::string column = "column \"" + t.header[c] + "\": ";
      if (!cell || cell->empty()) {
        if (!t.fillMissing)
          throw Error(ErrorKind::File, where + column +
                                           "empty cell (set dataset.missing to \"mean\" to fill missing numbers "
                                           "with the training split's mean)");
      }
      if (t.categorical[f]) {
        const std::string value = cell.value_or(std::string());
        if (!value.empty() && out.distinct[k].size() <= kMaxCategories)
          out.distinct[k].insert(value);
        if (keep)
          out.categories[k].push_back(value);
        ++k;
        continue;
      }
      double v = std::nan("");
      if (cell && !cell->empty() && !parseNumber(*cell, v))
        throw Error(ErrorKind::File, where + column + "\"" + *cell +
                                         "\" is not a number (list the column in dataset.categorical_columns to "
                                         "one-hot encode its values, or leave it out of dataset.feature_columns)");
      if (keep)
        out.numbers.push_back(static_cast<float>(v));
    }
    const Cell &label = cells[static_cast<std::size_t>(t.label)];
    if (!label || label->empty())
      throw Error(ErrorKind::File,
                  where + "column \"" + t.header[static_cast<std::size_t>(t.label)] + "\": the label is empty");
    out.labelCells.push_back(*label);
    out.lines.push_back(lineNo);
    ++out.rows;
    return true;
  });
  std::size_t k = 0;
  for (std::size_t f = 0; f < t.features.size(); ++f) {
    if (!t.categorical[f])
      continue;
    if (out.distinct[k].size() > kMaxCategories)
      throw Error(ErrorKind::File, t.path + ": column \"" + t.header[static_cast<std::size_t>(t.features[f])] +
                                       "\" has more than " + std::to_string(kMaxCategories) +
                                       " distinct values: too many to one-hot encode; leave it out of "
                                       "dataset.feature_columns");
    ++k;
  }
  return out;
}

// The feature names in sample order: a numeric column's name, or "column=value" for each
// category of a categorical one.
std::vector<std::string> featureNames(const Table &t, const Scan &s) {
  std::vector<std::string> names;
  std::size_t k = 0;
  for (std::size_t f = 0; f < t.features.size(); ++f) {
    const std::string &name = t.header[static_cast<std::size_t>(t.features[f])];
    if (t.categorical[f]) {
      for (const auto &value : s.distinct[k])
        names.push_back(name + "=" + value);
      ++k;
    } else {
      names.push_back(name);
    }
  }
  return names;
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
      badDatasetKey("classes", "the labels in column \"" + t.header[static_cast<std::size_t>(t.label)] +
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

// Samples per class, counted as the loader will map the label cells (a cell it would refuse is
// left out: the loader names its line).
std::vector<int64_t> classCounts(const DatasetSpec &spec, const Labels &labels, const Scan &s) {
  std::vector<int64_t> counts(static_cast<std::size_t>(labels.classes), 0);
  std::map<std::string, std::size_t> byName;
  for (std::size_t i = 0; i < labels.names.size(); ++i)
    byName[labels.names[i]] = i;
  const bool named = !byName.empty() && (labels.text || spec.value("classes").is_array());
  for (const auto &cell : s.labelCells) {
    if (named)
      if (auto it = byName.find(cell); it != byName.end()) {
        ++counts[it->second];
        continue;
      }
    double y = 0;
    if (!labels.text && parseNumber(cell, y) && y >= 0 && std::floor(y) == y && y < static_cast<double>(counts.size()))
      ++counts[static_cast<std::size_t>(y)];
  }
  return counts;
}

DataInfo probe(const DatasetSpec &spec) {
  const Table t = openTable(spec);
  if (t.features.empty())
    throw Error(ErrorKind::File, t.path + ":1: no feature columns: the table has only its label column");
  const Scan s = scan(spec, t, false);
  const Labels labels = labelsOf(spec, t, s); // labels are checked before the row count
  DataInfo info;
  info.featureNames = featureNames(t, s);
  info.sampleShape = {static_cast<int64_t>(info.featureNames.size())};
  info.classes = labels.classes;
  info.classNames = labels.names;
  info.classCounts = classCounts(spec, labels, s);
  if (s.rows < 10)
    throw Error(ErrorKind::File, t.path + ": only " + std::to_string(s.rows) + " data rows; need at least 10");
  setSplitCounts(info, spec, s.rows, spec.number("test_fraction"));
  return info;
}

// The features of every row: numbers as read (NaN where missing), categories one-hot.
torch::Tensor features(const Table &t, const Scan &s) {
  const int64_t rows = s.rows;
  std::vector<int64_t> width; // per feature column: 1, or its category count
  std::vector<std::map<std::string, int64_t>> index(s.distinct.size());
  std::size_t k = 0;
  for (std::size_t f = 0; f < t.features.size(); ++f) {
    if (!t.categorical[f]) {
      width.push_back(1);
      continue;
    }
    int64_t i = 0;
    for (const auto &value : s.distinct[k])
      index[k][value] = i++;
    width.push_back(i);
    ++k;
  }
  int64_t columns = 0;
  for (int64_t w : width)
    columns += w;
  const std::size_t numeric = t.features.size() - s.distinct.size();
  auto x = torch::zeros({rows, columns}, torch::kFloat);
  float *px = x.data_ptr<float>();
  for (int64_t r = 0; r < rows; ++r) {
    float *row = px + r * columns;
    int64_t at = 0;
    std::size_t n = 0;
    k = 0;
    for (std::size_t f = 0; f < t.features.size(); ++f) {
      if (t.categorical[f]) {
        const std::string &value = s.categories[k][static_cast<std::size_t>(r)];
        if (auto it = index[k].find(value); it != index[k].end())
          row[at + it->second] = 1.0F;
        ++k;
      } else {
        row[at] = s.numbers[static_cast<std::size_t>(r) * numeric + n++];
      }
      at += width[f];
    }
  }
  return x;
}

// Missing numbers (NaN) become the training split's mean of their column (0 when the column has no
// number there).
void fillFromTraining(Dataset &d) {
  auto mean = torch::nanmean(d.trainX, 0);
  mean = torch::where(torch::isnan(mean), torch::zeros_like(mean), mean);
  for (auto *x : {&d.trainX, &d.valX, &d.testX})
    if (x->defined() && x->numel() > 0)
      *x = torch::where(torch::isnan(*x), mean.expand_as(*x), *x);
}

void load(const DatasetSpec &spec, Dataset &d) {
  const Table t = openTable(spec);
  const Scan s = scan(spec, t, true);
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
  auto y = torch::tensor(ys, torch::kLong);
  assignSplits(d, features(t, s), y, spec, true, spec.number("test_fraction"));
  if (t.fillMissing)
    fillFromTraining(d);
}

} // namespace csv

DataKind csvDataKind() {
  DataKind k;
  k.name = "csv";
  k.doc = "A table with a header line (RFC 4180: quoted fields may hold delimiters, quotes and line breaks): "
          "numeric or categorical feature columns and a label column (class indices or text).";
  Field categorical = columnListField("categorical_columns", "Text-valued feature columns, one-hot encoded (one "
                                                             "feature per distinct value, \"column=value\")");
  categorical.placeholder = "e.g. city, colour";
  k.keys = {required(pathField("path", "The CSV or TSV file (header line required)", false,
                               "Tables (*.csv *.tsv *.txt);;All files (*)")),
            required(columnField("label_column", "The label column: its name or 0-based index")),
            columnListField("feature_columns", "Feature columns (default: every column but the label)"),
            categorical,
            enumField("delimiter", {"auto", "comma", "semicolon", "tab", "pipe"},
                      "Field separator (auto: a tab for .tsv files, else the most frequent on the header line)"),
            enumField("missing", {"error", "mean"},
                      "Empty cells: an error naming the line, or filled (numbers: the training split's mean; "
                      "categories: no category)"),
            floatField("test_fraction", 0.2, 0.0, 0.9, "Share held out for testing"),
            classesField("classes", "Number of classes, or their names (text labels map to them; default: from "
                                    "the label column)")};
  k.probe = csv::probe;
  k.load = csv::load;
  k.columns = [](const Json &keys) -> std::vector<std::string> {
    if (!keys.contains("path") || !keys["path"].is_string())
      return {};
    const std::string delimiter =
        keys.contains("delimiter") && keys["delimiter"].is_string() ? keys["delimiter"].get<std::string>() : "auto";
    try {
      return csv::readHeader(keys["path"].get<std::string>(), delimiter);
    } catch (const Error &) {
      return {};
    }
  };
  return k;
}

} // namespace particle
