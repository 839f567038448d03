#pragma once
// A corpus of malformed inputs — project files, IDX, CSV, NumPy and text data, checkpoints, particle
// files — written into a folder, each with what must come of it: the exit code of `particle check`
// (or of `particle explain --checkpoint` for a checkpoint; a particle file is the init of a node)
// and a fragment of the message. tst_cli runs
// every one through the CLI; tst_badinputs opens every one in the app, with the mouse and keys.
// docs/RELIABILITY.md describes the corpus.

#include "TestSupport.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QString>

#include <cstdint>
#include <string>
#include <vector>

namespace particle::test {

struct BadInput {
  // Where it stops: the project file itself cannot be read (the app says so in a dialog), the
  // project reads but is invalid or its data cannot be read (the app lists it under Problems), or
  // the checkpoint is refused (the app's Explain tab says so).
  enum class Stage { Open, Check, Explain };
  std::string name;
  Stage stage = Stage::Check;
  std::string project;    // the project file to open
  std::string checkpoint; // the checkpoint to explain (Stage::Explain)
  int code = 0;           // the CLI's exit code
  std::string fragment;   // in the CLI's message and in the app's
  std::string file;       // the file the message names (the project, the data or the checkpoint)
};

namespace badinputs {
inline void write(const std::string &path, const std::string &bytes) {
  writeFileAtomically(path, bytes);
}
// An IDX header: magic 0 0 <type> <rank>, then each dimension big-endian.
inline std::string idx(const std::vector<uint32_t> &dims, uint8_t type = 0x08) {
  std::string s{'\0', '\0', static_cast<char>(type), static_cast<char>(dims.size())};
  for (uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8)
      s += static_cast<char>((d >> shift) & 0xff);
  return s;
}
// A version-1 .npy: the header dictionary padded to 64 bytes, then the data.
inline std::string npy(std::string dict, const std::string &data) {
  while ((10 + dict.size() + 1) % 64 != 0)
    dict += ' ';
  dict += '\n';
  return std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(dict.size()) + '\0' + dict + data;
}
} // namespace badinputs

// Writes the corpus into `dir` (which must exist) and returns its entries. Trains one tiny model
// with the CLI for the checkpoint entries (a few seconds).
inline std::vector<BadInput> writeBadInputs(const std::string &dir) {
  using namespace badinputs;
  using Stage = BadInput::Stage;
  std::vector<BadInput> out;
  int counter = 0;
  auto file = [&](const std::string &stem, const std::string &suffix) {
    char n[16];
    std::snprintf(n, sizeof n, "%02d", ++counter);
    return dir + "/" + n + "-" + stem + suffix;
  };
  // A project file holding `text`, which cannot be opened.
  auto unreadable = [&](const std::string &name, const std::string &text, int code, const std::string &fragment) {
    const std::string path = file("project", ".particle.json");
    write(path, text);
    out.push_back({name, Stage::Open, path, {}, code, fragment, path});
  };
  // An invalid project: `doc` (the base project, patched). Most read and are then listed as
  // problems; a fault in the file's structure (an unknown key, a duplicate id, the format tag)
  // stops the reading (Stage::Open), with the same exit code.
  auto invalid = [&](const std::string &name, const Json &doc, const std::string &fragment,
                     Stage stage = Stage::Check) {
    const std::string path = file("project", ".particle.json");
    write(path, doc.dump(2));
    out.push_back({name, stage, path, {}, 1, fragment, path});
  };
  // A project whose data (the files already written, named by `section`) cannot be read.
  auto badData = [&](const std::string &name, Json section, const Json &splitParams, const std::string &dataFile,
                     const std::string &fragment) {
    Json doc = baseProject();
    doc["dataset"] = std::move(section);
    doc["nodes"][1]["params"] = splitParams;
    const std::string path = file("project", ".particle.json");
    write(path, doc.dump(2));
    out.push_back({name, Stage::Check, path, {}, 3, fragment, dataFile});
  };

  // --- project files that cannot be read: exit 3, FILE:LINE:COL where there is one ---------------
  const std::string base = baseProject().dump(2);
  unreadable("empty file", "", 3, "malformed JSON");
  unreadable("only white space", "  \n\t\n", 3, "malformed JSON");
  unreadable("brace never closed", "{\n  \"format\": \"particle-studio\",\n  \"nodes\": [}\n", 3, ":3:");
  unreadable("cut in a string", base.substr(0, base.size() / 2), 3, "malformed JSON");
  unreadable("trailing text", base + "\nmore", 3, "malformed JSON");
  unreadable("comment", "// a comment\n" + base, 3, ":1:1: malformed JSON");
  unreadable("single quotes", "{'format': 'particle-studio'}", 3, ":1:2: malformed JSON");
  unreadable("a PNG", std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16), 3, ":1:1: malformed JSON");
  unreadable("invalid UTF-8", "{\"name\": \"\xff\xfe\"}", 3, "malformed JSON");
  unreadable("NUL byte", std::string("{\"name\": \"a\0b\"}", 15), 3, "malformed JSON");
  unreadable("number overflow", "{\n\"training\": {\"lr\": 1e400}}", 3, ":2:");
  const std::string deep = std::string(70000, '[') + std::string(70000, ']');
  unreadable("70,000 levels in a param", base.substr(0, base.size() - 2) + ",\n\"x\": " + deep + "}", 3,
             "nested deeper than 64 levels");
  unreadable("70,000 levels in ui", "{\n\"ui\": " + deep + "}", 3, "nested deeper than 64 levels");
  unreadable("65 levels", "{\"ui\": " + std::string(65, '[') + std::string(65, ']') + "}", 3,
             "nested deeper than 64 levels");
  {
    const std::string path = file("project", ".particle.json");
    write(path, "{}");
    QFile(QString::fromStdString(path)).resize(65ll << 20); // sparse: 65 MiB of NULs
    out.push_back({"65 MiB", Stage::Open, path, {}, 3, "project files are limited to 64 MiB", path});
  }
  unreadable("an array", "[1, 2, 3]", 1, "a project must be a JSON object");
  unreadable("a number", "42", 1, "a project must be a JSON object");

