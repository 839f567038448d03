// `particle`: the headless command line (docs/FORMAT.md, "Command line"). Links the engine only, no Qt.

#include "train/Runtime.h"
#include "data/DatasetSpec.h"
#include "explain/ContributionHook.h"
#include "explain/Explainer.h"
#include "export/PythonExport.h"
#include "project/Project.h"
#include "project/ProjectCheck.h"
#include "recipes/ExplainSession.h"
#include "recipes/Processes.h"
#include "recipes/Robustness.h"
#include "recipes/Search.h"
#include "recipes/WorkerGroup.h"
#include "recipes/RunPlan.h"
#include "train/Trainer.h"
#include "project/TrainingSpec.h"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <limits>
#include <map>
#include <sstream>
#include <sys/prctl.h>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace particle;

namespace {

constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;

const char *kUsage = R"(usage: particle <command> [options]

commands:
  check PROJECT                       validate; print per-node shapes, parameters, share savings
  train PROJECT [--out DIR [--force]] [--epochs N] [--device D] [--seed S] [--threads T]
        [--resume CKPT] [--nproc N]   train; writes metrics.csv, summary.json, checkpoint.pt, weights.pt
                                      (default --out: runs/<name>-<timestamp>, always a fresh folder);
                                      --nproc N: N data-parallel workers on this machine (c10d, Gloo;
                                      default: the project's training.workers, 1 unless set);
                                      with RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT set (torchrun,
                                      Slurm) this process joins that group as one worker
  search PROJECT --budget 10m|24trials [--jobs N] [--out DIR [--force]] [--seed S] [--variants N]
         [--first-epochs E] [--pin AXIS=V,..] [--exclude AXIS=V,..] [--list]
                                      successive halving over decompositions of the graph (parts, width,
                                      combine, sharing, and the monolithic baseline), one process per
                                      trial; writes search.json, trials.csv, pareto.json, variants/
  robustness PROJECT --checkpoint CKPT [--sigmas 0,0.1,..] [--samples N] [--parts-from PROJECT] [--out DIR]
                                      accuracy under input noise and with each part occluded, the
                                      generalisation gap per epoch; robustness.json and .csv
  explain PROJECT --checkpoint CKPT [--samples N] [--method shapley|ablation|gradxact]
          [--baseline mean|zero|background] [--target predicted|true] [--out DIR]
                                      per-sub-model attributions over N test samples; writes
                                      explain.json and PNG heat maps
  export PROJECT [--checkpoint CKPT] [--to pytorch|onnx] [--out DIR [--force]]
                                      plain PyTorch: model.py, weights.pt, reference.pt, data.pt,
                                      train.py (and model.onnx with --to onnx); without
                                      --checkpoint, the initial weights a run starts from
  info                                versions, devices, threads
  keys                                every node type, data kind and training key with its
                                      type, default, range and doc (Markdown; docs/FORMAT.md)

exit codes: 0 ok, 1 invalid project, 2 usage, 3 file or data error, 4 training failed
)";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Parses "--key value" pairs after the positional arguments.
struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> options;
  std::vector<std::pair<std::string, std::string>> given; // every option in order (repeatable ones)

  Args(int argc, char **argv, int first, const std::vector<std::string> &known,
       const std::vector<std::string> &flags = {}) {
    for (int i = first; i < argc; ++i) {
      std::string a = argv[i];
      if (std::find(flags.begin(), flags.end(), a) != flags.end()) {
        options[a] = "1";
        continue;
      }
      if (a.rfind("--", 0) == 0) {
        std::string value;
        if (auto eq = a.find('='); eq != std::string::npos) {
          value = a.substr(eq + 1);
          a = a.substr(0, eq);
        } else {
          if (i + 1 >= argc)
            throw UsageError(a + " needs a value");
          value = argv[++i];
        }
        if (std::find(known.begin(), known.end(), a) == known.end())
          throw UsageError("unknown option " + a);
        options[a] = value;
        given.emplace_back(a, value);
      } else {
        positional.push_back(a);
      }
    }
  }
  std::optional<std::string> get(const std::string &key) const {
    auto it = options.find(key);
    return it == options.end() ? std::nullopt : std::optional<std::string>(it->second);
  }
  std::vector<std::string> all(const std::string &key) const {
    std::vector<std::string> out;
    for (const auto &[k, v] : given)
      if (k == key)
        out.push_back(v);
    return out;
  }
  // A whole number in [min, max]; by default at most 2³¹ − 1, as the counts it sets are `int`s.
  std::optional<int64_t> integer(const std::string &key, int64_t min,
                                 int64_t max = std::numeric_limits<int>::max()) const {
    auto v = get(key);
    if (!v)
      return std::nullopt;
    try {
      std::size_t used = 0;
      const int64_t x = std::stoll(*v, &used);
      if (used != v->size() || x < min || x > max)
        throw std::invalid_argument("");
      return x;
    } catch (const std::exception &) {
      throw UsageError(key + " needs an integer ≥ " + std::to_string(min) + " and ≤ " + std::to_string(max) +
                       ", got \"" + *v + "\"");
    }
  }
};

