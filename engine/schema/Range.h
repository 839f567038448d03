#pragma once
// A number field's allowed range as people read it ("[1, 64]", "> 0"), and fields that take any
// positive number (a learning rate): their minimum is the smallest positive double, so 0 is
// refused and every positive number taken. Apart from Schema.h, which most files include.

#include "schema/Schema.h"

#include <string>

namespace particle {

// A Float field taking any number > 0 (not 0; no upper bound).
Field positiveFloatField(std::string name, double def, std::string doc);
// Whether `f` takes only numbers above its minimum's round value, 0 (a positiveFloatField).
bool excludesZero(const Field &f);
// "[1, 64]", "[0.0, 1.0]", or "> 0" for a positiveFloatField.
std::string rangeText(const Field &f);

} // namespace particle