  // --- projects that read but are invalid: exit 1, naming the node, param or key ------------------
  auto patched = [](auto change) {
    Json doc = baseProject();
    change(doc);
    return doc;
  };
  invalid("param out of range", patched([](Json &d) { d["nodes"][4]["params"]["out"] = 0; }), "node 'c': param 'out'");
  invalid("param of the wrong type", patched([](Json &d) { d["nodes"][4]["params"]["out"] = "big"; }), "param 'out'");
  invalid("parts as text", patched([](Json &d) {
            d["nodes"][1]["params"] = {{"mode", "chunks"}, {"parts", "2"}};
          }),
          "node 'split': param 'parts': must be an integer");
  invalid("negative list element", patched([](Json &d) {
            d["nodes"][4]["params"]["hidden"] = {16, -2};
          }),
          "param 'hidden'");
  invalid("unknown param", patched([](Json &d) { d["nodes"][4]["params"]["colour"] = 1; }), "colour");
  invalid("unknown key", patched([](Json &d) { d["nodes"][0]["colour"] = 1; }), "nodes[0].colour: unknown key",
          Stage::Open);
  invalid("unknown node type", patched([](Json &d) { d["nodes"][4]["type"] = "Transformer9000"; }), "Transformer9000");
  invalid("cycle", patched([](Json &d) { d["edges"][4] = {{"from", "combine"}, {"to", "d"}}; }), "cycle");
  invalid("dangling input", patched([](Json &d) { d["edges"].erase(4); }), "node 'd'");
  invalid("edge from a missing node", patched([](Json &d) { d["edges"][0]["from"] = "nothere"; }), "nothere");
  invalid("edge to a missing port", patched([](Json &d) { d["edges"][1]["to"] = "a:7"; }), "a:7");
  invalid("input connected twice", patched([](Json &d) {
            d["edges"].push_back({{"from", "split:3"}, {"to", "c"}});
          }),
          "connected twice");
  invalid("duplicate node id", patched([](Json &d) { d["nodes"][3]["id"] = "a"; }), "node id \"a\" is used twice",
          Stage::Open);
  invalid("split not divisible", patched([](Json &d) { d["nodes"][1]["params"]["parts"] = 3; }), "not divisible");
  invalid("patches on a vector", patched([](Json &d) {
            d["nodes"][1]["params"] = {{"mode", "patches"}};
          }),
          "image input");
  invalid("sizes of nothing", patched([](Json &d) {
            d["nodes"][1]["params"] = {{"mode", "chunks"}, {"sizes", Json::array()}};
          }),
          "node 'split'");
  invalid("shape mismatch", patched([](Json &d) {
            d["nodes"][4]["type"] = "ConvNet";
            d["nodes"][4]["params"] = Json::object();
          }),
          "node 'c'");
  invalid("no Classifier", patched([](Json &d) {
            d["nodes"].erase(7);
            d["edges"].erase(9);
          }),
          "Classifier");
  invalid("fewer classes than the labels", patched([](Json &d) {
            d["nodes"][7]["params"] = {{"classes", 2}};
          }),
          "classes");
  invalid("epochs 0", patched([](Json &d) { d["training"]["epochs"] = 0; }), "epochs");
  invalid("batch size as text", patched([](Json &d) { d["training"]["batch_size"] = "many"; }), "batch_size");
  invalid("learning rate negative", patched([](Json &d) { d["training"]["lr"] = -1; }), "lr");
  invalid("unknown optimizer", patched([](Json &d) { d["training"]["optimizer"] = "magic"; }), "optimizer");
  invalid("unknown data kind", patched([](Json &d) { d["dataset"] = {{"kind", "parquet"}}; }), "parquet");
  // Refused by its length before any file is looked at (the app took 30 s over it).
  invalid("1 MB data path", patched([](Json &d) {
            d["dataset"] = {{"kind", "csv"}, {"path", std::string(1 << 20, 'a') + ".csv"}, {"label_column", "label"}};
            d["nodes"][1]["params"] = {{"mode", "chunks"}, {"parts", 4}};
          }),
          "dataset.path: is 1048580 bytes long");
  // 10^12 parameters: the memory estimate refuses it with its figure (it used to die at step 1).
  invalid("10^12 parameters", patched([](Json &d) {
            d["nodes"][4]["params"]["hidden"] = {1 << 20, 1 << 20};
          }),
          "training needs about 16 TiB of memory");
  invalid("shared group with different params", patched([](Json &d) { d["nodes"][3]["params"]["out"] = 4; }), "share");
  invalid("nodes not a list", patched([](Json &d) { d["nodes"] = 5; }), "nodes", Stage::Open);
  invalid("wrong format tag", patched([](Json &d) { d["format"] = "something-else"; }), "format", Stage::Open);
  invalid("version from the future", patched([](Json &d) { d["version"] = 99; }), "version", Stage::Open);

