#include "explain/Chart.h"

#include "base/Error.h"
#include "explain/Png.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <iterator>
#include <map>
#include <set>

namespace particle::chart {

namespace {

// ---------------------------------------------------------------------------------------------
// Text: UTF-8 decoding, widths and the built-in pixel font.

// Bytes that are not UTF-8 (a Latin-1 class name, a cut sequence) become '?', one each, so that
// the SVG stays well-formed XML.
std::u32string decodeUtf8(const std::string &s) {
  std::u32string out;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const int extra = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
    bool valid = extra >= 0 && i + static_cast<std::size_t>(extra) < s.size();
    char32_t code = extra <= 0 ? c : c & (0x3f >> extra);
    for (int k = 1; valid && k <= extra; ++k) {
      const auto next = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
      valid = (next >> 6) == 2;
      code = (code << 6) | (next & 0x3f);
    }
    // Overlong forms, surrogates and what lies beyond Unicode are not characters either.
    static const char32_t least[] = {0, 0x80, 0x800, 0x10000};
    valid = valid && code >= least[std::max(0, extra)] && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff);
    out.push_back(valid ? code : U'?');
    i += valid ? 1 + static_cast<std::size_t>(extra) : 1;
  }
  return out;
}

std::string encodeUtf8(const std::u32string &s) {
  std::string out;
  for (char32_t c : s) {
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else if (c < 0x800) {
      out.push_back(static_cast<char>(0xc0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3f)));
    } else if (c < 0x10000) {
      out.push_back(static_cast<char>(0xe0 | (c >> 12)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3f)));
    } else {
      out.push_back(static_cast<char>(0xf0 | (c >> 18)));
      out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3f)));
    }
  }
  return out;
}

// Layout reserves this much per character: a generic sans-serif's average advance is a little
// under it, and the pixel font's (6 font pixels at size / 10) never over it, so text laid out for
// one back end fits in the other.
constexpr double kAdvance = 0.62;

double textWidth(const std::string &s, double size) {
  return kAdvance * size * static_cast<double>(decodeUtf8(s).size());
}

// At most `chars` characters; longer text ends in an ellipsis.
std::string truncated(const std::string &s, std::size_t chars) {
  const std::u32string u = decodeUtf8(s);
  if (u.size() <= chars || chars < 2)
    return s;
  return encodeUtf8(u.substr(0, chars - 1) + U"\u2026");
}

// 5 × 9 glyphs: rows 0–6 stand on the baseline, rows 7–8 are descenders. '#' is ink; glyphs with
// fewer rows are blank below.
struct Glyph {
  char32_t code;
  const char *rows;
};
const Glyph kGlyphs[] = {
    {U' ', ""},
    {U'!', "..#.."
           "..#.."
           "..#.."
           "..#.."
           "..#.."
           "....."
           "..#.."},
    {U'"', ".#.#."
           ".#.#."
           ".#.#."},
    {U'#', ".#.#."
           ".#.#."
           "#####"
           ".#.#."
           "#####"
           ".#.#."
           ".#.#."},
    {U'$', "..#.."
           ".####"
           "#.#.."
           ".###."
           "..#.#"
           "####."
           "..#.."},
    {U'%', "##..."
           "##..#"
           "...#."
           "..#.."
           ".#..."
           "#..##"
           "...##"},
    {U'&', ".##.."
           "#..#."
           "#.#.."
           ".#..."
           "#.#.#"
           "#..#."
           ".##.#"},
    {U'\'', "..#.."
            "..#.."
            ".#..."},
    {U'(', "...#."
           "..#.."
           ".#..."
           ".#..."
           ".#..."
           "..#.."
           "...#."},
    {U')', ".#..."
           "..#.."
           "...#."
           "...#."
           "...#."
           "..#.."
           ".#..."},
    {U'*', "....."
           "..#.."
           "#.#.#"
           ".###."
           "#.#.#"
           "..#.."},
    {U'+', "....."
           "..#.."
           "..#.."
           "#####"
           "..#.."
           "..#.."},
    {U',', "....."
           "....."
           "....."
           "....."
           "....."
           ".##.."
           "..#.."
           ".#..."},
    {U'-', "....."
           "....."
           "....."
           ".####"},
    {U'.', "....."
           "....."
           "....."
           "....."
           "....."
           ".##.."
           ".##.."},
    {U'/', "....."
           "....#"
           "...#."
           "..#.."
           ".#..."
           "#...."},
    {U'0', ".###."
           "#...#"
           "#..##"
           "#.#.#"
           "##..#"
           "#...#"
           ".###."},
    {U'1', "..#.."
           ".##.."
           "..#.."
           "..#.."
           "..#.."
           "..#.."
           ".###."},
    {U'2', ".###."
           "#...#"
           "....#"
           "...#."
           "..#.."
           ".#..."
           "#####"},
    {U'3', "#####"
           "...#."
           "..#.."
           "...#."
           "....#"
           "#...#"
           ".###."},
    {U'4', "...#."
           "..##."
           ".#.#."
           "#..#."
           "#####"
           "...#."
           "...#."},
    {U'5', "#####"
           "#...."
           "####."
           "....#"
           "....#"
           "#...#"
           ".###."},
    {U'6', "..##."
           ".#..."
           "#...."
           "####."
           "#...#"
           "#...#"
           ".###."},
    {U'7', "#####"
           "....#"
           "...#."
           "..#.."
           ".#..."
           ".#..."
           ".#..."},
    {U'8', ".###."
           "#...#"
           "#...#"
           ".###."
           "#...#"
           "#...#"
           ".###."},
    {U'9', ".###."
           "#...#"
           "#...#"
           ".####"
           "....#"
           "...#."
           ".##.."},
    {U':', "....."
           ".##.."
           ".##.."
           "....."
           ".##.."
           ".##.."},
    {U';', "....."
           ".##.."
           ".##.."
           "....."
           ".##.."
           "..#.."
           ".#..."},
    {U'<', "...#."
           "..#.."
           ".#..."
           "#...."
           ".#..."
           "..#.."
           "...#."},
    {U'=', "....."
           "....."
           "#####"
           "....."
           "#####"},
    {U'>', ".#..."
           "..#.."
           "...#."
           "....#"
           "...#."
           "..#.."
           ".#..."},
    {U'?', ".###."
           "#...#"
           "....#"
           "...#."
           "..#.."
           "....."
           "..#.."},
    {U'@', ".###."
           "#...#"
           "....#"
           ".##.#"
           "#.#.#"
           "#.#.#"
           ".###."},
    {U'A', ".###."
           "#...#"
           "#...#"
           "#####"
           "#...#"
           "#...#"
           "#...#"},
    {U'B', "####."
           "#...#"
           "#...#"
           "####."
           "#...#"
           "#...#"
           "####."},
    {U'C', ".###."
           "#...#"
           "#...."
           "#...."
           "#...."
           "#...#"
           ".###."},
    {U'D', "###.."
           "#..#."
           "#...#"
           "#...#"
           "#...#"
           "#..#."
           "###.."},
    {U'E', "#####"
           "#...."
           "#...."
           "####."
           "#...."
           "#...."
           "#####"},
    {U'F', "#####"
           "#...."
           "#...."
           "####."
           "#...."
           "#...."
           "#...."},
    {U'G', ".###."
           "#...#"
           "#...."
           "#.###"
           "#...#"
           "#...#"
           ".####"},
    {U'H', "#...#"
           "#...#"
           "#...#"
           "#####"
           "#...#"
           "#...#"
           "#...#"},
    {U'I', ".###."
           "..#.."
           "..#.."
           "..#.."
           "..#.."
           "..#.."
           ".###."},
    {U'J', "..###"
           "...#."
           "...#."
           "...#."
           "...#."
           "#..#."
           ".##.."},
    {U'K', "#...#"
           "#..#."
           "#.#.."
           "##..."
           "#.#.."
           "#..#."
           "#...#"},
    {U'L', "#...."
           "#...."
           "#...."
           "#...."
           "#...."
           "#...."
           "#####"},
    {U'M', "#...#"
           "##.##"
           "#.#.#"
           "#.#.#"
           "#...#"
           "#...#"
           "#...#"},
    {U'N', "#...#"
           "#...#"
           "##..#"
           "#.#.#"
           "#..##"
           "#...#"
           "#...#"},
    {U'O', ".###."
           "#...#"
           "#...#"
           "#...#"
           "#...#"
           "#...#"
           ".###."},
    {U'P', "####."
           "#...#"
           "#...#"
           "####."
           "#...."
           "#...."
           "#...."},
    {U'Q', ".###."
           "#...#"
           "#...#"
           "#...#"
           "#.#.#"
           "#..#."
           ".##.#"},
    {U'R', "####."
           "#...#"
           "#...#"
           "####."
           "#.#.."
           "#..#."
           "#...#"},
    {U'S', ".####"
           "#...."
           "#...."
           ".###."
           "....#"
           "....#"
           "####."},
    {U'T', "#####"
           "..#.."
           "..#.."
           "..#.."
           "..#.."
           "..#.."
           "..#.."},
    {U'U', "#...#"
           "#...#"
           "#...#"
           "#...#"
           "#...#"
           "#...#"
           ".###."},
    {U'V', "#...#"
           "#...#"
           "#...#"
           "#...#"
           "#...#"
           ".#.#."
           "..#.."},
    {U'W', "#...#"
           "#...#"
           "#...#"
           "#.#.#"
           "#.#.#"
           "#.#.#"
           ".#.#."},
    {U'X', "#...#"
           "#...#"
           ".#.#."
           "..#.."
           ".#.#."
           "#...#"
           "#...#"},
    {U'Y', "#...#"
           "#...#"
           ".#.#."
           "..#.."
           "..#.."
           "..#.."
           "..#.."},
    {U'Z', "#####"
           "....#"
           "...#."
           "..#.."
           ".#..."
           "#...."
           "#####"},
    {U'[', ".###."
           ".#..."
           ".#..."
           ".#..."
           ".#..."
           ".#..."
           ".###."},
    {U'\\', "....."
            "#...."
            ".#..."
            "..#.."
            "...#."
            "....#"},
    {U']', ".###."
           "...#."
           "...#."
           "...#."
           "...#."
           "...#."
           ".###."},
    {U'^', "..#.."
           ".#.#."
           "#...#"},
    {U'_', "....."
           "....."
           "....."
           "....."
           "....."
           "....."
           "....."
           "#####"},
    {U'`', ".#..."
           "..#.."},
    {U'a', "....."
           "....."
           ".###."
           "....#"
           ".####"
           "#...#"
           ".####"},
    {U'b', "#...."
           "#...."
           "#.##."
           "##..#"
           "#...#"
           "#...#"
           "####."},
    {U'c', "....."
           "....."
           ".###."
           "#...."
           "#...."
           "#...#"
           ".###."},
    {U'd', "....#"
           "....#"
           ".##.#"
           "#..##"
           "#...#"
           "#...#"
           ".####"},
    {U'e', "....."
           "....."
           ".###."
           "#...#"
           "#####"
           "#...."
           ".###."},
    {U'f', "..##."
           ".#..#"
           ".#..."
           "###.."
           ".#..."
           ".#..."
           ".#..."},
    {U'g', "....."
           "....."
           ".####"
           "#...#"
           "#...#"
           "#...#"
           ".####"
           "....#"
           ".###."},
    {U'h', "#...."
           "#...."
           "#.##."
           "##..#"
           "#...#"
           "#...#"
           "#...#"},
    {U'i', "..#.."
           "....."
           ".##.."
           "..#.."
           "..#.."
           "..#.."
           ".###."},
    {U'j', "...#."
           "....."
           "..##."
           "...#."
           "...#."
           "...#."
           "...#."
           "#..#."
           ".##.."},
    {U'k', "#...."
           "#...."
           "#..#."
           "#.#.."
           "##..."
           "#.#.."
           "#..#."},
    {U'l', ".##.."
           "..#.."
           "..#.."
           "..#.."
           "..#.."
           "..#.."
           ".###."},
    {U'm', "....."
           "....."
           "##.#."
           "#.#.#"
           "#.#.#"
           "#...#"
           "#...#"},
    {U'n', "....."
           "....."
           "#.##."
           "##..#"
           "#...#"
           "#...#"
           "#...#"},
    {U'o', "....."
           "....."
           ".###."
           "#...#"
           "#...#"
           "#...#"
           ".###."},
    {U'p', "....."
           "....."
           "####."
           "#...#"
           "#...#"
           "#...#"
           "####."
           "#...."
           "#...."},
    {U'q', "....."
           "....."
           ".####"
           "#...#"
           "#...#"
           "#...#"
           ".####"
           "....#"
           "....#"},
    {U'r', "....."
           "....."
           "#.##."
           "##..#"
           "#...."
           "#...."
           "#...."},
    {U's', "....."
           "....."
           ".####"
           "#...."
           ".###."
           "....#"
           "####."},
    {U't', ".#..."
           ".#..."
           "###.."
           ".#..."
           ".#..."
           ".#..#"
           "..##."},
    {U'u', "....."
           "....."
           "#...#"
           "#...#"
           "#...#"
           "#..##"
           ".##.#"},
    {U'v', "....."
           "....."
           "#...#"
           "#...#"
           "#...#"
           ".#.#."
           "..#.."},
    {U'w', "....."
           "....."
           "#...#"
           "#...#"
           "#.#.#"
           "#.#.#"
           ".#.#."},
    {U'x', "....."
           "....."
           "#...#"
           ".#.#."
           "..#.."
           ".#.#."
           "#...#"},
    {U'y', "....."
           "....."
           "#...#"
           "#...#"
           "#...#"
           "#...#"
           ".####"
           "....#"
           ".###."},
    {U'z', "....."
           "....."
           "#####"
           "...#."
           "..#.."
           ".#..."
           "#####"},
    {U'{', "...#."
           "..#.."
           "..#.."
           ".#..."
           "..#.."
           "..#.."
           "...#."},
    {U'|', "..#.."
           "..#.."
           "..#.."
           "..#.."
           "..#.."
           "..#.."
           "..#.."
           "..#.."},
    {U'}', ".#..."
           "..#.."
           "..#.."
           "...#."
           "..#.."
           "..#.."
           ".#..."},
    {U'~', "....."
           "....."
           ".#..."
           "#.#.#"
           "...#."},
    // The few non-ASCII characters the project's labels use.
    {U'\u00b0', ".##.."
                "#..#."
                ".##.."},
    {U'\u00b1', "..#.."
                "..#.."
                "#####"
                "..#.."
                "..#.."
                "....."
                "#####"},
    {U'\u00b5', "....."
                "....."
                "#...#"
                "#...#"
                "#...#"
                "##..#"
                "#.##."
                "#...."
                "#...."},
    {U'\u00b7', "....."
                "....."
                "....."
                "..#.."},
    {U'\u00d7', "....."
                "#...#"
                ".#.#."
                "..#.."
                ".#.#."
                "#...#"},
    {U'\u03c3', "....."
                "....."
                ".####"
                "#..#."
                "#...#"
                "#...#"
                ".###."},
    {U'\u2013', "....."
                "....."
                "....."
                "#####"},
    {U'\u2026', "....."
                "....."
                "....."
                "....."
                "....."
                "....."
                "#.#.#"},
    {U'\u2192', "....."
                "..#.."
                "...#."
                "#####"
                "...#."
                "..#.."},
    {U'\u2264', "...#."
                "..#.."
                ".#..."
                "..#.."
                "...#."
                "....."
                "#####"},
    {U'\u2265', ".#..."
                "..#.."
                "...#."
                "..#.."
                ".#..."
                "....."
                "#####"},
};

