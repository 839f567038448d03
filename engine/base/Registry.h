#pragma once
// One registry of named entries, in the order they were added: the node catalogue
// (graph/Catalogue.h, by NodeType::type) and the data kinds (data/DatasetSpec.h, by
// DataKind::name) are each one. `Self` is made once, on first use, from its built-ins; adding an
// entry of a name already there replaces it. The entries live in a deque, so the pointers `find`
// hands out stay valid when a test adds one.

#include <deque>
#include <string>
#include <vector>

namespace particle {

template <class Self, class T, std::string T::*Name> class Registry {
public:
  static const Self &instance() { return mutableInstance(); }
  static void add(T entry) {
    auto &entries = mutableInstance().entries_;
    for (auto &e : entries)
      if (e.*Name == entry.*Name) {
        e = std::move(entry);
        return;
      }
    entries.push_back(std::move(entry));
  }

  const T *find(const std::string &name) const {
    for (const auto &e : entries_)
      if (e.*Name == name)
        return &e;
    return nullptr;
  }
  const std::deque<T> &entries() const { return entries_; }
  // The names for messages: "a, b, c", or with `last` " or ", "a, b or c".
  std::string names(const char *last = ", ") const {
    std::string list;
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      if (i)
        list += i + 1 == entries_.size() ? last : ", ";
      list += entries_[i].*Name;
    }
    return list;
  }

protected:
  explicit Registry(std::vector<T> builtins) {
    for (auto &e : builtins)
      entries_.push_back(std::move(e));
  }

private:
  // Self's constructor is private, with this template its friend.
  static Self &mutableInstance() {
    static Self self;
    return self;
  }
  std::deque<T> entries_;
};

} // namespace particle
