// Bringing one's own data: CSV files as RFC 4180 has them (quotes, delimiters and line breaks in
// fields, text labels, categorical columns, missing cells, other delimiters) and folders of
// images (PNG, JPEG, BMP; resizing, grey and colour, the cache, bad files). Every file is made
// here; nothing needs the network.

#include "TestSupport.h"
#include "data/Dataset.h"
#include "data/Images.h"
#include "data/Npy.h"
#include "data/TextLengths.h"
#include "data/Tokenizer.h"
#include "explain/TokenReport.h"
#include "project/Project.h"
#include "project/ProjectCheck.h"
#include "recipes/ExplainSession.h"
#include "recipes/Robustness.h"
#include "train/Trainer.h"

#include <QtTest>

#include <stb_image_write.h>

#include <QProcess>

#include <array>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>

using namespace particle;
using namespace particle::test;
namespace fs = std::filesystem;

namespace {

Dataset load(const Json &section, const std::string &dir) {
  return loadDataset(parseDatasetSpec(section, dir));
}

// The message of the Error(File) that loading throws ("" when none is thrown).
QString loadError(const Json &section, const std::string &dir) {
  try {
    load(section, dir);
  } catch (const Error &e) {
    if (e.kind() != ErrorKind::File)
      return QString("wrong kind of error: ") + e.what();
    return QString::fromStdString(e.what());
  }
  return {};
}

// An image of `w`×`h` with `channels`, its pixels a ramp offset by `shade`.
void writeImage(const std::string &path, int w, int h, int channels, int shade) {
  fs::create_directories(fs::path(path).parent_path());
  std::vector<unsigned char> px(static_cast<std::size_t>(w * h * channels));
  for (std::size_t i = 0; i < px.size(); ++i)
    px[i] = static_cast<unsigned char>((shade + static_cast<int>(i) * 7) % 256);
  const std::string ext = fs::path(path).extension().string();
  int ok = 0;
  if (ext == ".png")
    ok = stbi_write_png(path.c_str(), w, h, channels, px.data(), w * channels);
  else if (ext == ".jpg")
    ok = stbi_write_jpg(path.c_str(), w, h, channels, px.data(), 90);
  else
    ok = stbi_write_bmp(path.c_str(), w, h, channels, px.data());
  QVERIFY2(ok, path.c_str());
}

// root/<class>/ with a few images each: PNGs of two sizes, a grey one, a JPEG and a BMP.
void writeTree(const std::string &root, int perClass = 6) {
  for (const char *cls : {"cat", "dog"})
    for (int i = 0; i < perClass; ++i) {
      const std::string base = root + "/" + cls + "/" + std::to_string(i);
      if (i == 1)
        writeImage(base + ".jpg", 12, 10, 3, i * 11);
      else if (i == 2)
        writeImage(base + ".bmp", 8, 8, 3, i * 11);
      else if (i == 3)
        writeImage(base + ".png", 8, 8, 1, i * 11);
      else
        writeImage(base + ".png", i % 2 ? 16 : 8, 8, 3, i * 11);
    }
}

Json imageSection(const std::string &root) {
  return {{"kind", "image_folder"}, {"path", root}, {"size", {8, 8}}, {"channels", 3}, {"test_fraction", 0.25}};
}

// A .npy file written by hand: header dict `dict` (padded as NumPy pads it), then `data`.
std::string npyBytes(const std::string &dict, const std::string &data, int version = 1) {
  std::string header = dict;
  const std::size_t prefix = version == 1 ? 10 : 12;
  while ((prefix + header.size() + 1) % 64 != 0)
    header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += static_cast<char>(version);
  out += '\0';
  const auto len = header.size();
  out += static_cast<char>(len & 0xFF);
  out += static_cast<char>((len >> 8) & 0xFF);
  if (version != 1)
    out += std::string(2, '\0');
  return out + header + data;
}

std::string floats(const std::vector<float> &v) {
  return std::string(reinterpret_cast<const char *>(v.data()), v.size() * sizeof(float));
}

// Runs NumPy (Debian's python3-numpy) on `script`; false when it is not there.
bool numpy(const QString &script) {
  QProcess py;
  py.start("/usr/bin/python3", {"-c", script});
  py.waitForFinished(60000);
  if (py.exitStatus() != QProcess::NormalExit || py.exitCode() != 0) {
    qWarning("%s", py.readAllStandardError().constData());
    return false;
  }
  return true;
}

} // namespace

class TestData : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void initTestCase();
  void csvQuotedFieldsAndTextLabels();
  void csvCategoricalColumns();
  void csvMissingCells();
  void csvDelimiters();
  void csvBadFiles_data();
  void csvBadFiles();
  void imageFolderLoads();
  void imageFolderTrainTestAndGrey();
  void imageFolderCache();
  void imageFolderBadFiles_data();
  void imageFolderBadFiles();
  void imageFolderSkipBad();
  void npyFromNumPy();
  void npyBadFiles_data();
  void npyBadFiles();
  void npyFuzz();
  void textSources();
  void textBadInput_data();
  void textBadInput();
  void textHalvesLearnAndExplain();
  void textFields();
  void textJsonLinesNotUtf8();
  void textIllFormedUtf8Repaired();
  void textLengthsAndPaddingParts();
  void textProportionalParts();
  void textSentencePiece();
  void textTokenizerModelNotAFile();
  void fuzzFindings();
  void textSentencePieceKeptWithRun();
  void selectClasses();
  void selectClassesErrors();
};

void TestData::initTestCase() {
  // The image cache goes beside the data; a user cache folder of the test's own keeps the
  // fallback away from the real one.
  static QTemporaryDir cache;
  qputenv("XDG_CACHE_HOME", cache.path().toUtf8());
}

void TestData::csvQuotedFieldsAndTextLabels() {
  QTemporaryDir dir;
  // A note with a comma, doubled quotes and a line break; labels are words.
  std::string csv = "id,note,x,weather\n";
  for (int i = 0; i < 20; ++i) {
    csv += std::to_string(i) + ",";
    csv += i == 3 ? "\"rain, then \"\"sun\"\"\nall day\"" : "plain";
    csv += "," + std::to_string(i % 5) + "," + (i % 2 ? "sun" : "rain") + "\n";
  }
  csv += "20,\"two\nline\nbreaks\",1,fog\n";
  writeFile(dir, "w.csv", csv);
  const std::string d = dir.path().toStdString();
  const Json section = {
      {"kind", "csv"}, {"path", "w.csv"}, {"label_column", "weather"}, {"feature_columns", {"id", "x"}}};
  const DataInfo info = probeDataset(parseDatasetSpec(section, d));
  QCOMPARE(info.classes, int64_t(3));
  QCOMPARE(info.classNames, (std::vector<std::string>{"fog", "rain", "sun"}));
  QCOMPARE(info.sampleShape, (Shape{2}));
  const Dataset data = load(section, d);
  QCOMPARE(data.trainX.size(0) + data.valX.size(0) + data.testX.size(0), int64_t(21));
  // Every row kept its own numbers: id and x = id mod 5 (the multi-line fields did not shift them).
  for (const auto *x : {&data.trainX, &data.valX, &data.testX})
    for (int64_t r = 0; r < x->size(0); ++r) {
      const auto id = static_cast<int64_t>((*x)[r][0].item<float>());
      QCOMPARE(static_cast<int64_t>((*x)[r][1].item<float>()), id == 20 ? int64_t(1) : id % 5);
    }
  // A bad cell after the multi-line fields is named by its own line: header 1, rows 2…, row 3's
  // note spans lines 5–6, so id 19 is on line 22 and the next row (three lines) on 23–25.
  std::string bad = csv + "21,plain,oops,sun\n";
  writeFile(dir, "bad.csv", bad);
  Json badSection = section;
  badSection["path"] = "bad.csv";
  const QString message = loadError(badSection, d);
  QVERIFY2(message.contains("bad.csv:26: column \"x\": \"oops\" is not a number"), qPrintable(message));
}

void TestData::csvCategoricalColumns() {
  QTemporaryDir dir;
  std::string csv = "city,size,label\n";
  const char *cities[] = {"Paris", "Oslo", "Lima"};
  for (int i = 0; i < 30; ++i)
    csv += std::string(cities[i % 3]) + "," + std::to_string(i) + "," + (i % 3 == 1 ? "north" : "south") + "\n";
  writeFile(dir, "c.csv", csv);
  const std::string d = dir.path().toStdString();
  Json section = {{"kind", "csv"}, {"path", "c.csv"}, {"label_column", "label"}};
  // Without the key, the text column is refused with the hint.
  QString message = loadError(section, d);
  QVERIFY2(message.contains("c.csv:2: column \"city\": \"Paris\" is not a number") &&
               message.contains("categorical_columns"),
           qPrintable(message));
  section["categorical_columns"] = {"city"};
  const DataInfo info = probeDataset(parseDatasetSpec(section, d));
  QCOMPARE(info.sampleShape, (Shape{4}));
  QCOMPARE(info.featureNames, (std::vector<std::string>{"city=Lima", "city=Oslo", "city=Paris", "size"}));
  const Dataset data = load(section, d);
  // One-hot: exactly one of the first three features is 1, and it matches the size's city.
  const auto all = torch::cat({data.trainX, data.valX, data.testX});
  QCOMPARE(all.size(1), int64_t(4));
  for (int64_t r = 0; r < all.size(0); ++r) {
    const auto i = static_cast<int>(all[r][3].item<float>());
    const int expected = i % 3 == 0 ? 2 : (i % 3 == 1 ? 1 : 0); // Paris, Oslo, Lima in sorted order
    QCOMPARE(all[r].narrow(0, 0, 3).sum().item<float>(), 1.0F);
    QCOMPARE(all[r][expected].item<float>(), 1.0F);
  }
  // The label column cannot also be categorical.
  section["categorical_columns"] = {"label"};
  QVERIFY_THROWS_EXCEPTION(Error, probeDataset(parseDatasetSpec(section, d)));
}