// Characters drawn with another's glyph.
char32_t glyphAlias(char32_t c) {
  switch (c) {
  case U'\u03bc': return U'\u00b5';
  case U'\u2014':
  case U'\u2212': return U'\u2013';
  case U'\u2018':
  case U'\u2019': return U'\'';
  case U'\u201c':
  case U'\u201d': return U'"';
  case U'\u00a0': return U' ';
  default: return c;
  }
}

const char *glyphRows(char32_t c) {
  static const std::map<char32_t, const char *> table = [] {
    std::map<char32_t, const char *> t;
    for (const Glyph &g : kGlyphs)
      t[g.code] = g.rows;
    return t;
  }();
  const auto it = table.find(glyphAlias(c));
  return it != table.end() ? it->second : table.at(U'?');
}

// ---------------------------------------------------------------------------------------------
// Numbers: locale-independent, the same bytes on every machine.

std::string fixed(double v, int decimals) {
  if (std::abs(v) < 0.5 * std::pow(10.0, -decimals))
    v = 0; // no "-0"
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, decimals);
  return std::string(buf, r.ptr);
}

std::string trimmed(std::string s) {
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0')
      s.pop_back();
    if (s.back() == '.')
      s.pop_back();
  }
  return s;
}

// A coordinate in SVG: two decimals at most, trailing zeros dropped.
std::string num(double v) {
  return trimmed(fixed(v, 2));
}

// A value with three significant digits, for the odd number that has no tick step to go by.
std::string general(double v) {
  if (v == 0)
    return "0";
  const double a = std::abs(v);
  if (a >= 1e6 || a < 1e-3) {
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific, 2);
    return std::string(buf, r.ptr);
  }
  const int decimals = std::clamp(2 - static_cast<int>(std::floor(std::log10(a))), 0, 6);
  return trimmed(fixed(v, decimals));
}

// Tick labels of a linear axis with step `step` over values up to `extent` in magnitude: as many
// decimals as the step needs; thousands and millions as k and M.
std::string tickText(double v, double step, double extent) {
  double scale = 1;
  std::string suffix;
  if (extent >= 1e6) {
    scale = 1e6;
    suffix = "M";
  } else if (extent >= 1e4) {
    scale = 1e3;
    suffix = "k";
  }
  const double s = step / scale;
  if (s < 1e-6)
    return general(v);
  const int decimals = std::clamp(static_cast<int>(std::ceil(-std::log10(s) - 1e-9)), 0, 6);
  return fixed(v / scale, decimals) + (v == 0 ? "" : suffix);
}

std::string logTickText(double v) {
  if (v >= 1e6 || v < 1e-4) {
    const int e = static_cast<int>(std::lround(std::log10(v)));
    return "1e" + std::to_string(e);
  }
  return v >= 1 ? fixed(v, 0) : fixed(v, static_cast<int>(std::lround(-std::log10(v))));
}

std::string countText(int64_t n) {
  if (n >= 1000000)
    return fixed(static_cast<double>(n) / 1e6, 2) + "M";
  if (n >= 10000)
    return fixed(static_cast<double>(n) / 1e3, 1) + "k";
  return std::to_string(n);
}

struct Ticks {
  double lo = 0, hi = 1, step = 1;
  std::vector<double> major, minor;
};

// "Nice" ticks (1, 2, 5 × 10^k) about `target` of them; the domain grows to whole steps unless
// an end is fixed.
Ticks linearTicks(double lo, double hi, int target, bool fixLo = false, bool fixHi = false) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) { // nothing finite to go by
    lo = 0;
    hi = 1;
  }
  if (!(hi > lo)) {
    const double pad = lo == 0 ? 1 : std::abs(lo) * 0.1;
    if (!fixLo)
      lo -= pad;
    if (!fixHi || !(hi > lo))
      hi = lo + 2 * pad;
  }
  const double raw = (hi - lo) / std::max(1, target);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / mag;
  const double step = (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
  Ticks t;
  t.step = step;
  t.lo = fixLo ? lo : std::floor(lo / step + 1e-9) * step;
  t.hi = fixHi ? hi : std::ceil(hi / step - 1e-9) * step;
  for (double k = std::ceil(t.lo / step - 1e-9); k * step <= t.hi + step * 1e-9; k += 1)
    t.major.push_back(std::abs(k * step) < step * 1e-9 ? 0.0 : k * step);
  return t;
}

// Powers of ten as the labelled ticks, 2…9 × 10^k between them unlabelled. The axis spans the
// data (a little more) when that holds two powers of ten, else whole decades.
Ticks logTicks(double lo, double hi) {
  Ticks t;
  t.lo = lo / 1.15;
  t.hi = hi * 1.15;
  int a = static_cast<int>(std::ceil(std::log10(t.lo) - 1e-9));
  int b = static_cast<int>(std::floor(std::log10(t.hi) + 1e-9));
  if (b - a < 1) {
    a = static_cast<int>(std::floor(std::log10(lo) + 1e-9));
    b = std::max(a + 1, static_cast<int>(std::ceil(std::log10(hi) - 1e-9)));
    t.lo = std::pow(10.0, a);
    t.hi = std::pow(10.0, b);
  }
  for (int e = a; e <= b; ++e)
    t.major.push_back(std::pow(10.0, e));
  for (int e = a - 1; e <= b; ++e)
    for (int m = 2; m <= 9; ++m) {
      const double v = m * std::pow(10.0, e);
      if (v > t.lo && v < t.hi)
        t.minor.push_back(v);
    }
  return t;
}

