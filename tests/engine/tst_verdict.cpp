// The verdict logic on constructed cases whose answers are known: the distributions against
// printed tables, a clear win, a tie within noise, a clear loss, too few seeds, McNemar on the same
// samples, Holm's adjustment flipping a borderline verdict, and the JSON the reports read back.

#include "recipes/Verdict.h"

#include <QtTest>

using namespace particle;

class TestVerdict : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void distributionsMatchPrintedTables();
  void spreadIsTheSampleStandardDeviation();
  void aClearWinIsBetter();
  void aTieIsWithinNoise();
  void aClearLossIsWorse();
  void oneSeedIsTooFew();
  void identicalDifferencesFallBackToTheSignTest();
  void unpairedValuesAreRefused();
  void mcnemarFindsAClearWin();
  void mcnemarCallsATieWithinNoise();
  void holmFlipsABorderlineVerdict();
  void holmKeepsAClearVerdict();
  void jsonRoundTrips();
  void aBadFieldIsNamed();
};

void TestVerdict::distributionsMatchPrintedTables() {
  // Student's t table: t = 2.776 at 4 df is the two-sided 5 % point; 4.303 at 2 df; 12.706 at 1.
  QVERIFY(std::fabs(studentTwoSidedP(2.776, 4) - 0.05) < 2e-4);
  QVERIFY(std::fabs(studentQuantile(0.975, 2) - 4.303) < 1e-3);
  QVERIFY(std::fabs(studentQuantile(0.975, 4) - 2.776) < 1e-3);
  QVERIFY(std::fabs(studentQuantile(0.975, 1) - 12.706) < 1e-3);
  QVERIFY(std::fabs(studentQuantile(0.995, 10) - 3.169) < 1e-3);
  QVERIFY(std::fabs(studentQuantile(0.025, 2) + 4.303) < 1e-3);
  QCOMPARE(studentTwoSidedP(0, 3), 1.0);
  // I_x(a, a) at x = 1/2 is 1/2 by symmetry; I_x(1, 1) = x.
  QVERIFY(std::fabs(regularizedIncompleteBeta(3.5, 3.5, 0.5) - 0.5) < 1e-12);
  QVERIFY(std::fabs(regularizedIncompleteBeta(1, 1, 0.3) - 0.3) < 1e-12);
  // Exact binomial at p = 1/2: 0 of 5 is 2 / 32; 1 of 10 is 2 · 11 / 1024.
  QVERIFY(std::fabs(binomialTwoSidedP(0, 5) - 0.0625) < 1e-12);
  QVERIFY(std::fabs(binomialTwoSidedP(1, 10) - 22.0 / 1024) < 1e-12);
  QVERIFY(std::fabs(binomialTwoSidedP(9, 10) - 22.0 / 1024) < 1e-12);
  QCOMPARE(binomialTwoSidedP(5, 10), 1.0);
  QCOMPARE(binomialTwoSidedP(0, 0), 1.0);
}

void TestVerdict::spreadIsTheSampleStandardDeviation() {
  const Spread s = spreadOf({2, 4, 4, 4, 5, 5, 7, 9});
  QCOMPARE(s.n, 8);
  QCOMPARE(s.mean, 5.0);
  QVERIFY(std::fabs(s.sd - std::sqrt(32.0 / 7)) < 1e-12);
  QCOMPARE(spreadOf({0.7}).sd, 0.0);
  QCOMPARE(spreadOf({}).n, 0);
}

void TestVerdict::aClearWinIsBetter() {
  const Comparison c =
      pairedComparison("own", {0.80, 0.82, 0.81, 0.83, 0.80}, "monolithic-w1", {0.70, 0.71, 0.72, 0.70, 0.71});
  QCOMPARE(c.verdict, std::string("better"));
  QCOMPARE(c.test, std::string("paired t-test over seeds"));
  QCOMPARE(c.n, 5);
  QVERIFY(std::fabs(c.difference - 0.104) < 1e-9);
  QVERIFY(c.p < 0.001);
  QVERIFY(c.low > 0 && c.high > c.low);
  QVERIFY2(c.sentence.find("own leads monolithic-w1 by 10.4 points (95 % CI") == 0, c.sentence.c_str());
  QVERIFY2(c.sentence.find("paired t-test over 5 seeds, p < 0.001): significant, own is better") != std::string::npos,
           c.sentence.c_str());
}

