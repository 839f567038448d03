#!/usr/bin/env python3
"""Writes the spoken-digits data set: the words zero to nine spoken by espeak-ng.

    make-spoken-digits.py OUT [--seed 0] [--clean]

OUT/train/<word>/*.wav and OUT/test/<word>/*.wav, 16 kHz mono 16-bit, one second each,
OUT/manifest.csv with what every clip was made of and OUT/README.md saying so. Training speaks six
English accents, the test split two others (Caribbean and New York) that training never hears, so the test accuracy is
accuracy on unseen accents. Every accent speaks every word in each of 24 voice variants; each clip
draws, from its own seed (the same clips every time, in any order): a pitch and a speed, an onset
within the first 0.3 s, a background noise (white, pink or babble) at 0-20 dB SNR and a level.
The SNR is the usual one: the speech's power while the word is spoken (its active level, silence
left out) against the noise's power.
--clean leaves the noise out. Needs espeak-ng and numpy.
"""
import argparse
import csv
import os
import subprocess
import sys
import tempfile
import wave

import numpy as np

WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
TRAIN_ACCENTS = ["en-gb", "en-us", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-rp", "en-gb-x-gbcwmd"]
TEST_ACCENTS = ["en-029", "en-us-nyc"]
# Twenty-four of espeak-ng's voice variants (espeak-ng --voices=variant): its classic male and
# female voices and others that sound like people (robots, whispers and the like left out). Every
# accent speaks every word in every variant once: 6 x 24 x 10 = 1,440 training and 2 x 24 x 10 = 480
# test clips, so the two splits differ in their accents only.
VARIANTS = """m1 m2 m3 m4 m5 m6 m7 m8 f1 f2 f3 f4 f5 klatt klatt2 croak grandma grandpa
Alicia Andrea Annie belinda linda steph""".split()
# Sentences for the babble (Harvard sentences without a digit's word in them).
BABBLE_TEXT = [
    "The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background.",
    "It is easy to tell the depth of a well. These days a chicken leg is a rare dish.",
    "Rice is often served in round bowls. The juice of lemons makes fine punch.",
    "The box was thrown beside the parked truck. The hogs were fed chopped corn and garbage.",
    "A large size in stockings is hard to sell. The boy was there when the sun rose.",
    "A rod is used to catch pink salmon. The source of the huge river is the clear spring.",
]
README = """# spoken-digits

The words zero to nine spoken by espeak-ng, written by scripts/make-spoken-digits.py (seed {seed}).

- train/<word>/<accent>-<variant>.wav: 1,440 clips, six accents (en-gb, en-us, en-gb-scotland,
  en-gb-x-gbclan, en-gb-x-rp, en-gb-x-gbcwmd) x 24 voice variants x 10 words
- test/<word>/<accent>-<variant>.wav: 480 clips in two accents training never hears (en-029,
  en-us-nyc)
- manifest.csv: each clip's accent, variant, pitch, speed, onset_s (where the word starts),
  speech_s (how long it lasts), noise, snr_db and peak_dbfs

16 kHz mono 16-bit, one second each.
Noise: {noise}.
snr_db is the speech's power while the word is spoken (onset_s to onset_s + speech_s, silence left
out: its active level) against the noise's power over the clip.
"""
RATE, SECONDS = 16000, 1.0
N = int(RATE * SECONDS)


def speak(text, voice, pitch, speed):
    """espeak-ng's samples for `text` as float in [-1, 1] at 16 kHz, leading and trailing silence cut."""
    with tempfile.NamedTemporaryFile(suffix=".wav") as tmp:
        subprocess.run(["espeak-ng", "-v", voice, "-p", str(pitch), "-s", str(speed), "-w", tmp.name, text],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        with wave.open(tmp.name, "rb") as w:
            rate = w.getframerate()
            x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64) / 32768.0
    loud = np.flatnonzero(np.abs(x) > 0.02 * np.abs(x).max())
    x = x[max(loud[0] - rate // 100, 0):loud[-1] + rate // 100]
    # Band-limited resampling (espeak-ng speaks at 22,050 Hz): the spectrum cut to 8 kHz, zero padding
    # on both sides keeps the FFT's wrap-around out of the speech.
    pad = len(x) // 4 + 64
    x = np.pad(x, pad)
    m = int(round(len(x) * RATE / rate))
    y = np.fft.irfft(np.fft.rfft(x)[:m // 2 + 1], m) * m / len(x)
    cut = int(round(pad * RATE / rate))
    return y[cut:m - cut]


def pink(rng, n):
    spectrum = np.fft.rfft(rng.standard_normal(n))
    spectrum[1:] /= np.sqrt(np.arange(1, len(spectrum)))
    spectrum[0] = 0
    return np.fft.irfft(spectrum, n)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--clean", action="store_true", help="no background noise (everything else the same)")
    args = ap.parse_args()

    # Babble: six talkers (training accents, random variants) reading sentences; a clip's babble is
    # four of them at random places in their reading, summed.
    rng = np.random.default_rng([args.seed, 99])
    talkers = []
    for i, text in enumerate(BABBLE_TEXT):
        voice = TRAIN_ACCENTS[i % len(TRAIN_ACCENTS)] + "+" + VARIANTS[rng.integers(len(VARIANTS))]
        talkers.append(speak(text, voice, int(rng.integers(20, 81)), int(rng.integers(140, 211))))

    def babble(rng):
        out = np.zeros(N)
        for t in rng.choice(len(talkers), 4, replace=False):
            start = rng.integers(0, len(talkers[t]) - N)
            out += talkers[t][start:start + N] / (np.std(talkers[t]) + 1e-9)
        return out

    rows = []
    for split, accents in (("train", TRAIN_ACCENTS), ("test", TEST_ACCENTS)):
        for w, word in enumerate(WORDS):
            os.makedirs(os.path.join(args.out, split, word), exist_ok=True)
        for a, accent in enumerate(accents):
            for w, word in enumerate(WORDS):
                for v, variant in enumerate(VARIANTS):
                    # Each clip's own generator: the same clip whatever else is made, and in any order.
                    rng = np.random.default_rng([args.seed, 0 if split == "train" else 1, a, w, v])
                    pitch, speed = int(rng.integers(30, 71)), int(rng.integers(140, 201))
                    speech = speak(word, accent + "+" + variant, pitch, speed)[:N]
                    onset = min(int(rng.uniform(0, 0.3) * RATE), N - len(speech))
                    kind = ["white", "pink", "babble"][rng.integers(3)]
                    snr = rng.uniform(0, 20)
                    noise = {"white": lambda: rng.standard_normal(N), "pink": lambda: pink(rng, N),
                             "babble": lambda: babble(rng)}[kind]()
                    # SNR as usually stated: the speech's power while it is spoken (the word, its
                    # silence trimmed: a simple reading of ITU-T P.56's active speech level) against
                    # the noise's power. The first version averaged the speech over the whole second,
                    # silence included, which made the noise 3.8 dB quieter on average (words last
                    # 0.41 s) than the stated SNR: "0-20 dB" was about 4-24 dB.
                    noise *= np.sqrt(np.mean(speech ** 2) / np.mean(noise ** 2) / 10 ** (snr / 10)) * (not args.clean)
                    clip = noise
                    clip[onset:onset + len(speech)] += speech
                    level = rng.uniform(-12, -1)  # peak level in dBFS
                    clip *= 10 ** (level / 20) / np.abs(clip).max()
                    name = f"{accent}-{variant}.wav"
                    with wave.open(os.path.join(args.out, split, word, name), "wb") as f:
                        f.setnchannels(1)
                        f.setsampwidth(2)
                        f.setframerate(RATE)
                        f.writeframes(np.round(clip * 32767).astype("<i2").tobytes())
                    rows.append([f"{split}/{word}/{name}", split, word, accent, variant, pitch, speed,
                                 f"{onset / RATE:.3f}", f"{len(speech) / RATE:.3f}", kind, f"{snr:.1f}", f"{level:.1f}"])
        count = sum(1 for r in rows if r[1] == split)
        print(f"fetch-data: {count} {split} clips ({', '.join(accents)}) in {os.path.join(args.out, split)}")
    with open(os.path.join(args.out, "README.md"), "w") as f:
        f.write(README.format(seed=args.seed, noise="none (--clean)" if args.clean else
                              "white, pink or babble, one in three each, at 0-20 dB SNR (uniform)"))
    with open(os.path.join(args.out, "manifest.csv"), "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["file", "split", "word", "accent", "variant", "pitch", "speed", "onset_s", "speech_s",
                      "noise", "snr_db", "peak_dbfs"])
        out.writerows(rows)


if __name__ == "__main__":
    sys.exit(main())
