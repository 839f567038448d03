#pragma once
// Typed reads of a JSON object's fields for files this program wrote but a user (or an attacker)
// may have edited: checkpoint headers, search.json, summary.json. A field of the wrong type, or a
// missing one without a default, is an Error(File) naming the file and the field — never a raw
// nlohmann type_error.

#include "base/Json.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>

namespace particle {

class JsonFields {
public:
  // `where` names the object inside the file ("trials[3]"), empty for the top level.
  JsonFields(Json object, std::string file, std::string where = {})
      : json_(std::move(object)), file_(std::move(file)), where_(std::move(where)) {
    if (!json_.is_object())
      fail("", "is not a JSON object");
  }

  bool has(const char *key) const { return json_.contains(key) && !json_[key].is_null(); }

  std::string string(const char *key, const std::optional<std::string> &fallback = std::nullopt) const {
    if (!has(key))
      return missing(key, fallback);
    if (!json_[key].is_string())
      fail(key, "must be a string");
    return json_[key].get<std::string>();
  }
  int64_t integer(const char *key, std::optional<int64_t> fallback = std::nullopt,
                  int64_t min = std::numeric_limits<int64_t>::min(),
                  int64_t max = std::numeric_limits<int64_t>::max()) const {
    if (!has(key))
      return missing(key, fallback);
    const Json &v = json_[key];
    if (!v.is_number_integer())
      fail(key, "must be a whole number");
    if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()))
      fail(key, "is " + std::to_string(v.get<uint64_t>()) + ", out of range");
    const int64_t x = v.get<int64_t>();
    if (x < min || x > max)
      fail(key, "is " + std::to_string(x) + ", out of range");
    return x;
  }
  double number(const char *key, std::optional<double> fallback = std::nullopt) const {
    if (!has(key))
      return missing(key, fallback);
    if (!json_[key].is_number())
      fail(key, "must be a number");
    return json_[key].get<double>();
  }
  bool boolean(const char *key, std::optional<bool> fallback = std::nullopt) const {
    if (!has(key))
      return missing(key, fallback);
    if (!json_[key].is_boolean())
      fail(key, "must be true or false");
    return json_[key].get<bool>();
  }
  // The field as an object or array (an empty one when missing and `optional`).
  const Json &object(const char *key, bool optional = false) const { return nested(key, optional, true); }
  const Json &array(const char *key, bool optional = false) const { return nested(key, optional, false); }

  std::string path(const std::string &key) const { return where_.empty() ? key : where_ + "." + key; }
  [[noreturn]] void fail(const std::string &key, const std::string &what) const {
    const std::string subject = key.empty() ? (where_.empty() ? std::string("the file") : where_) : path(key);
    throw Error(ErrorKind::File, file_ + ": " + subject + " " + what);
  }

private:
  template <typename T> T missing(const char *key, const std::optional<T> &fallback) const {
    if (!fallback)
      fail(key, "is missing");
    return *fallback;
  }
  const Json &nested(const char *key, bool optional, bool wantObject) const {
    static const Json emptyObject = Json::object(), emptyArray = Json::array();
    if (!has(key)) {
      if (!optional)
        fail(key, "is missing");
      return wantObject ? emptyObject : emptyArray;
    }
    const Json &v = json_[key];
    if (wantObject ? !v.is_object() : !v.is_array())
      fail(key, wantObject ? "must be a JSON object" : "must be a JSON array");
    return v;
  }

  Json json_; // a copy: the object may be a temporary (a file just parsed)
  std::string file_, where_;
};

} // namespace particle