std::string withCommas(int64_t v) {
  std::string s = std::to_string(v), out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i && (s.size() - i) % 3 == 0 && s[i - 1] != '-')
      out += ',';
    out += s[i];
  }
  return out;
}

std::string duration(double seconds) {
  const int64_t s = static_cast<int64_t>(seconds + 0.5);
  std::ostringstream out;
  if (s >= 3600)
    out << s / 3600 << "h" << std::setw(2) << std::setfill('0') << (s % 3600) / 60 << "m";
  else if (s >= 60)
    out << s / 60 << "m" << std::setw(2) << std::setfill('0') << s % 60 << "s";
  else
    out << s << "s";
  return out.str();
}

void printProblems(const Validation &v, const std::string &file) {
  for (const auto &p : v.problems)
    std::cerr << p.format(file) << "\n";
}

// Loads a project that must validate: on problems, prints them and returns the exit code.
std::optional<int> loadValid(const std::string &file, Project &project, Validation &validation) {
  project = loadProject(file);
  validation = validate(project);
  if (validation.ok())
    return std::nullopt;
  printProblems(validation, file);
  return validation.exitCode();
}

// What `explain` and `robustness` start from: a project that validates, a checkpoint of it, and
// the folder to write into (by default the checkpoint's run folder).
struct CheckpointInput {
  Project project;
  std::string checkpoint;
  std::string outDir;
};

// Reads the command's project and --checkpoint and --out; on problems with the project, prints
// them and returns the exit code.
std::optional<int> loadCheckpointInput(const std::string &command, const Args &args, CheckpointInput &in) {
  if (args.positional.size() != 1)
    throw UsageError(command + " takes one project file");
  const auto checkpoint = args.get("--checkpoint");
  if (!checkpoint)
    throw UsageError(command + " needs --checkpoint CKPT (from `particle train`)");
  Validation validation;
  if (auto code = loadValid(args.positional[0], in.project, validation))
    return code;
  in.checkpoint = *checkpoint;
  const std::string out = args.get("--out").value_or(fs::path(in.checkpoint).parent_path().string());
  in.outDir = out.empty() ? "." : out;
  return std::nullopt;
}

