#include "train/RunFolder.h"

#include "base/JsonFields.h"
#include "data/DatasetSpec.h"
#include "project/ProjectPaths.h"

#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <sstream>

namespace particle {

namespace fs = std::filesystem;

namespace {
// metrics.csv's columns after epoch and step, in the file's order; each is also the key of a
// checkpoint's metrics row.
struct Column {
  const char *name;
  double RunEpoch::*field;
};
constexpr Column kColumns[] = {{"train_loss", &RunEpoch::trainLoss},
                               {"train_accuracy", &RunEpoch::trainAccuracy},
                               {"val_loss", &RunEpoch::valLoss},
                               {"val_accuracy", &RunEpoch::valAccuracy},
                               {"lr", &RunEpoch::lr},
                               {"seconds", &RunEpoch::seconds},
                               {"samples_per_second", &RunEpoch::samplesPerSecond}};

RunSummary::Status statusFromName(const JsonFields &s) {
  const std::string name = s.string("status");
  for (auto status : {RunSummary::Status::Completed, RunSummary::Status::Stopped, RunSummary::Status::EarlyStopped,
                      RunSummary::Status::Diverged, RunSummary::Status::Failed})
    if (name == statusName(status))
      return status;
  s.fail("status", "is \"" + name + "\", not a run's status");
}
} // namespace

RunEpoch toRunEpoch(const EpochEvent &ev) {
  RunEpoch e;
  e.epoch = ev.epoch;
  e.step = ev.step;
  e.trainLoss = ev.trainLoss;
  e.trainAccuracy = ev.trainAccuracy;
  e.valLoss = ev.valLoss;
  e.valAccuracy = ev.valAccuracy;
  e.lr = ev.lr;
  e.seconds = ev.seconds;
  e.samplesPerSecond = ev.samplesPerSecond;
  for (const auto &share : ev.shares)
    e.shares.emplace_back(share.combine + "/" + share.branch, share.share);
  return e;
}

Json runEpochJson(const RunEpoch &epoch) {
  Json row = {{"epoch", epoch.epoch}, {"step", epoch.step}};
  for (const Column &c : kColumns)
    row[c.name] = epoch.*c.field;
  if (!epoch.shares.empty()) {
    Json shares = Json::object();
    for (const auto &[branch, share] : epoch.shares)
      shares[branch] = share;
    row["shares"] = shares;
  }
  return row;
}

RunEpoch runEpochFromJson(const Json &json, const std::string &file, const std::string &where) {
  const JsonFields row(json, file, where);
  RunEpoch e;
  e.epoch = static_cast<int>(row.integer("epoch", 0, 0, INT_MAX));
  e.step = row.integer("step", 0, 0);
  for (const Column &c : kColumns)
    e.*c.field = row.number(c.name, 0.0);
  if (row.has("shares"))
    for (const auto &[key, value] : row.object("shares").items()) {
      if (!value.is_number())
        row.fail("shares." + key, "must be a number");
      e.shares.emplace_back(key, value.get<double>());
    }
  return e;
}

// ---- the writer --------------------------------------------------------------------------------

void RunFolder::writeProject(const Project &project, const Dataset &data) const {
  if (empty())
    return;
  Project copy = projectWithAbsolutePaths(project);
  keepDataWithRun(data, copy.dataset, dir_);
  saveProject(copy, file("project.particle.json"));
}

void RunFolder::writeMetrics(const std::vector<RunEpoch> &epochs) const {
  if (empty())
    return;
  std::string csv = "epoch,step";
  for (const Column &c : kColumns)
    csv += std::string(",") + c.name;
  csv += "\n";
  for (const RunEpoch &e : epochs) {
    csv += std::to_string(e.epoch) + "," + std::to_string(e.step);
    for (const Column &c : kColumns)
      csv += "," + Json(e.*c.field).dump();
    csv += "\n";
  }
  writeFileAtomically(file("metrics.csv"), csv);
}

void RunFolder::writeSummary(const RunRecord &r) const {
  if (empty())
    return;
  const RunSummary &summary = r.summary;
  // What the µs figure is: the median of this many timed passes at this many threads.
  const Json timing = {{"median", summary.inferenceUsPerSample},
                       {"passes", summary.inferencePasses},
                       {"threads", summary.threads},
                       {"cpu_median", summary.inferenceCpuUsPerSample}};
  Json s = {{"name", r.name},
            {"project_file", r.projectFile},
            {"status", statusName(summary.status)},
            {"message", summary.message},
            {"test_accuracy", summary.testAccuracy},
            {"test_loss", summary.testLoss},
            {"val_accuracy", summary.valAccuracy},
            {"val_loss", summary.valLoss},
            {"epochs", summary.epochs},
            {"steps", summary.steps},
            {"samples_per_second", summary.samplesPerSecond},
            {"inference_us_per_sample", summary.inferenceUsPerSample},
            {"inference_us", timing},
            {"flops_per_sample", summary.flopsPerSample},
            {"achieved_gflops", summary.achievedGflops},
            {"peak_gflops", summary.peakGflops},
            {"precision", summary.precision},
            {"train_seconds", summary.trainSeconds},
            {"parameters", {{"total", summary.totalParameters}, {"unique", summary.uniqueParameters}}},
            {"device", summary.device},
            {"threads", summary.threads},
            {"workers", r.workers},
            {"seed", r.seed},
            {"graph_hash", r.graphHash},
            {"dataset", r.dataset},
            {"classes", r.classNames.size()},
            {"class_names", r.classNames}};
  // The test split's confusion matrix: one row per true class, counts of each predicted class.
  if (const auto k = r.classNames.size(); k > 0 && summary.testConfusion.size() == k * k) {
    Json rows = Json::array();
    for (std::size_t t = 0; t < k; ++t)
      rows.push_back(std::vector<int64_t>(summary.testConfusion.begin() + static_cast<std::ptrdiff_t>(t * k),
                                          summary.testConfusion.begin() + static_cast<std::ptrdiff_t>((t + 1) * k)));
    s["test_confusion"] = rows;
  }
  writeFileAtomically(file("summary.json"), s.dump(2) + "\n");
}

// ---- the reader --------------------------------------------------------------------------------

void writeRunPeak(const std::string &runDir, double peakGflops) {
  const std::string path = runDir + "/summary.json";
  Json doc = parseJson(readTextFile(path), path);
  if (!doc.is_object())
    throw Error(ErrorKind::File, path + ": not a JSON object");
  doc["peak_gflops"] = peakGflops;
  writeFileAtomically(path, doc.dump(2) + "\n");
}

RunRecord readRunSummary(const std::string &runDir) {
  const std::string path = (fs::path(runDir) / "summary.json").string();
  const Json doc = parseJson(readTextFile(path), path);
  const JsonFields s(doc, path);
  RunRecord r;
  RunSummary &summary = r.summary;
  summary.status = statusFromName(s);
  summary.message = s.string("message", "");
  summary.testAccuracy = s.number("test_accuracy", 0.0);
  summary.testLoss = s.number("test_loss", 0.0);
  summary.valAccuracy = s.number("val_accuracy", 0.0);
  summary.valLoss = s.number("val_loss", 0.0);
  summary.epochs = static_cast<int>(s.integer("epochs", 0, 0, INT_MAX));
  summary.steps = s.integer("steps", 0, 0);
  summary.samplesPerSecond = s.number("samples_per_second", 0.0);
  summary.inferenceUsPerSample = s.number("inference_us_per_sample", 0.0);
  const JsonFields timing(s.object("inference_us", true), path, "inference_us");
  summary.inferencePasses = static_cast<int>(timing.integer("passes", 0, 0, INT_MAX));
  summary.inferenceCpuUsPerSample = timing.number("cpu_median", 0.0);
  summary.flopsPerSample = s.number("flops_per_sample", 0.0);
  summary.achievedGflops = s.number("achieved_gflops", 0.0);
  summary.peakGflops = s.number("peak_gflops", 0.0);
  summary.precision = s.string("precision", "fp32"); // runs from before precisions were fp32
  summary.trainSeconds = s.number("train_seconds", 0.0);
  const JsonFields parameters(s.object("parameters", true), path, "parameters");
  summary.totalParameters = parameters.integer("total", 0, 0);
  summary.uniqueParameters = parameters.integer("unique", 0, 0);
  summary.device = s.string("device", "");
  summary.threads = static_cast<int>(s.integer("threads", 0, 0, INT_MAX));
  r.name = s.string("name", "");
  r.projectFile = s.string("project_file", ""); // runs from before it: unknown
  r.workers = static_cast<int>(s.integer("workers", 1, 1, INT_MAX));
  if (s.has("seed")) { // the whole range of an unsigned 64-bit seed, beyond what integer() reads
    if (!doc["seed"].is_number_unsigned())
      s.fail("seed", "must be a whole number, 0 or more");
    r.seed = doc["seed"].get<uint64_t>();
  }
  r.graphHash = s.string("graph_hash", "");
  r.dataset = s.string("dataset", "");
  const Json &names = s.array("class_names", true);
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (!names[i].is_string())
      s.fail("class_names[" + std::to_string(i) + "]", "must be a string");
    r.classNames.push_back(names[i].get<std::string>());
  }
  // The test confusion matrix (runs from before it have none): k rows of k counts.
  const Json &rows = s.array("test_confusion", true);
  const std::size_t k = r.classNames.size();
  if (!rows.empty()) {
    if (rows.size() != k)
      s.fail("test_confusion", "must have one row per class (" + std::to_string(k) + ")");
    for (std::size_t t = 0; t < k; ++t) {
      if (!rows[t].is_array() || rows[t].size() != k)
        s.fail("test_confusion[" + std::to_string(t) + "]", "must be " + std::to_string(k) + " counts");
      for (const Json &count : rows[t]) {
        if (!count.is_number_unsigned())
          s.fail("test_confusion[" + std::to_string(t) + "]", "must hold whole numbers, 0 or more");
        summary.testConfusion.push_back(count.get<int64_t>());
      }
    }
  }
  return r;
}

