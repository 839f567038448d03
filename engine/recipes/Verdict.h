#pragma once
// Whether one model beats another or the difference is within noise: spreads over seeds, a paired
// t-test over seeds, McNemar's exact test on the same samples and Holm's adjustment over a family
// of comparisons (docs/SEARCH.md "How a verdict is reached"). No tensors: the search, the claims
// lab, the learning curves and the reports share it.

#include "base/Json.h"

#include <cstdint>
#include <string>
#include <vector>

namespace particle {

struct Spread {               // of one quantity over seeds
  int n = 0;                  // values
  double mean = 0, sd = 0;    // sd: sample standard deviation (n − 1), 0 when n < 2
  std::vector<double> values; // in seed order
};
Spread spreadOf(const std::vector<double> &values);
Json spreadJson(const Spread &s); // {"n","mean","sd","values"}
Spread spreadFromJson(const Json &j, const std::string &file, const std::string &where);

struct Comparison { // a against b
  std::string a, b; // names
  // "paired t-test over seeds", "sign test over seeds" (every seed gave the same difference),
  // "McNemar exact", "exact" (no noise: counts)
  std::string test;
  int n = 0;                // pairs (seeds), or discordant samples for McNemar
  double difference = 0;    // mean of a − b, in the units given (accuracies as fractions 0–1)
  double low = 0, high = 0; // 1 − alpha interval of the difference (both = difference when n < 2)
  double p = 1;             // two-sided p (after Holm's adjustment when adjusted)
  std::string verdict;      // "better", "worse", "within noise", "too few seeds" (n < 2)
  std::string sentence;     // one plain sentence a user reads, with the figures
};

// Paired over seeds: a[i] and b[i] come from seed i (equal lengths, else Error(Invalid)). alpha
// two-sided. The sentence reads the values as fractions and speaks of percentage points.
Comparison pairedComparison(const std::string &a, const std::vector<double> &av, const std::string &b,
                            const std::vector<double> &bv, double alpha = 0.05);
// Same validation/test samples: per-sample correctness of a and b (1 correct, 0 wrong), equal
// lengths and at least one sample, else Error(Invalid).
Comparison mcnemarComparison(const std::string &a, const std::vector<uint8_t> &aCorrect, const std::string &b,
                             const std::vector<uint8_t> &bCorrect, double alpha = 0.05);
// Holm–Bonferroni over a family of comparisons (adjusts p, the verdicts and the sentences in
// place). Comparisons with too few seeds test nothing and do not count in the family.
void holmAdjust(std::vector<Comparison *> family, double alpha = 0.05);

Json comparisonJson(const Comparison &c); // {"a","b","test","n","difference","low","high","p","verdict","sentence"}
// Error(File) naming the file, `where` and the field.
Comparison comparisonFromJson(const Json &j, const std::string &file, const std::string &where);

// The distributions behind the tests, exposed for their tests against printed tables.
double regularizedIncompleteBeta(double a, double b, double x); // I_x(a, b)
double studentTwoSidedP(double t, double df);                   // P(|T| ≥ |t|)
double studentQuantile(double probability, double df);          // t with P(T ≤ t) = probability
double binomialTwoSidedP(int successes, int trials);            // exact, p = 1/2

} // namespace particle