// ---------------------------------------------------------------------------------------------
// The drawing: primitives laid out once, for both back ends.

struct Pt {
  double x, y;
};
enum class Anchor { Start, Middle, End };

struct Prim {
  enum class Kind { Line, Polyline, Polygon, Rect, Circle, Text } kind = Kind::Line;
  std::vector<Pt> points;            // Line (2), Polyline, Polygon
  double x = 0, y = 0, w = 0, h = 0; // Rect; Circle: centre and w = radius; Text: anchor on the baseline
  std::optional<Color> fill, stroke;
  double strokeWidth = 1, opacity = 1;
  bool dashed = false;
  std::string text;
  double size = 12;
  Anchor anchor = Anchor::Start;
  bool vertical = false; // text turned 90° counter-clockwise, read bottom to top
  bool bold = false;
};

const Color kInk{34, 34, 34};
const Color kMuted{102, 102, 102};
const Color kGrid{230, 230, 230};
const Color kWhite{255, 255, 255};

Color mix(Color a, Color b, double t) {
  auto lerp = [&](uint8_t x, uint8_t y) { return static_cast<uint8_t>(std::lround(x + (y - x) * t)); };
  return {lerp(a.r, b.r), lerp(a.g, b.g), lerp(a.b, b.b)};
}

struct Canvas {
  int width = 0, height = 0;
  std::vector<Prim> prims;

  void line(double x1, double y1, double x2, double y2, Color c, double w = 1, bool dashed = false) {
    Prim p;
    p.kind = Prim::Kind::Line;
    p.points = {{x1, y1}, {x2, y2}};
    p.stroke = c;
    p.strokeWidth = w;
    p.dashed = dashed;
    prims.push_back(std::move(p));
  }
  void polyline(std::vector<Pt> pts, Color c, double w) {
    Prim p;
    p.kind = Prim::Kind::Polyline;
    p.points = std::move(pts);
    p.stroke = c;
    p.strokeWidth = w;
    prims.push_back(std::move(p));
  }
  void polygon(std::vector<Pt> pts, Color fill, double opacity = 1) {
    Prim p;
    p.kind = Prim::Kind::Polygon;
    p.points = std::move(pts);
    p.fill = fill;
    p.opacity = opacity;
    prims.push_back(std::move(p));
  }
  void rect(double x, double y, double w, double h, std::optional<Color> fill, std::optional<Color> stroke = {},
            double sw = 1) {
    Prim p;
    p.kind = Prim::Kind::Rect;
    p.x = x;
    p.y = y;
    p.w = w;
    p.h = h;
    p.fill = fill;
    p.stroke = stroke;
    p.strokeWidth = sw;
    prims.push_back(std::move(p));
  }
  void circle(double x, double y, double r, Color fill, std::optional<Color> stroke = {}, double sw = 1) {
    Prim p;
    p.kind = Prim::Kind::Circle;
    p.x = x;
    p.y = y;
    p.w = r;
    p.fill = fill;
    p.stroke = stroke;
    p.strokeWidth = sw;
    prims.push_back(std::move(p));
  }
  void text(double x, double y, const std::string &s, double size, Color c, Anchor a = Anchor::Start, bool bold = false,
            bool vertical = false) {
    if (s.empty())
      return;
    Prim p;
    p.kind = Prim::Kind::Text;
    p.x = x;
    p.y = y;
    p.text = s;
    p.size = size;
    p.fill = c;
    p.anchor = a;
    p.bold = bold;
    p.vertical = vertical;
    prims.push_back(std::move(p));
  }
};

// Lines one pixel wide sit on pixel centres, so that both back ends draw them crisp.
double crisp(double v) {
  return std::floor(v) + 0.5;
}

// ---------------------------------------------------------------------------------------------
// SVG back end.

std::string hex(Color c) {
  static const char *digits = "0123456789abcdef";
  std::string s = "#";
  for (uint8_t v : {c.r, c.g, c.b}) {
    s.push_back(digits[v >> 4]);
    s.push_back(digits[v & 15]);
  }
  return s;
}

std::string escaped(const std::string &text) {
  const std::string s = encodeUtf8(decodeUtf8(text));
  std::string out;
  for (char ch : s) {
    switch (ch) {
    case '&': out += "&amp;"; break;
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '"': out += "&quot;"; break;
    case '\'': out += "&#39;"; break;
    default:
      // XML 1.0 allows no control characters but tab and newlines.
      if (static_cast<unsigned char>(ch) >= 0x20 || ch == '\t')
        out.push_back(ch);
      else
        out.push_back(' ');
    }
  }
  return out;
}

std::string points(const std::vector<Pt> &pts) {
  std::string s;
  for (const Pt &p : pts)
    s += (s.empty() ? "" : " ") + num(p.x) + "," + num(p.y);
  return s;
}

std::string strokeAttrs(const Prim &p) {
  std::string s = " stroke=\"" + hex(*p.stroke) + "\" stroke-width=\"" + num(p.strokeWidth) + "\"";
  if (p.dashed)
    s += " stroke-dasharray=\"4 3\"";
  return s;
}

// `scale` < 1 shrinks the drawing to fit (the viewBox keeps its coordinates).
std::string svgOf(const Canvas &c, double scale = 1) {
  const double w = std::round(c.width * scale), h = std::round(c.height * scale);
  const std::string size = std::to_string(c.width) + " " + std::to_string(c.height);
  std::string s = R"(<svg xmlns="http://www.w3.org/2000/svg" width=")" + num(w) + R"(" height=")" + num(h) +
                  R"(" viewBox="0 0 )" + size + R"(" font-family="sans-serif">)" + "\n" + R"(<rect width=")" +
                  std::to_string(c.width) + R"(" height=")" + std::to_string(c.height) + R"(" fill="#ffffff"/>)" + "\n";
  for (const Prim &p : c.prims) {
    switch (p.kind) {
    case Prim::Kind::Line:
      s += "<line x1=\"" + num(p.points[0].x) + "\" y1=\"" + num(p.points[0].y) + "\" x2=\"" + num(p.points[1].x) +
           "\" y2=\"" + num(p.points[1].y) + "\"" + strokeAttrs(p) + "/>\n";
      break;
    case Prim::Kind::Polyline:
      s += "<polyline points=\"" + points(p.points) + R"(" fill="none")" + strokeAttrs(p) +
           " stroke-linejoin=\"round\" stroke-linecap=\"round\"/>\n";
      break;
    case Prim::Kind::Polygon:
      s += "<polygon points=\"" + points(p.points) + "\" fill=\"" + hex(*p.fill) + "\"" +
           (p.opacity < 1 ? " fill-opacity=\"" + num(p.opacity) + "\"" : "") + "/>\n";
      break;
    case Prim::Kind::Rect:
      s += "<rect x=\"" + num(p.x) + "\" y=\"" + num(p.y) + "\" width=\"" + num(p.w) + "\" height=\"" + num(p.h) +
           "\" fill=\"" + (p.fill ? hex(*p.fill) : "none") + "\"" + (p.stroke ? strokeAttrs(p) : "") +
           (p.stroke ? "" : " shape-rendering=\"crispEdges\"") + "/>\n";
      break;
    case Prim::Kind::Circle:
      s += "<circle cx=\"" + num(p.x) + "\" cy=\"" + num(p.y) + "\" r=\"" + num(p.w) + "\" fill=\"" + hex(*p.fill) +
           "\"" + (p.stroke ? strokeAttrs(p) : "") + "/>\n";
      break;
    case Prim::Kind::Text: {
      const char *anchor = p.anchor == Anchor::Start ? "start" : p.anchor == Anchor::Middle ? "middle" : "end";
      s += "<text x=\"" + num(p.x) + "\" y=\"" + num(p.y) + "\" font-size=\"" + num(p.size) + "\" fill=\"" +
           hex(*p.fill) + "\"" + (p.anchor != Anchor::Start ? std::string(" text-anchor=\"") + anchor + "\"" : "") +
           (p.bold ? " font-weight=\"bold\"" : "") +
           (p.vertical ? " transform=\"rotate(-90 " + num(p.x) + " " + num(p.y) + ")\"" : "") + ">" + escaped(p.text) +
           "</text>\n";
      break;
    }
    }
  }
  return s + "</svg>\n";
}

// ---------------------------------------------------------------------------------------------
// Raster back end: drawn at 3 × the size and averaged down, which anti-aliases every edge (at
// 1 × for figures over 4 megapixels, whose buffer would grow ninefold).

class Raster {
public:
  Raster(int width, int height)
      : s_(static_cast<int64_t>(width) * height <= 4000000 ? 3 : 1), w_(width * s_), h_(height * s_), width_(width),
        height_(height), buf_(static_cast<std::size_t>(w_) * h_, Rgb{255, 255, 255}) {}

  void draw(const Prim &p) {
    switch (p.kind) {
    case Prim::Kind::Line: segment(p.points[0], p.points[1], p.strokeWidth, *p.stroke, p.dashed); break;
    case Prim::Kind::Polyline:
      for (std::size_t i = 1; i < p.points.size(); ++i)
        segment(p.points[i - 1], p.points[i], p.strokeWidth, *p.stroke, false);
      for (std::size_t i = 1; i + 1 < p.points.size(); ++i)
        disc(p.points[i].x, p.points[i].y, p.strokeWidth / 2, *p.stroke, 1); // round joins
      break;
    case Prim::Kind::Polygon: polygon(p.points, *p.fill, p.opacity); break;
    case Prim::Kind::Rect:
      if (p.fill)
        box(p.x, p.y, p.x + p.w, p.y + p.h, *p.fill, 1);
      if (p.stroke) {
        const double x0 = p.x, y0 = p.y, x1 = p.x + p.w, y1 = p.y + p.h, s = p.strokeWidth / 2;
        box(x0 - s, y0 - s, x1 + s, y0 + s, *p.stroke, 1);
        box(x0 - s, y1 - s, x1 + s, y1 + s, *p.stroke, 1);
        box(x0 - s, y0 - s, x0 + s, y1 + s, *p.stroke, 1);
        box(x1 - s, y0 - s, x1 + s, y1 + s, *p.stroke, 1);
      }
      break;
    case Prim::Kind::Circle:
      if (p.stroke)
        disc(p.x, p.y, p.w + p.strokeWidth / 2, *p.stroke, 1);
      disc(p.x, p.y, p.stroke ? p.w - p.strokeWidth / 2 : p.w, *p.fill, 1);
      break;
    case Prim::Kind::Text: text(p); break;
    }
  }

