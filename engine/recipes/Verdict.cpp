#include "recipes/Verdict.h"

#include "base/JsonFields.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <numeric>

namespace particle {

namespace {

constexpr const char *kPairedTest = "paired t-test over seeds";
constexpr const char *kSignTest = "sign test over seeds";
constexpr const char *kMcNemarTest = "McNemar exact";
constexpr const char *kTooFewSeeds = "too few seeds";

// Lentz's continued fraction for the incomplete beta (converges fast for x < (a + 1) / (a + b + 2)).
double betaContinuedFraction(double a, double b, double x) {
  constexpr double kTiny = 1e-300, kEpsilon = 1e-15;
  double c = 1, d = 1 - (a + b) * x / (a + 1);
  if (std::fabs(d) < kTiny)
    d = kTiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= 1000; ++m) {
    const double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    d = std::fabs(d) < kTiny ? 1 / kTiny : 1 / d;
    c = 1 + aa / c;
    if (std::fabs(c) < kTiny)
      c = kTiny;
    h *= d * c;
    aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    d = std::fabs(d) < kTiny ? 1 / kTiny : 1 / d;
    c = 1 + aa / c;
    if (std::fabs(c) < kTiny)
      c = kTiny;
    const double step = d * c;
    h *= step;
    if (std::fabs(step - 1) < kEpsilon)
      break;
  }
  return h;
}

// z with P(|Z| ≥ z) = twoSided, by bisection on erfc (monotone, so 200 halvings reach double precision).
double normalTwoSidedQuantile(double twoSided) {
  double lo = 0, hi = 40;
  for (int i = 0; i < 200; ++i) {
    const double mid = (lo + hi) / 2;
    (std::erfc(mid / std::sqrt(2.0)) > twoSided ? lo : hi) = mid;
  }
  return (lo + hi) / 2;
}

std::string format(const char *pattern, double x) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, pattern, x);
  return buffer;
}

// A fraction as percentage points with one decimal ("2.1", "-0.5"; never "-0.0").
std::string points(double fraction) {
  const std::string s = format("%.1f", fraction * 100);
  return s == "-0.0" ? "0.0" : s;
}

// Two significant digits, or three where two would round across alpha (0.0496 is not "0.05").
std::string pText(double p, double alpha) {
  if (p < 0.001)
    return "p < 0.001";
  std::string s = format("%.2g", p);
  if ((std::stod(s) < alpha) != (p < alpha))
    s = format("%.3g", p);
  return "p = " + s;
}

[[noreturn]] void notANumber(const std::string &a, const std::string &b, std::size_t seed, const std::string &which) {
  throw Error(ErrorKind::Invalid, "comparing " + a + " with " + b + ": seed " + std::to_string(seed + 1) + " of " +
                                      which + " is not a number");
}

std::string verdictOf(double difference, double p, double alpha) {
  if (p < alpha && difference != 0)
    return difference > 0 ? "better" : "worse";
  return "within noise";
}

// The sentence from the fields; `rawP` and `family` say what Holm's adjustment started from.
std::string sentenceOf(const Comparison &c, double alpha, double rawP = -1, int family = 1) {
  if (c.verdict == kTooFewSeeds) {
    if (c.n == 0)
      return c.a + " and " + c.b + " have no seeds to compare: too few seeds";
    return c.a +
           (c.difference > 0   ? " leads "
            : c.difference < 0 ? " trails "
                               : " ties with ") +
           c.b + (c.difference != 0 ? " by " + points(std::fabs(c.difference)) + " points" : std::string()) +
           " on one seed: too few seeds to tell a difference from noise (train at least 2)";
  }
  std::string s = c.a;
  if (points(c.difference) == "0.0")
    s += " ties with " + c.b;
  else
    s += (c.difference > 0 ? " leads " : " trails ") + c.b + " by " + points(std::fabs(c.difference)) + " points";
  s += " (";
  if (c.test == kSignTest)
    s += "the same on every seed; sign test over " + std::to_string(c.n) + " seeds";
  else {
    s += format("%g", 100 * (1 - alpha)) + " % CI " + points(c.low) + " to " + points(c.high) + "; ";
    if (c.test == kMcNemarTest)
      s += "McNemar exact test, " + std::to_string(c.n) + " samples where only one is right";
    else
      s += "paired t-test over " + std::to_string(c.n) + " seeds";
  }
  if (rawP >= 0 && family > 1)
    s += ", " + pText(rawP, alpha) + ", Holm-adjusted " + pText(c.p, alpha) + " over " + std::to_string(family) +
         " comparisons";
  else
    s += ", " + pText(c.p, alpha);
  s += "): ";
  if (c.verdict == "better")
    s += "significant, " + c.a + " is better";
  else if (c.verdict == "worse")
    s += "significant, " + c.a + " is worse";
  else
    s += "within noise";
  return s;
}

} // namespace