  // --- IDX data: exit 3, naming the file --------------------------------------------------------------
  auto idxSet = [&](const std::string &name, const std::string &images, const std::string &labels,
                    const std::string &named, const std::string &fragment) {
    const std::string i = file("images", ".idx"), l = file("labels", ".idx");
    write(i, images);
    write(l, labels);
    badData(name, {{"kind", "idx"}, {"images", i}, {"labels", l}}, {{"mode", "patches"}, {"rows", 2}, {"cols", 2}},
            named == "images" ? i : l, fragment);
  };
  const std::string labels12 = idx({12}) + std::string(12, '\1');
  const std::string images12 = idx({12, 4, 4}) + std::string(12 * 16, '\x40');
  idxSet("IDX images cut short", idx({12, 4, 4}) + std::string(100, '\0'), labels12, "images",
         "the header promises 192 bytes of data, the file holds 100");
  idxSet("IDX header promising 10^12 bytes", idx({1000000, 1000, 1000}) + std::string(16, '\0'), labels12, "images",
         "the header promises 1000000000000 bytes");
  idxSet("IDX dimensions that overflow", idx({4294967295u, 4294967295u, 3}) + std::string(16, '\0'), labels12, "images",
         "the header's dimensions overflow");
  idxSet("IDX bad magic", std::string("\x12\x34\x08\x03", 4) + images12.substr(4), labels12, "images",
         "not an unsigned-byte IDX file");
  idxSet("IDX one image", idx({1, 4, 4}) + std::string(16, '\0'), idx({1}) + std::string(1, '\0'), "images",
         "holds 1 image(s); training needs at least 2");
  idxSet("IDX no images", idx({0, 4, 4}), idx({0}), "images", "holds no images");
  idxSet("IDX labels count differs", images12, idx({7}) + std::string(7, '\0'), "labels", "label count does not match");
  idxSet("IDX labels of rank 2", images12, idx({12, 2}) + std::string(24, '\0'), "labels",
         "label count does not match");
  idxSet("IDX gzip that is not", images12, std::string("\x1f\x8b\x08\0garbage", 11), "labels",
         "not an unsigned-byte IDX file");
  idxSet("IDX empty file", "", labels12, "images", "not an unsigned-byte IDX file");
  idxSet("IDX float images", idx({12, 4, 4}, 0x0d) + std::string(12 * 16 * 4, '\0'), labels12, "images",
         "not an unsigned-byte IDX file");
  {
    const std::string l = file("labels", ".idx");
    write(l, labels12);
    const std::string missing = dir + "/no-such-images.idx";
    badData("IDX file missing", {{"kind", "idx"}, {"images", missing}, {"labels", l}},
            {{"mode", "patches"}, {"rows", 2}, {"cols", 2}}, missing, "file not found");
  }