void TestData::csvMissingCells() {
  QTemporaryDir dir;
  std::string csv = "a,b,label\n";
  for (int i = 0; i < 40; ++i)
    csv += (i == 7 ? std::string() : std::to_string(i)) + "," + std::to_string(100 + i) + "," + std::to_string(i % 2) +
           "\n";
  writeFile(dir, "m.csv", csv);
  const std::string d = dir.path().toStdString();
  Json section = {{"kind", "csv"}, {"path", "m.csv"}, {"label_column", "label"}};
  const QString message = loadError(section, d);
  QVERIFY2(message.contains("m.csv:9: column \"a\": empty cell") && message.contains("missing"), qPrintable(message));
  section["missing"] = "mean";
  const Dataset data = load(section, d);
  // The row whose b is 107 had no a: it holds the training split's mean of a.
  const auto all = torch::cat({data.trainX, data.valX, data.testX});
  QVERIFY(!torch::isnan(all).any().item<bool>());
  const auto row = torch::nonzero(all.select(1, 1) == 107.0F);
  QCOMPARE(row.size(0), int64_t(1));
  const auto trainA = data.trainX.select(1, 0);
  const auto present = trainA.masked_select(data.trainX.select(1, 1) != 107.0F);
  QVERIFY(std::abs(all[row[0][0].item<int64_t>()][0].item<float>() - present.mean().item<float>()) < 1e-4F);
  // A missing label is always an error.
  writeFile(dir, "l.csv", "a,label\n1,0\n2,\n");
  section["path"] = "l.csv";
  QVERIFY2(loadError(section, d).contains("l.csv:3: column \"label\": the label is empty"),
           qPrintable(loadError(section, d)));
}

void TestData::csvDelimiters() {
  QTemporaryDir dir;
  std::string tsv = "a\tb\tlabel\n", semi = "a;b;label\n";
  for (int i = 0; i < 20; ++i) {
    tsv += std::to_string(i) + "\t\"x, y\"\t" + std::to_string(i % 2) + "\n";
    semi += std::to_string(i) + ";" + std::to_string(i * 2) + ";" + (i % 2 ? "yes" : "no") + "\n";
  }
  writeFile(dir, "t.tsv", tsv);
  writeFile(dir, "s.csv", semi);
  const std::string d = dir.path().toStdString();
  // A .tsv is tab-separated; the quoted comma stays in its field (which is left out).
  DataInfo info = probeDataset(
      parseDatasetSpec({{"kind", "csv"}, {"path", "t.tsv"}, {"label_column", "label"}, {"feature_columns", {"a"}}}, d));
  QCOMPARE(info.sampleShape, (Shape{1}));
  // Semicolons are found on the header line, or named.
  for (const char *delimiter : {"auto", "semicolon"}) {
    info = probeDataset(
        parseDatasetSpec({{"kind", "csv"}, {"path", "s.csv"}, {"label_column", "label"}, {"delimiter", delimiter}}, d));
    QCOMPARE(info.sampleShape, (Shape{2}));
    QCOMPARE(info.classNames, (std::vector<std::string>{"no", "yes"}));
  }
  // The Data panel's column list reads the header with the same parser.
  QCOMPARE(datasetColumns({{"kind", "csv"}, {"path", "s.csv"}}, d), (std::vector<std::string>{"a", "b", "label"}));
}

void TestData::csvBadFiles_data() {
  QTest::addColumn<QString>("text");
  QTest::addColumn<QString>("expected");
  QTest::newRow("quote never closed") << "a,b,label\n1,2,0\n3,\"4,1\n5,6,0\n"
                                      << "x.csv:3: a quoted field is never closed";
  QTest::newRow("quote inside a field") << "a,b,label\n1,2,0\n3,4\"x,1\n"
                                        << "x.csv:3: a quoted field is never closed, or a quote stands inside";
  QTest::newRow("columns") << "a,b,label\n1,2,0\n3,4\n"
                           << "x.csv:3: has 2 columns, the header has 3";
  QTest::newRow("empty file") << ""
                              << "x.csv:1: empty file";
}

void TestData::csvBadFiles() {
  QFETCH(QString, text);
  QFETCH(QString, expected);
  QTemporaryDir dir;
  writeFile(dir, "x.csv", text.toStdString());
  const QString message =
      loadError({{"kind", "csv"}, {"path", "x.csv"}, {"label_column", "label"}}, dir.path().toStdString());
  QVERIFY2(message.contains(expected), qPrintable(message));
}

void TestData::imageFolderLoads() {
  QTemporaryDir dir;
  const std::string root = dir.path().toStdString() + "/pets";
  writeTree(root);
  const DataInfo info = probeDataset(parseDatasetSpec(imageSection(root), root));
  QCOMPARE(info.sampleShape, (Shape{3, 8, 8}));
  QCOMPARE(info.classNames, (std::vector<std::string>{"cat", "dog"}));
  QCOMPARE(info.testCount, int64_t(3));
  QVERIFY(!info.ownTestSplit);
  const Dataset data = load(imageSection(root), root);
  QCOMPARE(data.trainX.sizes().vec(), (std::vector<int64_t>{data.info.trainCount, 3, 8, 8}));
  QCOMPARE(data.trainX.size(0) + data.valX.size(0) + data.testX.size(0), int64_t(12));
  QVERIFY(data.trainX.min().item<float>() >= 0.0F && data.trainX.max().item<float>() <= 1.0F);
  QCOMPARE(data.trainY.max().item<int64_t>() <= 1, true);
  // An 8×8 PNG comes back with its own pixels: the first cat, channel 0, pixel (0, 1) is 7·3/255.
  const ImageTree tree = scanImageTree(root);
  DecodeOptions o;
  o.height = 8;
  o.width = 8;
  o.channels = 3;
  o.useCache = false;
  const DecodedImages decoded = decodeImages(root, tree.train, o);
  QCOMPARE(decoded.labels.size(), std::size_t(12));
  QCOMPARE(int(decoded.pixels[1]), 21); // pixel 1, channel 0: interleaved index 3 → 3·7
  QCOMPARE(int(decoded.pixels[64]), 7); // channel 1 of pixel 0: interleaved index 1
}

void TestData::imageFolderTrainTestAndGrey() {
  QTemporaryDir dir;
  const std::string root = dir.path().toStdString();
  writeTree(root + "/train");
  writeTree(root + "/test", 2);
  Json section = {{"kind", "image_folder"}, {"path", root}};
  const DataInfo info = probeDataset(parseDatasetSpec(section, root));
  // No size or channels: the first image's (cat/0.png, 8×8, colour).
  QCOMPARE(info.sampleShape, (Shape{3, 8, 8}));
  QCOMPARE(info.testCount, int64_t(4));
  QVERIFY(info.ownTestSplit); // the test/ folder is the test split
  section["channels"] = 1;
  section["size"] = {4, 6};
  const Dataset data = load(section, root);
  QCOMPARE(data.testX.sizes().vec(), (std::vector<int64_t>{4, 1, 4, 6}));
  QCOMPARE(data.trainX.size(0) + data.valX.size(0), int64_t(12));
  // A test class the training tree lacks is named.
  writeImage(root + "/test/bird/0.png", 8, 8, 3, 0);
  const QString message = loadError(section, root);
  QVERIFY2(message.contains("test/bird") && message.contains("not among the training classes"), qPrintable(message));
}

void TestData::imageFolderCache() {
  QTemporaryDir dir;
  const std::string root = dir.path().toStdString();
  writeTree(root);
  const ImageTree tree = scanImageTree(root);
  DecodeOptions o;
  o.height = 8;
  o.width = 8;
  o.channels = 3;
  const DecodedImages first = decodeImages(root, tree.train, o);
  QVERIFY(!first.fromCache);
  QVERIFY2(fs::exists(first.cacheFile) && first.cacheFile.find(root + "/.particle-cache/") == 0,
           first.cacheFile.c_str());
  // The layout older caches hold, so that they keep working: the magic; the count, height, width,
  // channels and count of skipped files; the labels; the pixels.
  {
    std::ifstream in(first.cacheFile, std::ios::binary);
    char magic[8];
    int64_t header[5];
    QVERIFY(in.read(magic, sizeof magic) && in.read(reinterpret_cast<char *>(header), sizeof header));
    QCOMPARE(std::string(magic, sizeof magic), std::string("PSIMAGE1"));
    QCOMPARE(std::vector<int64_t>(header, header + 5),
             (std::vector<int64_t>{static_cast<int64_t>(first.labels.size()), 8, 8, 3, 0}));
    QCOMPARE(fs::file_size(first.cacheFile), 48 + first.labels.size() * 8 + first.pixels.size());
  }
  const DecodedImages second = decodeImages(root, tree.train, o);
  QVERIFY(second.fromCache);
  QCOMPARE(second.pixels, first.pixels);
  QCOMPARE(second.labels, first.labels);
  // The cache folder is hidden: it is not a class.
  QCOMPARE(scanImageTree(root).classes.size(), std::size_t(2));
  // Another size is another cache; a changed file invalidates it.
  o.height = 4;
  QVERIFY(!decodeImages(root, tree.train, o).fromCache);
  o.height = 8;
  writeImage(root + "/cat/0.png", 8, 8, 3, 99);
  const DecodedImages third = decodeImages(root, tree.train, o);
  QVERIFY(!third.fromCache);
  QVERIFY(third.pixels != first.pixels);
  // A cache cut short is decoded again, not trusted.
  fs::resize_file(third.cacheFile, fs::file_size(third.cacheFile) / 2);
  const DecodedImages fourth = decodeImages(root, tree.train, o);
  QVERIFY(!fourth.fromCache);
  QCOMPARE(fourth.pixels, third.pixels);
  QCOMPARE(fourth.labels, third.labels); // nothing half-read stays behind
  // A cache of another kind (an audio cache's magic) is not read as images.
  {
    std::fstream f(fourth.cacheFile, std::ios::in | std::ios::out | std::ios::binary);
    f.write("PSAUDIO1", 8);
  }
  const DecodedImages fifth = decodeImages(root, tree.train, o);
  QVERIFY(!fifth.fromCache);
  QCOMPARE(fifth.pixels, third.pixels);
  QCOMPARE(fifth.labels, third.labels);
  // The skipped files' names travel with the cache.
  fs::resize_file(root + "/cat/0.png", 20);
  o.skipBad = true;
  const DecodedImages decoded = decodeImages(root, tree.train, o), cached = decodeImages(root, tree.train, o);
  QCOMPARE(decoded.skipped, std::vector<std::string>{root + "/cat/0.png"});
  QVERIFY(cached.fromCache);
  QCOMPARE(cached.skipped, decoded.skipped);
  QCOMPARE(cached.labels, decoded.labels);
  QCOMPARE(cached.pixels, decoded.pixels);
}

void TestData::imageFolderBadFiles_data() {
  QTest::addColumn<QString>("damage");
  QTest::addColumn<QString>("expected");
  QTest::newRow("truncated PNG") << "truncate"
                                 << "cat/4.png: cannot decode the image";
  QTest::newRow("JPEG with a bad header") << "badjpeg"
                                          << "cat/1.jpg: cannot decode the image";
  QTest::newRow("class folder without images") << "emptyclass"
                                               << "bird: no PNG, JPEG or BMP images";
  QTest::newRow("empty root") << "emptyroot"
                              << "no class folders";
  QTest::newRow("missing root") << "noroot"
                                << "no such folder";
  QTest::newRow("one class") << "oneclass"
                             << "only one class folder";
}

