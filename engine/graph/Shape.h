#pragma once
// Shapes and what a data set tells a graph (sample shape, classes, split sizes): the vocabulary the
// data kinds, the node types and the validator share. Torch-free.

#include <cstdint>
#include <string>
#include <vector>

namespace particle {

// A tensor shape without the batch dimension: [D], [C,H,W] or [T,D].
using Shape = std::vector<int64_t>;
std::string shapeToString(const Shape &shape);
// With `tokens`, the first axis is a text's tokens: "[T=256,64]".
std::string shapeToString(const Shape &shape, bool tokens);
// Elements of one sample; saturates at INT64_MAX instead of overflowing.
int64_t shapeNumel(const Shape &shape);

// What the data set tells a graph: sample shape, classes and their names, split sizes.
struct DataInfo {
  Shape sampleShape;
  int64_t classes = 0;
  std::vector<std::string> classNames;   // empty when the data set has none (then "0", "1", …)
  std::vector<std::string> featureNames; // tables: the feature columns' names (empty otherwise)
  // Samples per class over the whole data set, when the probe counted them (tables: it reads the
  // label column); empty when unknown.
  std::vector<int64_t> classCounts;
  // Text: the samples are token ids [T]; the word of each id (0 is padding, 1 an unknown word).
  // Empty for every other kind.
  std::vector<std::string> vocabulary;
  // Audio (kind audio_folder): how a sample's axes map to time and frequency, so the preview and
  // the explanations draw spectrograms with axes in seconds and hertz. features is empty for
  // every other kind.
  struct Audio {
    std::string features;       // "logmel" (sample [1, mels, frames]) | "waveform" ([1, samples]) | ""
    int64_t sampleRate = 0;     // Hz, after resampling
    double seconds = 0;         // every clip's length after cutting or padding
    double hopSeconds = 0;      // logmel: time between frames (frame f starts at f * hopSeconds)
    std::vector<double> bandHz; // logmel: the centre frequency of each mel row, row 0 the lowest
  } audio;
  int64_t trainCount = -1, validationCount = -1, testCount = -1; // -1: unknown until loaded
  // The folder kinds: the folder has train/ and test/ folders of its own, which are the splits (the
  // test fraction then decides nothing).
  bool ownTestSplit = false;
  // The project's folder, which relative paths in node params (a TorchScript file) resolve
  // against; validate sets it. Empty: the working directory.
  std::string projectFolder;
};

// The name of class `index` (its index as text when the data set has no names).
std::string className(const DataInfo &data, int64_t index);

} // namespace particle