  std::vector<Rgb> pixels() const {
    std::vector<Rgb> out(static_cast<std::size_t>(width_) * height_);
    for (int y = 0; y < height_; ++y)
      for (int x = 0; x < width_; ++x) {
        int r = 0, g = 0, b = 0;
        for (int j = 0; j < s_; ++j)
          for (int i = 0; i < s_; ++i) {
            const Rgb &s = buf_[static_cast<std::size_t>(y * s_ + j) * w_ + x * s_ + i];
            r += s.r;
            g += s.g;
            b += s.b;
          }
        const int n = s_ * s_;
        out[static_cast<std::size_t>(y) * width_ + x] = {static_cast<uint8_t>((r + n / 2) / n),
                                                         static_cast<uint8_t>((g + n / 2) / n),
                                                         static_cast<uint8_t>((b + n / 2) / n)};
      }
    return out;
  }

private:
  void plot(int x, int y, Color c, double alpha) {
    if (x < 0 || y < 0 || x >= w_ || y >= h_)
      return;
    Rgb &d = buf_[static_cast<std::size_t>(y) * w_ + x];
    if (alpha >= 1) {
      d = {c.r, c.g, c.b};
      return;
    }
    auto blend = [&](uint8_t a, uint8_t b) { return static_cast<uint8_t>(std::lround(a + (b - a) * alpha)); };
    d = {blend(d.r, c.r), blend(d.g, c.g), blend(d.b, c.b)};
  }

  // Sub-pixels whose centres lie in [x0, x1) × [y0, y1) (pixel coordinates).
  void box(double x0, double y0, double x1, double y1, Color c, double alpha) {
    const int i0 = static_cast<int>(std::ceil(x0 * s_ - 0.5)), i1 = static_cast<int>(std::ceil(x1 * s_ - 0.5));
    const int j0 = static_cast<int>(std::ceil(y0 * s_ - 0.5)), j1 = static_cast<int>(std::ceil(y1 * s_ - 0.5));
    for (int j = std::max(0, j0); j < std::min(h_, j1); ++j)
      for (int i = std::max(0, i0); i < std::min(w_, i1); ++i)
        plot(i, j, c, alpha);
  }

  void disc(double cx, double cy, double r, Color c, double alpha) {
    if (r <= 0)
      return;
    const double scx = cx * s_, scy = cy * s_, sr = r * s_;
    for (int j = std::max(0, static_cast<int>(scy - sr - 1)); j <= std::min(h_ - 1, static_cast<int>(scy + sr + 1));
         ++j)
      for (int i = std::max(0, static_cast<int>(scx - sr - 1)); i <= std::min(w_ - 1, static_cast<int>(scx + sr + 1));
           ++i) {
        const double dx = i + 0.5 - scx, dy = j + 0.5 - scy;
        if (dx * dx + dy * dy <= sr * sr)
          plot(i, j, c, alpha);
      }
  }

  // Even-odd scanline fill at sub-pixel centres.
  void polygon(const std::vector<Pt> &pts, Color c, double alpha) {
    if (pts.size() < 3)
      return;
    double top = pts[0].y, bottom = pts[0].y;
    for (const Pt &p : pts) {
      top = std::min(top, p.y);
      bottom = std::max(bottom, p.y);
    }
    std::vector<double> xs;
    for (int j = std::max(0, static_cast<int>(top * s_) - 1); j <= std::min(h_ - 1, static_cast<int>(bottom * s_) + 1);
         ++j) {
      const double y = (j + 0.5) / s_;
      xs.clear();
      for (std::size_t k = 0; k < pts.size(); ++k) {
        const Pt &a = pts[k], &b = pts[(k + 1) % pts.size()];
        if ((a.y <= y) != (b.y <= y))
          xs.push_back(a.x + (y - a.y) / (b.y - a.y) * (b.x - a.x));
      }
      std::sort(xs.begin(), xs.end());
      for (std::size_t k = 0; k + 1 < xs.size(); k += 2) {
        const int i0 = static_cast<int>(std::ceil(xs[k] * s_ - 0.5));
        const int i1 = static_cast<int>(std::ceil(xs[k + 1] * s_ - 0.5));
        for (int i = std::max(0, i0); i < std::min(w_, i1); ++i)
          plot(i, j, c, alpha);
      }
    }
  }

  void segment(Pt a, Pt b, double width, Color c, bool dashed) {
    const double dx = b.x - a.x, dy = b.y - a.y, len = std::hypot(dx, dy);
    if (len <= 0)
      return;
    if (dashed) {
      for (double t = 0; t < len; t += 7) {
        const double e = std::min(len, t + 4);
        segment({a.x + dx * t / len, a.y + dy * t / len}, {a.x + dx * e / len, a.y + dy * e / len}, width, c, false);
      }
      return;
    }
    // Axis-parallel lines as boxes: exact sub-pixel coverage, no sliver from the polygon rule.
    const double hw = width / 2;
    if (dy == 0) {
      box(std::min(a.x, b.x), a.y - hw, std::max(a.x, b.x), a.y + hw, c, 1);
      return;
    }
    if (dx == 0) {
      box(a.x - hw, std::min(a.y, b.y), a.x + hw, std::max(a.y, b.y), c, 1);
      return;
    }
    const double nx = -dy / len * hw, ny = dx / len * hw;
    polygon({{a.x + nx, a.y + ny}, {b.x + nx, b.y + ny}, {b.x - nx, b.y - ny}, {a.x - nx, a.y - ny}}, c, 1);
  }

  // The pixel font at a whole number of pixels per font pixel, snapped to the pixel grid.
  void text(const Prim &p) {
    const std::u32string s = decodeUtf8(p.text);
    const int unit = std::max(1, static_cast<int>(std::floor(p.size / 10)));
    const int advance = (p.bold ? 7 : 6) * unit;
    const double w = static_cast<double>(advance) * static_cast<double>(s.size()) - unit;
    const double shift = p.anchor == Anchor::Start ? 0 : p.anchor == Anchor::Middle ? w / 2 : w;
    // Along the text (u) and across it (v, downward from the baseline before turning).
    const double u0 = std::round(-shift), v0 = -7.0 * unit;
    const double ax = std::round(p.x), ay = std::round(p.y);
    for (std::size_t k = 0; k < s.size(); ++k) {
      const char *rows = glyphRows(s[k]);
      const std::size_t n = std::char_traits<char>::length(rows);
      for (std::size_t cell = 0; cell < n; ++cell) {
        if (rows[cell] != '#')
          continue;
        const int gx = static_cast<int>(cell % 5), gy = static_cast<int>(cell / 5);
        for (int b = 0; b <= (p.bold ? 1 : 0); ++b) {
          const double u = u0 + static_cast<double>(k) * advance + (gx + b) * unit, v = v0 + gy * unit;
          if (p.vertical)
            box(ax + v, ay - u - unit, ax + v + unit, ay - u, *p.fill, 1);
          else
            box(ax + u, ay + v, ax + u + unit, ay + v + unit, *p.fill, 1);
        }
      }
    }
  }

  int s_, w_, h_, width_, height_;
  std::vector<Rgb> buf_;
};

void rasterise(const Canvas &c, const std::string &path) {
  if (c.width <= 0 || c.height <= 0 || c.width > 20000 || c.height > 20000)
    throw Error(ErrorKind::File, path + ": a figure is 1 to 20000 pixels wide and high, not " +
                                     std::to_string(c.width) + " × " + std::to_string(c.height));
  Raster r(c.width, c.height);
  for (const Prim &p : c.prims)
    r.draw(p);
  particle::writePng(path, c.width, c.height, r.pixels());
}

// ---------------------------------------------------------------------------------------------
// Shared layout parts.

constexpr double kTitle = 15, kLabel = 12, kTick = 11, kSmall = 10;

// The title across the top; returns the height it takes.
double drawTitle(Canvas &cv, const std::string &title) {
  if (title.empty())
    return 10;
  cv.text(cv.width / 2.0, 22, truncated(title, static_cast<std::size_t>((cv.width - 20) / (kAdvance * kTitle))), kTitle,
          kInk, Anchor::Middle, true);
  return 34;
}

void noData(Canvas &cv, double top, const std::string &what) {
  cv.rect(crisp(20), crisp(top), std::floor(cv.width - 40.0), std::floor(cv.height - top - 20), std::nullopt, kGrid, 1);
  cv.text(cv.width / 2.0, (top + cv.height) / 2.0, what, kLabel, kMuted, Anchor::Middle);
}

double maxTextWidth(const std::vector<std::string> &texts, double size) {
  double w = 0;
  for (const auto &t : texts)
    w = std::max(w, textWidth(t, size));
  return w;
}

Color colorOf(Rgb c) {
  return {c.r, c.g, c.b};
}

// ---------------------------------------------------------------------------------------------
// XY charts.

struct LegendItem {
  std::string name;
  Color color;
  bool line, points, band;
};

