#pragma once
// The commands of `particle`, one file each in commands/ (as git's builtin/). Each gets the whole
// command line (argv[1] is its name), parses its own options with Args and returns the exit code:
// 0 ok, 1 invalid project, 2 usage, 3 file or data error, 4 training failed. A new command is a
// file there, a line in kCommands and its lines in kUsage.

namespace particle::cli {

int runCheck(int argc, char **argv);
int runTrain(int argc, char **argv);
int runSearch(int argc, char **argv);
int runRobustness(int argc, char **argv);
int runExplain(int argc, char **argv);
int runExport(int argc, char **argv);
int runInfo(int argc, char **argv);
int runKeys(int argc, char **argv);
int runPart(int argc, char **argv);
int runTransfer(int argc, char **argv);
int runLearningCurve(int argc, char **argv);
int runReport(int argc, char **argv);

struct Command {
  const char *name;
  int (*run)(int argc, char **argv);
};

inline constexpr Command kCommands[] = {
    {"check", runCheck},
    {"train", runTrain},
    {"explain", runExplain},
    {"export", runExport},
    {"search", runSearch},
    {"robustness", runRobustness},
    {"transfer", runTransfer},
    {"part", runPart},
    {"info", runInfo},
    {"keys", runKeys},
    {"learning-curve", runLearningCurve},
    {"report", runReport},
};

inline constexpr const char *kUsage = R"(usage: particle <command> [options]

commands:
  check PROJECT                       validate; print per-node shapes, parameters, share savings
  train PROJECT [--out DIR [--force]] [--epochs N] [--device D] [--seed S] [--threads T]
        [--resume CKPT] [--nproc N]   train; writes metrics.csv, summary.json, checkpoint.pt, weights.pt
        [--precision fp32|bf16|fp16]  (default --out: runs/<name>-<timestamp>, always a fresh folder);
                                      --precision: of the forward and backward passes (the project's
                                      training.precision unless given; refused where it cannot run);
                                      --nproc N: N data-parallel workers on this machine (c10d, Gloo;
                                      default: the project's training.workers, 1 unless set);
                                      with RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT set (torchrun,
                                      Slurm) this process joins that group as one worker;
                                      --data-cache DIR: the split data from its cache file in DIR, or
                                      loaded and written there (what a search's trials share);
                                      --no-shares: no branch shares per epoch; --no-timing: no
                                      inference timing (what a search's trials leave out)
  search PROJECT --budget 10m|24trials [--jobs N] [--out DIR [--force]] [--seed S] [--variants N]
         [--first-epochs E] [--pin AXIS=V,..] [--exclude AXIS=V,..] [--list]
                                      successive halving over decompositions of the graph (parts, width,
                                      combine, sharing, and the monolithic baseline), one process per
                                      trial, --jobs at once (default: one per core, one thread each);
                                      writes search.json, trials.csv, pareto.json, variants/
  robustness PROJECT --checkpoint CKPT [--sigmas 0,0.1,..] [--samples N] [--parts-from PROJECT] [--out DIR]
                                      accuracy under input noise and with each part occluded, the
                                      generalisation gap per epoch; robustness.json and .csv
  robustness PROJECT --seeds S [--epochs E] [--limit N] [--jobs J] [--sigmas ..] [--samples N]
             [--out DIR [--force]]    the write-up's claims: the graph and its monolithic baseline
                                      trained S seeds each at equal epochs and measured as above;
                                      per claim a 95% interval over seeds and a verdict; claims.json
                                      and claims.csv (default --out: claims-<name>)
  explain PROJECT --checkpoint CKPT [--samples N] [--method shapley|ablation|gradxact]
          [--baseline mean|zero|background] [--target predicted|true] [--out DIR]
                                      per-sub-model attributions over N test samples; writes
                                      explain.json and PNG heat maps
  export PROJECT [--checkpoint CKPT] [--to pytorch|onnx] [--out DIR [--force]] [--keep-adapters]
                                      plain PyTorch: model.py, weights.pt, reference.pt, data.pt,
                                      train.py (and model.onnx with --to onnx); without
                                      --checkpoint, the initial weights a run starts from;
                                      LoRA adapters merged into their weights (--keep-adapters:
                                      as modules of their own)
  transfer SOURCE TARGET --nodes ID[=SOURCE_ID],.. [--sizes 50,200,1000,5000] [--seeds 3]
           [--epochs E] [--min-steps S] [--source-epochs E] [--source-checkpoint CKPT]
           [--modes frozen,lora,finetune,scratch,monolithic] [--lora-rank R] [--lora-alpha A]
           [--jobs N] [--out DIR [--force]]
                                      a particle trained on SOURCE reused on TARGET with N labelled
                                      samples: frozen / LoRA / fine-tuned / from scratch / the monolithic
                                      baseline, one process per trial; transfer.json and transfer.csv
  learning-curve PROJECT --sizes 100,300,1000,.. [--seeds 3] [--search DIR] [--epochs E]
                 [--min-steps S] [--jobs N] [--out DIR [--force]]
                                      the graph, its monolithic baseline (and the Pareto set of a search)
                                      trained on N samples per seed: test accuracy and the generalisation
                                      gap ± sd against N, the graph against the baseline per size;
                                      curve.json, curve.csv, curve.svg/.png, gap.svg/.png
  report DIR [--out FILE.html] [--samples N]
                                      one self-contained HTML file (inline SVG figures, opens offline)
                                      of a run (graph, data, curves, confusion matrix, sub-model
                                      shares and heat maps, model card), a search, claims, a transfer
                                      or learning-curve folder (default --out: DIR/report.html;
                                      --samples: a run's test samples explained, default 64)
  part save PROJECT --checkpoint CKPT --node ID[,ID..] --out FILE.particle-part [--force]
                                      a trained node, or a sub-graph with one input and one output,
                                      saved with its weights, shapes and provenance (project, data
                                      set, classes, run, test accuracy, date)
  part info FILE [--json]             a particle file's nodes (types, shapes, parameters) and provenance
  info [RUN] [--threads N] [--measure]
                                      versions, devices, threads, the matmul peak per precision
                                      (measured once, cached; --measure measures it again, the cache
                                      keeping the higher figure); with a run folder, its accuracy,
                                      parameters, FLOPs per sample, µs per sample and achieved GFLOP/s
  keys                                every node type, data kind and training key with its
                                      type, default, range and doc (Markdown; docs/FORMAT.md)

exit codes: 0 ok, 1 invalid project, 2 usage, 3 file or data error, 4 training failed
)";

} // namespace particle::cli