int cmdCheck(const Args &args) {
  if (args.positional.size() != 1)
    throw UsageError("check takes one project file");
  const std::string file = args.positional[0];
  Project project;
  Validation v;
  if (auto code = loadValid(file, project, v)) {
    std::cerr << file << ": " << v.errorCount() << " error(s)\n";
    return *code;
  }
  // Column widths from the content.
  struct Row {
    std::string id, type, shapes, params, share;
  };
  std::vector<Row> rows;
  for (const auto &n : project.graph.nodes) {
    const NodeInfo *info = v.info(n.id);
    Row r{n.id, n.type, "", info && info->parameters ? withCommas(info->parameters) : "-", "-"};
    if (info && info->shapesKnown) {
      std::string in;
      for (std::size_t i = 0; i < info->inputs.size(); ++i)
        in += (i ? " " : "") + inputShapeText(*info, i);
      if (info->gate)
        in += " gate:" + shapeToString(*info->gate);
      std::string out;
      if (info->outputs.size() > 1)
        out = std::to_string(info->outputs.size()) + "×" + outputShapeText(*info, 0);
      else
        out = info->outputs.empty() ? "" : outputShapeText(*info, 0);
      const NodeType *type = Catalogue::instance().find(n.type);
      const bool logits = type && type->role == NodeRole::Output;
      r.shapes = (in.empty() ? "data" : in) + " → " + (logits ? "logits " + out : out);
    } else {
      r.shapes = "(unused)";
    }
    if (!n.share.empty()) {
      // The member whose module (or, with scope trunk, whose trunk) this one uses.
      const auto built = v.sharing.nodes.find(n.id);
      const std::string from = built == v.sharing.nodes.end()
                                   ? std::string()
                                   : (built->second.module != n.id ? built->second.module : built->second.trunk);
      r.share = n.share + (n.shareScope == "trunk" ? " (trunk)" : "") + (from.empty() ? "" : " → " + from);
    }
    rows.push_back(r);
  }
  std::size_t w[5] = {4, 4, 5, 6, 5};
  for (const auto &r : rows) {
    w[0] = std::max(w[0], r.id.size());
    w[1] = std::max(w[1], r.type.size());
    w[2] = std::max(w[2], r.shapes.size());
    w[3] = std::max(w[3], r.params.size());
  }
  auto line = [&](const std::string &a, const std::string &b, const std::string &c, const std::string &d,
                  const std::string &e) {
    std::cout << std::left << std::setw(static_cast<int>(w[0]) + 2) << a << std::setw(static_cast<int>(w[1]) + 2) << b;
    // Shapes contain multi-byte arrows; pad by visible width.
    std::size_t visible = 0;
    for (unsigned char ch : c)
      visible += (ch & 0xC0) != 0x80;
    std::cout << c << std::string(w[2] + 2 > visible ? w[2] + 2 - visible : 2, ' ');
    std::cout << std::right << std::setw(static_cast<int>(w[3])) << d << "  " << std::left << e << "\n";
  };
  std::cout << project.name << " — " << file << "\n";
  if (v.dataKnown) {
    // The data as the probe sees it: the sample, the classes by name, the split sizes.
    const DataInfo &d = v.data;
    std::cout << "data: " << project.dataset.value("kind", std::string("?")) << ", sample "
              << shapeToString(d.sampleShape, !d.vocabulary.empty()) << ", " << d.classes << " classes";
    if (!d.classNames.empty()) {
      std::cout << " (";
      for (std::size_t i = 0; i < d.classNames.size() && i < 20; ++i)
        std::cout << (i ? ", " : "") << d.classNames[i];
      std::cout << (d.classNames.size() > 20 ? ", …)" : ")");
    }
    if (d.trainCount >= 0)
      std::cout << "; " << withCommas(d.trainCount) << " train, " << withCommas(d.validationCount) << " validation, "
                << withCommas(d.testCount) << " test";
    std::cout << "\n";
  }
  std::cout << "\n";
  line("node", "type", "shape", "params", "share");
  for (const auto &r : rows)
    line(r.id, r.type, r.shapes, r.params, r.share);
  const int64_t saving = v.totalParameters - v.uniqueParameters;
  std::cout << "\nparameters: " << withCommas(v.uniqueParameters) << " trained";
  if (saving > 0)
    std::cout << " (" << withCommas(v.totalParameters) << " without sharing; sharing saves " << withCommas(saving)
              << ", " << std::fixed << std::setprecision(1)
              << 100.0 * static_cast<double>(saving) / static_cast<double>(v.totalParameters) << "%)";
  std::cout << "\n";
  if (v.memory.total() > 0)
    std::cout << "memory: about " << memoryText(v.memory.total()) << " to train (" << memoryBreakdown(v.memory)
              << "); this machine has " << memoryText(machineMemoryBytes()) << "\n";
  for (const auto &p : v.problems)
    std::cout << p.format(file) << "\n";
  std::cout << "ok: " << project.graph.nodes.size() << " nodes, " << project.graph.edges.size() << " edges\n";
  return kExitOk;
}

// ---- train ---------------------------------------------------------------------------------

ControlToken *gControl = nullptr;

void onInterrupt(int) {
  if (gControl)
    gControl->requestStopFromSignal();
}

class ProgressPrinter : public TrainObserver {
public:
  explicit ProgressPrinter(bool tty) : tty_(tty) {}

  void onStep(const StepEvent &e) override {
    const auto now = std::chrono::steady_clock::now();
    const double sinceLast = std::chrono::duration<double>(now - last_).count();
    // A terminal bar redraws ≤ 10×/s; plain output prints a line every 10 s.
    if (sinceLast < (tty_ ? 0.1 : 10.0) && e.step != e.totalSteps)
      return;
    last_ = now;
    const double frac = e.totalSteps ? static_cast<double>(e.step) / static_cast<double>(e.totalSteps) : 0;
    std::ostringstream s;
    s << std::fixed;
    if (tty_) {
      constexpr int kBar = 24;
      const int filled = static_cast<int>(frac * kBar);
      s << "\r[" << std::string(filled, '#') << std::string(kBar - filled, '.') << "] ";
    }
    s << "epoch " << e.epoch + 1 << " step " << e.step << "/" << e.totalSteps << " " << std::setprecision(0)
      << 100 * frac << "%  loss " << std::setprecision(4) << e.loss << "  acc " << std::setprecision(1)
      << 100 * e.accuracy << "%  " << std::setprecision(0) << e.samplesPerSecond << " samples/s  ETA "
      << duration(e.etaSeconds);
    std::string text = s.str();
    if (tty_) {
      text += "\033[K";
      std::cout << text << std::flush;
      barShown_ = true;
    } else {
      std::cout << text << "\n" << std::flush;
    }
  }
  void onLog(const std::string &message) override {
    clearBar();
    std::cout << message << "\n" << std::flush;
  }
  void onFinished(const RunSummary &) override { clearBar(); }

private:
  void clearBar() {
    if (barShown_)
      std::cout << "\r\033[K";
    barShown_ = false;
  }
  bool tty_;
  bool barShown_ = false;
  std::chrono::steady_clock::time_point last_{};
};

