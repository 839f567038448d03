#include "data/Tokenizer.h"

#include "data/Cache.h"
#include "data/DatasetSpec.h"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char **environ;

namespace particle {

namespace fs = std::filesystem;

namespace {

constexpr const char *kPieceMark = "\xE2\x96\x81"; // U+2581, SentencePiece's word-start mark

// The model's key: the training texts and the options that shape the pieces.
uint64_t modelKey(const PieceRequest &r) {
  uint64_t h = fnv(kFnvStart, std::string("sentencepiece-1|") + r.type + "|" + std::to_string(r.vocabSize));
  for (std::size_t i = 0; i < r.texts.size(); ++i)
    if (r.train[i]) {
      const uint64_t at = i;
      h = fnv(h, &at, sizeof at);
      h = fnv(h, *r.texts[i]);
    }
  return h;
}

struct CachePaths {
  fs::path folder;
  std::string model;  // the model to encode with (given, or the cached/trained one)
  std::string tokens; // the token ids
  bool trainModel = false;
};

// The cache files' names: hashing the texts is the costly part, so it is done once per request.
struct CacheNames {
  std::string model;  // the trained model's key (empty with a given model)
  std::string tokens; // the token ids' file name
};

CacheNames cacheNames(const PieceRequest &r) {
  CacheNames n;
  n.model = r.model.empty() ? hex16(modelKey(r)) : std::string();
  uint64_t h = fnv(kFnvStart, r.model.empty() ? "model " + n.model : "given " + fileStamp(r.model));
  h = fnv(h, "max_tokens " + std::to_string(r.maxTokens));
  for (const auto *t : r.texts)
    h = fnv(h, *t);
  n.tokens = "tokens-" + hex16(h) + ".bin";
  return n;
}

// Where this request's files are or would go: the first cache folder that holds its tokens, else
// the first that can be written.
std::optional<CachePaths> cachePaths(const PieceRequest &r, const CacheNames &names, bool forWriting) {
  const std::string &mk = names.model;
  const std::string &tokensName = names.tokens;
  const auto folders = cacheFolders(r.root, "text");
  auto at = [&](const fs::path &folder) {
    CachePaths p;
    p.folder = folder;
    p.tokens = (folder / tokensName).string();
    p.model = r.model.empty() ? (folder / ("sentencepiece-" + mk + ".model")).string() : r.model;
    std::error_code ec;
    p.trainModel = r.model.empty() && !fs::exists(p.model, ec);
    return p;
  };
  std::error_code ec;
  for (const auto &folder : folders)
    if (fs::exists(folder / tokensName, ec) && (!r.model.empty() || fs::exists(at(folder).model, ec)))
      return at(folder);
  if (!forWriting)
    return std::nullopt;
  for (const auto &folder : folders) {
    fs::create_directories(folder, ec);
    if (fs::is_directory(folder, ec) && ::access(folder.c_str(), W_OK) == 0)
      return at(folder);
  }
  return std::nullopt;
}

std::string lastHelperLine(const std::string &log) {
  std::ifstream in(log);
  std::string line, found;
  while (std::getline(in, line))
    if (line.rfind("particle-tokenize: ", 0) == 0)
      found = line.substr(19);
  return found;
}

// Runs the helper with `args`, its output to `log`; polls for cancellation. The exit status.
int runHelper(const std::string &program, const std::vector<std::string> &args, const std::string &log,
              const DatasetSpec *spec) {
  std::vector<char *> argv;
  argv.push_back(const_cast<char *>(program.c_str()));
  for (const auto &a : args)
    argv.push_back(const_cast<char *>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  const int spawned = ::posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0)
    throw Error(ErrorKind::File, program + ": cannot start the tokenizer helper (" + std::strerror(spawned) + ")");
  int status = 0;
  for (;;) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid)
      break;
    if (done < 0 && errno != EINTR)
      throw Error(ErrorKind::File, "the tokenizer helper vanished (" + std::string(std::strerror(errno)) + ")");
    if (spec) {
      try {
        spec->checkCancelled();
      } catch (...) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        throw;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return status;
}

} // namespace

std::string tokenizeProgram() {
  std::error_code ec;
  if (const char *env = std::getenv("PARTICLE_TOKENIZE"); env && *env)
    return fs::exists(env, ec) ? std::string(env) : std::string();
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec)
    for (const auto &candidate :
         {self.parent_path() / "particle-tokenize", self.parent_path().parent_path() / "bin" / "particle-tokenize"})
      if (::access(candidate.c_str(), X_OK) == 0)
        return candidate.string();
  if (const char *path = std::getenv("PATH"))
    for (std::string rest = path; !rest.empty();) {
      const auto colon = rest.find(':');
      const fs::path candidate = fs::path(rest.substr(0, colon)) / "particle-tokenize";
      if (!candidate.parent_path().empty() && ::access(candidate.c_str(), X_OK) == 0)
        return candidate.string();
      rest = colon == std::string::npos ? std::string() : rest.substr(colon + 1);
    }
  return {};
}