void TestVerdict::aTieIsWithinNoise() {
  // Differences +0.01, +0.03, −0.02: mean 0.0067, sd 0.0252, t = 0.46 at 2 df.
  const Comparison c = pairedComparison("own", {0.60, 0.62, 0.58}, "monolithic-w1", {0.59, 0.59, 0.60});
  QCOMPARE(c.verdict, std::string("within noise"));
  QVERIFY(c.p > 0.5);
  QVERIFY(c.low < 0 && c.high > 0);
  // The interval is mean ± 4.303 · sd / √3.
  const double half = 4.303 * spreadOf({0.01, 0.03, -0.02}).sd / std::sqrt(3.0);
  QVERIFY(std::fabs((c.high - c.low) / 2 - half) < 1e-4);
  QVERIFY2(c.sentence.find("paired t-test over 3 seeds, p = 0.") != std::string::npos, c.sentence.c_str());
  const std::string end = "): within noise";
  QVERIFY2(c.sentence.size() > end.size() && c.sentence.compare(c.sentence.size() - end.size(), end.size(), end) == 0,
           c.sentence.c_str());
}

void TestVerdict::aClearLossIsWorse() {
  const Comparison c =
      pairedComparison("own", {0.70, 0.71, 0.72, 0.70, 0.71}, "monolithic-w1", {0.80, 0.82, 0.81, 0.83, 0.80});
  QCOMPARE(c.verdict, std::string("worse"));
  QVERIFY(c.p < 0.001);
  QVERIFY(c.high < 0);
  QVERIFY2(c.sentence.find("own trails monolithic-w1 by 10.4 points") == 0, c.sentence.c_str());
  QVERIFY2(c.sentence.find("significant, own is worse") != std::string::npos, c.sentence.c_str());
}

void TestVerdict::oneSeedIsTooFew() {
  const Comparison one = pairedComparison("own", {0.62}, "monolithic-w1", {0.60});
  QCOMPARE(one.verdict, std::string("too few seeds"));
  QCOMPARE(one.n, 1);
  QCOMPARE(one.p, 1.0);
  QVERIFY(std::fabs(one.difference - 0.02) < 1e-12);
  QCOMPARE(one.low, one.difference);
  QCOMPARE(one.high, one.difference);
  QVERIFY2(one.sentence.find("own leads monolithic-w1 by 2.0 points on one seed: too few seeds") == 0,
           one.sentence.c_str());
  const Comparison none = pairedComparison("own", {}, "monolithic-w1", {});
  QCOMPARE(none.verdict, std::string("too few seeds"));
  QCOMPARE(none.n, 0);
}

void TestVerdict::identicalDifferencesFallBackToTheSignTest() {
  // Three seeds, each 10 points ahead: t would be d / 0. The sign test gives 2 · 0.5³ = 0.25.
  const Comparison three = pairedComparison("own", {0.6, 0.7, 0.8}, "base", {0.5, 0.6, 0.7});
  QCOMPARE(three.test, std::string("sign test over seeds"));
  QCOMPARE(three.p, 0.25);
  QCOMPARE(three.verdict, std::string("within noise"));
  QVERIFY2(three.sentence.find("the same on every seed; sign test over 3 seeds, p = 0.25") != std::string::npos,
           three.sentence.c_str());
  // Six seeds all ahead by the same amount: 2 / 64 < 0.05.
  const Comparison six =
      pairedComparison("own", {0.6, 0.6, 0.6, 0.6, 0.6, 0.6}, "base", {0.5, 0.5, 0.5, 0.5, 0.5, 0.5});
  QCOMPARE(six.p, 2.0 / 64);
  QCOMPARE(six.verdict, std::string("better"));
  // The same value on every seed for both: a tie, p = 1.
  const Comparison tie = pairedComparison("own", {0.6, 0.6}, "base", {0.6, 0.6});
  QCOMPARE(tie.p, 1.0);
  QCOMPARE(tie.verdict, std::string("within noise"));
  QVERIFY2(tie.sentence.find("own ties with base") == 0, tie.sentence.c_str());
}