// The command line as given, for --nproc to start its workers with.
std::vector<std::string> gArgv;

// `particle train P --nproc N`: starts N workers of this program on this machine (a WorkerGroup);
// rank 0 prints and writes the run folder. When a worker fails, the others end on their own (their
// next collective fails, or times out) and are killed if they have not within the timeout; the
// first failure's exit code is this command's.
int launchWorkers(int nproc, const std::string &outDir, int threads) {
  WorkerGroupSpec spec;
  spec.program = "/proc/self/exe";
  for (std::size_t i = 1; i < gArgv.size(); ++i) {
    if (gArgv[i] == "--nproc" || gArgv[i] == "--out" || gArgv[i] == "--threads") {
      ++i;
      continue;
    }
    if (gArgv[i].rfind("--nproc=", 0) == 0 || gArgv[i].rfind("--out=", 0) == 0 || gArgv[i].rfind("--threads=", 0) == 0)
      continue;
    spec.args.push_back(gArgv[i]);
  }
  spec.args.push_back("--out");
  spec.args.push_back(outDir);
  spec.world = nproc;
  spec.threads = threads;
  // Rank 0 writes into the folder this launcher claimed.
  spec.env.push_back(std::string(kClaimedByParentVariable) + "=" + std::to_string(::getpid()));
  std::signal(SIGINT, SIG_IGN); // the workers get the terminal's Ctrl+C and stop with a checkpoint
  WorkerGroup group(spec);
  const WorkerGroupEnd end = group.wait(distTimeoutFromEnvironment() + std::chrono::seconds(10));
  std::signal(SIGINT, SIG_DFL);
  return end.exitCode();
}

int cmdTrain(const Args &args) {
  if (args.positional.size() != 1)
    throw UsageError("train takes one project file");
  const std::string file = args.positional[0];
  Project project;
  Validation v;
  if (auto code = loadValid(file, project, v))
    return *code;
  TrainOptions options;
  options.validation = v; // the trainer does not validate the project again
  options.resumeFrom = args.get("--resume").value_or("");
  options.device = args.get("--device");
  if (options.device)
    (void)resolveDevice(*options.device); // a misspelt or missing device: exit 2 or 4 before any folder is made
  // Every number is checked before a folder is made.
  if (auto e = args.integer("--epochs", 1))
    options.epochs = static_cast<int>(*e);
  if (auto s = args.integer("--seed", 0, std::numeric_limits<int64_t>::max()))
    options.seed = static_cast<uint64_t>(*s);
  if (auto t = args.integer("--threads", 1))
    options.threads = static_cast<int>(*t);
  const auto nprocGiven = args.integer("--nproc", 1, 1024);
  options.distributed = distConfigFromEnvironment();
  // The project's training.workers, unless --nproc says otherwise or this process is a worker.
  const int64_t nproc = nprocGiven.value_or(options.distributed ? 1 : parseTrainingSpec(project.training).workers);
  if (nprocGiven && *nprocGiven > 1 && options.distributed)
    throw UsageError("--nproc starts workers on this machine, but this process already is one (WORLD_SIZE is set)");
  const bool worker = options.distributed && options.distributed->rank != 0;
  std::shared_ptr<FolderClaim> claim; // the run folder is this process's (and its workers') until it ends
  if (worker) {
    // Rank 0 writes the run folder; the other workers write nothing.
  } else if (auto out = args.get("--out")) {
    claim = prepareOutFolder(*out, args.get("--force").has_value(), !options.resumeFrom.empty());
    options.outDir = *out;
  } else {
    options.outDir = newRunFolder("runs", project.name);
    claim = claimFolder(options.outDir, "run");
  }
  if (nproc > 1)
    return launchWorkers(
        static_cast<int>(nproc), options.outDir,
        workerThreads(options.threads.value_or(parseTrainingSpec(project.training).threads), static_cast<int>(nproc)));
  options.epochHooks.push_back(contributionSharesHook());

  Trainer trainer(project, options);
  ControlToken control;
  gControl = &control;
  std::signal(SIGINT, onInterrupt);
  ProgressPrinter printer(::isatty(STDOUT_FILENO));
  TrainObserver silent;
  const RunSummary s = trainer.run(worker ? &silent : static_cast<TrainObserver *>(&printer), &control);
  std::signal(SIGINT, SIG_DFL);
  gControl = nullptr;

  std::cout << std::fixed << std::setprecision(2);
  if (s.failed()) {
    std::cerr << file << (options.distributed ? " (worker " + std::to_string(options.distributed->rank) + ")" : "")
              << ": " << s.message << "\n";
    return static_cast<int>(s.status == RunSummary::Status::Diverged ? ErrorKind::Training : s.errorKind);
  }
  if (worker)
    return kExitOk;
  if (!s.message.empty())
    std::cout << s.message << "\n";
  std::cout << "test accuracy " << 100 * s.testAccuracy << "%, test loss " << std::setprecision(4) << s.testLoss
            << " after " << s.epochs << " epoch(s), " << std::setprecision(0) << s.samplesPerSecond << " samples/s on "
            << s.device << " (" << s.threads << " threads), " << duration(s.trainSeconds) << "\nwrote "
            << options.outDir << "/{metrics.csv,summary.json,checkpoint.pt,weights.pt}\n";
  return kExitOk;
}

