// Kind "audio_folder": a folder with one sub-folder of sound files per class (WAV, FLAC, OGG), or
// train/ and test/ folders of that shape (the tree of data/Images.h). Every file is read with
// libsndfile, mixed to mono, resampled to `sample_rate` by a windowed-sinc filter, cut or padded
// to `seconds`, and becomes either its log-mel spectrogram [1, mels, frames] (LibTorch's STFT, a
// Hann window, an HTK mel filterbank) or its waveform [1, samples]. Decoded on every core and
// cached beside the data, like image folders.

#include "data/Cache.h"
#include "data/Dataset.h"
#include "data/Images.h"

#include <sndfile.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <memory>
#include <mutex>
#include <numeric>

namespace particle {

namespace audiofolder {

const std::vector<std::string> kExtensions = {".wav", ".flac", ".ogg"};
const char *const kWhat = "WAV, FLAC or OGG files";
// Added to the mel power before the log: about 120 dB below a full-scale tone's power in a 25 ms
// window at 16 kHz, so silence (and the padding) is a floor, not -infinity.
constexpr double kLogFloor = 1e-6;
// Sample rates a file may declare: beyond these a header is damaged, and resampling from it would
// read (or allocate) absurd amounts.
constexpr int kMinFileRate = 100, kMaxFileRate = 1536000;

struct Options {
  int64_t sampleRate = 16000;
  double seconds = 1.0;
  std::string features = "logmel";
  int64_t mels = 64;
  double windowMs = 25, hopMs = 10;
  bool skipBad = false;

