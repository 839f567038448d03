// particle-tokenize: SentencePiece for the text data kind, in a process without LibTorch (Debian's
// libsentencepiece and LibTorch each bring a protobuf and the two clash before main; see
// docs/DECISIONS.md). The engine starts it; a person rarely needs to:
//
//   particle-tokenize --texts FILE --out TOKENS --max-tokens T
//                     (--model MODEL | --train PREFIX --vocab-size V --type unigram|bpe) [--threads N]
//
// --train learns a model from the texts flagged as training (each line a sentence) and writes
// PREFIX.model and PREFIX.vocab; --model encodes with a model already trained. Every text is then
// encoded and its first T ids written to TOKENS (engine/data/TokenFiles.h). Pieces: 0 <pad>,
// 1 <unk>, no begin or end marks. Exit 0, or 3 with one line "particle-tokenize: …" on stderr
// (1 for bad arguments).

#include "data/TokenFiles.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <thread>
#include <unistd.h>

// SentencePiece is not built with the sanitizers; what it keeps until exit is not ours to report.
// NOLINTNEXTLINE(bugprone-reserved-identifier)
extern "C" const char *__asan_default_options() {
  return "detect_leaks=0";
}

namespace {

namespace fs = std::filesystem;
using particle::tokenfiles::Tokens;

constexpr std::size_t kMaxSentence = 4096; // bytes of one training line (SentencePiece skips longer ones)

[[noreturn]] void fail(int code, const std::string &message) {
  std::cerr << "particle-tokenize: " << message << std::endl;
  std::exit(code);
}

// The training split's lines, cut at kMaxSentence bytes on a UTF-8 boundary.
class Lines : public sentencepiece::SentenceIterator {
public:
  Lines(const std::vector<std::string> &texts, const std::vector<uint8_t> &train) : texts_(texts), train_(train) {
    advance();
  }
  bool done() const override { return text_ >= texts_.size(); }
  void Next() override { advance(); }
  const std::string &value() const override { return line_; }
  sentencepiece::util::Status status() const override { return {}; }

private:
  void advance() {
    while (text_ < texts_.size()) {
      const std::string &t = texts_[text_];
      if (!train_[text_] || at_ >= t.size()) {
        ++text_;
        at_ = 0;
        continue;
      }
      std::size_t end = t.find('\n', at_);
      if (end == std::string::npos)
        end = t.size();
      line_.assign(t, at_, end - at_);
      at_ = end + 1;
      if (line_.size() > kMaxSentence) {
        std::size_t cut = kMaxSentence;
        while (cut > 0 && (static_cast<unsigned char>(line_[cut]) & 0xC0) == 0x80)
          --cut;
        line_.resize(cut);
      }
      if (line_.find_first_not_of(" \t\r") != std::string::npos)
        return;
    }
    line_.clear();
  }
  const std::vector<std::string> &texts_;
  const std::vector<uint8_t> &train_;
  std::size_t text_ = 0, at_ = 0;
  std::string line_;
};

// Writes through a temporary name so that a reader never sees half a file.
void replace(const std::string &tmp, const std::string &path) {
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    fail(3, path + ": cannot write (" + ec.message() + ")");
  }
}

} // namespace

int main(int argc, char **argv) {
  std::map<std::string, std::string> args;
  for (int i = 1; i < argc; ++i) {
    const std::string key = argv[i];
    if (key.rfind("--", 0) != 0 || i + 1 >= argc)
      fail(1, "usage: particle-tokenize --texts FILE --out TOKENS --max-tokens T (--model MODEL | --train PREFIX "
              "--vocab-size V --type unigram|bpe) [--threads N]");
    args[key] = argv[++i];
  }
  auto arg = [&](const std::string &key) {
    const auto it = args.find(key);
    if (it == args.end())
      fail(1, "missing " + key);
    return it->second;
  };
  auto number = [&](const std::string &key) {
    try {
      const long long v = std::stoll(arg(key));
      if (v < 1 || v > 100000000)
        throw std::out_of_range(key);
      return v;
    } catch (const std::exception &) {
      fail(1, key + ": not a positive number");
    }
  };

  std::vector<std::string> texts;
  std::vector<uint8_t> train;
  if (const std::string why = particle::tokenfiles::readTexts(arg("--texts"), texts, train); !why.empty())
    fail(3, why);

  std::string model;
  if (args.count("--model")) {
    model = arg("--model");
  } else {
    const std::string prefix = arg("--train");
    const std::string type = arg("--type");
    if (type != "unigram" && type != "bpe")
      fail(1, "--type: unigram or bpe");
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    const long long threads = args.count("--threads") ? number("--threads") : cores;
    const std::string tmp = prefix + ".tmp-" + std::to_string(::getpid());
    Lines lines(texts, train);
    if (lines.done())
      fail(3, "no training text to learn pieces from");
    const std::string spec = "--model_prefix=" + tmp + " --model_type=" + type +
                             " --vocab_size=" + std::to_string(number("--vocab-size")) +
                             " --pad_id=0 --unk_id=1 --bos_id=-1 --eos_id=-1 --pad_piece=<pad> --unk_piece=<unk>"
                             " --hard_vocab_limit=true --character_coverage=0.9995 --input_sentence_size=2000000"
                             " --shuffle_input_sentence=true --max_sentence_length=" +
                             std::to_string(kMaxSentence + 1) + " --num_threads=" + std::to_string(threads);
    if (const auto status = sentencepiece::SentencePieceTrainer::Train(spec, &lines); !status.ok())
      fail(3, std::string("training the SentencePiece model: ") + status.message());
    replace(tmp + ".vocab", prefix + ".vocab");
    replace(tmp + ".model", prefix + ".model");
    model = prefix + ".model";
  }

  sentencepiece::SentencePieceProcessor sp;
  if (const auto status = sp.Load(model); !status.ok())
    fail(3, model + ": not a SentencePiece model (" + status.message() + ")");
  Tokens tokens;
  tokens.maxTokens = static_cast<uint64_t>(number("--max-tokens"));
  for (int i = 0; i < sp.GetPieceSize(); ++i)
    tokens.pieces.push_back(sp.IdToPiece(i));
  if (tokens.pieces.size() < 2 || sp.PieceToId("<pad>") != 0)
    fail(3, model + ": the model's piece 0 is not <pad> (train it with --pad_id=0 --unk_id=1)");
  tokens.ids.resize(texts.size());
  std::vector<int> ids;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    // Only the first max_tokens ids are kept: encode a prefix long enough for them (a piece is at
    // least one byte), not the whole of a long text.
    // Pieces do not cross spaces, so a cut changes only the word it falls in; that word must lie
    // past the ids kept, else the whole text is encoded.
    const std::size_t prefix = std::min<std::size_t>(texts[i].size(), tokens.maxTokens * 64);
    auto status = sp.Encode(std::string_view(texts[i]).substr(0, prefix), &ids);
    if (status.ok() && prefix < texts[i].size() && ids.size() <= tokens.maxTokens + 1)
      status = sp.Encode(texts[i], &ids);
    if (!status.ok())
      fail(3, "text " + std::to_string(i) + ": " + status.message());
    if (ids.size() > tokens.maxTokens)
      ids.resize(tokens.maxTokens);
    tokens.ids[i].assign(ids.begin(), ids.end());
  }
  const std::string out = arg("--out");
  const std::string tmp = out + ".tmp-" + std::to_string(::getpid());
  if (!particle::tokenfiles::writeTokens(tmp, tokens)) {
    std::error_code ec;
    fs::remove(tmp, ec);
    fail(3, out + ": cannot write");
  }
  replace(tmp, out);
  return 0;
}