Canvas layout(const XYChart &c, int width, int height) {
  Canvas cv;
  cv.width = width;
  cv.height = height;
  const double top = drawTitle(cv, c.title);

  // What there is to draw (a log axis shows positive x only).
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY, s0 = INFINITY, s1 = -INFINITY;
  bool any = false;
  for (const Series &s : c.series)
    for (std::size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i]) || (c.logX && s.x[i] <= 0))
        continue;
      any = true;
      x0 = std::min(x0, s.x[i]);
      x1 = std::max(x1, s.x[i]);
      y0 = std::min(y0, s.y[i]);
      y1 = std::max(y1, s.y[i]);
      if (i < s.low.size() && std::isfinite(s.low[i]))
        y0 = std::min(y0, s.low[i]);
      if (i < s.high.size() && std::isfinite(s.high[i]))
        y1 = std::max(y1, s.high[i]);
      if (i < s.size.size() && std::isfinite(s.size[i])) {
        s0 = std::min(s0, s.size[i]);
        s1 = std::max(s1, s.size[i]);
      }
    }
  if (!any) {
    noData(cv, top, "No data to plot");
    return cv;
  }
  const bool sized = s1 >= s0;
  auto radius = [&](double v) {
    if (!std::isfinite(v))
      return 4.0;
    return s1 > s0 ? 2.5 + 7.5 * std::sqrt((v - s0) / (s1 - s0)) : 5.0; // area ∝ value
  };

  // Legend: beside the plot when it is narrow enough, else below it.
  std::vector<LegendItem> items;
  for (std::size_t k = 0; k < c.series.size(); ++k) {
    const Series &s = c.series[k];
    if (!s.name.empty())
      items.push_back({s.name, s.color.value_or(seriesColor(static_cast<int>(k))), s.line, s.points,
                       s.line && !s.points && !s.low.empty()});
  }
  std::vector<std::string> names;
  for (auto &it : items) {
    it.name = truncated(it.name, 32);
    names.push_back(it.name);
  }
  const std::string sizeTitle =
      sized ? truncated("Point size: " + (c.sizeLabel.empty() ? "value" : c.sizeLabel), 32) : "";
  const std::string sizeLo = sized ? general(s0) : "", sizeHi = sized ? general(s1) : "";
  double legendW = 0;
  if (!items.empty())
    legendW = 30 + maxTextWidth(names, kTick);
  if (sized)
    legendW = std::max({legendW, textWidth(sizeTitle, kSmall) + 4, 60 + textWidth(sizeLo + sizeHi, kSmall)});
  const bool below = legendW > 0.3 * width;
  const double rowH = 18;

  const Ticks yt = linearTicks(c.yMin.value_or(y0), c.yMax.value_or(y1), std::max(3, height / 70), c.yMin.has_value(),
                               c.yMax.has_value());
  const Ticks xt = c.logX ? logTicks(x0, x1) : linearTicks(x0, x1, std::max(3, width / 110));
  const double yExtent = std::max(std::abs(yt.lo), std::abs(yt.hi)),
               xExtent = std::max(std::abs(xt.lo), std::abs(xt.hi));
  std::vector<std::string> yLabels;
  for (double v : yt.major)
    yLabels.push_back(tickText(v, yt.step, yExtent));

  // Legend rows when below: items flow across the width.
  std::vector<std::vector<std::size_t>> rows;
  if (below) {
    double used = 0;
    for (std::size_t k = 0; k < items.size(); ++k) {
      const double w = 34 + textWidth(items[k].name, kTick);
      if (rows.empty() || used + w > width - 40) {
        rows.emplace_back();
        used = 0;
      }
      rows.back().push_back(k);
      used += w;
    }
  }
  const double legendBelowH = below ? rows.size() * rowH + (sized ? 34 : 0) + 6 : 0;

  const double left = 10 + (c.yLabel.empty() ? 0 : 20) + maxTextWidth(yLabels, kTick) + 8;
  const double right = width - 14 - (below || legendW == 0 ? 0 : legendW + 16);
  const double bottom = height - 10 - (c.xLabel.empty() ? 0 : 20) - 20 - legendBelowH;
  const double plotTop = top + 6;
  if (right - left < 40 || bottom - plotTop < 40) {
    noData(cv, top, "Too small to draw");
    return cv;
  }
  // The data keeps clear of the axes by a few pixels, so that no point sits on a frame line.
  const double inset = 8;
  auto mapX = [&](double v) {
    const double t = c.logX ? (std::log10(v) - std::log10(xt.lo)) / (std::log10(xt.hi) - std::log10(xt.lo))
                            : (v - xt.lo) / (xt.hi - xt.lo);
    return left + inset + t * (right - left - 2 * inset);
  };
  auto mapY = [&](double v) {
    return bottom - inset - (std::clamp(v, yt.lo, yt.hi) - yt.lo) / (yt.hi - yt.lo) * (bottom - plotTop - 2 * inset);
  };

  // Grid, axes, ticks and their labels.
  for (double v : xt.minor)
    if (v > xt.lo && v < xt.hi)
      cv.line(crisp(mapX(v)), plotTop, crisp(mapX(v)), bottom, mix(kGrid, kWhite, 0.5));
  for (std::size_t k = 0; k < yt.major.size(); ++k) {
    const double y = crisp(mapY(yt.major[k]));
    cv.line(left, y, right, y, kGrid);
    cv.line(left - 4, y, left, y, kInk);
    cv.text(left - 7, y + 4, yLabels[k], kTick, kInk, Anchor::End);
  }
  for (double v : xt.major) {
    const double x = crisp(mapX(v));
    cv.line(x, plotTop, x, bottom, kGrid);
    cv.line(x, bottom, x, bottom + 4, kInk);
    cv.text(x, bottom + 17, c.logX ? logTickText(v) : tickText(v, xt.step, xExtent), kTick, kInk, Anchor::Middle);
  }
  for (double v : xt.minor)
    cv.line(crisp(mapX(v)), bottom, crisp(mapX(v)), bottom + 2.5, kInk);
  cv.line(crisp(left), plotTop, crisp(left), crisp(bottom), kInk);
  cv.line(crisp(left), crisp(bottom), right, crisp(bottom), kInk);
  if (!c.xLabel.empty())
    cv.text((left + right) / 2, bottom + 37, c.xLabel, kLabel, kInk, Anchor::Middle);
  if (!c.yLabel.empty())
    cv.text(22, (plotTop + bottom) / 2, c.yLabel, kLabel, kInk, Anchor::Middle, false, true);

  // Series with error bars step aside from each other by a few pixels, so that bars at the same
  // x stay apart.
  auto whiskers = [](const Series &s) {
    return s.low.size() == s.y.size() && s.high.size() == s.y.size() && !s.y.empty() && (s.points || !s.line);
  };
  const auto dodged = std::count_if(c.series.begin(), c.series.end(), whiskers);
  int rank = 0;

  // Series: bands first, then lines, whiskers, points and labels on top.
  for (std::size_t k = 0; k < c.series.size(); ++k) {
    const Series &s = c.series[k];
    const Color col = s.color.value_or(seriesColor(static_cast<int>(k)));
    const double dodge = dodged > 1 && whiskers(s) ? 6 * (rank++ - (dodged - 1) / 2.0) : 0;
    auto px = [&](std::size_t i) { return mapX(s.x[i]) + dodge; };
    std::vector<std::size_t> idx;
    for (std::size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i)
      if (std::isfinite(s.x[i]) && std::isfinite(s.y[i]) && !(c.logX && s.x[i] <= 0))
        idx.push_back(i);
    std::sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return s.x[a] < s.x[b]; });
    const bool hasRange = s.low.size() == s.y.size() && s.high.size() == s.y.size();
    // Intervals only where both ends are numbers.
    std::vector<std::size_t> ranged;
    if (hasRange)
      std::copy_if(idx.begin(), idx.end(), std::back_inserter(ranged),
                   [&](std::size_t i) { return std::isfinite(s.low[i]) && std::isfinite(s.high[i]); });
    if (s.line && !s.points && ranged.size() > 1) {
      std::vector<Pt> band;
      band.reserve(2 * ranged.size());
      for (std::size_t i : ranged)
        band.push_back({px(i), mapY(s.high[i])});
      for (auto it = ranged.rbegin(); it != ranged.rend(); ++it)
        band.push_back({px(*it), mapY(s.low[*it])});
      cv.polygon(band, col, 0.18);
    }
    if (s.line && idx.size() > 1) {
      std::vector<Pt> pts;
      pts.reserve(idx.size());
      for (std::size_t i : idx)
        pts.push_back({px(i), mapY(s.y[i])});
      cv.polyline(pts, col, 2);
    }
    if (s.points || !s.line)
      for (std::size_t i : ranged) {
        const double x = px(i), lo = mapY(s.low[i]), hi = mapY(s.high[i]);
        cv.line(x, lo, x, hi, col, 1.5);
        cv.line(x - 4, lo, x + 4, lo, col, 1.5);
        cv.line(x - 4, hi, x + 4, hi, col, 1.5);
      }
    if (s.points)
      for (std::size_t i : idx)
        cv.circle(px(i), mapY(s.y[i]), i < s.size.size() ? radius(s.size[i]) : 4, col, kWhite, 1);
    // Point labels above and right of their point, or left/below where they would leave the plot.
    for (std::size_t i : idx)
      if (i < s.labels.size() && !s.labels[i].empty()) {
        const std::string label = truncated(s.labels[i], 24);
        const double x = px(i), y = mapY(s.y[i]);
        const double off = 0.7 * (s.points && i < s.size.size() ? radius(s.size[i]) : 4) + 4;
        const bool leftward = x + off + textWidth(label, kSmall) > right;
        const bool downward = y - off - kSmall < plotTop;
        cv.text(leftward ? x - off : x + off, downward ? y + off + kSmall : y - off, label, kSmall, mix(col, kInk, 0.5),
                leftward ? Anchor::End : Anchor::Start);
      }
  }

  // Legend.
  auto entry = [&](double x, double y, const LegendItem &it) {
    if (it.band)
      cv.rect(x, y - 6, 22, 12, mix(it.color, kWhite, 0.82));
    if (it.line)
      cv.line(x, y, x + 22, y, it.color, 2);
    if (it.points)
      cv.circle(x + 11, y, 4, it.color, kWhite, 1);
    cv.text(x + 28, y + 4, it.name, kTick, kInk);
  };
  auto sizeNote = [&](double x, double y) {
    cv.text(x, y, sizeTitle, kSmall, kMuted);
    const double r0 = radius(s0), r1 = radius(s1);
    cv.circle(x + 8, y + 14, r0, kMuted);
    cv.text(x + 8 + r0 + 4, y + 18, sizeLo, kSmall, kMuted);
    const double x2 = x + 8 + r0 + 10 + textWidth(sizeLo, kSmall) + r1;
    cv.circle(x2, y + 14, r1, kMuted);
    cv.text(x2 + r1 + 4, y + 18, sizeHi, kSmall, kMuted);
  };
  if (below) {
    double y = bottom + (c.xLabel.empty() ? 30 : 52);
    for (const auto &row : rows) {
      double x = left;
      for (std::size_t k : row) {
        entry(x, y, items[k]);
        x += 34 + textWidth(items[k].name, kTick);
      }
      y += rowH;
    }
    if (sized)
      sizeNote(left, y + 4);
  } else if (legendW > 0) {
    const double x = right + 16;
    double y = plotTop + 8;
    for (const auto &it : items) {
      entry(x, y, it);
      y += rowH;
    }
    if (sized)
      sizeNote(x, y + 8);
  }
  return cv;
}

// ---------------------------------------------------------------------------------------------
// Heat maps.

// A cell's number: counts whole, other values to two significant digits of the largest and at
// least two decimals below 10 (0.04 beside 1.13, not 0.0 beside 1.1).
std::string cellText(double v, bool integral, double extent) {
  if (integral || extent <= 0)
    return fixed(v, 0);
  const int digits = 1 - static_cast<int>(std::floor(std::log10(extent)));
  return fixed(v, std::clamp(std::max(extent < 10 ? 2 : 0, digits), 0, 6));
}