  bool logmel() const { return features == "logmel"; }
  int64_t samples() const { return std::max<int64_t>(1, std::llround(seconds * static_cast<double>(sampleRate))); }
  int64_t window() const {
    return std::max<int64_t>(2, std::llround(windowMs * static_cast<double>(sampleRate) / 1000.0));
  }
  int64_t hop() const { return std::max<int64_t>(1, std::llround(hopMs * static_cast<double>(sampleRate) / 1000.0)); }
  // The FFT length: the window's length rounded up to a power of two.
  int64_t fft() const {
    int64_t n = 2;
    while (n < window())
      n *= 2;
    return n;
  }
  // Frames of a centred STFT (torch::stft with center=true pads fft/2 on both sides).
  int64_t frames() const { return 1 + samples() / hop(); }
  int64_t featureSize() const { return logmel() ? mels * frames() : samples(); }
};

Options optionsOf(const DatasetSpec &spec) {
  Options o;
  o.sampleRate = spec.integer("sample_rate");
  o.seconds = spec.number("seconds");
  o.features = spec.text("features");
  o.mels = spec.integer("mels");
  o.windowMs = spec.number("window_ms");
  o.hopMs = spec.number("hop_ms");
  o.skipBad = spec.flag("skip_bad");
  return o;
}

// --- the mel filterbank ----------------------------------------------------------------------------
// HTK's mel scale (mel = 2595 log10(1 + f / 700), torchaudio's default), triangles of peak 1 from
// 0 Hz to the Nyquist frequency, `mels` + 2 points equally spaced in mel.

double hzToMel(double hz) {
  return 2595.0 * std::log10(1.0 + hz / 700.0);
}
double melToHz(double mel) {
  return 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0);
}

// The mels + 2 edge frequencies: band m rises from edge m, peaks at edge m + 1, falls to edge m + 2.
std::vector<double> melEdges(const Options &o) {
  const double top = hzToMel(static_cast<double>(o.sampleRate) / 2.0);
  std::vector<double> edges(static_cast<std::size_t>(o.mels + 2));
  for (std::size_t i = 0; i < edges.size(); ++i)
    edges[i] = melToHz(top * static_cast<double>(i) / static_cast<double>(o.mels + 1));
  return edges;
}

std::vector<double> bandCentres(const Options &o) {
  const auto edges = melEdges(o);
  return {edges.begin() + 1, edges.end() - 1};
}

// Weights [mels, fft / 2 + 1], row-major.
std::vector<float> melFilterbank(const Options &o) {
  const auto edges = melEdges(o);
  const int64_t bins = o.fft() / 2 + 1;
  const double binHz = static_cast<double>(o.sampleRate) / static_cast<double>(o.fft());
  std::vector<float> w(static_cast<std::size_t>(o.mels * bins), 0.0F);
  for (int64_t m = 0; m < o.mels; ++m) {
    const double lo = edges[static_cast<std::size_t>(m)], mid = edges[static_cast<std::size_t>(m + 1)],
                 hi = edges[static_cast<std::size_t>(m + 2)];
    for (int64_t b = 0; b < bins; ++b) {
      const double f = static_cast<double>(b) * binHz;
      const double v = std::min((f - lo) / (mid - lo), (hi - f) / (hi - mid));
      if (v > 0)
        w[static_cast<std::size_t>(m * bins + b)] = static_cast<float>(v);
    }
  }
  return w;
}

// --- resampling ----------------------------------------------------------------------------------
// A windowed sinc (J. O. Smith's bandlimited interpolation): every output sample is the input
// convolved with a lowpass at `kRolloff` of the lower Nyquist frequency, the sinc truncated to
// kZeros zero crossings each side by a Kaiser window (beta 8.6: about 80 dB stopband), read from a
// table with linear interpolation. Linear interpolation of the samples themselves would fold
// everything above the new Nyquist frequency back into the band.

constexpr int kZeros = 24, kTableSteps = 512;
constexpr double kRolloff = 0.9, kKaiserBeta = 8.6;

double besselI0(double x) {
  double sum = 1, term = 1;
  for (int k = 1; k < 64 && term > 1e-12 * sum; ++k) {
    term *= (x / (2.0 * k)) * (x / (2.0 * k));
    sum += term;
  }
  return sum;
}

// sinc(x) · kaiser(x / kZeros) for x = i / kTableSteps, i = 0 … kZeros · kTableSteps (+1 for the
// interpolation's last step).
const std::vector<float> &sincTable() {
  static const std::vector<float> table = [] {
    std::vector<float> t(kZeros * kTableSteps + 2, 0.0F);
    const double norm = besselI0(kKaiserBeta);
    for (int i = 0; i <= kZeros * kTableSteps; ++i) {
      const double x = static_cast<double>(i) / kTableSteps, u = x / kZeros;
      const double sinc = i == 0 ? 1.0 : std::sin(M_PI * x) / (M_PI * x);
      t[static_cast<std::size_t>(i)] =
          static_cast<float>(sinc * besselI0(kKaiserBeta * std::sqrt(std::max(0.0, 1.0 - u * u))) / norm);
    }
    return t;
  }();
  return table;
}

// The windowed sinc `x` zero crossings from its centre (0 beyond kZeros), from the table.
double kernelAt(double x) {
  const auto &table = sincTable();
  const double at = std::abs(x) * kTableSteps;
  const auto i = static_cast<std::size_t>(at);
  if (i >= static_cast<std::size_t>(kZeros * kTableSteps))
    return 0;
  const double frac = at - static_cast<double>(i);
  return table[i] + frac * (table[i + 1] - table[i]);
}

// `count` samples at rate `to` of the signal `in` sampled at rate `from` (zero outside it).
std::vector<float> resample(const std::vector<float> &in, int64_t from, int64_t to, int64_t count) {
  // Output sample n sits at input time t = n · down / up; its filter depends on t's fraction only.
  const int64_t g = std::gcd(from, to), up = to / g, down = from / g;
  const double cutoff = kRolloff * std::min(1.0, static_cast<double>(up) / static_cast<double>(down));
  const int64_t half = static_cast<int64_t>(std::ceil(kZeros / cutoff)) + 1, taps = 2 * half + 1;
  // The filter for fraction `frac`: the weights of inputs ⌊t⌋ − half … ⌊t⌋ + half.
  auto filter = [&](int64_t phase, float *w) {
    const double frac = static_cast<double>(phase * down % up) / static_cast<double>(up);
    for (int64_t j = 0; j < taps; ++j)
      w[j] = static_cast<float>(kernelAt((frac - static_cast<double>(j - half)) * cutoff) * cutoff);
  };
  // Common rate pairs have few phases (160 from 44.1 to 16 kHz): one filter each, made once. An
  // odd pair (thousands of phases × a long filter) makes each output's filter as it goes.
  const bool perPhase = up * taps <= (int64_t(1) << 22);
  std::vector<float> filters(static_cast<std::size_t>(perPhase ? up * taps : taps));
  for (int64_t p = 0; perPhase && p < up; ++p)
    filter(p, filters.data() + p * taps);
  const auto size = static_cast<int64_t>(in.size());
  std::vector<float> out(static_cast<std::size_t>(count), 0.0F);
  for (int64_t n = 0; n < count; ++n) {
    const int64_t phase = n % up, start = n / up * down + phase * down / up - half;
    const float *w = filters.data() + (perPhase ? phase * taps : 0);
    if (!perPhase)
      filter(phase, filters.data());
    const int64_t lo = std::max<int64_t>(0, -start), hi = std::min<int64_t>(taps, size - start);
    const float *x = in.data();
    float sum[4] = {0, 0, 0, 0}; // four partial sums: independent additions the CPU overlaps
    int64_t j = lo;
    for (; j + 4 <= hi; j += 4)
      for (int k = 0; k < 4; ++k)
        sum[k] += w[j + k] * x[start + j + k];
    for (; j < hi; ++j)
      sum[0] += w[j] * x[start + j];
    out[static_cast<std::size_t>(n)] = (sum[0] + sum[1]) + (sum[2] + sum[3]);
  }
  return out;
}

// --- decoding ------------------------------------------------------------------------------------

// Fills `dest` with the clip's o.samples() mono samples at o.sampleRate (cut, or padded with
// silence at the end); the reason it could not, else empty. Reads only as much of the file as the
// clip needs, whatever its header declares.
std::string decodeOne(const std::string &file, const Options &o, float *dest) {
  SF_INFO info{};
  SNDFILE *sf = nullptr;
  {
    // sf_open reports its failures through one global error code.
    static std::mutex openLock;
    std::lock_guard<std::mutex> hold(openLock);
    sf = sf_open(file.c_str(), SFM_READ, &info);
    if (!sf)
      return std::string("libsndfile cannot read it (") + sf_strerror(nullptr) + ")";
  }
  std::unique_ptr<SNDFILE, int (*)(SNDFILE *)> closer(sf, sf_close);
  if (info.channels < 1 || info.channels > 1024)
    return "the header declares " + std::to_string(info.channels) + " channels";
  if (info.samplerate < kMinFileRate || info.samplerate > kMaxFileRate)
    return "the header declares a sample rate of " + std::to_string(info.samplerate) + " Hz (expected " +
           std::to_string(kMinFileRate) + " to " + std::to_string(kMaxFileRate) + ")";
  const int64_t rate = info.samplerate;
  // The input the clip needs: its length at the file's rate plus the resampler's reach.
  const auto needed = static_cast<int64_t>(std::ceil(static_cast<double>(o.samples()) * static_cast<double>(rate) /
                                                     static_cast<double>(o.sampleRate))) +
                      (rate == o.sampleRate ? 0 : 4 * kZeros * std::max<int64_t>(1, rate / o.sampleRate) + 4);
  std::vector<float> mono;
  mono.reserve(static_cast<std::size_t>(std::min<int64_t>(needed, 1 << 22)));
  constexpr sf_count_t kBlock = 4096;
  std::vector<float> block(static_cast<std::size_t>(kBlock * info.channels));
  while (static_cast<int64_t>(mono.size()) < needed) {
    const sf_count_t want = std::min<sf_count_t>(kBlock, needed - static_cast<int64_t>(mono.size()));
    const sf_count_t got = sf_readf_float(sf, block.data(), want);
    if (got <= 0)
      break;
    for (sf_count_t f = 0; f < got; ++f) {
      double sum = 0;
      for (int c = 0; c < info.channels; ++c)
        sum += block[static_cast<std::size_t>(f * info.channels + c)];
      const double v = sum / info.channels;
      if (!std::isfinite(v))
        return "sample " + std::to_string(mono.size()) + " is not a finite number";
      mono.push_back(static_cast<float>(v));
    }
  }
  if (sf_error(sf) != SF_ERR_NO_ERROR)
    return std::string("libsndfile cannot read its samples (") + sf_strerror(sf) + ")";
  if (mono.empty())
    return "it holds no samples";
  std::fill(dest, dest + o.samples(), 0.0F);
  if (rate == o.sampleRate) {
    std::copy_n(mono.begin(), std::min<int64_t>(o.samples(), static_cast<int64_t>(mono.size())), dest);
  } else {
    // Only as many output samples as the input covers; the rest is padding.
    const auto covered = std::min<int64_t>(
        o.samples(), static_cast<int64_t>(std::ceil(static_cast<double>(mono.size()) *
                                                    static_cast<double>(o.sampleRate) / static_cast<double>(rate))));
    const auto out = resample(mono, rate, o.sampleRate, covered);
    std::copy(out.begin(), out.end(), dest);
  }
  return {};
}

// Log-mel spectrograms [B, mels * frames] of `waves` [B, samples], each standardised by its own
// mean and standard deviation.
torch::Tensor logmel(const torch::Tensor &waves, const Options &o, const torch::Tensor &filterbank) {
  const auto window = torch::hann_window(o.window(), torch::kFloat);
  const auto spectrum = torch::stft(waves, o.fft(), o.hop(), o.window(), window, /*center=*/true, "reflect",
                                    /*normalized=*/false, /*onesided=*/true, /*return_complex=*/true);
  const auto power = torch::abs(spectrum).square(); // [B, bins, frames]
  // One matrix product [B · frames, bins] × [bins, mels]: the broadcast filterbank × power took
  // ten times as long on two threads of a busy machine.
  auto mel = torch::matmul(power.transpose(1, 2), filterbank.t()).transpose(1, 2); // [B, mels, frames]
  mel = mel.add_(kLogFloor).log_();
  mel = mel.flatten(1);
  const auto mean = mel.mean(1, true), sd = mel.std(1, /*unbiased=*/false, true).clamp_min(1e-5);
  return mel.sub_(mean).div_(sd);
}

struct Decoded {
  std::vector<float> features; // [count, featureSize]
  std::vector<int64_t> labels;
  std::vector<std::string> skipped;
};

// The cache file's name: every file's path, size and modification time, the labels and the options.
std::string cacheKey(const ImageList &list, const Options &o) {
  uint64_t h = fnv(kFnvStart, o.features);
  const double opts[] = {static_cast<double>(o.sampleRate),
                         o.seconds,
                         static_cast<double>(o.mels),
                         o.windowMs,
                         o.hopMs,
                         o.skipBad ? 1.0 : 0.0};
  h = fnv(h, opts, sizeof opts);
  for (std::size_t i = 0; i < list.files.size(); ++i) {
    h = fnv(h, fileStamp(list.files[i]));
    h = fnv(h, &list.labels[i], sizeof list.labels[i]);
  }
  return "audio-" + hex16(h) + ".f32";
}

// Every file of `list` as features (or the cache of them). Files are decoded in chunks, on every
// core, and each chunk's spectrograms computed at once, so memory holds a chunk of waveforms.
Decoded decodeAll(const std::string &root, const ImageList &list, const Options &o, const std::atomic<bool> *cancel) {
  Decoded out;
  const std::string key = cacheKey(list, o);
  const auto folders = cacheFolders(root, "audio");
  const SampleCacheFormat format{{'P', 'S', 'A', 'U', 'D', 'I', 'O', '1'}, {o.featureSize()}, sizeof(float)};
  const auto featuresOut = [&out](std::size_t bytes) {
    out.features.resize(bytes / sizeof(float));
    return static_cast<void *>(out.features.data());
  };
  for (const auto &folder : folders)
    if (readSampleCache(folder / key, format, list.files.size(), out.labels, out.skipped, featuresOut))
      return out;
  out.features.clear(); // a cache that failed halfway may have filled some

  const std::size_t n = list.files.size(), samples = static_cast<std::size_t>(o.samples());
  const auto featureSize = static_cast<std::size_t>(o.featureSize());
  const torch::Tensor filterbank =
      o.logmel() ? torch::tensor(melFilterbank(o)).view({o.mels, o.fft() / 2 + 1}) : torch::Tensor();
  // At most 256 clips, and at most 64 Mi samples (256 MiB), in memory at once.
  const std::size_t chunk = std::clamp<std::size_t>((std::size_t(1) << 26) / samples, 1, 256);
  std::vector<float> waves(std::min(n, chunk) * samples);
  for (std::size_t start = 0; start < n; start += chunk) {
    const std::size_t count = std::min(chunk, n - start);
    const auto problems = decodeEach(count, 0, cancel, [&](std::size_t i) {
      return decodeOne(list.files[start + i], o, waves.data() + i * samples);
    });
    std::vector<int64_t> good;
    for (std::size_t i = 0; i < count; ++i) {
      const std::string &file = list.files[start + i];
      if (problems[i].empty()) {
        good.push_back(static_cast<int64_t>(i));
        continue;
      }
      if (!o.skipBad)
        throw Error(ErrorKind::File,
                    file + ": " + problems[i] + " (set dataset.skip_bad to true to skip unreadable audio files)");
      out.skipped.push_back(file);
    }
    if (good.empty())
      continue;
    auto batch = torch::from_blob(waves.data(), {static_cast<int64_t>(count), o.samples()}, torch::kFloat)
                     .index_select(0, torch::tensor(good, torch::kLong));
    const torch::Tensor features = o.logmel() ? logmel(batch, o, filterbank) : batch;
    const auto *p = features.contiguous().data_ptr<float>();
    out.features.insert(out.features.end(), p, p + good.size() * featureSize);
    for (int64_t i : good)
      out.labels.push_back(list.labels[start + static_cast<std::size_t>(i)]);
  }
  for (const auto &folder : folders)
    if (writeSampleCache(folder / key, format, out.labels, out.skipped, out.features.data()))
      break;
  return out;
}

// --- the kind --------------------------------------------------------------------------------------

DataInfo infoOf(const DatasetSpec &spec, const ImageTree &tree, const Options &o) {
  DataInfo info;
  info.sampleShape = o.logmel() ? Shape{1, o.mels, o.frames()} : Shape{1, o.samples()};
  info.classNames = tree.classes;
  info.classes = static_cast<int64_t>(tree.classes.size());
  setSplitCounts(info, spec, static_cast<int64_t>(tree.train.files.size()), spec.number("test_fraction"),
                 tree.ownTest ? static_cast<int64_t>(tree.test.files.size()) : -1);
  info.ownTestSplit = tree.ownTest;
  info.audio.features = o.features;
  info.audio.sampleRate = o.sampleRate;
  info.audio.seconds = static_cast<double>(o.samples()) / static_cast<double>(o.sampleRate);
  if (o.logmel()) {
    info.audio.hopSeconds = static_cast<double>(o.hop()) / static_cast<double>(o.sampleRate);
    info.audio.bandHz = bandCentres(o);
  }
  return info;
}

DataInfo probe(const DatasetSpec &spec) {
  return infoOf(spec, scanImageTree(spec.text("path"), kExtensions, kWhat), optionsOf(spec));
}

torch::Tensor tensorOf(const Decoded &d, const Options &o) {
  const auto n = static_cast<int64_t>(d.labels.size());
  const Shape shape = o.logmel() ? Shape{n, 1, o.mels, o.frames()} : Shape{n, 1, o.samples()};
  return torch::from_blob(const_cast<float *>(d.features.data()), shape, torch::kFloat).clone();
}

void load(const DatasetSpec &spec, Dataset &d) {
  const ImageTree tree = scanImageTree(spec.text("path"), kExtensions, kWhat);
  const Options o = optionsOf(spec);
  d.info = infoOf(spec, tree, o);
  std::vector<std::string> skipped;
  {
    const Decoded train = decodeAll(tree.root, tree.train, o, spec.cancel.get());
    spec.checkCancelled();
    if (train.labels.size() < 2)
      throw Error(ErrorKind::File, tree.root + ": only " + std::to_string(train.labels.size()) +
                                       " readable training clip(s); training needs at least 2");
    skipped = train.skipped;
    const auto names = loadedNames(tree.train, train.skipped, tree.root);
    assignSplits(d, tensorOf(train, o), torch::tensor(train.labels, torch::kLong), spec, !tree.ownTest,
                 spec.number("test_fraction"), &names);
  }
  if (tree.ownTest) {
    const Decoded test = decodeAll(tree.root, tree.test, o, spec.cancel.get());
    spec.checkCancelled();
    skipped.insert(skipped.end(), test.skipped.begin(), test.skipped.end());
    d.testX = tensorOf(test, o);
    d.testY = torch::tensor(test.labels, torch::kLong);
    d.testNames = loadedNames(tree.test, test.skipped, tree.root);
  }
  if (!skipped.empty())
    d.notes = std::to_string(skipped.size()) + " unreadable audio file(s) skipped, the first " + skipped.front();
}

void check(const DatasetSpec &spec) {
  const Options o = optionsOf(spec);
  if (!o.logmel())
    return;
  const std::string at = " at " + std::to_string(o.sampleRate) + " Hz";
  if (o.fft() / 2 >= o.samples())
    badDatasetKey("window_ms", "a " + std::to_string(o.window()) + "-sample window" + at +
                                   " is longer than the clip of " + std::to_string(o.samples()) +
                                   " samples; shorten the window or lengthen dataset.seconds");
  // A band narrower than the FFT's bin spacing may hold no bin at all: a row of silence.
  const auto weights = melFilterbank(o);
  const int64_t bins = o.fft() / 2 + 1;
  const auto centres = bandCentres(o);
  for (int64_t m = 0; m < o.mels; ++m) {
    const auto row = weights.begin() + m * bins;
    if (std::all_of(row, row + bins, [](float w) { return w == 0.0F; }))
      badDatasetKey("mels", std::to_string(o.mels) + " bands are too many for a " + std::to_string(o.fft()) +
                                "-point FFT" + at + ": band " + std::to_string(m) + " (around " +
                                std::to_string(std::lround(centres[static_cast<std::size_t>(m)])) +
                                " Hz) falls between two FFT bins; use fewer mels or a longer window");
  }
}

} // namespace audiofolder

