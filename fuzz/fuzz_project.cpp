// The project loader, the validator and shape inference, against three made-up data sets (an
// image, a table, token ids), chosen by the input's first byte; the rest is the project file.
#include "graph/Catalogue.h"
#include "project/Project.h"
#include "project/ProjectCheck.h"

#include <cstdint>
#include <string>

using namespace particle;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size) {
  if (size < 1)
    return 0;
  static const DataInfo image{{1, 28, 28}, 10, {}, {}, {}, 60000, 6000, 10000};
  static const DataInfo table{{8}, 3, {"a", "b", "c"}, {}, {}, 100, 10, 20};
  static const DataInfo text{{64}, 2, {"ham", "spam"}, {}, {"<pad>", "<unk>", "free", "money", "hello"}, 50, 5, 10};
  const DataInfo *info = data[0] % 3 == 0 ? &image : data[0] % 3 == 1 ? &table : &text;
  try {
    const Project p =
        projectFromText(std::string(reinterpret_cast<const char *>(data) + 1, size - 1), "fuzz.particle.json");
    const Validation v = validate(p, info);
    for (const auto &problem : v.problems)
      (void)problem.format("fuzz.particle.json");
  } catch (const Error &) {
  }
  return 0;
}