void TestData::imageFolderBadFiles() {
  QFETCH(QString, damage);
  QFETCH(QString, expected);
  QTemporaryDir dir;
  std::string root = dir.path().toStdString() + "/pets";
  writeTree(root);
  if (damage == "truncate") {
    fs::resize_file(root + "/cat/4.png", fs::file_size(root + "/cat/4.png") / 2);
  } else if (damage == "badjpeg") {
    std::fstream f(root + "/cat/1.jpg", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(2);
    f.write("\x00\x00\x00\x00", 4); // the segment after SOI is no marker
  } else if (damage == "emptyclass") {
    fs::create_directories(root + "/bird");
    std::ofstream(root + "/bird/readme.txt") << "not an image";
  } else if (damage == "emptyroot") {
    root = dir.path().toStdString() + "/empty";
    fs::create_directories(root);
  } else if (damage == "noroot") {
    root = dir.path().toStdString() + "/nowhere";
  } else if (damage == "oneclass") {
    fs::remove_all(root + "/dog");
  }
  const QString message = loadError(imageSection(root), dir.path().toStdString());
  QVERIFY2(message.contains(expected), qPrintable(message));
}

void TestData::imageFolderSkipBad() {
  QTemporaryDir dir;
  const std::string root = dir.path().toStdString();
  writeTree(root);
  fs::resize_file(root + "/dog/4.png", 20);
  Json section = imageSection(root);
  section["skip_bad"] = true;
  const Dataset data = load(section, root);
  QCOMPARE(data.trainX.size(0) + data.valX.size(0) + data.testX.size(0), int64_t(11));
  QVERIFY2(QString::fromStdString(data.description).contains("1 unreadable image(s) skipped"),
           data.description.c_str());
  QVERIFY2(QString::fromStdString(data.description).contains("dog/4.png"), data.description.c_str());
}

void TestData::npyFromNumPy() {
  if (!QFile::exists("/usr/bin/python3"))
    QSKIP("python3-numpy is not installed (scripts/setup.sh installs it)");
  QTemporaryDir dir;
  // Every dtype a user may have, as NumPy itself writes them: .npy pairs, .npz stored and deflated.
  const QString script = QString(R"(
import numpy as np
d = %1
x = (np.arange(40 * 6).reshape(40, 2, 3) % 17).astype(np.float64)
y = np.arange(40) % 3
np.save(d + '/x64.npy', x); np.save(d + '/y.npy', y.astype(np.int64))
np.save(d + '/x8.npy', x.astype(np.uint8)); np.save(d + '/y8.npy', y.astype(np.uint8))
np.save(d + '/xbig.npy', x.astype('>i4')); np.save(d + '/yf.npy', y.astype(np.float32))
np.save(d + '/xf.npy', np.asfortranarray(x))
np.savez(d + '/both.npz', x=x.astype(np.float32), y=y)
np.savez_compressed(d + '/packed.npz', images=x.astype(np.int16), labels=y.astype(np.int32))
)")
                             .arg("'" + dir.path() + "'");
  if (!numpy("import numpy"))
    QSKIP("python3-numpy is not installed (scripts/setup.sh installs it)");
  QVERIFY(numpy(script));
  const std::string d = dir.path().toStdString();
  const auto check = [&](const Json &section) {
    const DataInfo info = probeDataset(parseDatasetSpec(section, d));
    QCOMPARE(info.sampleShape, (Shape{2, 3}));
    QCOMPARE(info.classes, int64_t(3));
    const Dataset data = load(section, d);
    const auto all = torch::cat({data.trainX, data.valX, data.testX});
    QCOMPARE(all.size(0), int64_t(40));
    // Every sample is (6·i + j) mod 17 for its own i, whatever the dtype and byte order.
    const auto ys = torch::cat({data.trainY, data.valY, data.testY});
    QVERIFY(all.max().item<float>() == 16.0F && all.min().item<float>() == 0.0F);
    QCOMPARE(ys.max().item<int64_t>(), int64_t(2));
  };
  check({{"kind", "npy"}, {"x", "x64.npy"}, {"y", "y.npy"}});
  check({{"kind", "npy"}, {"x", "x8.npy"}, {"y", "y8.npy"}});
  check({{"kind", "npy"}, {"x", "xbig.npy"}, {"y", "yf.npy"}});
  check({{"kind", "npy"}, {"x", "both.npz"}});
  check({{"kind", "npy"}, {"x", "packed.npz"}, {"x_array", "images"}, {"y_array", "labels"}});
  // The arrays hold the same values: big-endian int32 equals float64.
  const NpyArray a = readNpy(d + "/x64.npy"), b = readNpy(d + "/xbig.npy");
  QCOMPARE(a.count(), b.count());
  for (int64_t i = 0; i < a.count(); ++i)
    QCOMPARE(a.at(i), b.at(i));
  QCOMPARE(npzArrayNames(d + "/packed.npz"), (std::vector<std::string>{"images", "labels"}));
  // Fortran order is refused, naming the file.
  const QString message = loadError({{"kind", "npy"}, {"x", "xf.npy"}, {"y", "y.npy"}}, d);
  QVERIFY2(message.contains("xf.npy: the array is in Fortran order"), qPrintable(message));
  const QString missing = loadError({{"kind", "npy"}, {"x", "both.npz"}, {"y_array", "labels"}}, d);
  QVERIFY2(missing.contains("both.npz: no array \"labels\" in the archive (it holds x.npy, y.npy)"),
           qPrintable(missing));
}

void TestData::npyBadFiles_data() {
  QTest::addColumn<QByteArray>("x");
  QTest::addColumn<QString>("expected");
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (12, 2), }";
  const std::string data = floats(std::vector<float>(24, 1.0F));
  const auto bytes = [](const std::string &s) { return QByteArray(s.data(), static_cast<int>(s.size())); };
  QTest::newRow("mismatched shape") << bytes(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (12, 3), }",
                                                      data))
                                    << "x.npy: the header says shape (12, 3) of float32 (144 bytes), the file holds 96";
  QTest::newRow("fortran order") << bytes(npyBytes("{'descr': '<f4', 'fortran_order': True, 'shape': (12, 2), }", data))
                                 << "x.npy: the array is in Fortran order";
  QTest::newRow("not npy") << QByteArray("hello, world, this is text") << "x.npy: not a NumPy .npy file";
  QTest::newRow("header cut short") << bytes(npyBytes(dict, data).substr(0, 40)) << "x.npy: the header says it is";
  QTest::newRow("object dtype") << bytes(npyBytes("{'descr': '|O', 'fortran_order': False, 'shape': (12, 2), }", data))
                                << "x.npy: dtype '|O' is not supported";
  QTest::newRow("one dimension") << bytes(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (24,), }", data))
                                 << "x.npy: samples must be an array [N, …]";
  QTest::newRow("version 2 header") << bytes(npyBytes(dict, data, 2)) << "";
}

void TestData::npyBadFiles() {
  QFETCH(QByteArray, x);
  QFETCH(QString, expected);
  QTemporaryDir dir;
  writeFile(dir, "x.npy", x.toStdString());
  std::string labels;
  for (int i = 0; i < 12; ++i)
    labels += static_cast<char>(i % 2);
  writeFile(dir, "y.npy", npyBytes("{'descr': '|u1', 'fortran_order': False, 'shape': (12,), }", labels));
  const QString message = loadError({{"kind", "npy"}, {"x", "x.npy"}, {"y", "y.npy"}}, dir.path().toStdString());
  if (expected.isEmpty())
    QVERIFY2(message.isEmpty(), qPrintable(message)); // a good file loads
  else
    QVERIFY2(message.contains(expected), qPrintable(message));
}

// Damaged .npy and .npz bytes — flipped, cut, repeated — are an Error(File) or a good array,
// never a crash or an allocation of the size a damaged header claims (run under ASan too).
void TestData::npyFuzz() {
  std::vector<uint8_t> npy;
  {
    const std::string s =
        npyBytes("{'descr': '<i2', 'fortran_order': False, 'shape': (5, 3), }", std::string(30, '\7'));
    npy.assign(s.begin(), s.end());
  }
  // A stored and a deflated archive (NumPy's savez layout: members x.npy, y.npy), made by NumPy
  // when it is here; else only the .npy is fuzzed.
  QTemporaryDir dir;
  std::vector<std::vector<uint8_t>> archives;
  if (QFile::exists("/usr/bin/python3") &&
      numpy(QString("import numpy as np\nd='%1'\nx=np.arange(12,dtype=np.int16).reshape(4,3)\n"
                    "np.savez(d+'/a.npz',x=x,y=np.arange(4))\nnp.savez_compressed(d+'/b.npz',x=x,y=np.arange(4))\n")
                .arg(dir.path())))
    for (const char *name : {"/a.npz", "/b.npz"}) {
      const std::string path = dir.path().toStdString() + name;
      std::ifstream in(path, std::ios::binary);
      archives.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      QCOMPARE(parseNpz(archives.back(), path, "x").count(), int64_t(12)); // the undamaged one reads
    }
  std::mt19937 rng(7);
  int errors = 0, good = 0;
  const auto attempt = [&](const std::vector<uint8_t> &bytes, bool zip) {
    try {
      const NpyArray a = zip ? parseNpz(bytes, "f.npz", "x") : parseNpy(bytes, "f.npy");
      QVERIFY(a.data.size() == static_cast<std::size_t>(a.count() * a.itemSize));
      ++good;
    } catch (const Error &e) {
      QCOMPARE(e.kind(), ErrorKind::File);
      ++errors;
    }
  };
  for (int round = 0; round < 3000; ++round) {
    const bool zip = !archives.empty() && round % 2 == 1;
    std::vector<uint8_t> bytes = zip ? archives[static_cast<std::size_t>(round / 2) % archives.size()] : npy;
    switch (rng() % 4) {
    case 0: // flip a few bytes
      for (int k = 0, n = 1 + static_cast<int>(rng() % 4); k < n; ++k)
        bytes[rng() % bytes.size()] = static_cast<uint8_t>(rng());
      break;
    case 1: // cut the file short
      bytes.resize(rng() % bytes.size());
      break;
    case 2: // a byte in the header becomes a digit or a bracket
      bytes[rng() % std::min<std::size_t>(bytes.size(), 128)] = "0123456789(),'"[rng() % 14];
      break;
    default: // repeat a piece
      if (bytes.size() > 8) {
        const std::size_t at = rng() % (bytes.size() - 8);
        bytes.insert(bytes.begin() + static_cast<std::ptrdiff_t>(at), bytes.begin(),
                     bytes.begin() + static_cast<std::ptrdiff_t>(rng() % 8 + 1));
      }
    }
    attempt(bytes, zip);
  }
  QVERIFY(errors > 1000); // the damage was seen…
  QVERIFY(good > 0);      // …and harmless damage (in the data) still reads
}

