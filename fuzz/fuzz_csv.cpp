// The csv data kind end to end: libcsv, the header, labels, categorical columns, missing cells,
// the splits and the tensors. The keys come from the input's first byte.
#include "FuzzSupport.h"

using namespace particle;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size) {
  if (size < 1)
    return 0;
  const std::string path = fuzz::asFile(data + 1, size - 1, ".csv");
  Json section = {{"kind", "csv"}, {"path", path}, {"label_column", "label"}};
  if (data[0] & 1)
    section["missing"] = "mean";
  if (data[0] & 2)
    section["categorical_columns"] = {"c"};
  if (data[0] & 4)
    section["delimiter"] = "semicolon";
  fuzz::probeAndLoad(section);
  return 0;
}
