// The audio_folder kind: sound files read with libsndfile, mixed to mono, resampled, cut or padded,
// as log-mel spectrograms or waveforms; the probe's axes, the cache, bad files. Every clip is a
// short tone written here (libsndfile, or raw bytes for the malformed ones).

#include "TestSupport.h"
#include "data/Dataset.h"

#include <QtTest>
#include <set>

#include <sndfile.h>

#include <cmath>
#include <filesystem>
#include <fstream>

using namespace particle;
using namespace particle::test;
namespace fs = std::filesystem;

namespace {

// A sum of sines (Hz, amplitude) of `seconds` at `rate`, one channel.
std::vector<float> tone(const std::vector<std::pair<double, double>> &parts, int rate, double seconds) {
  std::vector<float> out(static_cast<std::size_t>(std::lround(seconds * rate)));
  for (std::size_t i = 0; i < out.size(); ++i)
    for (const auto &[hz, amp] : parts)
      out[i] += static_cast<float>(amp * std::sin(2 * M_PI * hz * static_cast<double>(i) / rate));
  return out;
}

// Interleaved `samples` ([frames × channels]) as a sound file of `format` (SF_FORMAT_WAV | …).
void writeSound(const std::string &path, const std::vector<float> &samples, int rate, int channels = 1,
                int format = SF_FORMAT_WAV | SF_FORMAT_PCM_16) {
  fs::create_directories(fs::path(path).parent_path());
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = channels;
  info.format = format;
  SNDFILE *f = sf_open(path.c_str(), SFM_WRITE, &info);
  QVERIFY2(f, sf_strerror(nullptr));
  sf_writef_float(f, samples.data(), static_cast<sf_count_t>(samples.size()) / channels);
  sf_close(f);
}

void writeBytes(const std::string &path, const std::string &bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string le(uint32_t v, int bytes) {
  std::string s;
  for (int i = 0; i < bytes; ++i)
    s += static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

// A canonical WAV header (PCM when `formatTag` is 1, IEEE float when 3) declaring `dataBytes` of
// samples, followed by `data`.
std::string wavBytes(int rate, int channels, int bits, const std::string &data, uint32_t dataBytes, int formatTag = 1) {
  const int block = channels * bits / 8;
  return "RIFF" + le(36 + dataBytes, 4) + "WAVEfmt " + le(16, 4) + le(static_cast<uint32_t>(formatTag), 2) +
         le(static_cast<uint32_t>(channels), 2) + le(static_cast<uint32_t>(rate), 4) +
         le(static_cast<uint32_t>(rate * block), 4) + le(static_cast<uint32_t>(block), 2) +
         le(static_cast<uint32_t>(bits), 2) + "data" + le(dataBytes, 4) + data;
}

// 16-bit PCM samples of a 1 kHz tone at 16 kHz.
std::string pcm16(std::size_t samples) {
  std::string s;
  const auto t = tone({{1000, 0.5}}, 16000, static_cast<double>(samples) / 16000);
  for (float v : t)
    s += le(static_cast<uint32_t>(static_cast<int16_t>(std::lround(v * 32767))), 2);
  return s;
}

Json section(const std::string &root, Json extra = Json::object()) {
  Json s = {{"kind", "audio_folder"}, {"path", root}, {"seconds", 0.2}};
  for (auto &[k, v] : extra.items())
    s[k] = v;
  return s;
}

Dataset load(const Json &s) {
  return loadDataset(parseDatasetSpec(s, "/"));
}

// The message of the Error(File) that loading throws ("" when none is thrown).
QString loadError(const Json &s) {
  try {
    load(s);
  } catch (const Error &e) {
    if (e.kind() != ErrorKind::File)
      return QString("wrong kind of error: ") + e.what();
    return QString::fromStdString(e.what());
  }
  return {};
}

// train/{low,high}/ of two tones each, and test/ holding `testTones` (Hz, in file-name order) in low/.
void writeTrainTest(const std::string &root, const std::vector<int> &testTones, int rate = 16000) {
  for (int i = 0; i < 2; ++i) {
    writeSound(root + "/train/low/" + std::to_string(i) + ".wav", tone({{300 + 50 * i, 0.5}}, rate, 0.2), rate);
    writeSound(root + "/train/high/" + std::to_string(i) + ".wav", tone({{3000 + 50 * i, 0.5}}, rate, 0.2), rate);
  }
  for (std::size_t i = 0; i < testTones.size(); ++i) {
    const std::string name = "/test/low/" + std::string(i < 10 ? "0" : "") + std::to_string(i) + ".wav";
    writeSound(root + name, tone({{static_cast<double>(testTones[i]), 0.5}}, rate, 0.2), rate);
  }
}

// The frequency (Hz) of the largest bin of the waveform's spectrum, and the largest magnitude
// within `width` Hz of `hz` relative to the peak's.
struct Spectrum {
  torch::Tensor magnitude;
  double binHz;
  double peakHz() const { return magnitude.argmax().item<int64_t>() * binHz; }
  double relativeNear(double hz, double width) const {
    const auto lo = static_cast<int64_t>((hz - width) / binHz), hi = static_cast<int64_t>((hz + width) / binHz);
    return (magnitude.slice(0, lo, hi + 1).max() / magnitude.max()).item<double>();
  }
};
Spectrum spectrumOf(const torch::Tensor &wave, int rate) {
  const auto x = wave.flatten();
  const auto window = torch::hann_window(x.size(0));
  return {torch::abs(torch::fft::rfft(x * window)), static_cast<double>(rate) / static_cast<double>(x.size(0))};
}

} // namespace

class TestAudio : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void probeAndShapes();
  void toneInItsBand();
  void resamplingKeepsTheToneAndDropsAliases();
  void stereoMixedToMono();
  void cutAndPad();
  void skipBad();
  void testSamplesNameTheirFiles();
  void cacheSecondLoadEqualsFirst();
  void malformed_data();
  void malformed();
  void formatsAndKeys();
};

void TestAudio::probeAndShapes() {
  QTemporaryDir dir;
  const std::string root = dir.path().toStdString();
  writeTrainTest(root, {440, 880});
  const Json s = section(root, {{"mels", 32}});
  const DataInfo info = probeDataset(parseDatasetSpec(s, "/"));
  // 0.2 s at 16 kHz: 3200 samples, a 160-sample hop: 1 + 20 frames of a centred STFT.
  QCOMPARE(info.sampleShape, (Shape{1, 32, 21}));
  QCOMPARE(info.classNames, (std::vector<std::string>{"high", "low"}));
  QCOMPARE(info.testCount, int64_t(2));
  QVERIFY(info.ownTestSplit); // the test/ folder is the test split
  QCOMPARE(info.audio.features, std::string("logmel"));
  QCOMPARE(info.audio.sampleRate, int64_t(16000));
  QCOMPARE(info.audio.seconds, 0.2);
  QCOMPARE(info.audio.hopSeconds, 0.01);
  QCOMPARE(info.audio.bandHz.size(), std::size_t(32));
  QVERIFY(info.audio.bandHz.front() > 0 && info.audio.bandHz.back() < 8000);
  QVERIFY(std::is_sorted(info.audio.bandHz.begin(), info.audio.bandHz.end()));
  const Dataset data = load(s);
  QCOMPARE(data.testX.sizes().vec(), (std::vector<int64_t>{2, 1, 32, 21}));
  QCOMPARE(data.trainX.size(0) + data.valX.size(0), int64_t(4));
  QCOMPARE(data.info.sampleShape, info.sampleShape);
  QCOMPARE(data.info.audio.bandHz, info.audio.bandHz);
  // Each clip standardised: mean 0, standard deviation 1.
  QVERIFY(std::abs(data.testX[0].mean().item<double>()) < 1e-4);
  QVERIFY(std::abs(data.testX[0].std(false).item<double>() - 1) < 1e-3);

  const Json w = section(root, {{"features", "waveform"}, {"sample_rate", 8000}});
  const DataInfo winfo = probeDataset(parseDatasetSpec(w, "/"));
  QCOMPARE(winfo.sampleShape, (Shape{1, 1600}));
  QCOMPARE(winfo.audio.features, std::string("waveform"));
  QVERIFY(winfo.audio.bandHz.empty());
  QCOMPARE(load(w).testX.sizes().vec(), (std::vector<int64_t>{2, 1, 1600}));
}

void TestAudio::toneInItsBand() {
  QTemporaryDir dir;
  const std::string root = dir.path().toStdString();
  const std::vector<int> tones = {250, 700, 1500, 3100, 6000};
  writeTrainTest(root, tones);
  const Dataset data = load(section(root));
  const auto &bands = data.info.audio.bandHz;
  for (std::size_t i = 0; i < tones.size(); ++i) {
    const int64_t loudest = data.testX[static_cast<int64_t>(i)][0].mean(1).argmax().item<int64_t>();
    const auto nearest =
        std::min_element(bands.begin(), bands.end(),
                         [&](double a, double b) { return std::abs(a - tones[i]) < std::abs(b - tones[i]); }) -
        bands.begin();
    QVERIFY2(loudest == nearest, qPrintable(QString("%1 Hz: loudest band %2 (%3 Hz), nearest %4 (%5 Hz)")
                                                .arg(tones[i])
                                                .arg(loudest)
                                                .arg(bands[static_cast<std::size_t>(loudest)])
                                                .arg(nearest)
                                                .arg(bands[static_cast<std::size_t>(nearest)])));
  }
}

void TestAudio::resamplingKeepsTheToneAndDropsAliases() {
  QTemporaryDir dir;
  const std::string root = dir.path().toStdString();
  writeTrainTest(root, {}, 44100);
  // 1 kHz, and 12 kHz above the new Nyquist frequency (8 kHz): resampling by picking or linearly
  // interpolating samples folds it to 16 − 12 = 4 kHz. From 44.1 kHz (160 phases, a filter each)
  // and from 192,001 Hz (16,000 phases: each output's filter made as it goes).
  const int rates[] = {44100, 192001};
  for (int i = 0; i < 2; ++i)
    writeSound(root + "/test/low/" + std::to_string(i) + ".wav", tone({{1000, 0.4}, {12000, 0.4}}, rates[i], 0.5),
               rates[i], 1, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  const Dataset data = load(section(root, {{"features", "waveform"}, {"seconds", 0.5}}));
  for (int i = 0; i < 2; ++i) {
    const Spectrum s = spectrumOf(data.testX[i], 16000);
    QVERIFY2(std::abs(s.peakHz() - 1000) <= s.binHz, qPrintable(QString::number(s.peakHz())));
    const double alias = s.relativeNear(4000, 100);
    QVERIFY2(alias < 1e-3,
             qPrintable(QString("from %1 Hz: the 4 kHz alias at %2 of the tone").arg(rates[i]).arg(alias)));
    // The tone keeps its amplitude (0.4) through the passband.
    const double peak = data.testX[i].slice(1, 2000, 6000).abs().max().item<double>();
    QVERIFY2(std::abs(peak - 0.4) < 0.01, qPrintable(QString::number(peak)));
  }
}

void TestAudio::stereoMixedToMono() {
  QTemporaryDir dir;
  const std::string root = dir.path().toStdString();
  writeTrainTest(root, {});
  // Left a 500 Hz tone, right silence: the mono clip is half the tone.
  const auto left = tone({{500, 0.8}}, 16000, 0.2);
  std::vector<float> stereo;
  for (float v : left) {
    stereo.push_back(v);
    stereo.push_back(0.0F);
  }
  writeSound(root + "/test/low/stereo.wav", stereo, 16000, 2, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  const Dataset data = load(section(root, {{"features", "waveform"}}));
  const auto expected = torch::tensor(left) * 0.5;
  QVERIFY(torch::allclose(data.testX[0][0], expected, 0, 1e-6));
}

void TestAudio::cutAndPad() {
  QTemporaryDir dir;
  const std::string root = dir.path().toStdString();
  writeTrainTest(root, {});
  const auto clip = tone({{700, 0.5}}, 16000, 0.2);
  writeSound(root + "/test/low/clip.wav", clip, 16000, 1, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  const auto whole = torch::tensor(clip);
  // Padded with silence at the end.
  const Dataset longer = load(section(root, {{"features", "waveform"}, {"seconds", 0.5}}));
  QCOMPARE(longer.testX.size(2), int64_t(8000));
  QVERIFY(torch::equal(longer.testX[0][0].slice(0, 0, 3200), whole));
  QCOMPARE(longer.testX[0][0].slice(0, 3200).abs().max().item<float>(), 0.0F);
  // Cut: the first 0.1 s.
  const Dataset shorter = load(section(root, {{"features", "waveform"}, {"seconds", 0.1}}));
  QCOMPARE(shorter.testX.size(2), int64_t(1600));
  QVERIFY(torch::equal(shorter.testX[0][0], whole.slice(0, 0, 1600)));
}

void TestAudio::skipBad() {
  QTemporaryDir dir;
  const std::string root = dir.path().toStdString();
  writeTrainTest(root, {500});
  writeSound(root + "/train/low/2.wav", tone({{400, 0.5}}, 16000, 0.2), 16000);
  writeBytes(root + "/train/low/broken.wav", "this is not a sound file");
  const QString message = loadError(section(root));
  QVERIFY2(message.contains("train/low/broken.wav: libsndfile cannot read it (") &&
               message.contains("dataset.skip_bad"),
           qPrintable(message));
  const Dataset data = load(section(root, {{"skip_bad", true}}));
  QCOMPARE(data.trainX.size(0) + data.valX.size(0), int64_t(5));
  QVERIFY2(QString::fromStdString(data.notes).contains("1 unreadable audio file(s) skipped, the first") &&
               QString::fromStdString(data.notes).contains("broken.wav"),
           data.notes.c_str());
  // The skipped file's name travels with the cache.
  const Dataset again = load(section(root, {{"skip_bad", true}}));
  QCOMPARE(again.notes, data.notes);
  QVERIFY(torch::equal(again.trainX, data.trainX));
}

// Each test sample's file, relative to the data folder, in the order of the test split: from test/
// (a skipped file left out), from the training files when the test split is carved from them, and
// kept with the samples through select_classes. The file's class folder is the sample's class.
void TestAudio::testSamplesNameTheirFiles() {
  QTemporaryDir dir;
  const std::string root = dir.path().toStdString();
  writeTrainTest(root, {500, 600, 700});
  writeSound(root + "/test/high/00.wav", tone({{3000, 0.5}}, 16000, 0.2), 16000);
  writeBytes(root + "/test/low/01-broken.wav", "not a sound");
  for (const char *clip : {"/train/mid/0.wav", "/train/mid/1.wav", "/test/mid/00.wav"})
    writeSound(root + clip, tone({{1200, 0.5}}, 16000, 0.2), 16000);
  auto classOf = [](const Dataset &d, int64_t i) {
    return d.info.classNames[static_cast<std::size_t>(d.testY[i].item<int64_t>())];
  };
  auto folderOf = [](const std::string &name) { return fs::path(name).parent_path().filename().string(); };
  {
    const Dataset d = load(section(root, {{"skip_bad", true}}));
    QCOMPARE(d.testNames, (std::vector<std::string>{"test/high/00.wav", "test/low/00.wav", "test/low/01.wav",
                                                    "test/low/02.wav", "test/mid/00.wav"}));
    for (int64_t i = 0; i < d.testX.size(0); ++i)
      QCOMPARE(folderOf(d.testNames[static_cast<std::size_t>(i)]), classOf(d, i));
  }
  {
    // Two of the three classes kept, in another order: only their samples, each with its name.
    const Dataset d = load(section(root, {{"skip_bad", true}, {"select_classes", Json::array({"low", "high"})}}));
    QCOMPARE(d.info.classNames, (std::vector<std::string>{"low", "high"}));
    QCOMPARE(d.testNames,
             (std::vector<std::string>{"test/high/00.wav", "test/low/00.wav", "test/low/01.wav", "test/low/02.wav"}));
    for (int64_t i = 0; i < d.testX.size(0); ++i)
      QCOMPARE(folderOf(d.testNames[static_cast<std::size_t>(i)]), classOf(d, i));
  }
  {
    // No test/ folder: the test split drawn from the class folders, each sample still named.
    QTemporaryDir flat;
    const std::string r = flat.path().toStdString();
    for (int i = 0; i < 6; ++i) {
      writeSound(r + "/low/" + std::to_string(i) + ".wav", tone({{300 + 20 * i, 0.5}}, 16000, 0.2), 16000);
      writeSound(r + "/high/" + std::to_string(i) + ".wav", tone({{3000 + 20 * i, 0.5}}, 16000, 0.2), 16000);
    }
    const Dataset d = load(section(r, {{"test_fraction", 0.5}}));
    QCOMPARE(static_cast<int64_t>(d.testNames.size()), d.testX.size(0));
    QVERIFY(d.testX.size(0) >= 5);
    std::set<std::string> distinct(d.testNames.begin(), d.testNames.end());
    QCOMPARE(distinct.size(), d.testNames.size());
    for (int64_t i = 0; i < d.testX.size(0); ++i) {
      const std::string &name = d.testNames[static_cast<std::size_t>(i)];
      QCOMPARE(folderOf(name), classOf(d, i));
      // The same clip: its features are those of the file loaded alone.
      QTemporaryDir one;
      const std::string o = one.path().toStdString();
      fs::create_directories(o + "/a");
      fs::create_directories(o + "/b");
      fs::copy_file(r + "/" + name, o + "/a/x.wav");
      fs::copy_file(r + "/" + name, o + "/b/x.wav");
      const Dataset alone = load(section(o, {{"test_fraction", 0.0}}));
      // (batches of other sizes: the STFT may differ in the last bits)
      const double diff = (alone.trainX[0] - d.testX[i]).abs().max().item<double>();
      QVERIFY2(diff < 1e-3, (name + ": largest difference " + std::to_string(diff)).c_str());
    }
  }
}

void TestAudio::cacheSecondLoadEqualsFirst() {
  QTemporaryDir dir;
  const std::string root = dir.path().toStdString();
  writeTrainTest(root, {500, 2500});
  const Json s = section(root);
  const Dataset first = load(s);
  QVERIFY(fs::is_directory(root + "/.particle-cache"));
  // The test clips' bytes replaced, their size and time kept: only the cache can give the first
  // load's features back.
  const std::string clip = root + "/test/low/00.wav";
  const auto size = fs::file_size(clip);
  const auto time = fs::last_write_time(clip);
  writeBytes(clip, std::string(size, 'x'));
  fs::last_write_time(clip, time);
  const Dataset second = load(s);
  QVERIFY(torch::equal(second.testX, first.testX));
  QVERIFY(torch::equal(second.trainX, first.trainX));
  QVERIFY(torch::equal(second.trainY, first.trainY));
  // A cache cut short, or one of another kind (an image cache's magic), is not trusted either.
  std::vector<std::pair<std::string, std::string>> caches;
  for (const auto &e : fs::directory_iterator(root + "/.particle-cache")) {
    std::ifstream in(e.path(), std::ios::binary);
    caches.emplace_back(e.path().string(), std::string(std::istreambuf_iterator<char>(in), {}));
  }
  QCOMPARE(caches.size(), std::size_t(2)); // the training and the test clips'
  for (const char *damage : {"cut short", "another kind"}) {
    for (const auto &[file, bytes] : caches)
      writeBytes(file,
                 damage == std::string("cut short") ? bytes.substr(0, bytes.size() / 2) : "PSIMAGE1" + bytes.substr(8));
    QVERIFY2(loadError(s).contains("00.wav: libsndfile cannot read it"), damage);
    for (const auto &[file, bytes] : caches)
      writeBytes(file, bytes);
    QVERIFY(torch::equal(load(s).testX, first.testX));
  }
  // Other keys are another cache: the damaged clip is read, and named.
  QVERIFY2(loadError(section(root, {{"mels", 40}})).contains("00.wav: libsndfile cannot read it"),
           qPrintable(loadError(section(root, {{"mels", 40}}))));
}

void TestAudio::malformed_data() {
  QTest::addColumn<QByteArray>("bytes");
  QTest::addColumn<QString>("expected"); // a fragment of the error; empty: it reads
  const std::string ten = pcm16(10), full = pcm16(3200);
  auto row = [](const char *name, const std::string &bytes, const char *expected) {
    QTest::newRow(name) << QByteArray(bytes.data(), static_cast<int>(bytes.size())) << QString(expected);
  };
  row("canonical 16-bit", wavBytes(16000, 1, 16, full, 6400), "");
  row("truncated: the header promises 6400 bytes, 3000 follow", wavBytes(16000, 1, 16, full.substr(0, 3000), 6400), "");
  row("huge declared size", wavBytes(16000, 1, 16, full, 0xfffffff0U), "");
  row("very short clip (10 samples)", wavBytes(16000, 1, 16, ten, 20), "");
  row("zero-length file", "", "libsndfile cannot read it");
  row("header only, no samples", wavBytes(16000, 1, 16, "", 0), "it holds no samples");
  row("text named .wav", "hello, this is text\n", "libsndfile cannot read it");
  row("wrong header (WAVX)", "RIFF" + le(36 + 6400, 4) + "WAVX" + wavBytes(16000, 1, 16, full, 6400).substr(12),
      "libsndfile cannot read it");
  row("cut inside the header", wavBytes(16000, 1, 16, full, 6400).substr(0, 30), "libsndfile cannot read it");
  row("sample rate 0", wavBytes(0, 1, 16, full, 6400), "libsndfile cannot read it");
  row("sample rate 10 Hz", wavBytes(10, 1, 16, full, 6400), "sample rate of 10 Hz");
  row("65535 channels", wavBytes(16000, 65535, 16, full, 6400), "libsndfile cannot read it");
  std::string nan;
  for (int i = 0; i < 100; ++i)
    nan += le(0x7fc00000U, 4);
  row("float NaN samples", wavBytes(16000, 1, 32, nan, 400, 3), "sample 0 is not a finite number");
}

void TestAudio::malformed() {
  QFETCH(QByteArray, bytes);
  QFETCH(QString, expected);
  QTemporaryDir dir;
  const std::string root = dir.path().toStdString();
  writeTrainTest(root, {});
  writeBytes(root + "/test/low/clip.wav", bytes.toStdString());
  const QString message = loadError(section(root));
  if (expected.isEmpty())
    QVERIFY2(message.isEmpty(), qPrintable(message));
  else
    QVERIFY2(message.contains("test/low/clip.wav: ") && message.contains(expected), qPrintable(message));
}

// 8-, 24-bit and float files read as the same tone as 16-bit ones (their own quantisation apart);
// FLAC and OGG through the same path.
void TestAudio::formatsAndKeys() {
  QTemporaryDir dir;
  const std::string root = dir.path().toStdString();
  writeTrainTest(root, {});
  const auto clip = tone({{700, 0.5}}, 16000, 0.2);
  const std::pair<const char *, int> formats[] = {{"a.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_U8},
                                                  {"b.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_24},
                                                  {"c.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT},
                                                  {"d.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16},
                                                  {"e.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS}};
  for (const auto &[name, format] : formats)
    writeSound(root + "/test/low/" + name, clip, 16000, 1, format);
  const Dataset data = load(section(root, {{"features", "waveform"}}));
  QCOMPARE(data.testX.size(0), int64_t(5));
  const double tolerance[] = {1.0 / 64, 1e-5, 1e-7, 1e-4, 0.05};
  for (int i = 0; i < 5; ++i) {
    const double error = (data.testX[i][0] - torch::tensor(clip)).abs().max().item<double>();
    QVERIFY2(error < tolerance[i], qPrintable(QString("%1: %2").arg(formats[i].first).arg(error)));
  }
  // Keys that cannot make a spectrogram are named.
  auto invalid = [&](const Json &extra) -> QString {
    try {
      parseDatasetSpec(section(root, extra), "/");
    } catch (const Error &e) {
      return e.what();
    }
    return {};
  };
  QVERIFY2(invalid({{"window_ms", 500}}).contains("dataset.window_ms"), qPrintable(invalid({{"window_ms", 500}})));
  QVERIFY2(invalid({{"mels", 200}}).contains("dataset.mels") && invalid({{"mels", 200}}).contains("too many"),
           qPrintable(invalid({{"mels", 200}})));
  QVERIFY(invalid({{"features", "waveform"}, {"window_ms", 500}}).isEmpty());
}

QTEST_GUILESS_MAIN(TestAudio)
#include "tst_audio.moc"