// Input → Split (two parts, `mode`) → an Embedding ([T, dim]; in share group `share` unless empty)
// and a Pool per part → concat Combine → Classifier.
void setTwoPartTextGraph(Json &doc, const std::string &mode, int dim, const std::string &share) {
  doc["nodes"] = Json::array({{{"id", "input"}, {"type", "Input"}},
                              {{"id", "split"}, {"type", "Split"}, {"params", {{"mode", mode}, {"parts", 2}}}}});
  for (const char *e : {"e0", "e1"}) {
    Json node = {{"id", e}, {"type", "Embedding"}, {"params", {{"dim", dim}}}};
    if (!share.empty())
      node["share"] = share;
    doc["nodes"].push_back(node);
  }
  doc["nodes"].push_back({{"id", "p0"}, {"type", "Pool"}, {"params", {{"mode", "max"}}}});
  doc["nodes"].push_back({{"id", "p1"}, {"type", "Pool"}, {"params", {{"mode", "max"}}}});
  doc["nodes"].push_back({{"id", "combine"}, {"type", "Combine"}, {"params", {{"mode", "concat"}}}});
  doc["nodes"].push_back({{"id", "head"}, {"type", "Classifier"}});
  doc["edges"] = Json::parse(R"([
    {"from": "input", "to": "split"}, {"from": "split", "to": "e0"}, {"from": "split:1", "to": "e1"},
    {"from": "e0", "to": "p0"}, {"from": "e1", "to": "p1"},
    {"from": "p0", "to": "combine"}, {"from": "p1", "to": "combine:1"}, {"from": "combine", "to": "head"}
  ])");
}

// A corpus where the class is one word: "winner" makes spam; filler words are shared.
std::vector<std::pair<std::string, std::string>> corpus(int n) {
  const char *filler[] = {"the", "meeting", "is", "at", "noon", "please", "read", "notes", "lunch", "today"};
  std::mt19937 rng(3);
  std::vector<std::pair<std::string, std::string>> out;
  for (int i = 0; i < n; ++i) {
    const bool spam = i % 2 == 0;
    std::string text;
    const auto at = static_cast<int>(rng() % 12); // either half
    for (int w = 0; w < 12; ++w) {
      if (spam && w == at)
        text += "Winner! ";
      else
        text += std::string(filler[rng() % 10]) + " ";
    }
    out.emplace_back(text, spam ? "spam" : "ham");
  }
  return out;
}

void TestData::textSources() {
  QTemporaryDir dir;
  const std::string d = dir.path().toStdString();
  const auto texts = corpus(40);
  std::string jsonl, csv = "id,body,kind\n";
  for (std::size_t i = 0; i < texts.size(); ++i) {
    jsonl += Json{{"body", texts[i].first}, {"kind", texts[i].second}}.dump() + "\n";
    // Quoted, with a comma and a line break inside the text.
    csv += std::to_string(i) + ",\"" + texts[i].first + ",\nsecond line\"," + texts[i].second + "\n";
    fs::create_directories(d + "/folder/" + texts[i].second);
    std::ofstream(d + "/folder/" + texts[i].second + "/" + std::to_string(i) + ".txt") << texts[i].first;
  }
  writeFile(dir, "t.jsonl", jsonl);
  writeFile(dir, "t.csv", csv);
  const Json base = {{"kind", "text"}, {"max_tokens", 8}, {"min_count", 1}, {"test_fraction", 0.25}};
  for (const Json &where :
       {Json{{"path", "t.jsonl"}, {"text_column", "body"}, {"label_column", "kind"}},
        Json{{"path", "t.csv"}, {"text_column", "body"}, {"label_column", "kind"}}, Json{{"path", "folder"}}}) {
    Json section = base;
    section.update(where);
    const DataInfo info = probeDataset(parseDatasetSpec(section, d));
    QCOMPARE(info.sampleShape, (Shape{8}));
    QCOMPARE(info.classNames, (std::vector<std::string>{"ham", "spam"}));
    QCOMPARE(info.vocabulary[0], std::string("<pad>"));
    QCOMPARE(info.vocabulary[1], std::string("<unk>"));
    QVERIFY(std::find(info.vocabulary.begin(), info.vocabulary.end(), "winner") != info.vocabulary.end());
    const Dataset data = load(section, d);
    QCOMPARE(data.trainX.scalar_type(), torch::kLong);
    QCOMPARE(data.trainX.size(1), int64_t(8));
    QCOMPARE(data.trainX.size(0) + data.valX.size(0) + data.testX.size(0), int64_t(40));
    // Words are lower-cased ("Winner!" is "winner") and every id is in the vocabulary.
    QVERIFY(data.trainX.max().item<int64_t>() < static_cast<int64_t>(info.vocabulary.size()));
  }
  // The vocabulary comes from the training split only: a word that one text holds is a word of the
  // vocabulary exactly when that text trains (else it reads as <unk>, id 1, in its split).
  std::string rare = jsonl + Json{{"body", "zyzzyva meeting today"}, {"kind", "ham"}}.dump() + "\n";
  writeFile(dir, "rare.jsonl", rare);
  Json section = base;
  section.update(Json{{"path", "rare.jsonl"}, {"text_column", "body"}, {"label_column", "kind"}});
  bool seenIn = false, seenOut = false;
  for (int seed = 0; seed < 10; ++seed) {
    section["seed"] = seed;
    const Dataset data = load(section, d);
    const auto &vocab = data.info.vocabulary;
    const bool inVocab = std::find(vocab.begin(), vocab.end(), "zyzzyva") != vocab.end();
    const bool unknownInTrain = data.trainX.eq(1).any().item<bool>();
    const bool unknownElsewhere = data.valX.eq(1).any().item<bool>() || data.testX.eq(1).any().item<bool>();
    QVERIFY(!unknownInTrain); // every training word is known
    QCOMPARE(inVocab, !unknownElsewhere);
    (inVocab ? seenIn : seenOut) = true;
  }
  QVERIFY(seenIn && seenOut);
}

void TestData::textBadInput_data() {
  QTest::addColumn<QString>("file");
  QTest::addColumn<QByteArray>("content");
  QTest::addColumn<QString>("expected");
  QByteArray lines;
  for (int i = 0; i < 12; ++i)
    lines += QByteArray(R"({"text": "hello there", "label": ")") + (i % 2 ? "a" : "b") + "\"}\n";
  QTest::newRow("JSONL line that is not JSON") << "t.jsonl" << lines + "{\"text\": \"oops\", label: b}\n"
                                               << "t.jsonl:13: not JSON";
  QTest::newRow("JSONL without the text field") << "t.jsonl" << lines + "{\"body\": \"x\", \"label\": \"a\"}\n"
                                                << "t.jsonl:13: no text field \"text\"";
  QTest::newRow("one class") << "t.jsonl"
                             << QByteArray(R"({"text": "x", "label": "a"})"
                                           "\n")
                                    .repeated(12)
                             << "every text has the label \"a\"";
}

void TestData::textBadInput() {
  QFETCH(QString, file);
  QFETCH(QByteArray, content);
  QFETCH(QString, expected);
  QTemporaryDir dir;
  writeFile(dir, file.toStdString(), content.toStdString());
  const QString message = loadError({{"kind", "text"}, {"path", file.toStdString()}}, dir.path().toStdString());
  QVERIFY2(message.contains(expected), qPrintable(message));
}

