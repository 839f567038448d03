#pragma once
// Tensor helpers for the engine tests that build models (TestSupport.h stays free of LibTorch for
// the GUI tests).

#include <torch/torch.h>

#include <map>
#include <string>

namespace particle::test {

// The same names with exactly equal tensors.
inline bool sameTensors(const std::map<std::string, torch::Tensor> &a, const std::map<std::string, torch::Tensor> &b) {
  if (a.size() != b.size())
    return false;
  for (const auto &[key, t] : a)
    if (!b.count(key) || !torch::equal(t, b.at(key)))
      return false;
  return true;
}

} // namespace particle::test
