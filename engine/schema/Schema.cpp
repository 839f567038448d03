#include "schema/Schema.h"

#include "schema/Range.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <stdexcept>

namespace particle {

const char *fieldKindName(FieldKind kind) {
  switch (kind) {
  case FieldKind::Bool: return "true or false";
  case FieldKind::Int: return "an integer";
  case FieldKind::Float: return "a number";
  case FieldKind::Enum: return "one of the listed words";
  case FieldKind::Text: return "a text";
  case FieldKind::Path: return "a file path";
  case FieldKind::IntList: return "a list of integers";
  case FieldKind::IntListList: return "a list of lists of integers or names";
  case FieldKind::TextList: return "a list of texts";
  case FieldKind::Column: return "a column name or a 0-based column index";
  case FieldKind::ColumnList: return "a list of column names or indices";
  case FieldKind::Classes: return "a number of classes or a list of class names";
  }
  return "?";
}

std::string Field::label() const {
  std::string out = name;
  std::replace(out.begin(), out.end(), '_', ' ');
  return out;
}

namespace {
Field make(std::string name, FieldKind kind, Json def, std::string doc) {
  Field f;
  f.name = std::move(name);
  f.kind = kind;
  f.defaultValue = std::move(def);
  f.doc = std::move(doc);
  return f;
}
} // namespace

Field boolField(std::string name, bool def, std::string doc) {
  return make(std::move(name), FieldKind::Bool, def, std::move(doc));
}

Field intField(std::string name, Json def, double min, double max, std::string doc) {
  Field f = make(std::move(name), FieldKind::Int, std::move(def), std::move(doc));
  f.min = min;
  f.max = max;
  return f;
}

Field floatField(std::string name, double def, double min, double max, std::string doc) {
  Field f = make(std::move(name), FieldKind::Float, def, std::move(doc));
  f.min = min;
  f.max = max;
  return f;
}

Field enumField(std::string name, std::vector<std::string> choices, std::string doc) {
  Field f = make(std::move(name), FieldKind::Enum, choices.front(), std::move(doc));
  f.choices = std::move(choices);
  return f;
}

Field textField(std::string name, Json def, std::string doc) {
  return make(std::move(name), FieldKind::Text, std::move(def), std::move(doc));
}

Field pathField(std::string name, std::string doc, bool folder, std::string filter) {
  Field f = make(std::move(name), FieldKind::Path, nullptr, std::move(doc));
  f.folder = folder;
  f.fileFilter = std::move(filter);
  return f;
}

Field listField(std::string name, FieldKind kind, Json def, double min, double max, std::string doc) {
  Field f = make(std::move(name), kind, std::move(def), std::move(doc));
  f.min = min;
  f.max = max;
  if (kind == FieldKind::IntList)
    f.placeholder = "e.g. 128, 64";
  else if (kind == FieldKind::IntListList)
    f.placeholder = "e.g. [[0, 1], [2]]";
  else if (kind == FieldKind::TextList)
    f.placeholder = "e.g. cat, dog";
  return f;
}

Field columnField(std::string name, std::string doc) {
  Field f = make(std::move(name), FieldKind::Column, nullptr, std::move(doc));
  f.placeholder = "column name or 0-based index";
  return f;
}

Field columnListField(std::string name, std::string doc) {
  Field f = make(std::move(name), FieldKind::ColumnList, nullptr, std::move(doc));
  f.placeholder = "e.g. age, height (empty: all but the label)";
  return f;
}

Field classesField(std::string name, std::string doc) {
  Field f = make(std::move(name), FieldKind::Classes, nullptr, std::move(doc));
  f.min = 2;
  f.max = 100000;
  f.placeholder = "a count, or names: cat, dog, bird";
  return f;
}

Field when(Field f, std::string field, std::vector<std::string> values) {
  f.whenField = std::move(field);
  f.whenValues = std::move(values);
  return f;
}

Field zeroMeans(Field f, std::string meaning) {
  f.zeroMeans = std::move(meaning);
  return f;
}

Field required(Field f) {
  f.required = true;
  return f;
}

Field advanced(Field f) {
  f.advanced = true;
  return f;
}

Field width(Field f) {
  f.width = true;
  return f;
}

Field searched(Field f, std::vector<std::string> choices) {
  // A node file's mistake, found the first time the catalogue is built.
  for (const auto &c : choices)
    if (std::find(f.choices.begin(), f.choices.end(), c) == f.choices.end())
      throw std::logic_error("field \"" + f.name + "\": searched choice \"" + c + "\" is not one of its choices");
  f.searchChoices = std::move(choices);
  return f;
}

const Field *Schema::find(const std::string &name) const {
  for (const auto &f : fields_)
    if (f.name == name)
      return &f;
  return nullptr;
}

std::string Schema::names() const {
  std::string list;
  for (const auto &f : fields_)
    list += (list.empty() ? "" : ", ") + f.name;
  return list;
}

Json Schema::effective(const Json &given) const {
  Json out = Json::object();
  for (const auto &f : fields_) {
    if (given.is_object() && given.contains(f.name) && !given[f.name].is_null()) // null: the default
      out[f.name] = given[f.name];
    else
      out[f.name] = f.defaultValue;
  }
  return out;
}

bool Schema::applies(const Field &field, const Json &effective) const {
  if (field.whenField.empty())
    return true;
  if (!effective.is_object() || !effective.contains(field.whenField))
    return false;
  const Json &v = effective[field.whenField];
  if (!v.is_string())
    return false;
  return std::find(field.whenValues.begin(), field.whenValues.end(), v.get<std::string>()) != field.whenValues.end();
}

namespace {
bool isInteger(const Json &v) {
  if (v.is_number_integer())
    return true;
  return v.is_number_float() && std::isfinite(v.get<double>()) && std::floor(v.get<double>()) == v.get<double>();
}

// A value's text for a message, kept short (a huge or deep value must not flood the message).
std::string shown(const Json &v) {
  std::string text;
  if (v.is_array() || v.is_object()) {
    // Never recurse into a deep value here: its size is known, its text may be enormous.
    text = v.is_array() ? "a list of " + std::to_string(v.size()) : "an object with " + std::to_string(v.size());
    text += v.size() == 1 ? " item" : " items";
    if (v.size() <= 16) {
      bool flat = std::all_of(v.begin(), v.end(), [](const Json &x) { return x.is_primitive(); });
      if (flat)
        text = v.dump();
    }
    return text;
  }
  text = v.dump();
  if (text.size() > 80)
    text = text.substr(0, 77) + "...";
  return text;
}

// The longest path a data key may hold (Linux's PATH_MAX): a longer one cannot name a file.
constexpr std::size_t kMaxPathBytes = 4096;

bool isColumn(const Json &v) {
  return (v.is_string() && !v.get<std::string>().empty()) || (v.is_number_integer() && v.get<int64_t>() >= 0);
}
} // namespace

Field positiveFloatField(std::string name, double def, std::string doc) {
  // Any finite positive number is in range; infinities are refused as not numbers.
  return floatField(std::move(name), def, std::numeric_limits<double>::denorm_min(),
                    std::numeric_limits<double>::infinity(), std::move(doc));
}

bool excludesZero(const Field &f) {
  return f.kind == FieldKind::Float && f.min > 0 && f.min < std::numeric_limits<double>::min();
}

std::string rangeText(const Field &f) {
  if (excludesZero(f))
    return "> 0";
  auto fmt = [&](double v) {
    if (f.kind == FieldKind::Float)
      return Json(v).dump();
    return std::to_string(static_cast<int64_t>(v));
  };
  return "[" + fmt(f.min) + ", " + fmt(f.max) + "]";
}

std::string Schema::check(const Field &spec, const Json &value) {
  auto inRange = [&](double v) { return v >= spec.min && v <= spec.max; };
  if (value.is_null())
    return spec.required ? "is required" : std::string();
  switch (spec.kind) {
  case FieldKind::Bool:
    if (!value.is_boolean())
      return "must be true or false, got " + shown(value);
    return {};
  case FieldKind::Int:
    if (!isInteger(value))
      return "must be an integer, got " + shown(value);
    if (!inRange(value.get<double>()))
      return "is " + shown(value) + ", outside the allowed range " + rangeText(spec);
    return {};
  case FieldKind::Float:
    if (!value.is_number() || !std::isfinite(value.get<double>()))
      return "must be a number, got " + shown(value);
    if (!inRange(value.get<double>()))
      return excludesZero(spec) ? "is " + shown(value) + "; it must be > 0"
                                : "is " + shown(value) + ", outside the allowed range " + rangeText(spec);
    return {};
  case FieldKind::Enum: {
    std::string list;
    for (const auto &c : spec.choices)
      list += (list.empty() ? "" : ", ") + c;
    if (!value.is_string() ||
        std::find(spec.choices.begin(), spec.choices.end(), value.get<std::string>()) == spec.choices.end())
      return "is " + shown(value) + "; choose one of: " + list;
    return {};
  }
  case FieldKind::Text:
  case FieldKind::Path:
    if (!value.is_string() || value.get<std::string>().empty())
      return std::string("must be a non-empty ") + (spec.kind == FieldKind::Path ? "path" : "text") + ", got " +
             shown(value);
    // Checked before anything touches the file system: the CLI and the app refuse it alike, at once.
    if (spec.kind == FieldKind::Path && value.get<std::string>().size() > kMaxPathBytes)
      return "is " + std::to_string(value.get<std::string>().size()) + " bytes long (" + shown(value) +
             "); paths are limited to " + std::to_string(kMaxPathBytes) + " bytes";
    return {};
  case FieldKind::IntList:
    if (!value.is_array())
      return "must be a list of integers, got " + shown(value);
    for (const auto &v : value) {
      if (!isInteger(v))
        return "must be a list of integers, got " + shown(value);
      if (!inRange(v.get<double>()))
        return "has " + shown(v) + ", outside the allowed range " + rangeText(spec);
    }
    return {};
  case FieldKind::IntListList:
    // Lists of element indices; an item may also be a name (a table's column), which validation
    // resolves against the data's feature names.
    if (!value.is_array())
      return "must be a list of lists of integers or names, got " + shown(value);
    for (const auto &inner : value) {
      if (!inner.is_array())
        return "must be a list of lists of integers or names, got " + shown(value);
      for (const auto &v : inner) {
        if (v.is_string() && !v.get<std::string>().empty())
          continue;
        if (!isInteger(v))
          return "must be a list of lists of integers or names, got " + shown(value);
        if (!inRange(v.get<double>()))
          return "has " + shown(v) + ", outside the allowed range " + rangeText(spec);
      }
    }
    return {};
  case FieldKind::TextList:
    if (!value.is_array() || !std::all_of(value.begin(), value.end(), [](const Json &x) { return x.is_string(); }))
      return "must be a list of texts, got " + shown(value);
    return {};
  case FieldKind::Column:
    if (!isColumn(value))
      return "must be a column name or a 0-based column index, got " + shown(value);
    return {};
  case FieldKind::ColumnList:
    if (!value.is_array() || value.empty() || !std::all_of(value.begin(), value.end(), isColumn))
      return "must be a non-empty list of column names or 0-based indices, got " + shown(value);
    return {};
  case FieldKind::Classes:
    if (value.is_array()) {
      if (value.size() < 2 || static_cast<double>(value.size()) > spec.max ||
          !std::all_of(value.begin(), value.end(), [](const Json &x) { return x.is_string(); }))
        return "must list at least two class names (texts), got " + shown(value);
      std::set<std::string> seen;
      for (const auto &name : value)
        if (!seen.insert(name.get<std::string>()).second)
          return "lists " + shown(name) + " twice";
      return {};
    }
    if (!isInteger(value))
      return "must be a number of classes or a list of class names, got " + shown(value);
    if (!inRange(value.get<double>()))
      return "is " + shown(value) + ", outside the allowed range " + rangeText(spec);
    return {};
  }
  return {};
}

std::string withArticle(const std::string &word) {
  if (word.empty())
    return word;
  const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(word[0])));
  const bool vowel = c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u';
  return (vowel ? "an " : "a ") + word;
}

} // namespace particle