int cmdExplain(const Args &args) {
  CheckpointInput in;
  if (auto code = loadCheckpointInput("explain", args, in))
    return *code;
  ExplainOptions options;
  options.method = parseMethod(args.get("--method").value_or("shapley"));
  options.baseline = parseBaseline(args.get("--baseline").value_or("mean"));
  options.target = parseTarget(args.get("--target").value_or("predicted"));
  const int64_t samples = args.integer("--samples", 1, std::numeric_limits<int64_t>::max()).value_or(1000);
  configureThreads(0);

  ExplainSession session(in.project, in.checkpoint);
  ParticleModel model = session.model();
  const auto start = std::chrono::steady_clock::now();
  const Explanation e = session.explain(options, samples);
  const int64_t n = e.targets.size(0);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  Json j = session.toJson(e);
  j["seconds"] = seconds;
  const std::string &dir = in.outDir;
  fs::create_directories(dir);
  const DataInfo &data = session.info();
  std::cout << in.project.name << ": " << methodName(options.method) << " attributions over " << n << " test samples ("
            << std::fixed << std::setprecision(2) << seconds << " s)\n";
  for (std::size_t c = 0; c < e.combines.size(); ++c) {
    const auto &comb = e.combines[c];
    const auto aggregates = Explainer::aggregate(comb, e.targets, model->classes());
    std::cout << "\ncombine '" << comb.combine << "'" << (comb.exact ? "" : " (sampled)") << ": completeness max error "
              << std::scientific << std::setprecision(2) << comb.completenessMaxError << std::fixed << "\n";
    for (const auto &a : aggregates) {
      std::cout << "  " << std::left << std::setw(14) << a.branch << std::right << std::setw(7) << std::setprecision(1)
                << 100 * a.share << "%  mean|φ| " << std::setprecision(4) << a.meanAbs;
      if (a.meanWeight >= 0)
        std::cout << "  mean weight " << std::setprecision(3) << a.meanWeight;
      std::cout << "\n";
    }
  }
  session.writeFiles(e, options, dir, j);
  writeFileAtomically(dir + "/explain.json", j.dump(2) + "\n");
  std::cout << "\nwrote " << dir << "/explain.json, PNG heat maps"
            << (data.vocabulary.empty() ? "" : ", tokens.jsonl and tokens.html") << "\n";
  return kExitOk;
}

int cmdExport(const Args &args) {
  if (args.positional.size() != 1)
    throw UsageError("export takes one project file");
  const std::string to = args.get("--to").value_or("pytorch");
  if (to != "pytorch" && to != "onnx")
    throw UsageError("--to needs pytorch or onnx, got \"" + to + "\"");
  const std::string file = args.positional[0];
  Project project;
  Validation v;
  if (auto code = loadValid(file, project, v))
    return *code;
  ExportOptions options;
  options.checkpoint = args.get("--checkpoint").value_or("");
  if (auto out = args.get("--out"))
    options.outDir = *out;
  else
    options.outDir = options.checkpoint.empty() ? newRunFolder("runs", safeRunName(project.name) + "-export")
                                                : (fs::path(options.checkpoint).parent_path() / to).string();
  const auto claim = prepareOutFolder(options.outDir, args.get("--force").has_value(), false, "export");
  configureThreads(0);
  const ExportResult r = exportPyTorch(project, options, [](const std::string &step) { std::cout << step << "\n"; });
  std::cout << "exported " << project.name << " ("
            << (options.checkpoint.empty() ? "initial weights" : options.checkpoint) << ", " << r.dataDescription
            << ") to " << options.outDir << ":";
  for (const auto &f : r.files)
    std::cout << " " << fs::path(f).filename().string();
  std::cout << "\n";
  if (to == "onnx") {
    std::cout << exportOnnx(options.outDir);
  }
  std::cout << "check it: python3 " << options.outDir << "/model.py --check\n";
  return kExitOk;
}

// ---- keys: the reference tables of docs/FORMAT.md, generated from the schemas ------------------

std::string defaultText(const Field &f) {
  if (!f.zeroMeans.empty() && f.defaultValue.is_number() && f.defaultValue.get<double>() == 0)
    return "0 (" + f.zeroMeans + ")";
  if (f.defaultValue.is_null())
    return f.required ? "required" : "—";
  return compactJson(f.defaultValue);
}