std::optional<std::vector<std::string>> cachedPieces(const PieceRequest &request) {
  const auto paths = cachePaths(request, cacheNames(request), false);
  if (!paths)
    return std::nullopt;
  tokenfiles::Tokens t;
  if (!tokenfiles::readTokens(paths->tokens, t).empty() || t.ids.size() != request.texts.size())
    return std::nullopt;
  return t.pieces;
}

PieceResult sentencePieceTokens(const PieceRequest &r) {
  PieceResult out;
  // A folder or a device (/dev/zero) would make the helper abort, named by the data's folder:
  // refuse it here, by its own name.
  std::error_code ec;
  if (!r.model.empty() && !fs::exists(r.model, ec))
    throw Error(ErrorKind::File, r.model + ": no such file (dataset.tokenizer_model)");
  if (!r.model.empty() && !fs::is_regular_file(r.model, ec))
    throw Error(ErrorKind::File, r.model + ": tokenizer_model is not a file");
  const CacheNames names = cacheNames(r);
  if (auto paths = cachePaths(r, names, false)) {
    if (tokenfiles::readTokens(paths->tokens, out.tokens).empty() && out.tokens.ids.size() == r.texts.size()) {
      out.modelFile = paths->model;
      out.fromCache = true;
      return out;
    }
  }
  const auto paths = cachePaths(r, names, true);
  if (!paths)
    throw Error(ErrorKind::File, r.root +
                                     ": no folder to keep the tokenizer's files in (neither "
                                     ".particle-cache beside the data nor the user's cache folder can be written)");
  const std::string program = tokenizeProgram();
  if (program.empty())
    throw Error(ErrorKind::File,
                "tokenizer \"sentencepiece\" needs the particle-tokenize program, built beside "
                "particle; not found beside this program, in ../bin, on PATH or at $PARTICLE_TOKENIZE");
  const std::string stem = (paths->folder / ("tokenize-" + std::to_string(::getpid()))).string();
  const std::string textsFile = stem + ".texts", log = stem + ".log";
  struct Cleanup {
    std::string a, b;
    ~Cleanup() {
      std::error_code ec;
      fs::remove(a, ec);
      fs::remove(b, ec);
    }
  } cleanup{textsFile, log};
  if (!tokenfiles::writeTexts(textsFile, r.texts, r.train))
    throw Error(ErrorKind::File, textsFile + ": cannot write the texts for the tokenizer");
  std::vector<std::string> args = {"--texts",     textsFile,      "--out",
                                   paths->tokens, "--max-tokens", std::to_string(r.maxTokens)};
  if (paths->trainModel) {
    std::string prefix = paths->model;
    prefix.resize(prefix.size() - 6); // ".model"
    args.insert(args.end(), {"--train", prefix, "--vocab-size", std::to_string(r.vocabSize), "--type", r.type});
  } else {
    args.insert(args.end(), {"--model", paths->model});
  }
  const int status = runHelper(program, args, log, r.spec);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string why = lastHelperLine(log);
    if (WIFSIGNALED(status))
      why = "ended by signal " + std::to_string(WTERMSIG(status));
    if (why.empty())
      why = "failed with exit status " + std::to_string(WEXITSTATUS(status));
    if (const auto at = why.find("Vocabulary size");
        at != std::string::npos && why.find("too high") != std::string::npos)
      badDatasetKey("vocab_size",
                    std::to_string(r.vocabSize) + " pieces are more than these training texts allow: " + why.substr(at),
                    ErrorKind::File);
    throw Error(ErrorKind::File, r.root + ": SentencePiece tokenizer: " + why);
  }
  if (const std::string why = tokenfiles::readTokens(paths->tokens, out.tokens); !why.empty())
    throw Error(ErrorKind::File, why);
  out.modelFile = paths->model;
  return out;
}

std::string keepTokenizerWithRun(const std::string &model, const std::string &outDir) {
  std::error_code ec;
  const fs::path kept = fs::absolute(fs::path(outDir) / "tokenizer.model", ec);
  if (fs::exists(kept, ec) && fs::equivalent(model, kept, ec))
    return kept.string();
  const fs::path tmp = kept.string() + ".tmp";
  fs::copy_file(model, tmp, fs::copy_options::overwrite_existing, ec);
  if (!ec)
    fs::rename(tmp, kept, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw Error(ErrorKind::File, kept.string() + ": cannot keep the tokenizer with the run (" + ec.message() + ")");
  }
  return kept.string();
}

bool isPieceVocabulary(const std::vector<std::string> &vocabulary) {
  for (const auto &piece : vocabulary)
    if (piece.rfind(kPieceMark, 0) == 0)
      return true;
  return false;
}

ReadableToken readableToken(const std::string &token, bool pieces) {
  if (!pieces)
    return {token, false};
  if (token.rfind(kPieceMark, 0) == 0)
    return {token.substr(3), false};
  return {token, token != "<unk>"};
}

} // namespace particle