  // --- CSV data: exit 3, naming the file (and the line) ------------------------------------------------
  auto csv = [&](const std::string &name, const std::string &text, Json extra, const std::string &fragment) {
    const std::string path = file("table", ".csv");
    write(path, text);
    Json section = {{"kind", "csv"}, {"path", path}, {"label_column", "label"}};
    for (auto it = extra.begin(); it != extra.end(); ++it)
      section[it.key()] = it.value();
    badData(name, section, {{"mode", "chunks"}, {"parts", 4}}, path, fragment);
  };
  const std::string header = "a,b,c,d,label\n";
  std::string rows;
  for (int i = 0; i < 12; ++i)
    rows += std::to_string(i) + ",1,2,3," + std::to_string(i % 2) + "\n";
  csv("CSV empty", "", {}, ":1: empty file (a header line is required)");
  csv("CSV header only", header, {}, "only 0 data rows; need at least 10");
  csv("CSV quote never closed", header + rows + "1,\"2,3,4,0\n", {}, ":14: a quoted field is never closed");
  csv("CSV row too short", header + rows + "1,2\n", {}, ":14: has 2 columns, the header has 5");
  csv("CSV text in a number column", header + rows + "1,x,2,3,0\n", {}, ":14: column \"b\": \"x\" is not a number");
  csv("CSV label column missing", header + rows, {{"label_column", "#x"}}, ":1: no column named \"#x\"");
  csv("CSV no feature columns", "label\n0\n1\n0\n1\n", {}, ":1: no feature columns");
  csv("CSV empty cell", header + rows + "1,,2,3,0\n", {}, ":14: column \"b\": empty cell");
  csv("CSV binary", std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0", 18), {}, ":1: no column named \"label\"");