std::string kindText(const Field &f) {
  std::string t;
  switch (f.kind) {
  case FieldKind::Bool: t = "bool"; break;
  case FieldKind::Int: t = "int"; break;
  case FieldKind::Float: t = "number"; break;
  case FieldKind::Enum: {
    for (const auto &c : f.choices)
      t += (t.empty() ? "" : " \\| ") + c;
    return t;
  }
  case FieldKind::Text: t = "text"; break;
  case FieldKind::Path: t = f.folder ? "folder" : "file"; break;
  case FieldKind::IntList: t = "int list"; break;
  case FieldKind::IntListList: t = "list of int lists"; break;
  case FieldKind::TextList: t = "text list"; break;
  case FieldKind::Column: t = "column"; break;
  case FieldKind::ColumnList: t = "column list"; break;
  case FieldKind::Classes: t = "count or names"; break;
  }
  auto number = [&](double v) {
    std::ostringstream out;
    out << v;
    return out.str();
  };
  if ((f.kind == FieldKind::Int || f.kind == FieldKind::Float || f.kind == FieldKind::IntList) && f.max > f.min)
    t += " [" + number(f.min) + ", " + number(f.max) + "]";
  return t;
}

void printFields(const Schema &schema) {
  std::cout << "| key | type | default | |\n|---|---|---|---|\n";
  for (const auto &f : schema.fields()) {
    std::string doc = f.doc;
    if (!f.whenField.empty()) {
      std::string values;
      for (const auto &v : f.whenValues)
        values += (values.empty() ? "" : ", ") + v;
      doc += " (when " + f.whenField + " is " + values + ")";
    }
    std::cout << "| `" << f.name << "` | " << kindText(f) << " | " << defaultText(f) << " | " << doc << " |\n";
  }
}

int cmdKeys() {
  std::cout << "<!-- generated by `particle keys`; a test checks that this file has it -->\n\n";
  std::cout << "### Data kinds\n\nEvery kind also takes:\n\n";
  printFields(commonDatasetKeys());
  for (const auto &k : DataKinds::instance().entries()) {
    std::cout << "\n#### `" << k.name << "`\n\n" << k.doc << "\n\n";
    printFields(k.keys);
  }
  std::cout << "\n### Node types\n";
  for (const auto &t : Catalogue::instance().entries()) {
    const std::string inputs = t.maxInputs < 0 ? std::to_string(t.minInputs) + "+" : std::to_string(t.maxInputs);
    std::string named;
    for (const auto &n : t.namedInputs)
      named += " + `" + n + "`";
    std::cout << "\n#### " << t.type << " (" << t.category << ")\n\n"
              << t.doc << " Inputs: " << inputs << named
              << "; outputs: " << (t.hasOutput ? (t.outputCount ? "one per part" : "1") : "none")
              << (t.shareable ? "; shareable" : "") << (t.trunkShareable ? " (also with share_scope \"trunk\")" : "")
              << ".\n\n";
    if (t.params.empty())
      std::cout << "No params.\n";
    else
      printFields(t.params);
  }
  std::cout << "\n### Training keys\n\n";
  printFields(trainingSchema());
  std::cout << "\n<!-- end of generated reference -->\n";
  return kExitOk;
}

int cmdInfo() {
  const Json info = runtimeInfo();
  for (auto it = info.begin(); it != info.end(); ++it)
    std::cout << std::left << std::setw(24) << it.key() << compactJson(it.value()) << "\n";
  const DatasetSpec fashion = parseDatasetSpec(Json{{"kind", "fashion-mnist"}}, "");
  std::cout << std::setw(24) << "fashion_mnist" << fashionMnistFolder(fashion)
            << (fs::exists(fashionMnistFolder(fashion) + "/train-images-idx3-ubyte.gz") ? "" : " (missing)") << "\n";
  return kExitOk;
}

std::string percent(double v) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(2) << 100 * v << "%";
  return s.str();
}

// Prints each trial as it ends: rung, variant, accuracy, parameters, time.
class SearchPrinter : public SearchObserver {
public:
  void onBracket(int bracket, int variants) override {
    if (bracket > 0)
      std::cout << "time left: another bracket of " << variants << " variant(s)\n" << std::flush;
  }
  void onRung(int rung, int variants, int epochs) override {
    std::cout << "rung " << rung << ": " << variants << " variant(s), " << epochs << " epoch(s) each\n" << std::flush;
  }
  void onTrialFinished(const TrialRecord &t, bool reused) override {
    std::cout << "  " << std::left << std::setw(34) << t.variant << std::right;
    if (t.ok())
      std::cout << " val " << std::setw(7) << percent(t.valAccuracy) << "  " << std::setw(10)
                << withCommas(t.uniqueParameters) << " params  " << std::fixed << std::setprecision(1) << std::setw(7)
                << t.usPerSample << " µs/sample  " << duration(t.seconds);
    else
      std::cout << " " << t.status << (t.message.empty() ? "" : ": " + t.message);
    std::cout << (reused ? "  (from the earlier search)" : "") << "\n" << std::flush;
  }
};