Canvas layout(const HeatMap &c, int width, int height) {
  Canvas cv;
  cv.width = width;
  cv.height = height;
  const double top = drawTitle(cv, c.title);
  const int rows = static_cast<int>(c.values.size());
  int cols = 0;
  for (const auto &r : c.values)
    cols = std::max(cols, static_cast<int>(r.size()));
  double lo = INFINITY, hi = -INFINITY;
  bool integral = true;
  for (const auto &r : c.values)
    for (double v : r)
      if (std::isfinite(v)) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
        integral = integral && v == std::round(v);
      }
  if (rows == 0 || cols == 0 || !(hi >= lo)) {
    noData(cv, top, "No data to plot");
    return cv;
  }
  // The colour scale: around 0 for signed values, from 0 (or below) up for magnitudes; a
  // spectrogram's log energies (numeric axes) span their own range.
  const bool numeric = !c.colValues.empty() || !c.rowValues.empty();
  if (c.signedValues) {
    hi = std::max(std::abs(lo), std::abs(hi));
    lo = -hi;
  } else if (!numeric) {
    lo = std::min(0.0, lo);
  }
  if (!(hi > lo))
    hi = lo + 1;
  const Ticks st = linearTicks(lo, hi, 5, true, true);
  const double sExtent = std::max(std::abs(lo), std::abs(hi));
  std::vector<std::string> scaleTexts;
  for (double v : st.major)
    scaleTexts.push_back(tickText(v, st.step, sExtent));

  const bool named = !numeric && (!c.rowLabels.empty() || !c.colLabels.empty());
  std::vector<std::string> rowTexts, colTexts;
  if (named) {
    for (int r = 0; r < rows; ++r)
      rowTexts.push_back(static_cast<std::size_t>(r) < c.rowLabels.size() ? truncated(c.rowLabels[r], 18)
                                                                          : std::to_string(r));
    for (int k = 0; k < cols; ++k)
      colTexts.push_back(static_cast<std::size_t>(k) < c.colLabels.size() ? truncated(c.colLabels[k], 18)
                                                                          : std::to_string(k));
  }
  // Pixel axes: ticks at nice whole indices of the pixels there are; numeric axes: at readable
  // values (laid out once more below, at the cells' final size).
  auto indexTicks = [](int count) {
    Ticks t = linearTicks(0, std::max(1, count - 1), std::max(2, std::min(6, count / 4)), true, true);
    std::vector<AxisTick> out;
    for (double v : t.major)
      if (v == std::round(v) && v <= count - 1)
        out.push_back({v + 0.5, fixed(v, 0)});
    return out;
  };
  auto ticksOf = [&](const std::vector<double> &values, int count, double pixelsPerCell) {
    return values.size() == static_cast<std::size_t>(count) ? valueTicks(values, pixelsPerCell, 28) : indexTicks(count);
  };
  std::vector<AxisTick> rt, ct;
  auto tickTexts = [](const std::vector<AxisTick> &ticks) {
    std::vector<std::string> texts;
    texts.reserve(ticks.size());
    for (const auto &t : ticks)
      texts.push_back(t.text);
    return texts;
  };
  if (!named) {
    rt = ticksOf(c.rowValues, rows, (height - top) / std::max(1, rows));
    ct = ticksOf(c.colValues, cols, static_cast<double>(width) / std::max(1, cols));
    rowTexts = tickTexts(rt);
    colTexts = tickTexts(ct);
  }

  const double scaleW = 14 + 6 + 6 + maxTextWidth(scaleTexts, kTick) + (c.scaleLabel.empty() ? 0 : 22);
  const double left = 10 + (c.yLabel.empty() ? 0 : 20) + maxTextWidth(rowTexts, kTick) + 8;
  const double right = width - 12 - scaleW - 18;
  double availW = right - left;
  const double colTextW = maxTextWidth(colTexts, kTick);
  // Column names lie flat when they fit their cells, else they turn and read upward.
  double bottomSpace = 10 + (c.xLabel.empty() ? 0 : 20) + 22;
  const double availH0 = height - top - 6 - bottomSpace;
  double cell = std::min(availW / cols, availH0 / rows);
  const bool turned = named && colTextW > cell - 4;
  if (turned) {
    bottomSpace += colTextW - 10;
    cell = std::min(availW / cols, (height - top - 6 - bottomSpace) / rows);
  }
  if (cell <= 0 || availW < 20) {
    noData(cv, top, "Too small to draw");
    return cv;
  }
  // Cells are square, or fill the plot when stretched (a spectrogram's frames are many and narrow).
  const double cw = c.stretch ? availW / cols : cell, ch = c.stretch ? availH0 / rows : cell;
  if (!named) {
    rt = ticksOf(c.rowValues, rows, ch);
    ct = ticksOf(c.colValues, cols, cw);
  }
  const double plotW = cw * cols, plotH = ch * rows;
  const double x0 = std::round(left + (availW - plotW) / 2), y0 = std::round(top + 6);
  // Where row r starts (its top edge): upward rows put row 0 at the bottom.
  auto rowTop = [&](double r) { return c.rowsUpward ? y0 + plotH - r * ch : y0 + r * ch; };

  // Cells; the values' colour from the map, `annotate` writes each value in its cell.
  auto colour = [&](double v) {
    if (c.signedValues)
      return colorOf(divergingColor(v / hi));
    return colorOf(sequentialColor((v - lo) / (hi - lo)));
  };
  // Numbers in every cell or in none: only when the widest fits.
  const double annotateSize = std::min(11.0, std::min(cw, ch) * 0.38);
  const double extent = std::max(std::abs(lo), std::abs(hi));
  bool numbers = c.annotate && annotateSize >= 7;
  for (const auto &r : c.values)
    for (double v : r)
      numbers = numbers && (!std::isfinite(v) || textWidth(cellText(v, integral, extent), annotateSize) <= cw - 2);
  for (int r = 0; r < rows; ++r)
    for (int k = 0; k < static_cast<int>(c.values[r].size()); ++k) {
      const double v = c.values[r][k];
      const Color col = std::isfinite(v) ? colour(v) : Color{200, 200, 200};
      // Whole-pixel edges, so neighbouring cells leave no seam.
      const double xa = std::round(x0 + k * cw), xb = std::round(x0 + (k + 1) * cw);
      const double ya = std::round(std::min(rowTop(r), rowTop(r + 1))),
                   yb = std::round(std::max(rowTop(r), rowTop(r + 1)));
      cv.rect(xa, ya, xb - xa, yb - ya, col);
      if (numbers && std::isfinite(v)) {
        const double lum = 0.299 * col.r + 0.587 * col.g + 0.114 * col.b;
        cv.text((xa + xb) / 2, (ya + yb) / 2 + annotateSize * 0.36, cellText(v, integral, extent), annotateSize,
                lum < 140 ? kWhite : kInk, Anchor::Middle);
      }
    }
  cv.rect(crisp(x0) - 1, crisp(y0) - 1, std::round(plotW) + 1, std::round(plotH) + 1, std::nullopt, kInk, 1);
  // The parts branches read, each named in its top-left corner on a dark tab.
  for (const auto &o : c.outlines) {
    const double xa = std::round(x0 + o.col0 * cw), xb = std::round(x0 + o.col1 * cw);
    const double ya = std::round(std::min(rowTop(o.row0), rowTop(o.row1))),
                 yb = std::round(std::max(rowTop(o.row0), rowTop(o.row1)));
    if (xb - xa < 3 || yb - ya < 3)
      continue;
    cv.rect(crisp(xa) + 1, crisp(ya) + 1, xb - xa - 2, yb - ya - 2, std::nullopt, kWhite, 1.5);
    const std::string text =
        truncated(o.label, static_cast<std::size_t>(std::max(2.0, (xb - xa - 10) / (kAdvance * kSmall))));
    if (yb - ya >= kSmall + 6 && !text.empty()) {
      cv.rect(xa + 2, ya + 2, textWidth(text, kSmall) + 6, kSmall + 4, kInk);
      cv.text(xa + 5, ya + 2 + kSmall, text, kSmall, kWhite);
    }
  }

  // Row and column names, or ticks.
  const double by = y0 + plotH;
  if (named) {
    for (int r = 0; r < rows; ++r)
      cv.text(x0 - 6, y0 + (r + 0.5) * cell + 4, rowTexts[r], kTick, kInk, Anchor::End);
    for (int k = 0; k < cols; ++k) {
      const double x = x0 + (k + 0.5) * cell;
      if (turned)
        cv.text(x + 4, by + 6, colTexts[k], kTick, kInk, Anchor::End, false, true);
      else
        cv.text(x, by + 16, colTexts[k], kTick, kInk, Anchor::Middle);
    }
  } else {
    for (const auto &t : rt) {
      const double y = crisp(rowTop(t.at));
      cv.line(x0 - 5, y, x0 - 1, y, kInk);
      cv.text(x0 - 8, y + 4, t.text, kTick, kInk, Anchor::End);
    }
    for (const auto &t : ct) {
      const double x = crisp(x0 + t.at * cw);
      cv.line(x, by, x, by + 4, kInk);
      cv.text(x, by + 17, t.text, kTick, kInk, Anchor::Middle);
    }
  }
  const double axisTextBottom = turned ? by + 6 + colTextW : by + 20;
  if (!c.xLabel.empty())
    cv.text(x0 + plotW / 2, axisTextBottom + 17, c.xLabel, kLabel, kInk, Anchor::Middle);
  if (!c.yLabel.empty()) {
    const double textLeft = x0 - 8 - maxTextWidth(rowTexts, kTick);
    cv.text(std::max(16.0, textLeft - 8), y0 + plotH / 2, c.yLabel, kLabel, kInk, Anchor::Middle, false, true);
  }

  // The colour bar with its numbers and title.
  const double bx = std::round(x0 + plotW + 18), barH = std::round(plotH);
  const int steps = std::max(2, static_cast<int>(barH));
  for (int i = 0; i < steps; ++i) {
    const double v = hi - (hi - lo) * (i + 0.5) / steps;
    const double ya = y0 + barH * i / steps, yb = y0 + barH * (i + 1) / steps;
    cv.rect(bx, std::round(ya), 14, std::max(1.0, std::round(yb) - std::round(ya)), colour(v));
  }
  cv.rect(crisp(bx) - 1, crisp(y0) - 1, 15, barH + 1, std::nullopt, kInk, 1);
  for (std::size_t k = 0; k < st.major.size(); ++k) {
    const double y = crisp(y0 + (hi - st.major[k]) / (hi - lo) * barH);
    cv.line(bx + 14, y, bx + 18, y, kInk);
    cv.text(bx + 21, y + 4, scaleTexts[k], kTick, kInk);
  }
  if (!c.scaleLabel.empty())
    cv.text(bx + 21 + maxTextWidth(scaleTexts, kTick) + 16, y0 + barH / 2,
            truncated(c.scaleLabel, static_cast<std::size_t>(std::max(4.0, barH / (kAdvance * kLabel)))), kLabel, kInk,
            Anchor::Middle, false, true);
  return cv;
}