// The write-up's example in small: a text in two halves, one sub-model each, max Combine. It
// learns which word decides, the explanation finds that word in the half that held it, and text
// that is not UTF-8 is repaired and counted; max_tokens 0 is refused.
void TestData::textHalvesLearnAndExplain() {
  QTemporaryDir dir;
  const std::string d = dir.path().toStdString();
  const auto texts = corpus(400);
  for (std::size_t i = 0; i < texts.size(); ++i) {
    fs::create_directories(d + "/mail/" + texts[i].second);
    std::ofstream(d + "/mail/" + texts[i].second + "/" + std::to_string(i) + ".txt")
        << texts[i].first << (i == 1 ? "caf\xE9 ol\xE9" : ""); // Latin-1 bytes in one text
  }
  Json doc = Json::parse(R"({
    "format": "particle-studio", "version": 1, "name": "halves",
    "dataset": {"kind": "text", "path": "mail", "max_tokens": 16, "min_count": 1},
    "nodes": [
      {"id": "input", "type": "Input"},
      {"id": "split", "type": "Split", "params": {"mode": "chunks", "parts": 2}},
      {"id": "e0", "type": "Embedding", "params": {"dim": 16}, "share": "words"},
      {"id": "e1", "type": "Embedding", "params": {"dim": 16}, "share": "words"},
      {"id": "c0", "type": "Conv1d", "params": {"channels": 16, "kernel": 3}},
      {"id": "p0", "type": "Pool", "params": {"mode": "max"}},
      {"id": "p1", "type": "Attention", "params": {"dim": 16, "heads": 2, "layers": 1, "out": 8}},
      {"id": "first", "type": "MLP", "params": {"hidden": [16], "out": 8}},
      {"id": "combine", "type": "Combine", "params": {"mode": "max"}},
      {"id": "head", "type": "Classifier"}
    ],
    "edges": [
      {"from": "input", "to": "split"}, {"from": "split", "to": "e0"}, {"from": "split:1", "to": "e1"},
      {"from": "e0", "to": "c0"}, {"from": "c0", "to": "p0"}, {"from": "e1", "to": "p1"}, {"from": "p0", "to": "first"},
      {"from": "first", "to": "combine"}, {"from": "p1", "to": "combine:1"}, {"from": "combine", "to": "head"}
    ],
    "training": {"epochs": 25, "batch_size": 32, "lr": 0.01, "threads": 1, "seed": 1}
  })");
  const std::string path = writeFile(dir, "halves.particle.json", doc.dump());
  TrainOptions opt;
  opt.outDir = d + "/run";
  Trainer trainer(loadProject(path), opt);
  const RunSummary s = trainer.run();
  QCOMPARE(s.status, RunSummary::Status::Completed);
  QVERIFY2(s.testAccuracy >= 0.95, std::to_string(s.testAccuracy).c_str());
  // The counted parameters of the sequence nodes are the modules' own.
  for (const char *node : {"e0", "c0"}) {
    int64_t numel = 0;
    for (const auto &p : trainer.model()->named_parameters())
      if (p.key().rfind(std::string(node) + ".", 0) == 0)
        numel += p.value().numel();
    QCOMPARE(numel, trainer.model()->validation().info(node)->parameters);
  }
  // Conv1d keeps padding rows at zero: a text of two words and its padded tail.
  {
    torch::NoGradGuard guard;
    auto ids = torch::zeros({1, 16}, torch::kLong);
    ids[0][0] = 2;
    ids[0][1] = 3;
    const auto out = trainer.model()->forward(ids);
    const auto &conv = out.outputs.at("c0").at(0); // [1, 8, 16]: the first half's 8 tokens
    QCOMPARE(conv.size(1), int64_t(8));
    QVERIFY(conv[0].narrow(0, 2, 6).abs().sum().item<float>() == 0.0F);
  }
  QVERIFY2(QString::fromStdString(trainer.data().description)
               .contains("1 text(s) held bytes that are not UTF-8 (replaced by U+FFFD)"),
           trainer.data().description.c_str());
  // Every spam test text: its top token is "winner", read by the half it stands in.
  const auto &data = trainer.data();
  const auto spam = torch::nonzero(data.testY.eq(1)).squeeze(1);
  const auto x = data.testX.index_select(0, spam);
  Explainer explainer(trainer.model(), data.trainX);
  const auto sal = explainer.integratedGradients(x, torch::ones({x.size(0)}, torch::kLong), "combine");
  QCOMPARE(sal.size(), std::size_t(2));
  int found = 0;
  for (int64_t i = 0; i < x.size(0); ++i) {
    const auto tokens = tokenAttributions(data.info.vocabulary, x, i, sal);
    const auto top = std::max_element(tokens.begin(), tokens.end(),
                                      [](const auto &a, const auto &b) { return a.attribution < b.attribution; });
    QVERIFY(top != tokens.end());
    if (top->token == "winner") {
      ++found;
      QCOMPARE(top->branch, top->position < 8 ? 0 : 1); // the first half is branch 0
    }
  }
  QVERIFY2(found >= x.size(0) * 8 / 10, (std::to_string(found) + " of " + std::to_string(x.size(0))).c_str());
  const std::string html = tokensHtml(tokenAttributions(data.info.vocabulary, x, 0, sal), {"first", "p1"});
  QVERIFY(html.find("winner") != std::string::npos && html.find("background-color:#") != std::string::npos);
  // Padding is neither a token of the report nor attributed.
  for (const auto &t : tokenAttributions(data.info.vocabulary, x, 0, sal))
    QVERIFY(t.token != "<pad>");
  // max_tokens 0 is a bad key, named.
  doc["dataset"]["max_tokens"] = 0;
  try {
    loadProject(writeFile(dir, "zero.particle.json", doc.dump()));
    parseDatasetSpec(doc["dataset"], d);
    QFAIL("max_tokens 0 was accepted");
  } catch (const Error &e) {
    QVERIFY2(QString(e.what()).contains("max_tokens"), e.what());
  }
}

// Several text fields (subject and body): each gets max_tokens positions, and Split mode "fields"
// cuts one part per field, checked against the data.
void TestData::textFields() {
  QTemporaryDir dir;
  const std::string d = dir.path().toStdString();
  std::string jsonl;
  for (int i = 0; i < 30; ++i)
    jsonl += Json{{"subject", i % 2 ? "hello again" : "cheap offer"},
                  {"body", i % 2 ? "see you at noon" : "buy now buy now"},
                  {"label", i % 2 ? "ham" : "spam"}}
                 .dump() +
             "\n";
  writeFile(dir, "mail.jsonl", jsonl);
  Json doc = baseProject();
  doc["dataset"] = {{"kind", "text"},
                    {"path", "mail.jsonl"},
                    {"text_columns", {"subject", "body"}},
                    {"max_tokens", 4},
                    {"min_count", 1}};
  setTwoPartTextGraph(doc, "fields", 4, "");
  const Validation ok = validate(projectFromJson(doc, d + "/p.particle.json"));
  QVERIFY2(ok.errorCount() == 0, ok.problems.empty() ? "" : ok.problems.front().message.c_str());
  QCOMPARE(ok.info("split")->outputs, (std::vector<Shape>{{4}, {4}}));
  // Shapes name the token axis until a Pool takes it away.
  QCOMPARE(outputShapeText(*ok.info("input"), 0), std::string("[T=8]"));
  QCOMPARE(outputShapeText(*ok.info("split"), 1), std::string("[T=4]"));
  QCOMPARE(inputShapeText(*ok.info("p0"), 0), std::string("[T=4,4]"));
  QCOMPARE(outputShapeText(*ok.info("p0"), 0), std::string("[4]"));
  QCOMPARE(ok.data.featureNames, (std::vector<std::string>{"subject", "body"}));
  // Each field in its own positions: the subject's words first, then the body's.
  const Dataset data = load(doc["dataset"], d);
  QCOMPARE(data.trainX.size(1), int64_t(8));
  const auto &vocab = data.info.vocabulary;
  const auto id = [&](const std::string &w) {
    return static_cast<int64_t>(std::find(vocab.begin(), vocab.end(), w) - vocab.begin());
  };
  for (int64_t r = 0; r < data.trainX.size(0); ++r) {
    const auto row = data.trainX[r];
    const bool spam = data.trainY[r].item<int64_t>() == 1;
    QCOMPARE(row[0].item<int64_t>(), id(spam ? "cheap" : "hello"));
    QCOMPARE(row[4].item<int64_t>(), id(spam ? "buy" : "see"));
    QCOMPARE(row[3].item<int64_t>(), int64_t(0)); // "cheap offer" leaves padding in the subject's part
  }
  // A Split that does not match the fields is named.
  doc["nodes"][1]["params"]["parts"] = 3;
  const Validation wrong = validate(projectFromJson(doc, d + "/p.particle.json"));
  bool named = false;
  for (const auto &p : wrong.problems)
    named |= p.message.find("the data has 2 text fields (subject, body); set parts to 2") != std::string::npos;
  QVERIFY(named);
}

// Issue 21 item 5: JSON lines whose text holds bytes that are not UTF-8 load as CSV files and .txt
// folders do: the bytes become U+FFFD and the texts are counted, where the line was refused before.
void TestData::textJsonLinesNotUtf8() {
  QTemporaryDir dir;
  std::string jsonl;
  for (int i = 0; i < 20; ++i)
    jsonl += std::string(R"({"text": "caf)") + (i < 8 ? "\xE9" : "e") + R"( ol\u00e9 meeting", "label": ")" +
             (i % 2 ? "a" : "b") + "\"}\n";
  writeFile(dir, "t.jsonl", jsonl);
  const Json section = {{"kind", "text"}, {"path", "t.jsonl"}, {"min_count", 1}};
  QCOMPARE(probeDataset(parseDatasetSpec(section, dir.path().toStdString())).classes, int64_t(2));
  const Dataset data = load(section, dir.path().toStdString());
  QVERIFY2(QString::fromStdString(data.notes).contains("8 text(s) held bytes that are not UTF-8 (replaced by U+FFFD)"),
           data.notes.c_str());
  const auto &vocab = data.info.vocabulary;
  QVERIFY(std::find(vocab.begin(), vocab.end(), "caf\xEF\xBF\xBD") != vocab.end()); // the Latin-1 é, replaced
  QVERIFY(std::find(vocab.begin(), vocab.end(), "ol\xC3\xA9") != vocab.end());      // an escaped é stays é
  // A line that is not JSON is still refused, by its number.
  writeFile(dir, "bad.jsonl", jsonl + "{\"text\": \"caf\xE9\", label: 1}\n");
  const QString message = loadError({{"kind", "text"}, {"path", "bad.jsonl"}}, dir.path().toStdString());
  QVERIFY2(message.contains("bad.jsonl:21: not JSON"), qPrintable(message));
}

// Byte sequences that look like UTF-8 but the Unicode standard's table 3-7 calls ill-formed
// (surrogates as Java and JavaScript write them, code points above U+10FFFF, overlong forms) are
// repaired like any other bytes that are not UTF-8, one U+FFFD per maximal subpart, in JSON lines,
// CSV, TSV and .txt folders alike; the well-formed neighbours of those ranges stay as they are.
void TestData::textIllFormedUtf8Repaired() {
  const std::string fffd = "\xEF\xBF\xBD";
  auto times = [&](int n) {
    std::string s;
    for (int i = 0; i < n; ++i)
      s += fffd;
    return s;
  };
  // {bytes, what they become}: the ill-formed first.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"\xED\xA0\x80", times(3)},               // U+D800, a high surrogate
      {"\xED\xBF\xBF", times(3)},               // U+DFFF, a low surrogate
      {"\xF4\x90\x80\x80", times(4)},           // U+110000
      {"\xC0\xAF", times(2)},                   // "/" overlong in two bytes
      {"\xE0\x80\xAF", times(3)},               // "/" overlong in three bytes
      {"\xF0\x80\x80\xAF", times(4)},           // "/" overlong in four bytes
      {"\xE1\x80", times(1)},                   // a three-byte sequence cut short: one U+FFFD
      {"\xED\x9F\xBF", "\xED\x9F\xBF"},         // U+D7FF
      {"\xEE\x80\x80", "\xEE\x80\x80"},         // U+E000
      {"\xF4\x8F\xBF\xBF", "\xF4\x8F\xBF\xBF"}, // U+10FFFF
      {"\xF0\x9F\x98\x80", "\xF0\x9F\x98\x80"}, // U+1F600
      {"\xE0\xA0\x80", "\xE0\xA0\x80"},         // U+0800, the first three-byte one
      {"\xC2\x80", "\xC2\x80"}};                // U+0080
  const int illFormed = 7;
  QTemporaryDir dir;
  const std::string d = dir.path().toStdString();
  std::string jsonl, csv = "text,label\n", tsv = "text\tlabel\n";
  // Each case in 6 texts, so that every case is in the training split, whose words make the
  // vocabulary (what this test reads).
  for (std::size_t i = 0; i < 6 * cases.size(); ++i) {
    const std::string text = "meeting w" + cases[i % cases.size()].first + "w", label = i % 2 ? "a" : "b";
    // JSON lines written by hand: nlohmann would refuse to dump the ill-formed bytes.
    jsonl += R"({"text": ")" + text + R"(", "label": ")" + label + "\"}\n";
    csv += text + "," + label + "\n";
    tsv += text + "\t" + label + "\n";
    fs::create_directories(d + "/folder/" + label);
    std::ofstream(d + "/folder/" + label + "/" + std::to_string(i) + ".txt", std::ios::binary) << text;
  }
  writeFile(dir, "t.jsonl", jsonl);
  writeFile(dir, "t.csv", csv);
  writeFile(dir, "t.tsv", tsv);
  for (const char *path : {"t.jsonl", "t.csv", "t.tsv", "folder"}) {
    const Json section = {{"kind", "text"}, {"path", path}, {"min_count", 1}, {"max_tokens", 4}};
    QString message = loadError(section, d);
    QVERIFY2(message.isEmpty(), qPrintable(QString(path) + ": " + message));
    const Dataset data = load(section, d);
    const std::string expected =
        std::to_string(6 * illFormed) + " text(s) held bytes that are not UTF-8 (replaced by U+FFFD)";
    QVERIFY2(data.notes.find(expected) != std::string::npos, (std::string(path) + ": " + data.notes).c_str());
    const auto &vocab = data.info.vocabulary;
    for (const auto &[bytes, becomes] : cases)
      QVERIFY2(std::find(vocab.begin(), vocab.end(), "w" + becomes + "w") != vocab.end(),
               (std::string(path) + ": no word for " + QByteArray::fromStdString(bytes).toHex().toStdString()).c_str());
  }
}