int cmdSearch(const Args &args) {
  if (args.positional.size() != 1)
    throw UsageError("search takes one project file");
  const std::string file = args.positional[0];
  Project project;
  Validation v;
  if (auto code = loadValid(file, project, v))
    return *code;
  SearchOptions options;
  for (const auto &spec : args.all("--pin"))
    options.filter.add(spec, true);
  for (const auto &spec : args.all("--exclude"))
    options.filter.add(spec, false);
  if (args.get("--list")) {
    const auto variants = makeVariants(project, v, options.filter);
    for (const auto &[axis, values] : variantAxes(project, v)) {
      std::cout << axis << ":";
      for (const auto &value : values)
        std::cout << " " << value;
      std::cout << "\n";
    }
    std::cout << variants.size() << " valid variant(s):\n";
    for (const auto &variant : variants)
      std::cout << "  " << variant.name << (variant.original ? "  (this graph)" : "")
                << (variant.baseline ? "  (monolithic baseline)" : "") << "\n";
    return kExitOk;
  }
  const auto budget = args.get("--budget");
  if (!budget)
    throw UsageError("search needs --budget: a time (10m) or a number of trials (24trials)");
  options.budget = SearchBudget::parse(*budget);
  options.jobs = static_cast<int>(args.integer("--jobs", 1).value_or(1));
  options.seed = static_cast<uint64_t>(args.integer("--seed", 0, std::numeric_limits<int64_t>::max()).value_or(0));
  options.variants = static_cast<int>(args.integer("--variants", 1).value_or(0));
  options.firstEpochs = static_cast<int>(args.integer("--first-epochs", 1).value_or(0));
  (void)findDecompositionSite(project.graph); // a graph with nothing to vary: its message before any folder
  options.outDir = args.get("--out").value_or("search-" + safeRunName(project.name));
  // A folder with a search.json, or one a search claimed, continues that search (unless --force); any other folder must
  // be new or empty. --force empties only a folder particle wrote. The claim lasts the whole search.
  const bool force = args.get("--force").has_value();
  const auto claim = prepareOutFolder(
      options.outDir, force,
      !force && (fs::exists(options.outDir + "/search.json") || folderKind(options.outDir) == "search"), "search");
  // Trials run this program, or PARTICLE_TRIAL_PROGRAM: a wrapper (nice, srun, a container) that
  // ends with `exec particle "$@"`.
  const char *wrapper = std::getenv("PARTICLE_TRIAL_PROGRAM");
  options.program = wrapper && *wrapper ? std::string(wrapper) : fs::canonical("/proc/self/exe").string();
  std::cout << "search over decompositions of " << project.name << ", budget " << *budget << ", " << options.jobs
            << " job(s) at once, into " << options.outDir << "\n"
            << std::flush;
  SearchPrinter printer;
  const auto start = std::chrono::steady_clock::now();
  const SearchResult r = runSearch(project, v, options, &printer);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "\n"
            << r.trials.size() << " trial(s) in " << r.rungs << " rung(s), " << duration(seconds)
            << (r.outOfBudget ? " (the budget ran out)" : "") << "; winner: " << r.winner << "\n";
  std::cout << "Pareto set (validation accuracy vs unique parameters):\n";
  for (const auto &name : r.pareto)
    if (const TrialRecord *t = r.latest(name))
      std::cout << "  " << std::left << std::setw(34) << name << std::right << " val " << percent(t->valAccuracy)
                << ", " << withCommas(t->uniqueParameters) << " params, " << t->epochs << " epoch(s)\n";
  for (const auto &variant : r.variants)
    if (variant.original || (variant.baseline && variant.axes.at("width") == "w1")) {
      const TrialRecord *t = r.latest(variant.name);
      const bool front = std::find(r.pareto.begin(), r.pareto.end(), variant.name) != r.pareto.end();
      std::cout << (variant.original ? "this graph (" : "monolithic baseline (") << variant.name << "): "
                << (t ? "val " + percent(t->valAccuracy) + ", " + withCommas(t->uniqueParameters) + " params, " +
                            std::to_string(t->epochs) + " epoch(s), " + (front ? "on" : "not on") + " the front"
                      : std::string("no completed trial"))
                << "\n";
    }
  std::cout << "wrote " << options.outDir << "/{search.json,trials.csv,pareto.json,variants/,trials/}\n";
  return kExitOk;
}