// ---------------------------------------------------------------------------------------------
// Horizontal bars.

Canvas layout(const BarChart &c, int width, int height) {
  Canvas cv;
  cv.width = width;
  cv.height = height;
  const double top = drawTitle(cv, c.title);
  const std::size_t n = std::min(c.labels.size(), c.values.size());
  if (n == 0) {
    noData(cv, top, "No data to plot");
    return cv;
  }
  // A value that is not a number gets no bar, an interval that is not one no whisker.
  const bool range = c.low.size() >= n && c.high.size() >= n;
  auto finite = [&](std::size_t i) { return std::isfinite(c.values[i]); };
  auto whisker = [&](std::size_t i) { return range && std::isfinite(c.low[i]) && std::isfinite(c.high[i]); };
  double lo = 0, hi = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (finite(i)) {
      lo = std::min(lo, c.values[i]);
      hi = std::max(hi, c.values[i]);
    }
    if (whisker(i)) {
      lo = std::min(lo, c.low[i]);
      hi = std::max(hi, c.high[i]);
    }
  }
  const Ticks t = linearTicks(lo, hi, std::max(3, width / 110));
  const double extent = std::max(std::abs(t.lo), std::abs(t.hi));
  std::vector<std::string> labels, values;
  for (std::size_t i = 0; i < n; ++i) {
    labels.push_back(truncated(c.labels[i], 24));
    values.push_back(finite(i) ? general(c.values[i]) : "n/a");
  }
  const double left = 12 + maxTextWidth(labels, kTick) + 8;
  const double right = width - 16 - maxTextWidth(values, kSmall) - 6;
  const double bottom = height - 10 - (c.valueLabel.empty() ? 0 : 20) - 20;
  const double plotTop = top + 4;
  if (right - left < 40 || bottom - plotTop < 10) {
    noData(cv, top, "Too small to draw");
    return cv;
  }
  auto mapX = [&](double v) { return left + (v - t.lo) / (t.hi - t.lo) * (right - left); };
  for (double v : t.major) {
    const double x = crisp(mapX(v));
    cv.line(x, plotTop, x, bottom, kGrid);
    cv.line(x, bottom, x, bottom + 4, kInk);
    cv.text(x, bottom + 17, tickText(v, t.step, extent), kTick, kInk, Anchor::Middle);
  }
  const double band = (bottom - plotTop) / static_cast<double>(n);
  const double barH = std::min(28.0, band * 0.62);
  const Color col = seriesColor(0);
  for (std::size_t i = 0; i < n; ++i) {
    const double yc = plotTop + (i + 0.5) * band;
    const double v = finite(i) ? c.values[i] : 0;
    const double a = mapX(std::min(0.0, v)), b = mapX(std::max(0.0, v));
    if (finite(i))
      cv.rect(std::round(a), std::round(yc - barH / 2), std::max(1.0, std::round(b) - std::round(a)), std::round(barH),
              col);
    // The value right of everything in its row (bar, zero line, whisker): never over the labels.
    double end = std::max(mapX(v), mapX(0));
    if (whisker(i)) {
      const double l = mapX(c.low[i]), h = mapX(c.high[i]);
      cv.line(l, crisp(yc), h, crisp(yc), kInk, 1.5);
      cv.line(crisp(l), yc - barH / 3, crisp(l), yc + barH / 3, kInk, 1.5);
      cv.line(crisp(h), yc - barH / 3, crisp(h), yc + barH / 3, kInk, 1.5);
      end = std::max(end, h);
    }
    cv.text(end + 5, yc + 4, values[i], kSmall, kInk);
    cv.text(left - 8, yc + 4, labels[i], kTick, kInk, Anchor::End);
  }
  if (t.lo < 0 && t.hi > 0)
    cv.line(crisp(mapX(0)), plotTop, crisp(mapX(0)), bottom, kMuted);
  cv.line(crisp(left), crisp(bottom), right, crisp(bottom), kInk);
  cv.line(crisp(left), plotTop, crisp(left), crisp(bottom), kInk);
  if (!c.valueLabel.empty())
    cv.text((left + right) / 2, bottom + 37, c.valueLabel, kLabel, kInk, Anchor::Middle);
  return cv;
}

// ---------------------------------------------------------------------------------------------
// The graph.

Canvas layoutGraph(const Graph &graph, const Validation &validation, int maxWidth) {
  Canvas cv;
  const std::size_t n = graph.nodes.size();
  if (n == 0) {
    cv.width = std::max(200, std::min(maxWidth, 400));
    cv.height = 80;
    noData(cv, 10, "The graph has no nodes");
    return cv;
  }
  // Layers by the longest path from a node with no inputs (the data source); nodes on a cycle go
  // after the rest.
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < n; ++i)
    index[graph.nodes[i].id] = i;
  std::vector<std::vector<std::size_t>> out(n);
  std::vector<int> indegree(n, 0), layer(n, 0);
  std::set<std::pair<std::size_t, std::size_t>> links;
  for (const Edge &e : graph.edges) {
    const auto a = index.find(e.from.node), b = index.find(e.to.node);
    if (a == index.end() || b == index.end() || a->second == b->second)
      continue;
    if (links.insert({a->second, b->second}).second) {
      out[a->second].push_back(b->second);
      ++indegree[b->second];
    }
  }
  std::vector<std::size_t> ready;
  for (std::size_t i = 0; i < n; ++i)
    if (indegree[i] == 0)
      ready.push_back(i);
  std::vector<bool> placed(n, false);
  for (std::size_t k = 0; k < ready.size(); ++k) {
    const std::size_t i = ready[k];
    placed[i] = true;
    for (std::size_t j : out[i]) {
      layer[j] = std::max(layer[j], layer[i] + 1);
      if (--indegree[j] == 0)
        ready.push_back(j);
    }
  }
  int layers = 0;
  for (std::size_t i = 0; i < n; ++i)
    if (placed[i])
      layers = std::max(layers, layer[i] + 1);
  for (std::size_t i = 0; i < n; ++i)
    if (!placed[i])
      layer[i] = layers;
  layers = *std::max_element(layer.begin(), layer.end()) + 1;

  // Within a layer, nodes follow the mean position of what feeds them (fewer crossings).
  std::vector<std::vector<std::size_t>> byLayer(static_cast<std::size_t>(layers));
  for (std::size_t i = 0; i < n; ++i)
    byLayer[static_cast<std::size_t>(layer[i])].push_back(i);
  std::vector<double> slot(n, 0);
  for (auto &l : byLayer) {
    std::vector<double> key(n, 0);
    for (std::size_t i : l) {
      double sum = 0;
      int count = 0;
      for (const auto &[a, b] : links)
        if (b == i && layer[a] < layer[i]) {
          sum += slot[a];
          ++count;
        }
      key[i] = count ? sum / count : static_cast<double>(i) / static_cast<double>(n);
    }
    std::stable_sort(l.begin(), l.end(), [&](std::size_t a, std::size_t b) { return key[a] < key[b]; });
    for (std::size_t k = 0; k < l.size(); ++k)
      slot[l[k]] = (static_cast<double>(k) + 0.5) / static_cast<double>(l.size());
  }
  std::size_t widest = 0;
  for (const auto &l : byLayer)
    widest = std::max(widest, l.size());

  // Share groups: one colour each, named in a note below.
  std::map<std::string, Color> groupColor;
  std::map<std::string, std::vector<std::string>> groupMembers;
  for (const Node &node : graph.nodes)
    if (!node.share.empty())
      groupMembers[node.share].push_back(node.id);
  int g = 0;
  for (const auto &[name, members] : groupMembers)
    groupColor[name] = seriesColor(1 + g++);

  // Top to bottom unless the widest layer is wider than the chain is long and sideways fits better.
  constexpr double boxW = 168, boxH = 70, gapAcross = 22, gapAlong = 44, margin = 14;
  const double tbWidth = widest * (boxW + gapAcross) - gapAcross + 2 * margin;
  const double lrWidth = layers * (boxW + gapAlong) - gapAlong + 2 * margin;
  const bool sideways = tbWidth > maxWidth && lrWidth < tbWidth;
  const double spanAcross = widest * ((sideways ? boxH : boxW) + gapAcross) - gapAcross;
  std::vector<Pt> pos(n); // box top-left
  for (int L = 0; L < layers; ++L) {
    const auto &l = byLayer[static_cast<std::size_t>(L)];
    const double size = sideways ? boxH : boxW;
    const double span = l.size() * (size + gapAcross) - gapAcross;
    for (std::size_t k = 0; k < l.size(); ++k) {
      const double across = margin + (spanAcross - span) / 2 + k * (size + gapAcross);
      const double along = margin + L * ((sideways ? boxW : boxH) + gapAlong);
      pos[l[k]] = sideways ? Pt{along, across} : Pt{across, along};
    }
  }
  const double drawingW = sideways ? lrWidth : tbWidth;
  const double drawingH = sideways ? spanAcross + 2 * margin : layers * (boxH + gapAlong) - gapAlong + 2 * margin;
  const double noteH = groupMembers.empty() ? 0 : 8 + 18.0 * static_cast<double>(groupMembers.size());
  cv.width = static_cast<int>(std::ceil(drawingW));
  cv.height = static_cast<int>(std::ceil(drawingH + noteH));

  // Arrows, spread along the box edges where several leave or arrive.
  std::vector<std::vector<std::size_t>> ins(n), outs(n);
  for (const auto &[a, b] : links) {
    outs[a].push_back(b);
    ins[b].push_back(a);
  }
  auto across = [&](std::size_t i) { return sideways ? pos[i].y : pos[i].x; };
  for (std::size_t i = 0; i < n; ++i) {
    std::sort(outs[i].begin(), outs[i].end(), [&](std::size_t a, std::size_t b) { return across(a) < across(b); });
    std::sort(ins[i].begin(), ins[i].end(), [&](std::size_t a, std::size_t b) { return across(a) < across(b); });
  }
  auto spread = [](std::size_t k, std::size_t count, double size) {
    return size * (0.2 + 0.6 * (count == 1 ? 0.5 : static_cast<double>(k) / static_cast<double>(count - 1)));
  };
  for (const auto &[a, b] : links) {
    const std::size_t ka = static_cast<std::size_t>(std::find(outs[a].begin(), outs[a].end(), b) - outs[a].begin());
    const std::size_t kb = static_cast<std::size_t>(std::find(ins[b].begin(), ins[b].end(), a) - ins[b].begin());
    Pt from, to;
    if (sideways) {
      from = {pos[a].x + boxW, pos[a].y + spread(ka, outs[a].size(), boxH)};
      to = {pos[b].x, pos[b].y + spread(kb, ins[b].size(), boxH)};
    } else {
      from = {pos[a].x + spread(ka, outs[a].size(), boxW), pos[a].y + boxH};
      to = {pos[b].x + spread(kb, ins[b].size(), boxW), pos[b].y};
    }
    const bool back = sideways ? to.x <= from.x : to.y <= from.y; // a cycle's edge
    const double dx = to.x - from.x, dy = to.y - from.y, len = std::max(1.0, std::hypot(dx, dy));
    const double ux = dx / len, uy = dy / len;
    cv.line(from.x, from.y, to.x - ux * 7, to.y - uy * 7, back ? seriesColor(3) : kMuted, 1.4);
    cv.polygon({{to.x, to.y},
                {to.x - ux * 8 - uy * 4, to.y - uy * 8 + ux * 4},
                {to.x - ux * 8 + uy * 4, to.y - uy * 8 - ux * 4}},
               back ? seriesColor(3) : kMuted);
  }

  // Boxes: type, id, output shape, parameters.
  const std::size_t chars = static_cast<std::size_t>((boxW - 12) / (kAdvance * kTick));
  for (std::size_t i = 0; i < n; ++i) {
    const Node &node = graph.nodes[i];
    const NodeInfo *info = validation.info(node.id);
    const bool shared = !node.share.empty();
    const Color edge = shared ? groupColor[node.share] : info && !info->ok ? seriesColor(3) : Color{85, 85, 85};
    const Color fill = shared ? mix(edge, kWhite, 0.86) : Color{248, 248, 248};
    cv.rect(pos[i].x, pos[i].y, boxW, boxH, fill, edge, shared ? 2.5 : 1.2);
    const double cx = pos[i].x + boxW / 2;
    cv.text(cx, pos[i].y + 17, truncated(node.type, chars), kLabel, kInk, Anchor::Middle, true);
    cv.text(cx, pos[i].y + 33, truncated(node.id, chars), kTick, kInk, Anchor::Middle);
    std::string shape = "?";
    int64_t params = 0, own = 0;
    if (info) {
      shape.clear();
      // A Split's equal parts as "4 × [1,14,14]".
      std::vector<std::string> shapes;
      for (std::size_t p = 0; p < info->outputs.size(); ++p)
        shapes.push_back(outputShapeText(*info, p));
      if (shapes.size() > 1 && std::all_of(shapes.begin(), shapes.end(), [&](const auto &t) { return t == shapes[0]; }))
        shape = std::to_string(shapes.size()) + " \u00d7 " + shapes[0];
      else
        for (const auto &t : shapes)
          shape += (shape.empty() ? "" : ", ") + t;
      if (shape.empty())
        shape = "?";
      params = info->parameters;
      own = validation.sharing.nodes.count(node.id)
                ? validation.sharing.ownParameters(node.id, info->parameters, info->trunkParameters)
                : params;
    }
    cv.text(cx, pos[i].y + 48, truncated("out " + shape, chars), kSmall, kMuted, Anchor::Middle);
    // A later member of a share group holds none (or only its last layer) of what it runs; its
    // colour and the note below say whose.
    std::string paramText = !params        ? "no parameters"
                            : own == 0     ? "shares " + countText(params) + " parameters"
                            : own < params ? countText(params) + " parameters, " + countText(own) + " own"
                                           : countText(params) + " parameters";
    if (node.freeze)
      paramText += " · frozen";
    cv.text(cx, pos[i].y + 62, truncated(paramText, chars + 2), kSmall, kMuted, Anchor::Middle);
  }

  // What the colours mean.
  double y = drawingH + 12;
  for (const auto &[name, members] : groupMembers) {
    const Node *first = graph.find(members.front());
    const bool trunk = first && first->shareScope == "trunk";
    std::string note = "Share group " + name + ": ";
    for (std::size_t k = 0; k < members.size(); ++k)
      note += (k ? ", " : "") + members[k];
    note += trunk ? " use one trunk" : " use one set of weights";
    cv.rect(margin, y - 9, 14, 12, mix(groupColor[name], kWhite, 0.86), groupColor[name], 2);
    cv.text(margin + 22, y + 1,
            truncated(note, static_cast<std::size_t>((drawingW - margin - 30) / (kAdvance * kTick))), kTick, kInk);
    y += 18;
  }
  return cv;
}

} // namespace