// ---- distributions -----------------------------------------------------------------------------

double regularizedIncompleteBeta(double a, double b, double x) {
  if (x <= 0)
    return 0;
  if (x >= 1)
    return 1;
  const double front =
      std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x));
  if (x < (a + 1) / (a + b + 2))
    return front * betaContinuedFraction(a, b, x) / a;
  return 1 - front * betaContinuedFraction(b, a, 1 - x) / b;
}

double studentTwoSidedP(double t, double df) {
  if (std::isinf(t))
    return 0;
  return regularizedIncompleteBeta(df / 2, 0.5, df / (df + t * t));
}

double studentQuantile(double probability, double df) {
  if (probability == 0.5)
    return 0;
  const double twoSided = 2 * std::min(probability, 1 - probability);
  double lo = 0, hi = 1;
  while (studentTwoSidedP(hi, df) > twoSided && hi < 1e12)
    hi *= 2;
  for (int i = 0; i < 200; ++i) {
    const double mid = (lo + hi) / 2;
    (studentTwoSidedP(mid, df) > twoSided ? lo : hi) = mid;
  }
  const double t = (lo + hi) / 2;
  return probability > 0.5 ? t : -t;
}

double binomialTwoSidedP(int successes, int trials) {
  const int k = std::min(successes, trials - successes);
  if (trials <= 0 || 2 * k == trials)
    return 1;
  // P(X ≤ k) for X ~ Binomial(trials, 1/2) is I_{1/2}(trials − k, k + 1).
  return std::min(1.0, 2 * regularizedIncompleteBeta(trials - k, k + 1, 0.5));
}

// ---- spreads -----------------------------------------------------------------------------------

Spread spreadOf(const std::vector<double> &values) {
  Spread s;
  s.values = values;
  s.n = static_cast<int>(values.size());
  if (s.n == 0)
    return s;
  s.mean = std::accumulate(values.begin(), values.end(), 0.0) / s.n;
  if (s.n >= 2) {
    double squares = 0;
    for (double v : values)
      squares += (v - s.mean) * (v - s.mean);
    s.sd = std::sqrt(squares / (s.n - 1));
  }
  return s;
}

Json spreadJson(const Spread &s) {
  return {{"n", s.n}, {"mean", s.mean}, {"sd", s.sd}, {"values", s.values}};
}

Spread spreadFromJson(const Json &j, const std::string &file, const std::string &where) {
  const JsonFields f(j, file, where);
  Spread s;
  s.n = static_cast<int>(f.integer("n", std::nullopt, 0, INT_MAX));
  s.mean = f.number("mean");
  s.sd = f.number("sd");
  const Json &values = f.array("values");
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!values[i].is_number())
      f.fail("values[" + std::to_string(i) + "]", "must be a number");
    s.values.push_back(values[i].get<double>());
  }
  if (s.values.size() != static_cast<std::size_t>(s.n))
    f.fail("n", "is " + std::to_string(s.n) + " but values has " + std::to_string(s.values.size()));
  return s;
}

// ---- comparisons -------------------------------------------------------------------------------

Comparison pairedComparison(const std::string &a, const std::vector<double> &av, const std::string &b,
                            const std::vector<double> &bv, double alpha) {
  if (av.size() != bv.size())
    throw Error(ErrorKind::Invalid, "comparing " + a + " with " + b + ": " + std::to_string(av.size()) +
                                        " seeds against " + std::to_string(bv.size()) +
                                        " (a paired test needs one value of each per seed)");
  std::vector<double> d;
  for (std::size_t i = 0; i < av.size(); ++i) {
    if (!std::isfinite(av[i]) || !std::isfinite(bv[i]))
      notANumber(a, b, i, std::isfinite(av[i]) ? b : a);
    d.push_back(av[i] - bv[i]);
  }
  const Spread s = spreadOf(d);
  Comparison c;
  c.a = a;
  c.b = b;
  c.test = kPairedTest;
  c.n = s.n;
  c.difference = s.mean;
  c.low = c.high = s.mean;
  if (s.n < 2) { // one seed says nothing about the noise: no interval, no p
    c.verdict = kTooFewSeeds;
    c.sentence = sentenceOf(c, alpha);
    return c;
  }
  double largest = 0;
  for (double x : d)
    largest = std::max(largest, std::fabs(x));
  if (s.sd <= 1e-9 * std::max(1.0, largest)) {
    // Every seed gave the same difference: t is d/0 (or 0/0) and says nothing honest. Seeds that
    // agree exactly usually mean a small validation set's accuracy steps, not an absence of
    // noise, so only the signs are used: the exact sign test (p = 2 · 0.5^n for a consistent
    // lead, 1 for a tie on every seed).
    c.test = kSignTest;
    c.p = s.mean == 0 ? 1.0 : binomialTwoSidedP(0, s.n);
  } else {
    const double se = s.sd / std::sqrt(double(s.n));
    const double df = s.n - 1;
    c.p = studentTwoSidedP(s.mean / se, df);
    const double t = studentQuantile(1 - alpha / 2, df);
    c.low = s.mean - t * se;
    c.high = s.mean + t * se;
  }
  c.verdict = verdictOf(c.difference, c.p, alpha);
  c.sentence = sentenceOf(c, alpha);
  return c;
}