  // --- NumPy and text data -------------------------------------------------------------------------------
  auto npySet = [&](const std::string &name, const std::string &x, const std::string &fragment) {
    const std::string xp = file("x", ".npy"), yp = file("y", ".npy");
    write(xp, x);
    write(yp, npy("{'descr': '|u1', 'fortran_order': False, 'shape': (12,), }", std::string(12, '\1')));
    badData(name, {{"kind", "npy"}, {"x", xp}, {"y", yp}}, {{"mode", "chunks"}, {"parts", 4}}, xp, fragment);
  };
  const std::string floats = std::string(12 * 8 * 4, '\0');
  npySet("npy in Fortran order", npy("{'descr': '<f4', 'fortran_order': True, 'shape': (12, 8), }", floats),
         "Fortran order");
  npySet("npy header and data disagree", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (12, 9), }", floats),
         "the header says shape");
  npySet("npy bad magic", "\x93NUMPX" + npy("{}", "").substr(6), "not a NumPy .npy file");
  npySet("npy object dtype", npy("{'descr': '|O', 'fortran_order': False, 'shape': (12, 8), }", floats),
         "dtype '|O' is not supported");
  npySet("npy header cut", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (12, 8), }", floats).substr(0, 30),
         "the header says it is 118 bytes long");
  auto text = [&](const std::string &name, const std::string &content, const std::string &fragment) {
    const std::string path = file("texts", ".jsonl");
    write(path, content);
    badData(name, {{"kind", "text"}, {"path", path}, {"max_tokens", 8}}, {{"mode", "chunks"}, {"parts", 2}}, path,
            fragment);
  };
  text("JSON-lines line not JSON", "{\"text\": \"a b\", \"label\": \"x\"}\n{text}\n", ":2:");
  text("JSON-lines without a text field", "{\"body\": \"a b\", \"label\": \"x\"}\n", ":1: no text field \"text\"");
  // Sound files (audio_folder): `check` probes the folder tree and the keys; a damaged file is
  // refused when the data is loaded (tst_audio malformed: truncated, wrong header, zero-length…).
  auto sounds = [&](const std::vector<std::string> &classes, const std::vector<std::string> &empty) {
    const std::string root = file("sounds", "");
    // 16 silent 16-bit samples at 16 kHz.
    const std::string wav = std::string("RIFF\x44\0\0\0WAVEfmt \x10\0\0\0\x01\0\x01\0\x80\x3e\0\0\0\x7d\0\0\x02\0\x10\0"
                                        "data\x20\0\0\0",
                                        44) +
                            std::string(32, '\0');
    for (const auto &c : classes) {
      QDir().mkpath(QString::fromStdString(root + "/" + c));
      write(root + "/" + c + "/0.wav", wav);
    }
    for (const auto &c : empty) {
      QDir().mkpath(QString::fromStdString(root + "/" + c));
      write(root + "/" + c + "/notes.txt", "not a sound file");
    }
    return root;
  };
  const Json bands = {{"mode", "patches"}, {"rows", 2}, {"cols", 1}};
  {
    const std::string root = sounds({"yes"}, {"no"});
    badData("audio class folder without sound files", {{"kind", "audio_folder"}, {"path", root}}, bands, root + "/no",
            "no WAV, FLAC or OGG files in this class folder");
  }
  {
    const std::string root = sounds({"yes"}, {});
    badData("audio folder of one class", {{"kind", "audio_folder"}, {"path", root}}, bands, root,
            "only one class folder");
  }
  {
    const std::string root = sounds({"yes", "no"}, {});
    invalid("audio: more mels than the FFT resolves", patched([&](Json &d) {
              d["dataset"] = {{"kind", "audio_folder"}, {"path", root}, {"mels", 200}};
            }),
            "dataset.mels: 200 bands are too many");
    invalid("audio: window longer than the clip", patched([&](Json &d) {
              d["dataset"] = {{"kind", "audio_folder"}, {"path", root}, {"seconds", 0.02}, {"window_ms", 100}};
            }),
            "dataset.window_ms");
  }

  // --- checkpoints and particle files: exit 3 naming the file ------------------------------------------
  {
    // A checkpoint trained by the CLI on `doc`, written as `name`.particle.json beside `name`/.
    auto trained = [&](const std::string &name, const Json &doc) {
      write(dir + "/" + name + ".particle.json", doc.dump(2));
      QProcess train;
      train.start(PARTICLE_CLI, {"train", QString::fromStdString(dir + "/" + name + ".particle.json"), "--out",
                                 QString::fromStdString(dir + "/" + name)});
      train.waitForFinished(600000);
      return readTextFile(dir + "/" + name + "/checkpoint.pt");
    };
    const std::string project = dir + "/good.particle.json";
    const std::string good = trained("good", baseProject());
    // Particle files, from `check` of a node initialised from one; before the checkpoints, as the app
    // lists them on the Design tab, where the Problems panel is.
    const std::string part = dir + "/good.particle-part";
    QProcess save;
    save.start(PARTICLE_CLI,
               {"part", "save", QString::fromStdString(project), "--checkpoint", QString::fromStdString(dir + "/good"),
                "--node", "c", "--out", QString::fromStdString(part)});
    save.waitForFinished(600000);
    const std::string goodPart = readTextFile(part);
    auto damagedPart = [&](const std::string &name, const std::string &bytes, const std::string &fragment) {
      const std::string path = file("part", ".particle-part");
      write(path, bytes);
      Json doc = baseProject();
      doc["nodes"][4]["init"] = {{"from", path}};
      const std::string projectPath = file("project", ".particle.json");
      write(projectPath, doc.dump(2));
      out.push_back({name, Stage::Check, projectPath, {}, 3, fragment, path});
    };
    damagedPart("particle file empty", "", "not a particle file");
    damagedPart("particle file cut in half", goodPart.substr(0, goodPart.size() / 2), "(truncated or extended)");
    std::string partFlipped = goodPart;
    partFlipped[goodPart.find('\n') + 5] ^= 0x01;
    damagedPart("particle file with its header edited", partFlipped, "damaged particle file (checksum mismatch");
    damagedPart("particle file that is a checkpoint", good, "not a particle file");

    // Checkpoints, from `explain --checkpoint`.
    auto damaged = [&](const std::string &name, const std::string &bytes, const std::string &fragment) {
      const std::string path = file("checkpoint", ".pt");
      write(path, bytes);
      out.push_back({name, Stage::Explain, project, path, 3, fragment, path});
    };
    const std::string noHeader = "not a Particle Studio checkpoint (no checkpoint header)";
    damaged("checkpoint empty", "", noHeader);
    damaged("checkpoint of ten bytes", good.substr(0, 10), noHeader);
    damaged("checkpoint cut in half", good.substr(0, good.size() / 2), "damaged checkpoint: ");
    std::string flipped = good;
    flipped[flipped.size() * 3 / 4] ^= 0x5a;
    damaged("checkpoint with a byte flipped", flipped, "damaged checkpoint (checksum mismatch)");
    std::string magic = good;
    magic[0] ^= 0x20;
    damaged("checkpoint with a bad magic", magic, noHeader);
    damaged("checkpoint that is a PNG", std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16) + std::string(200, '\0'),
            noHeader);
    damaged("checkpoint that is a project", base, noHeader);
    damaged("checkpoint with bytes appended", good + std::string(64, 'x'), "(truncated or extended)");
    // A sound checkpoint of another graph.
    Json other = baseProject();
    other["nodes"][4]["params"]["out"] = 4;
    damaged("checkpoint of another graph", trained("other", other), "this checkpoint was trained on a different graph");
  }
  return out;
}

} // namespace particle::test