void TestVerdict::unpairedValuesAreRefused() {
  try {
    pairedComparison("own", {0.6, 0.7}, "base", {0.5});
    QFAIL("no error");
  } catch (const Error &e) {
    QCOMPARE(e.kind(), ErrorKind::Invalid);
    QVERIFY2(std::string(e.what()).find("own with base: 2 seeds against 1") != std::string::npos, e.what());
  }
  QVERIFY_THROWS_EXCEPTION(Error, pairedComparison("own", {0.6, NAN}, "base", {0.5, 0.5}));
  QVERIFY_THROWS_EXCEPTION(Error, mcnemarComparison("own", {1, 0}, "base", {1}));
  QVERIFY_THROWS_EXCEPTION(Error, mcnemarComparison("own", {}, "base", {}));
}

namespace {
// n samples: `both` right for both, `onlyA` right only for a, `onlyB` only for b, the rest wrong for both.
void outcomes(int n, int both, int onlyA, int onlyB, std::vector<uint8_t> &a, std::vector<uint8_t> &b) {
  a.assign(n, 0);
  b.assign(n, 0);
  int i = 0;
  for (int k = 0; k < both; ++k, ++i)
    a[i] = b[i] = 1;
  for (int k = 0; k < onlyA; ++k, ++i)
    a[i] = 1;
  for (int k = 0; k < onlyB; ++k, ++i)
    b[i] = 1;
}
} // namespace

void TestVerdict::mcnemarFindsAClearWin() {
  std::vector<uint8_t> a, b;
  outcomes(200, 120, 30, 5, a, b);
  const Comparison c = mcnemarComparison("own", a, "base", b);
  QCOMPARE(c.test, std::string("McNemar exact"));
  QCOMPARE(c.n, 35);
  QVERIFY(std::fabs(c.difference - 25.0 / 200) < 1e-12);
  QVERIFY(std::fabs(c.p - binomialTwoSidedP(5, 35)) < 1e-15);
  QVERIFY(c.p < 1e-4);
  QCOMPARE(c.verdict, std::string("better"));
  QVERIFY(c.low > 0 && c.high > c.difference);
  QVERIFY2(c.sentence.find("McNemar exact test, 35 samples where only one is right, p < 0.001") != std::string::npos,
           c.sentence.c_str());
}

void TestVerdict::mcnemarCallsATieWithinNoise() {
  std::vector<uint8_t> a, b;
  outcomes(146, 80, 10, 12, a, b);
  const Comparison c = mcnemarComparison("own", a, "base", b);
  QCOMPARE(c.n, 22);
  QVERIFY(c.difference < 0);
  QVERIFY(c.p > 0.5);
  QCOMPARE(c.verdict, std::string("within noise"));
  QVERIFY(c.low < 0 && c.high > 0);
  // No discordant samples: p = 1 and, unlike a plain Wald interval, a non-degenerate interval.
  outcomes(50, 40, 0, 0, a, b);
  const Comparison same = mcnemarComparison("own", a, "base", b);
  QCOMPARE(same.p, 1.0);
  QCOMPARE(same.verdict, std::string("within noise"));
  QVERIFY(same.low < 0 && same.high > 0);
}

namespace {
Comparison lead(const std::string &a, double p) {
  Comparison c;
  c.a = a;
  c.b = "base";
  c.test = "paired t-test over seeds";
  c.n = 5;
  c.difference = 0.03;
  c.low = 0.001;
  c.high = 0.059;
  c.p = p;
  c.verdict = "better";
  return c;
}
} // namespace

void TestVerdict::holmFlipsABorderlineVerdict() {
  // 0.03 and 0.04 each pass at 5 %, but not as a family of two: 2 · 0.03 = 0.06 ≥ 0.05, and the
  // larger one inherits that adjusted value.
  Comparison x = lead("x", 0.03), y = lead("y", 0.04);
  Comparison few;
  few.verdict = "too few seeds";
  few.n = 1;
  holmAdjust({&y, &x, &few, nullptr});
  QCOMPARE(x.verdict, std::string("within noise"));
  QCOMPARE(y.verdict, std::string("within noise"));
  QVERIFY(std::fabs(x.p - 0.06) < 1e-12);
  QVERIFY(std::fabs(y.p - 0.06) < 1e-12);
  QCOMPARE(few.p, 1.0); // not tested, not counted in the family
  QVERIFY2(x.sentence.find("p = 0.03, Holm-adjusted p = 0.06 over 2 comparisons): within noise") != std::string::npos,
           x.sentence.c_str());
}