Comparison mcnemarComparison(const std::string &a, const std::vector<uint8_t> &aCorrect, const std::string &b,
                             const std::vector<uint8_t> &bCorrect, double alpha) {
  if (aCorrect.size() != bCorrect.size() || aCorrect.empty())
    throw Error(ErrorKind::Invalid,
                "comparing " + a + " with " + b + " on the same samples: " + std::to_string(aCorrect.size()) +
                    " results against " + std::to_string(bCorrect.size()) + " (McNemar needs equal, non-empty sets)");
  int onlyA = 0, onlyB = 0;
  for (std::size_t i = 0; i < aCorrect.size(); ++i) {
    onlyA += aCorrect[i] && !bCorrect[i];
    onlyB += !aCorrect[i] && bCorrect[i];
  }
  const double total = double(aCorrect.size());
  Comparison c;
  c.a = a;
  c.b = b;
  c.test = kMcNemarTest;
  c.n = onlyA + onlyB;
  c.difference = (onlyA - onlyB) / total;
  c.p = binomialTwoSidedP(onlyA, c.n);
  // Agresti & Min (2005): a Wald interval after adding 1/2 to each of the four cells, which keeps
  // its coverage near the nominal level even with few discordant samples (the plain Wald interval
  // collapses to a point when none are).
  const double n2 = total + 2, pA = (onlyA + 0.5) / n2, pB = (onlyB + 0.5) / n2, shifted = pA - pB;
  const double half = normalTwoSidedQuantile(alpha) * std::sqrt((pA + pB - shifted * shifted) / n2);
  c.low = std::max(-1.0, shifted - half);
  c.high = std::min(1.0, shifted + half);
  c.verdict = verdictOf(c.difference, c.p, alpha);
  c.sentence = sentenceOf(c, alpha);
  return c;
}

void holmAdjust(std::vector<Comparison *> family, double alpha) {
  family.erase(std::remove_if(family.begin(), family.end(),
                              [](const Comparison *c) { return !c || c->verdict == kTooFewSeeds; }),
               family.end());
  std::stable_sort(family.begin(), family.end(), [](const Comparison *x, const Comparison *y) { return x->p < y->p; });
  const int m = static_cast<int>(family.size());
  double running = 0; // adjusted p-values never decrease down the sorted list
  for (int i = 0; i < m; ++i) {
    Comparison &c = *family[i];
    const double raw = c.p;
    running = std::max(running, std::min(1.0, (m - i) * raw));
    c.p = running;
    c.verdict = verdictOf(c.difference, c.p, alpha);
    c.sentence = sentenceOf(c, alpha, raw, m);
  }
}

Json comparisonJson(const Comparison &c) {
  return {{"a", c.a},
          {"b", c.b},
          {"test", c.test},
          {"n", c.n},
          {"difference", c.difference},
          {"low", c.low},
          {"high", c.high},
          {"p", c.p},
          {"verdict", c.verdict},
          {"sentence", c.sentence}};
}

Comparison comparisonFromJson(const Json &j, const std::string &file, const std::string &where) {
  const JsonFields f(j, file, where);
  Comparison c;
  c.a = f.string("a");
  c.b = f.string("b");
  c.test = f.string("test");
  c.n = static_cast<int>(f.integer("n", std::nullopt, 0, INT_MAX));
  c.difference = f.number("difference");
  c.low = f.number("low");
  c.high = f.number("high");
  c.p = f.number("p");
  if (!(c.p >= 0 && c.p <= 1))
    f.fail("p", "is " + format("%g", c.p) + ", not a probability between 0 and 1");
  c.verdict = f.string("verdict");
  if (c.verdict != "better" && c.verdict != "worse" && c.verdict != "within noise" && c.verdict != kTooFewSeeds)
    f.fail("verdict", "is \"" + c.verdict + "\", not one of better, worse, within noise, too few seeds");
  c.sentence = f.string("sentence");
  return c;
}

} // namespace particle
