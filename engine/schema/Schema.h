#pragma once
// One schema type for every set of user-facing keys: node params, each data kind's keys and the
// training section. It checks values, fills defaults and says which keys apply (Split's `rows`
// only with mode "patches"); the app generates its forms from it (docs/ARCHITECTURE.md).

#include "base/Json.h"

#include <initializer_list>
#include <string>
#include <vector>

namespace particle {

enum class FieldKind {
  Bool,
  Int,
  Float,
  Enum,        // one of `choices`
  Text,        // free text (a name)
  Path,        // a file or folder, resolved against the project's folder
  IntList,     // [1, 2, 3]
  IntListList, // [[0, 1], [2]]
  TextList,    // ["cat", "dog"]
  Column,      // a CSV column: its header name or a 0-based index
  ColumnList,  // a list of columns
  Classes,     // a number of classes (≥ 2) or the list of their names
};
// "an integer", "a list of integers"…: used in messages.
const char *fieldKindName(FieldKind kind);

struct Field {
  std::string name;
  FieldKind kind = FieldKind::Int;
  Json defaultValue; // null: optional, no value unless given
  bool required = false;
  double min = 0, max = 0; // Int/Float and list elements
  std::vector<std::string> choices;
  std::string doc;
  // Applies only when `whenField` has one of `whenValues` (e.g. rows when mode is "patches").
  std::string whenField;
  std::vector<std::string> whenValues;
  // What 0 means for an Int, shown instead of the number ("from data", "automatic").
  std::string zeroMeans;
  // Path fields: a folder rather than a file, and the file-dialog filter.
  bool folder = false;
  std::string fileFilter;
  // Forms put advanced fields under a fold.
  bool advanced = false;
  std::string placeholder;
  // A width (units, channels, features): the search of decompositions scales it to make a
  // sub-model narrower or wider (engine/recipes/Variants.cpp).
  bool width = false;
  // Enum fields: the choices that search tries, in order; empty when it leaves the field as it is.
  std::vector<std::string> searchChoices;

  // Human label: the name with spaces for underscores.
  std::string label() const;
};

// Builders, so that schemas read as a table.
Field boolField(std::string name, bool def, std::string doc);
Field intField(std::string name, Json def, double min, double max, std::string doc);
Field floatField(std::string name, double def, double min, double max, std::string doc);
Field enumField(std::string name, std::vector<std::string> choices, std::string doc);
Field textField(std::string name, Json def, std::string doc);
Field pathField(std::string name, std::string doc, bool folder = false, std::string filter = {});
Field listField(std::string name, FieldKind kind, Json def, double min, double max, std::string doc);
Field columnField(std::string name, std::string doc);
Field columnListField(std::string name, std::string doc);
Field classesField(std::string name, std::string doc);

// Field decorators (chainable on a temporary).
Field when(Field f, std::string field, std::vector<std::string> values);
Field zeroMeans(Field f, std::string meaning);
Field required(Field f);
Field advanced(Field f);
Field width(Field f);
// The choices the search tries (each one of the field's choices).
Field searched(Field f, std::vector<std::string> choices);

class Schema {
public:
  Schema() = default;
  Schema(std::initializer_list<Field> fields) : fields_(fields) {}

  const std::vector<Field> &fields() const { return fields_; }
  const Field *find(const std::string &name) const;
  bool empty() const { return fields_.empty(); }
  void add(Field f) { fields_.push_back(std::move(f)); }
  // "a, b, c": the known names, for "unknown key" messages.
  std::string names() const;

  // Defaults merged with the given values (an object or null). A key given as null takes its
  // default; unknown keys are dropped.
  Json effective(const Json &given) const;
  // Whether the field applies under these effective values (its `whenField` condition).
  bool applies(const Field &field, const Json &effective) const;
  // Checks one value against its field; returns an empty string when it is fine, else a phrase
  // that follows the key: "must be an integer, got \"x\"", "is 0, outside the allowed range [1, 64]".
  static std::string check(const Field &field, const Json &value);

private:
  std::vector<Field> fields_;
};

// "an" before a vowel: "an Input", "a Split".
std::string withArticle(const std::string &word);

} // namespace particle