void TestVerdict::holmKeepsAClearVerdict() {
  // 0.01 · 2 = 0.02 passes; then 0.04 · 1 = 0.04 passes too (Holm, unlike Bonferroni, steps down).
  Comparison x = lead("x", 0.01), y = lead("y", 0.04);
  holmAdjust({&x, &y});
  QCOMPARE(x.verdict, std::string("better"));
  QCOMPARE(y.verdict, std::string("better"));
  QVERIFY(std::fabs(x.p - 0.02) < 1e-12);
  QVERIFY(std::fabs(y.p - 0.04) < 1e-12);
  // A family of one is left as it was.
  Comparison z = lead("z", 0.04);
  holmAdjust({&z});
  QCOMPARE(z.p, 0.04);
  QCOMPARE(z.verdict, std::string("better"));
}

void TestVerdict::jsonRoundTrips() {
  const Comparison c = pairedComparison("own", {0.60, 0.62, 0.58}, "monolithic-w1", {0.59, 0.59, 0.60});
  const Json j = comparisonJson(c);
  QCOMPARE(j.size(), std::size_t(10));
  const Comparison back = comparisonFromJson(parseJson(j.dump(), "search.json"), "search.json", "verdict.baseline");
  QCOMPARE(back.a, c.a);
  QCOMPARE(back.b, c.b);
  QCOMPARE(back.test, c.test);
  QCOMPARE(back.n, c.n);
  QCOMPARE(back.difference, c.difference);
  QCOMPARE(back.low, c.low);
  QCOMPARE(back.high, c.high);
  QCOMPARE(back.p, c.p);
  QCOMPARE(back.verdict, c.verdict);
  QCOMPARE(back.sentence, c.sentence);
  const Spread s = spreadOf({0.5, 0.75});
  const Spread sb = spreadFromJson(spreadJson(s), "claims.json", "claims[0].graph");
  QCOMPARE(sb.n, 2);
  QCOMPARE(sb.mean, s.mean);
  QCOMPARE(sb.sd, s.sd);
  QCOMPARE(sb.values, s.values);
}

void TestVerdict::aBadFieldIsNamed() {
  const Json good = comparisonJson(pairedComparison("own", {0.6, 0.7}, "base", {0.5, 0.65}));
  auto message = [](const Json &j) {
    try {
      comparisonFromJson(j, "search.json", "verdict.baseline");
    } catch (const Error &e) {
      if (e.kind() == ErrorKind::File)
        return std::string(e.what());
    }
    return std::string("no file error");
  };
  Json wrongType = good;
  wrongType["p"] = "small";
  QCOMPARE(message(wrongType), std::string("search.json: verdict.baseline.p must be a number"));
  Json outOfRange = good;
  outOfRange["p"] = 1.5;
  QCOMPARE(message(outOfRange),
           std::string("search.json: verdict.baseline.p is 1.5, not a probability between 0 and 1"));
  Json unknown = good;
  unknown["verdict"] = "probably";
  QCOMPARE(message(unknown), std::string("search.json: verdict.baseline.verdict is \"probably\", not one of better, "
                                         "worse, within noise, too few seeds"));
  Json missing = good;
  missing.erase("low");
  QCOMPARE(message(missing), std::string("search.json: verdict.baseline.low is missing"));
  Json spread = spreadJson(spreadOf({0.5, 0.6}));
  spread["values"] = Json::array({0.5, "x"});
  try {
    spreadFromJson(spread, "claims.json", "claims[1].graph");
    QFAIL("no error");
  } catch (const Error &e) {
    QCOMPARE(std::string(e.what()), std::string("claims.json: claims[1].graph.values[1] must be a number"));
  }
}

QTEST_GUILESS_MAIN(TestVerdict)
#include "tst_verdict.moc"