// Issue 21 item 18: the training texts' token lengths (what the Data panel's preview summarises),
// the columns a text file offers, and the warning for a Split part that is only padding for most
// training texts, which mode "proportional" (each text cut at its own length) does not get.
void TestData::textLengthsAndPaddingParts() {
  QTemporaryDir dir;
  const std::string d = dir.path().toStdString();
  std::string jsonl, csv = "body,kind\n";
  for (int i = 0; i < 60; ++i) {
    std::string body;
    for (int w = 0; w < 3 + i % 10; ++w) // 3 to 12 words
      body += "w" + std::to_string(w) + " ";
    jsonl += Json{{"body", body}, {"kind", i % 2 ? "ham" : "spam"}}.dump() + "\n";
    csv += body + "," + (i % 2 ? "ham" : "spam") + "\n";
  }
  writeFile(dir, "t.jsonl", jsonl);
  writeFile(dir, "t.csv", csv);
  Json doc = baseProject();
  doc["dataset"] = {{"kind", "text"},         {"path", "t.jsonl"}, {"text_column", "body"},
                    {"label_column", "kind"}, {"max_tokens", 64},  {"min_count", 1}};
  const auto lengths = textTokenLengths(parseDatasetSpec(doc["dataset"], d));
  QVERIFY(lengths);
  QCOMPARE(lengths->maxTokens, int64_t(64));
  QCOMPARE(lengths->lengths.size(), std::size_t(1));
  // The training texts' lengths are the words each training sample holds (none is cut at 64).
  const Dataset data = load(doc["dataset"], d);
  std::vector<int64_t> counted = lengths->lengths[0], held;
  const auto nonPadding = data.trainX.ne(0).sum(1);
  for (int64_t i = 0; i < nonPadding.size(0); ++i)
    held.push_back(nonPadding[i].item<int64_t>());
  std::sort(counted.begin(), counted.end());
  std::sort(held.begin(), held.end());
  QCOMPARE(counted, held);
  QVERIFY(counted.front() >= 3 && counted.back() <= 12);
  // The summary: lower median, nearest-rank 95th percentile, longest, cut, p95 rounded up to 8s.
  std::vector<int64_t> hundred(100);
  std::iota(hundred.begin(), hundred.end(), 1);
  const LengthSummary sum = summarizeLengths(hundred, 64);
  QCOMPARE(sum.median, int64_t(50));
  QCOMPARE(sum.p95, int64_t(95));
  QCOMPARE(sum.longest, int64_t(100));
  QCOMPARE(sum.cut, int64_t(36));
  QCOMPARE(sum.suggested, int64_t(96));
  // The columns offered: a JSON line's fields, a CSV's header; none for a folder.
  const std::vector<std::string> columns = {"body", "kind"};
  QCOMPARE(datasetColumns({{"kind", "text"}, {"path", "t.jsonl"}}, d), columns);
  QCOMPARE(datasetColumns({{"kind", "text"}, {"path", "t.csv"}}, d), columns);
  QVERIFY(datasetColumns({{"kind", "text"}, {"path", "."}}, d).empty());
  // Two chunks of 64 positions: the second (positions 32–63) is padding for every text.
  setTwoPartTextGraph(doc, "chunks", 4, "");
  auto paddingWarnings = [&](const Json &project) {
    std::vector<Problem> out;
    const Validation v = validate(projectFromJson(project, d + "/p.particle.json"));
    for (const auto &p : v.problems)
      if (p.code == ProblemCode::PartMostlyPadding)
        out.push_back(p);
    return std::make_pair(v.errorCount(), out);
  };
  const auto [errors, warned] = paddingWarnings(doc);
  QCOMPARE(errors, 0);
  QCOMPARE(warned.size(), std::size_t(1));
  QCOMPARE(warned.front().node, std::string("split"));
  QVERIFY(!warned.front().isError());
  QCOMPARE(std::string(problemCodeName(warned.front().code)), std::string("part-mostly-padding"));
  QVERIFY2(warned.front().message.find("output 1 (token positions 32–63) is only padding for 100% of the") == 0,
           warned.front().message.c_str());
  QVERIFY2(warned.front().message.find("lower dataset.max_tokens (e.g. to 16)") != std::string::npos,
           warned.front().message.c_str());
  // max_tokens 8: the second half (positions 4–7) holds words of most texts (only 3- and 4-word
  // texts, about a fifth, end before it).
  Json fits = doc;
  fits["dataset"]["max_tokens"] = 8;
  QCOMPARE(paddingWarnings(fits).second.size(), std::size_t(0));
  // Each text cut at its own length: no part is padding, both are ceil(64 / 2) wide.
  Json proportional = doc;
  proportional["nodes"][1]["params"]["mode"] = "proportional";
  const auto [pErrors, pWarned] = paddingWarnings(proportional);
  QCOMPARE(pErrors, 0);
  QCOMPARE(pWarned.size(), std::size_t(0));
  const Validation v = validate(projectFromJson(proportional, d + "/p.particle.json"));
  QCOMPARE(v.info("split")->outputs, (std::vector<Shape>{{32}, {32}}));
  QCOMPARE(outputShapeText(*v.info("split"), 1), std::string("[T=32]"));
  // Three parts of 64: ceil(64 / 3) = 22 positions each.
  proportional["nodes"][1]["params"]["parts"] = 3;
  proportional["nodes"].push_back({{"id", "e2"}, {"type", "Embedding"}, {"params", {{"dim", 4}}}});
  proportional["nodes"].push_back({{"id", "p2"}, {"type", "Pool"}, {"params", {{"mode", "max"}}}});
  for (const char *e :
       {R"({"from": "split:2", "to": "e2"})", R"({"from": "e2", "to": "p2"})", R"({"from": "p2", "to": "combine:2"})"})
    proportional["edges"].push_back(Json::parse(e));
  const Validation three = validate(projectFromJson(proportional, d + "/p.particle.json"));
  QVERIFY2(three.errorCount() == 0, three.problems.empty() ? "" : three.problems.front().message.c_str());
  QCOMPARE(three.info("split")->outputs, (std::vector<Shape>{{22}, {22}, {22}}));
  // Not for vectors or several text fields: named, with the modes that fit.
  Json vectors = baseProject();
  vectors["nodes"][1]["params"] = {{"mode", "proportional"}, {"parts", 4}};
  bool named = false;
  for (const auto &p : validate(projectFromJson(vectors, d + "/v.particle.json")).problems)
    named |= p.param == "mode" &&
             p.message.find("mode \"proportional\" needs the token ids of one text field") != std::string::npos;
  QVERIFY(named);
}