int cmdRobustness(const Args &args) {
  CheckpointInput in;
  if (auto code = loadCheckpointInput("robustness", args, in))
    return *code;
  RobustnessOptions options;
  if (auto sig = args.get("--sigmas")) {
    options.sigmas.clear();
    std::stringstream in(*sig);
    for (std::string item; std::getline(in, item, ',');) {
      char *end = nullptr;
      const double s = std::strtod(item.c_str(), &end);
      if (item.empty() || *end != '\0' || !(s >= 0) || s > 100)
        throw UsageError("--sigmas needs numbers in [0, 100] separated by commas, got \"" + item + "\"");
      options.sigmas.push_back(s);
    }
  }
  options.samples = args.integer("--samples", 1, std::numeric_limits<int64_t>::max()).value_or(0);
  options.seed = static_cast<uint64_t>(args.integer("--seed", 0, std::numeric_limits<int64_t>::max()).value_or(0));
  if (auto other = args.get("--parts-from")) {
    Project parts;
    Validation pv;
    if (auto code = loadValid(*other, parts, pv))
      return *code;
    options.partsFrom = parts;
  }
  configureThreads(0);
  const RobustnessReport r = measureRobustness(in.project, in.checkpoint, options);
  const std::string &dir = in.outDir;
  fs::create_directories(dir);
  writeFileAtomically(dir + "/robustness.json", robustnessJson(r).dump(2) + "\n");
  writeFileAtomically(dir + "/robustness.csv", robustnessCsv(r));
  std::cout << in.project.name << ": " << r.samples << " test samples, clean accuracy " << percent(r.cleanAccuracy)
            << ", " << withCommas(r.uniqueParameters) << " unique of " << withCommas(r.totalParameters)
            << " parameters\n";
  if (!r.noise.empty()) {
    std::cout << "Gaussian noise (σ in training-data standard deviations):";
    for (const auto &[s, a] : r.noise)
      std::cout << "  σ=" << s << " " << percent(a);
    std::cout << "\n";
  }
  if (!r.occlusion.empty()) {
    std::cout << "one part occluded (" << r.partsSource << "):";
    for (const auto &[p, a] : r.occlusion)
      std::cout << "  " << p << " " << percent(a);
    std::cout << "\n";
  }
  if (!r.epochs.empty())
    std::cout << "generalisation gap (train − validation accuracy) after the last epoch: "
              << percent(r.epochs.back().train - r.epochs.back().val) << "\n";
  if (!r.notes.empty())
    std::cout << r.notes << "\n";
  std::cout << "wrote " << dir << "/{robustness.json,robustness.csv}\n";
  return kExitOk;
}
} // namespace

int main(int argc, char **argv) {
  // A trial or worker started by another particle process ends with it (a killed search leaves
  // no orphan training in its folders).
  if (const char *parent = std::getenv(kParentPidVariable)) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (std::to_string(::getppid()) != parent)
      return static_cast<int>(ErrorKind::Training); // the parent is gone already
  }
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h" || std::string(argv[1]) == "help") {
    std::cout << kUsage;
    return argc < 2 ? kExitUsage : kExitOk;
  }
  const std::string command = argv[1];
  gArgv.assign(argv, argv + argc);
  try {
    if (command == "check")
      return cmdCheck(Args(argc, argv, 2, {}));
    if (command == "train")
      return cmdTrain(Args(
          argc, argv, 2, {"--out", "--epochs", "--device", "--seed", "--threads", "--resume", "--nproc"}, {"--force"}));
    if (command == "explain")
      return cmdExplain(
          Args(argc, argv, 2, {"--checkpoint", "--samples", "--method", "--baseline", "--target", "--out"}));
    if (command == "export")
      return cmdExport(Args(argc, argv, 2, {"--checkpoint", "--to", "--out"}, {"--force"}));
    if (command == "search")
      return cmdSearch(
          Args(argc, argv, 2,
               {"--budget", "--jobs", "--out", "--seed", "--variants", "--first-epochs", "--pin", "--exclude"},
               {"--force", "--list"}));
    if (command == "robustness")
      return cmdRobustness(
          Args(argc, argv, 2, {"--checkpoint", "--out", "--sigmas", "--samples", "--parts-from", "--seed"}));
    if (command == "info")
      return cmdInfo();
    if (command == "keys")
      return cmdKeys();
    throw UsageError("unknown command \"" + command + "\"");
  } catch (const UsageError &e) {
    std::cerr << "particle: " << e.what() << "\n\n" << kUsage;
    return kExitUsage;
  } catch (const Error &e) {
    std::cerr << e.what() << "\n";
    return static_cast<int>(e.kind());
  } catch (const c10::Error &e) {
    std::cerr << "particle: " << e.what_without_backtrace() << "\n";
    return static_cast<int>(ErrorKind::Training);
  } catch (const std::exception &e) {
    std::cerr << "particle: " << e.what() << "\n";
    return static_cast<int>(ErrorKind::File);
  }
}
