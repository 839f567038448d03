// The text data kind with the words tokenizer: JSON lines (or CSV when the first byte is odd),
// UTF-8 repair, labels, the vocabulary and the token ids.
#include "FuzzSupport.h"

using namespace particle;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size) {
  if (size < 1)
    return 0;
  const bool csv = data[0] & 1;
  const std::string path = fuzz::asFile(data + 1, size - 1, csv ? ".csv" : ".jsonl");
  Json section = {{"kind", "text"}, {"path", path}, {"max_tokens", 8 + data[0] % 32}, {"min_count", 1}};
  if (data[0] & 2)
    section["text_columns"] = {"text", "subject"};
  fuzz::probeAndLoad(section);
  return 0;
}