DataKind audioFolderDataKind() {
  DataKind k;
  k.name = "audio_folder";
  k.doc = "A folder of sound files (WAV, FLAC, OGG), one sub-folder per class, or train/ and test/ folders of that "
          "shape; mixed to mono, resampled, cut or padded to one length, as log-mel spectrograms [1, mels, frames] "
          "or waveforms [1, samples]; decoded on every core and cached beside the data.";
  k.keys = {
      required(
          pathField("path", "The folder: one sub-folder of sound files per class (or train/ and test/ of them)", true)),
      intField("sample_rate", 16000, 1000, 192000, "Sample rate (Hz) every file is resampled to"),
      floatField("seconds", 1.0, 0.01, 60.0, "Length (s) every clip is cut or padded (with silence at the end) to"),
      enumField(
          "features", {"logmel", "waveform"},
          "logmel: log-mel spectrogram [1, mels, frames], each clip standardised; waveform: samples [1, samples]"),
      when(intField("mels", 64, 1, 512, "Mel bands (rows of the spectrogram, the lowest first)"), "features",
           {"logmel"}),
      when(floatField("window_ms", 25.0, 1.0, 1000.0, "STFT window (Hann) in milliseconds"), "features", {"logmel"}),
      when(floatField("hop_ms", 10.0, 1.0, 1000.0, "Time between spectrogram frames in milliseconds"), "features",
           {"logmel"}),
      boolField("skip_bad", false, "Skip sound files that cannot be read (counted in the summary) instead of stopping"),
      floatField("test_fraction", 0.2, 0.0, 0.9, "Share held out for testing when there is no test/ folder")};
  k.check = audiofolder::check;
  k.probe = audiofolder::probe;
  k.load = audiofolder::load;
  k.loadSetsInfo = true;
  return k;
}

} // namespace particle