// Split mode "proportional" learns the write-up's first half / second half of texts of any length:
// part k of N holds tokens [k·len/N, (k+1)·len/N) of each text, left-aligned and padded; the
// explanation puts each token's attribution back where it stood in its own text.
void TestData::textProportionalParts() {
  QTemporaryDir dir;
  const std::string d = dir.path().toStdString();
  const char *filler[] = {"the", "meeting", "is", "at", "noon", "please", "read", "notes", "lunch", "today"};
  std::mt19937 rng(5);
  std::string jsonl;
  for (int i = 0; i < 400; ++i) {
    const bool spam = i % 2 == 0;
    const auto length = static_cast<int>(4 + rng() % 13); // 4 to 16 words of max_tokens 20
    const auto at = static_cast<int>(rng() % static_cast<unsigned>(length));
    std::string text;
    for (int w = 0; w < length; ++w)
      text += spam && w == at ? std::string("winner ") : std::string(filler[rng() % 10]) + " ";
    jsonl += Json{{"text", text}, {"label", spam ? "spam" : "ham"}}.dump() + "\n";
  }
  writeFile(dir, "t.jsonl", jsonl);
  Json doc = baseProject();
  doc["dataset"] = {{"kind", "text"}, {"path", "t.jsonl"}, {"max_tokens", 20}, {"min_count", 1}};
  setTwoPartTextGraph(doc, "proportional", 16, "words");
  doc["training"] = {{"epochs", 20}, {"batch_size", 32}, {"lr", 0.01}, {"threads", 1}, {"seed", 1}};
  const std::string path = writeFile(dir, "p.particle.json", doc.dump());
  TrainOptions opt;
  opt.outDir = d + "/run";
  Trainer trainer(loadProject(path), opt);
  const RunSummary s = trainer.run();
  QCOMPARE(s.status, RunSummary::Status::Completed);
  QVERIFY2(s.testAccuracy >= 0.9, std::to_string(s.testAccuracy).c_str());
  // A text of 5 tokens in two parts of ceil(20 / 2) = 10: its tokens [0, 2) and [2, 5), padded.
  {
    torch::NoGradGuard guard;
    auto ids = torch::zeros({2, 20}, torch::kLong);
    for (int k = 0; k < 5; ++k)
      ids[0][k] = 5 + k;
    for (int k = 0; k < 20; ++k)
      ids[1][k] = 2 + k; // a text of all 20 tokens: [0, 10) and [10, 20)
    const auto parts = trainer.model()->forward(ids).outputs.at("split");
    QCOMPARE(parts.at(0).sizes(), (torch::IntArrayRef{2, 10}));
    const std::vector<int64_t> first = {5, 6, 0, 0, 0, 0, 0, 0, 0, 0}, second = {7, 8, 9, 0, 0, 0, 0, 0, 0, 0};
    QVERIFY(parts.at(0)[0].equal(torch::tensor(first)));
    QVERIFY(parts.at(1)[0].equal(torch::tensor(second)));
    QVERIFY(parts.at(0)[1].equal(ids[1].narrow(0, 0, 10)));
    QVERIFY(parts.at(1)[1].equal(ids[1].narrow(0, 10, 10)));
  }
  // Each spam test text's top token is "winner", in the part of its own length that held it.
  const auto &data = trainer.data();
  const auto spam = torch::nonzero(data.testY.eq(1)).squeeze(1);
  const auto x = data.testX.index_select(0, spam);
  Explainer explainer(trainer.model(), data.trainX);
  const auto sal = explainer.integratedGradients(x, torch::ones({x.size(0)}, torch::kLong), "combine");
  QCOMPARE(sal.size(), std::size_t(2));
  int found = 0;
  for (int64_t i = 0; i < x.size(0); ++i) {
    const int64_t length = x[i].ne(0).sum().item<int64_t>();
    const auto tokens = tokenAttributions(data.info.vocabulary, x, i, sal);
    const auto top = std::max_element(tokens.begin(), tokens.end(),
                                      [](const auto &a, const auto &b) { return a.attribution < b.attribution; });
    QVERIFY(top != tokens.end());
    if (top->token == "winner") {
      ++found;
      QCOMPARE(top->branch, top->position < length / 2 ? 0 : 1);
    }
  }
  QVERIFY2(found >= x.size(0) * 8 / 10, (std::to_string(found) + " of " + std::to_string(x.size(0))).c_str());
  // Occluding a part sets that part of each text to padding, where it is in that text. Without its
  // second half a text is a shorter text: exactly the spam whose "winner" stood there is missed.
  // (Without its first half the model meets an empty part, which it never saw: it misses some.)
  RobustnessOptions options;
  options.sigmas.clear();
  const RobustnessReport report = measureRobustness(loadProject(path), d + "/run/checkpoint.pt", options);
  QCOMPARE(report.occlusion.size(), std::size_t(2));
  const auto &words = data.info.vocabulary;
  const int64_t winner = std::find(words.begin(), words.end(), "winner") - words.begin();
  std::array<int64_t, 2> inHalf = {0, 0};
  for (int64_t i = 0; i < data.testX.size(0); ++i) {
    const int64_t length = data.testX[i].ne(0).sum().item<int64_t>();
    for (int64_t k = 0; k < length; ++k)
      if (data.testX[i][k].item<int64_t>() == winner)
        ++inHalf[k < length / 2 ? 0 : 1];
  }
  QVERIFY(inHalf[0] > 0 && inHalf[1] > 0);
  const double share = static_cast<double>(inHalf[1]) / static_cast<double>(data.testX.size(0));
  const double drop = report.cleanAccuracy - report.occlusion[1].second;
  QVERIFY2(
      std::abs(drop - share) <= 0.03,
      ("a drop of " + std::to_string(drop) + ", the share of second-half winners " + std::to_string(share)).c_str());
  QVERIFY(report.cleanAccuracy - report.occlusion[0].second >= 0.05);
}

// The files of one cache folder whose names start with `prefix`.
std::vector<std::string> cached(const std::string &folder, const std::string &prefix) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto &e : fs::directory_iterator(folder, ec))
    if (e.path().filename().string().rfind(prefix, 0) == 0)
      out.push_back(e.path().string());
  return out;
}

std::string spamJsonLines(int n) {
  std::string jsonl;
  for (const auto &[text, label] : corpus(n))
    jsonl += Json{{"text", text}, {"label", label}}.dump() + "\n";
  return jsonl;
}

// SentencePiece in the test's own process, which has LibTorch loaded: the helper process trains
// the model on the training split and encodes; the cache beside the data answers the second load;
// unigram and BPE; a given model; the errors a person can meet.
void TestData::textSentencePiece() {
  QTemporaryDir dir;
  const std::string d = dir.path().toStdString();
  writeFile(dir, "t.jsonl", spamJsonLines(300));
  Json section = {{"kind", "text"},   {"path", "t.jsonl"}, {"tokenizer", "sentencepiece"},
                  {"vocab_size", 30}, {"max_tokens", 24},  {"test_fraction", 0.25}};
  // The probe trains nothing: the vocabulary's size is vocab_size (a hard limit).
  const DataInfo probed = probeDataset(parseDatasetSpec(section, d));
  QCOMPARE(probed.vocabulary.size(), std::size_t(30));
  QVERIFY(cached(d + "/.particle-cache", "sentencepiece-").empty());

  const Dataset data = load(section, d);
  const auto &pieces = data.info.vocabulary;
  QCOMPARE(pieces.size(), std::size_t(30));
  QCOMPARE(pieces[0], std::string("<pad>"));
  QCOMPARE(pieces[1], std::string("<unk>"));
  QVERIFY(isPieceVocabulary(pieces));
  QVERIFY2(QString::fromStdString(data.notes).contains("30 SentencePiece pieces (unigram"), data.notes.c_str());
  QVERIFY(data.trainX.max().item<int64_t>() < 30 && data.trainX.min().item<int64_t>() >= 0);
  QCOMPARE(data.trainX.size(1), int64_t(24));
  // Each text's ids start at position 0 and padding (0) only follows them.
  const auto nonPad = data.trainX.ne(0).to(torch::kLong);
  QVERIFY(nonPad.narrow(1, 1, 23).le(nonPad.narrow(1, 0, 23)).all().item<bool>());
  // Cached beside the data: the model, its vocabulary and the ids.
  const auto models = cached(d + "/.particle-cache", "sentencepiece-");
  QCOMPARE(models.size(), std::size_t(2)); // .model and .vocab
  QVERIFY(fs::exists(data.tokenizerModel));
  const auto tokenFiles = cached(d + "/.particle-cache", "tokens-");
  QCOMPARE(tokenFiles.size(), std::size_t(1));
  const auto written = fs::last_write_time(tokenFiles.front());
  // The second load reads the cache (the file is not written again) and gives the same ids.
  const Dataset again = load(section, d);
  QVERIFY(torch::equal(again.trainX, data.trainX) && torch::equal(again.testX, data.testX));
  QVERIFY(fs::last_write_time(tokenFiles.front()) == written);
  QCOMPARE(cached(d + "/.particle-cache", "sentencepiece-").size(), std::size_t(2));
  // How pieces read: "▁" begins a word, other pieces join the one before.
  QCOMPARE(readableToken("\xE2\x96\x81winner", true).text, std::string("winner"));
  QVERIFY(!readableToken("\xE2\x96\x81winner", true).joinsPrevious);
  QVERIFY(readableToken("ner", true).joinsPrevious);
  QVERIFY(!readableToken("ner", false).joinsPrevious);

  // A given model encodes as the one it was trained as, whatever vocab_size says.
  fs::copy_file(data.tokenizerModel, d + "/mine.model");
  Json given = section;
  given["tokenizer_model"] = "mine.model";
  given["vocab_size"] = 999;
  const Dataset withGiven = load(given, d);
  QCOMPARE(withGiven.info.vocabulary, pieces);
  QVERIFY(torch::equal(withGiven.trainX, data.trainX));
  QVERIFY2(QString::fromStdString(withGiven.notes).contains("mine.model"), withGiven.notes.c_str());

  // BPE learns its own pieces.
  Json bpe = section;
  bpe["model"] = "bpe";
  const Dataset byBpe = load(bpe, d);
  QCOMPARE(byBpe.info.vocabulary.size(), std::size_t(30));
  QVERIFY(byBpe.tokenizerModel != data.tokenizerModel);

  // Errors: more pieces than the texts allow (named), a file that is not a model, a model with the
  // words tokenizer, no helper to run.
  Json tooMany = section;
  tooMany["vocab_size"] = 5000;
  QString message = loadError(tooMany, d);
  QVERIFY2(message.contains("dataset.vocab_size: 5000 pieces are more than these training texts allow") &&
               message.contains("<= 33"),
           qPrintable(message));
  writeFile(dir, "junk.model", "not a model at all");
  Json junk = section;
  junk["tokenizer_model"] = "junk.model";
  message = loadError(junk, d);
  QVERIFY2(message.contains("junk.model: not a SentencePiece model"), qPrintable(message));
  Json words = given;
  words["tokenizer"] = "words";
  try {
    parseDatasetSpec(words, d);
    QFAIL("a SentencePiece model with the words tokenizer was accepted");
  } catch (const Error &e) {
    QVERIFY2(QString(e.what()).contains("dataset.tokenizer_model"), e.what());
  }
  qputenv("PARTICLE_TOKENIZE", QByteArray::fromStdString(d + "/no-such-helper"));
  Json fresh = section;
  fresh["vocab_size"] = 31;
  message = loadError(fresh, d);
  qunsetenv("PARTICLE_TOKENIZE");
  QVERIFY2(message.contains("needs the particle-tokenize program"), qPrintable(message));
}

// A tokenizer_model that is a folder or not a regular file (/dev/zero) is refused by its own name
// before the SentencePiece helper starts (the helper aborted on them, and the message named the
// data's folder).
void TestData::textTokenizerModelNotAFile() {
  QTemporaryDir dir;
  const std::string d = dir.path().toStdString();
  writeFile(dir, "t.jsonl", spamJsonLines(40));
  fs::create_directories(d + "/models");
  const Json section = {{"kind", "text"},   {"path", "t.jsonl"}, {"tokenizer", "sentencepiece"},
                        {"vocab_size", 30}, {"max_tokens", 24},  {"test_fraction", 0.25}};
  for (const std::string &model : {d + "/models", std::string("/dev/zero"), std::string("models")}) {
    Json given = section;
    given["tokenizer_model"] = model;
    const std::string named = model == "models" ? d + "/models" : model;
    for (bool probing : {true, false}) {
      QString message;
      try {
        if (probing)
          probeDataset(parseDatasetSpec(given, d));
        else
          load(given, d);
      } catch (const Error &e) {
        message = e.what();
        // A device may already be refused when the keys are read (dataset.tokenizer_model, Invalid).
        const bool device = model == "/dev/zero" && e.kind() == ErrorKind::Invalid;
        QVERIFY2(e.kind() == ErrorKind::File || device, e.what());
        if (!device)
          QVERIFY2(message.contains(QString::fromStdString(named + ": tokenizer_model is not a file")),
                   qPrintable(message));
      }
      QVERIFY2(message.contains(QString::fromStdString(named)), qPrintable(message));
      QVERIFY2(!message.contains("signal"), qPrintable(message));
    }
  }
  // Nothing of the helper's was left beside the data.
  QVERIFY(cached(d + "/.particle-cache", "tokens-").empty());
}