std::vector<RunEpoch> readRunMetrics(const std::string &runDir) {
  const std::string path = (fs::path(runDir) / "metrics.csv").string();
  std::error_code ec;
  if (!fs::exists(path, ec))
    return {};
  std::istringstream in(readTextFile(path));
  auto cellsOf = [](const std::string &line) {
    std::vector<std::string> cells;
    std::stringstream row(line);
    for (std::string c; std::getline(row, c, ',');)
      cells.push_back(c);
    return cells;
  };
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r')
    line.pop_back();
  // Columns by their header names, so that a file with more or reordered columns still reads.
  const std::vector<std::string> header = cellsOf(line);
  auto columnOf = [&](const std::string &name) {
    for (std::size_t i = 0; i < header.size(); ++i)
      if (header[i] == name)
        return static_cast<int>(i);
    return -1;
  };
  const int epochColumn = columnOf("epoch"), stepColumn = columnOf("step");
  std::vector<std::pair<int, double RunEpoch::*>> numbers;
  for (const Column &c : kColumns)
    numbers.emplace_back(columnOf(c.name), c.field);
  std::vector<RunEpoch> out;
  for (int lineNumber = 2; std::getline(in, line); ++lineNumber) {
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (line.empty())
      continue;
    const std::vector<std::string> cells = cellsOf(line);
    // A cell as a number; a column the file lacks reads as 0. "null" is how a non-finite value is
    // written (JSON has no NaN).
    auto number = [&](int column) -> double {
      if (column < 0)
        return 0;
      const std::string cell = column < static_cast<int>(cells.size()) ? cells[column] : std::string();
      if (cell == "null")
        return std::nan("");
      errno = 0;
      char *end = nullptr;
      const double v = std::strtod(cell.c_str(), &end);
      if (cell.empty() || end != cell.c_str() + cell.size() || errno == ERANGE) {
        std::string message = path;
        message += ':';
        message += std::to_string(lineNumber);
        message += ": ";
        message += header[column];
        message += " is \"";
        message += cell;
        message += "\", not a number";
        throw Error(ErrorKind::File, message);
      }
      return v;
    };
    RunEpoch e;
    e.epoch = static_cast<int>(number(epochColumn));
    e.step = static_cast<int64_t>(number(stepColumn));
    for (const auto &[column, field] : numbers)
      e.*field = number(column);
    out.push_back(e);
  }
  return out;
}

} // namespace particle