Color seriesColor(int i) {
  static const Color colors[] = {{0x1f, 0x77, 0xb4}, {0xff, 0x7f, 0x0e}, {0x2c, 0xa0, 0x2c}, {0xd6, 0x27, 0x28},
                                 {0x94, 0x67, 0xbd}, {0x8c, 0x56, 0x4b}, {0xe3, 0x77, 0xc2}, {0x7f, 0x7f, 0x7f}};
  return colors[((i % 8) + 8) % 8];
}

Color roleColor(const std::string &role, int &other) {
  if (role == "graph")
    return {0xd0, 0x7a, 0x1f};
  if (role == "baseline")
    return seriesColor(3);
  static const int free[] = {0, 2, 4, 5, 6, 7};
  return seriesColor(free[other++ % 6]);
}

std::vector<AxisTick> valueTicks(const std::vector<double> &values, double pixelsPerCell, double minGap) {
  const int n = static_cast<int>(values.size());
  if (n == 0 || !(pixelsPerCell > 0))
    return {};
  // The position (in cells) of a value: between the centres of the cells it falls between, and
  // beyond the first and last centres along the nearest step, up to the cells' outer edges.
  auto at = [&](double v) {
    if (n == 1)
      return 0.5;
    int i = 0;
    while (i < n - 2 && v > values[static_cast<std::size_t>(i) + 1])
      ++i;
    const double a = values[static_cast<std::size_t>(i)], b = values[static_cast<std::size_t>(i) + 1];
    return i + 0.5 + (b > a ? (v - a) / (b - a) : 0);
  };
  auto valueAt = [&](double pos) { // the inverse at the two outer edges
    if (n == 1)
      return values[0];
    const bool first = pos < 1;
    const std::size_t i = first ? 0 : static_cast<std::size_t>(n - 2);
    const double step = values[i + 1] - values[i];
    return first ? values[0] - 0.5 * step : values[static_cast<std::size_t>(n - 1)] + 0.5 * step;
  };
  const double lo = valueAt(0), hi = valueAt(n);
  std::vector<AxisTick> out;
  if (!(hi > lo))
    return {{0.5 * n, general(values[0])}};
  const double pixels = pixelsPerCell * n;
  double worst = 0; // how far the values stray from evenly spaced, as a share of their range
  for (int i = 0; i < n; ++i)
    worst = std::max(worst, std::abs(values[static_cast<std::size_t>(i)] -
                                     (values[0] + (values.back() - values[0]) * i / std::max(1, n - 1))));
  if (worst <= 0.01 * (hi - lo)) {
    const Ticks t = linearTicks(lo, hi, std::clamp(static_cast<int>(pixels / (2 * minGap)), 2, 10), true, true);
    const double extent = std::max(std::abs(lo), std::abs(hi));
    for (double v : t.major)
      if (v >= lo && v <= hi)
        out.push_back({at(v), tickText(v, t.step, extent)});
    return out;
  }
  // Uneven: the roundest values in range first, each kept where it leaves room for its neighbours.
  std::vector<double> candidates;
  if (lo <= 0 && hi >= 0)
    candidates.push_back(0);
  const double magnitude = std::max(std::abs(lo), std::abs(hi));
  const int topPower = static_cast<int>(std::floor(std::log10(magnitude)));
  for (int m : {1, 5, 2, 3, 4, 6, 7, 8, 9})
    for (int e = topPower; e >= topPower - 3; --e)
      for (double sign : {1.0, -1.0}) {
        const double v = sign * m * std::pow(10.0, e);
        if (v >= lo && v <= hi)
          candidates.push_back(v);
      }
  std::vector<double> kept;
  for (double v : candidates) {
    const double p = at(v) * pixelsPerCell;
    if (std::all_of(kept.begin(), kept.end(), [&](double k) { return std::abs(at(k) * pixelsPerCell - p) >= minGap; }))
      kept.push_back(v);
  }
  std::sort(kept.begin(), kept.end());
  for (double v : kept)
    out.push_back({at(v), general(v)});
  return out;
}

HeatMap spectrogram(std::vector<std::vector<double>> values, const DataInfo::Audio &audio) {
  HeatMap h;
  h.values = std::move(values);
  h.xLabel = "Time (s)";
  h.yLabel = "Frequency (Hz)";
  h.scaleLabel = "Log mel energy";
  h.rowsUpward = true;
  h.stretch = true;
  const std::size_t rows = h.values.size(), cols = rows ? h.values[0].size() : 0;
  if (audio.bandHz.size() == rows)
    h.rowValues = audio.bandHz;
  // Frame f is centred on f × hop (the STFT pads half a window at each end).
  for (std::size_t f = 0; f < cols && audio.hopSeconds > 0; ++f)
    h.colValues.push_back(static_cast<double>(f) * audio.hopSeconds);
  return h;
}

std::string toSvg(const XYChart &c, int width, int height) {
  return svgOf(layout(c, width, height));
}
std::string toSvg(const HeatMap &c, int width, int height) {
  return svgOf(layout(c, width, height));
}
std::string toSvg(const BarChart &c, int width, int height) {
  return svgOf(layout(c, width, height));
}

void writePng(const XYChart &c, const std::string &path, int width, int height) {
  rasterise(layout(c, width, height), path);
}
void writePng(const HeatMap &c, const std::string &path, int width, int height) {
  rasterise(layout(c, width, height), path);
}
void writePng(const BarChart &c, const std::string &path, int width, int height) {
  rasterise(layout(c, width, height), path);
}

std::string graphSvg(const Graph &graph, const Validation &validation, int maxWidth) {
  const Canvas cv = layoutGraph(graph, validation, maxWidth);
  return svgOf(cv, cv.width > maxWidth && maxWidth > 0 ? static_cast<double>(maxWidth) / cv.width : 1.0);
}

} // namespace particle::chart