// A run keeps the tokenizer it trained with: tokenizer.model beside its checkpoint, named by its
// project copy; explaining that checkpoint encodes with it even when the cache is gone (it trains
// no new model).
void TestData::textSentencePieceKeptWithRun() {
  QTemporaryDir dir;
  const std::string d = dir.path().toStdString();
  writeFile(dir, "t.jsonl", spamJsonLines(200));
  Json doc = baseProject();
  doc["dataset"] = {
      {"kind", "text"}, {"path", "t.jsonl"}, {"tokenizer", "sentencepiece"}, {"vocab_size", 30}, {"max_tokens", 24}};
  setTwoPartTextGraph(doc, "chunks", 8, "w");
  doc["training"] = {{"epochs", 2}, {"batch_size", 32}, {"lr", 0.01}, {"threads", 1}};
  const std::string path = writeFile(dir, "p.particle.json", doc.dump());
  TrainOptions opt;
  opt.outDir = d + "/run";
  Trainer trainer(loadProject(path), opt);
  QCOMPARE(trainer.run().status, RunSummary::Status::Completed);
  QVERIFY(fs::exists(d + "/run/tokenizer.model"));
  const Project copy = loadProject(d + "/run/project.particle.json");
  QCOMPARE(copy.dataset.value("tokenizer_model", ""), fs::absolute(d + "/run/tokenizer.model").string());

  fs::remove_all(d + "/.particle-cache");
  ExplainSession session(loadProject(path), d + "/run/checkpoint.pt");
  QVERIFY(cached(d + "/.particle-cache", "sentencepiece-").empty()); // encoded with the run's model
  QCOMPARE(cached(d + "/.particle-cache", "tokens-").size(), std::size_t(1));
  QCOMPARE(session.info().vocabulary, trainer.data().info.vocabulary);
  // The same encoded test samples, in the order explanations take them (explainOrder).
  const torch::Tensor testX = trainer.data().testX, order = torch::tensor(explainOrder(trainer.data().testY));
  const torch::Tensor explained = session.samples(1000);
  QVERIFY(torch::equal(explained, testX.index_select(0, order.narrow(0, 0, explained.size(0)))));
}

// What the fuzzers found (fuzz/seeds/*/regression-*), each now a quick error naming the file: an
// .npz entry with an unknown method claiming 3 GB (was allocated, then refused), a BMP whose header
// claims 16 million rows in 55 bytes (stb walked them for seconds), a 0×0 BMP (aborted the process).
void TestData::fuzzFindings() {
  const std::string seeds = PARTICLE_SOURCE_DIR "/fuzz/seeds/";
  std::ifstream in(seeds + "npy/regression-huge-entry-unknown-method", std::ios::binary);
  const std::vector<uint8_t> npz((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  QVERIFY(npz.size() > 30);
  try {
    parseNpz(npz, "r.npz", "x");
    QFAIL("a damaged archive was read");
  } catch (const Error &e) {
    QVERIFY2(QString(e.what()).contains("r.npz: x.npy: compression method"), e.what());
  }
  QTemporaryDir dir;
  std::ifstream bmpIn(seeds + "image/regression-bmp-16m-rows", std::ios::binary);
  std::string bmp((std::istreambuf_iterator<char>(bmpIn)), std::istreambuf_iterator<char>());
  writeImage(dir.path().toStdString() + "/a/ok.png", 4, 4, 1, 9);
  writeFile(dir, "a/big.bmp", bmp.substr(1)); // the fuzz input's first byte picks options
  writeImage(dir.path().toStdString() + "/b/ok.png", 4, 4, 1, 90);
  writeImage(dir.path().toStdString() + "/b/ok2.png", 4, 4, 1, 80);
  const QString message = loadError(imageSection(dir.path().toStdString()), dir.path().toStdString());
  QVERIFY2(message.contains("big.bmp: the header claims 3×16711682 pixels, more than its 54 bytes can hold"),
           qPrintable(message));
  // A BMP of 0×0 pixels: stb_image_resize asserted (aborting the process) on it.
  fs::remove(dir.path().toStdString() + "/a/big.bmp");
  std::ifstream emptyIn(seeds + "image/regression-bmp-0x0", std::ios::binary);
  const std::string empty((std::istreambuf_iterator<char>(emptyIn)), std::istreambuf_iterator<char>());
  writeFile(dir, "a/empty.bmp", empty.substr(1));
  const QString second = loadError(imageSection(dir.path().toStdString()), dir.path().toStdString());
  QVERIFY2(second.contains("empty.bmp:") && second.contains("0×0 pixels"), qPrintable(second));
}

// select_classes keeps a subset of any kind's classes, relabelled in the order given, with their
// names; limit then counts the kept samples, and limit_seed draws them without moving the test split.
void TestData::selectClasses() {
  QTemporaryDir dir;
  std::string csv = "x,label\n";
  for (int i = 0; i < 80; ++i)
    csv += std::to_string(i % 4) + "," + std::string(1, static_cast<char>('a' + i % 4)) + "\n";
  writeFile(dir, "c.csv", csv);
  const std::string d = dir.path().toStdString();
  Json section = {{"kind", "csv"}, {"path", "c.csv"}, {"label_column", "label"}, {"select_classes", {"c", 0}}};
  const DataInfo info = probeDataset(parseDatasetSpec(section, d));
  QCOMPARE(info.classes, int64_t(2));
  QCOMPARE(info.classNames, (std::vector<std::string>{"c", "a"}));
  QCOMPARE(info.trainCount, int64_t(-1)); // which kept sample falls in which split is drawn
  const Dataset data = load(section, d);
  QCOMPARE(data.info.classNames, (std::vector<std::string>{"c", "a"}));
  QCOMPARE(data.trainX.size(0) + data.valX.size(0) + data.testX.size(0), int64_t(40));
  // Class "c" (x = 2) is now 0, class "a" (x = 0) is 1; nothing else is left.
  for (auto [x, y] : {std::pair{&data.trainX, &data.trainY}, {&data.valX, &data.valY}, {&data.testX, &data.testY}})
    for (int64_t r = 0; r < x->size(0); ++r)
      QCOMPARE(static_cast<int64_t>((*x)[r][0].item<float>()), (*y)[r].item<int64_t>() == 0 ? int64_t(2) : int64_t(0));

  // limit counts kept samples; limit_seed draws other ones, the validation and test splits stay.
  section["limit"] = 6;
  const Dataset first = load(section, d);
  QCOMPARE(first.trainX.size(0), int64_t(6));
  section["limit_seed"] = 3;
  const Dataset drawn = load(section, d);
  QCOMPARE(drawn.trainX.size(0), int64_t(6));
  QVERIFY(torch::equal(drawn.testX, first.testX));
  QVERIFY(torch::equal(drawn.valY, first.valY));
  section["limit_seed"] = 4;
  const Dataset other = load(section, d);
  QVERIFY(!torch::equal(other.trainX, drawn.trainX) || !torch::equal(other.trainY, drawn.trainY));
  QVERIFY(torch::equal(load(section, d).trainX, other.trainX)); // the same seed, the same draw

  // A text kind learns its vocabulary from the training split: with a drawn limit, from all of it,
  // in the probe as in the load, so that N samples of any seed share one vocabulary.
  std::string texts = "text,label\n";
  for (int i = 0; i < 60; ++i)
    texts += "word" + std::to_string(i) + " word" + std::to_string(i) + " common," + (i % 2 ? "a" : "b") + "\n";
  writeFile(dir, "t.csv", texts);
  Json text = {{"kind", "text"}, {"path", "t.csv"}, {"min_count", 1}, {"limit", 5}, {"limit_seed", 2}};
  const DataInfo drawnInfo = probeDataset(parseDatasetSpec(text, d));
  text.erase("limit");
  text.erase("limit_seed");
  QCOMPARE(drawnInfo.vocabulary, probeDataset(parseDatasetSpec(text, d)).vocabulary);
  text["limit"] = 5;
  text["limit_seed"] = 2;
  QCOMPARE(load(text, d).info.vocabulary, drawnInfo.vocabulary);
  QCOMPARE(drawnInfo.trainCount, int64_t(5));

  // Another kind (image folders, by index): the decoded-image cache holds every class, so a
  // selection never leaves a cache that a load of all classes would read as complete.
  QTemporaryDir images;
  const std::string root = images.path().toStdString();
  writeTree(root, 8);
  Json folder = imageSection(root);
  folder["select_classes"] = {1, 0};
  const Dataset swapped = load(folder, root);
  QCOMPARE(swapped.info.classNames, (std::vector<std::string>{"dog", "cat"}));
  folder.erase("select_classes");
  const Dataset all = load(folder, root);
  QCOMPARE(all.info.classNames, (std::vector<std::string>{"cat", "dog"}));
  QCOMPARE(all.trainX.size(0) + all.valX.size(0) + all.testX.size(0),
           swapped.trainX.size(0) + swapped.valX.size(0) + swapped.testX.size(0));
  QVERIFY(torch::equal(all.testY, 1 - swapped.testY));
}

void TestData::selectClassesErrors() {
  QTemporaryDir dir;
  std::string csv = "x,label\n";
  for (int i = 0; i < 12; ++i)
    csv += std::to_string(i) + "," + std::string(1, static_cast<char>('a' + i % 3)) + "\n";
  writeFile(dir, "c.csv", csv);
  const std::string d = dir.path().toStdString();
  const auto message = [&](const Json &selection) -> QString {
    const Json section = {{"kind", "csv"}, {"path", "c.csv"}, {"label_column", "label"}, {"select_classes", selection}};
    try {
      probeDataset(parseDatasetSpec(section, d));
    } catch (const Error &e) {
      return QString::fromStdString(e.what());
    }
    return {};
  };
  QString m = message({"a", "zebra"});
  QVERIFY2(m.contains("dataset.select_classes") && m.contains("no class \"zebra\"") && m.contains("a, b, c"),
           qPrintable(m));
  m = message({0, 7});
  QVERIFY2(m.contains("dataset.select_classes") && m.contains("class 7 is out of range") && m.contains("3 classes"),
           qPrintable(m));
  m = message({"a", 0});
  QVERIFY2(m.contains("dataset.select_classes") && m.contains("twice"), qPrintable(m));
  m = message({"a"});
  QVERIFY2(m.contains("dataset.select_classes") && m.contains("at least two classes"), qPrintable(m));
  m = message({"a", -1});
  QVERIFY2(m.contains("dataset.select_classes") && m.contains("at least two classes"), qPrintable(m));
  QVERIFY(message({"c", "a"}).isEmpty());
}

QTEST_GUILESS_MAIN(TestData)
#include "tst_data.moc"
