#include "storage/histogram.h"

#include <catch2/catch.hpp>
#include <thread>
#include <vector>

using tally::storage::Histogram;
using tally::storage::HistogramBuckets;
using tally::storage::HistogramSnapshot;

TEST_CASE("histogram buckets cover every value in order, 8 per power of two", "[histogram]") {
  // Each bucket holds (UpperBound(i-1), UpperBound(i)]: check the edges.
  uint64_t previous = 0;
  for (size_t i = 0; i < HistogramBuckets::kCount; ++i) {
    const uint64_t upper = HistogramBuckets::UpperBound(i);
    REQUIRE(upper > previous);
    CHECK(HistogramBuckets::Index(upper) == i);
    CHECK(HistogramBuckets::Index(previous + 1) == i);
    // No bucket is wider than an eighth of its values (past the exact ones).
    if (i >= 16) CHECK((upper - previous) * 8 <= upper);
    previous = upper;
  }
  CHECK(HistogramBuckets::Index(0) == 0);
  CHECK(HistogramBuckets::Index(1) == 0);
  CHECK(HistogramBuckets::Index(2) == 1);
  // Every power of two is a boundary (the Prometheus `le` labels).
  for (int exp = 0; exp <= HistogramBuckets::kMaxBits; ++exp) {
    const uint64_t bound = uint64_t{1} << exp;
    CHECK(HistogramBuckets::UpperBound(HistogramBuckets::Index(bound)) == bound);
  }
  // Beyond the range: the last bucket.
  CHECK(HistogramBuckets::Index(UINT64_MAX) == HistogramBuckets::kCount - 1);
}

TEST_CASE("histogram percentiles, counts and sums", "[histogram]") {
  Histogram h;
  for (uint64_t v = 1; v <= 1000; ++v) h.Record(v);
  HistogramSnapshot s = h.Snapshot();
  CHECK(s.Count() == 1000);
  CHECK(s.sum == 500500);
  CHECK(s.CountAtMost(512) == 512);
  CHECK(s.CountAtMost(1024) == 1000);
  // Within one bucket (12.5%) above the exact percentile, never below.
  for (double p : {50.0, 90.0, 99.0, 99.9}) {
    const auto exact = static_cast<uint64_t>(p * 10);
    const uint64_t reported = s.ValueAtPercentile(p);
    CHECK(reported >= exact);
    CHECK(reported <= exact + exact / 8 + 1);
  }
  CHECK(HistogramSnapshot{}.ValueAtPercentile(50) == 0);

  HistogramSnapshot merged = s;
  merged.Add(s);
  CHECK(merged.Count() == 2000);
  CHECK(merged.ValueAtPercentile(50) == s.ValueAtPercentile(50));

  h.Reset();
  CHECK(h.Snapshot().Count() == 0);
  CHECK(h.Snapshot().sum == 0);
}

TEST_CASE("histogram records from many threads without losing counts", "[histogram]") {
  Histogram h;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&h, t] {
      for (int i = 0; i < 20000; ++i) h.Record(static_cast<uint64_t>(t * 1000 + i % 1000 + 1));
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(h.Snapshot().Count() == 80000);
}
