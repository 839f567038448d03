#pragma once
// A node's parameters as the editor shows them: on the node and in the Inspector. A share group's
// later members build nothing of their own (they run the first member's module) or only their last
// layer (share_scope "trunk"); their text says which part is shared and with whom, so that the
// nodes' own figures add up to the model's total in the status bar.

#include "graph/Validator.h"

#include <QString>

#include <cstdint>
#include <string>

namespace particle::ui {

// 12,345 (English digit groups, whatever the locale).
QString withCommas(int64_t v);

// The text for node `id`: `compact` for the node's own line ("57,000 params", "57,000 params,
// shared", "960 own + 56,040 shared"), else the Inspector's lines, which name the member it shares
// with. Empty (compact) or "-" when the node has no parameters known.
QString parameterText(const Validation &v, const std::string &id, bool compact);

} // namespace particle::ui
