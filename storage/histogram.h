// A fixed-bucket histogram of positive integers (nanoseconds, batch sizes)
// that many threads record into without locks: each value costs two relaxed
// atomic additions. Buckets are log-linear, 8 per power of two (each at most
// 1/8 of its value wide, like an HDR histogram with one significant digit
// and a bit), so percentiles are within 12.5% and every power of two is a
// bucket boundary, which the Prometheus exposition uses for its `le` labels.
// Used by the storage layer (WAL sync times and batch sizes) and by the
// server (command latencies).
#pragma once

#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace tally::storage {

struct HistogramBuckets {
  // Values up to 2^40 (18 minutes in nanoseconds) are told apart; larger
  // ones count in the last bucket.
  static constexpr int kMaxBits = 40;
  static constexpr size_t kCount = 16 + (kMaxBits - 4) * 8;

  // The bucket of `value`. Bucket i holds the values in
  // (UpperBound(i - 1), UpperBound(i)]; 0 and 1 share bucket 0.
  static constexpr size_t Index(uint64_t value) {
    uint64_t u = value == 0 ? 0 : value - 1;
    if (u < 16) return static_cast<size_t>(u);
    if (u >= (uint64_t{1} << kMaxBits)) return kCount - 1;
    const int bits = std::bit_width(u);  // >= 5
    return 16 + static_cast<size_t>(bits - 5) * 8 + static_cast<size_t>((u >> (bits - 4)) - 8);
  }

  // The largest value bucket `index` holds (inclusive).
  static constexpr uint64_t UpperBound(size_t index) {
    if (index < 16) return index + 1;
    const size_t group = (index - 16) / 8, sub = (index - 16) % 8;
    return (9 + sub) << (group + 1);
  }
};

// A point-in-time copy of a Histogram, which can be merged with others.
struct HistogramSnapshot {
  std::array<uint64_t, HistogramBuckets::kCount> counts{};
  uint64_t sum = 0;  // of the recorded values

  uint64_t Count() const {
    uint64_t total = 0;
    for (uint64_t c : counts) total += c;
    return total;
  }
  // How many recorded values are <= `bound`, exactly when `bound` is a
  // bucket boundary (every power of two is one); else a lower estimate.
  uint64_t CountAtMost(uint64_t bound) const {
    uint64_t total = 0;
    for (size_t i = 0; i < counts.size() && HistogramBuckets::UpperBound(i) <= bound; ++i) {
      total += counts[i];
    }
    return total;
  }
  // The value at `percentile` (0-100], as HdrHistogram reports it: the
  // upper bound of the bucket holding the value of that rank. 0 if empty.
  uint64_t ValueAtPercentile(double percentile) const {
    const uint64_t total = Count();
    if (total == 0) return 0;
    auto rank = static_cast<uint64_t>(percentile / 100.0 * static_cast<double>(total) + 0.5);
    if (rank < 1) rank = 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < counts.size(); ++i) {
      seen += counts[i];
      if (seen >= rank) return HistogramBuckets::UpperBound(i);
    }
    return HistogramBuckets::UpperBound(counts.size() - 1);
  }
  void Add(const HistogramSnapshot& other) {
    for (size_t i = 0; i < counts.size(); ++i) counts[i] += other.counts[i];
    sum += other.sum;
  }
};

class Histogram {
 public:
  void Record(uint64_t value) {
    buckets_[HistogramBuckets::Index(value)].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(value, std::memory_order_relaxed);
  }
  // Adds the current counts to `out`. Values recorded meanwhile may or may
  // not be included.
  void AddTo(HistogramSnapshot* out) const {
    for (size_t i = 0; i < buckets_.size(); ++i) {
      out->counts[i] += buckets_[i].load(std::memory_order_relaxed);
    }
    out->sum += sum_.load(std::memory_order_relaxed);
  }
  HistogramSnapshot Snapshot() const {
    HistogramSnapshot out;
    AddTo(&out);
    return out;
  }
  // Forgets everything (CONFIG RESETSTAT). Concurrent records may survive.
  void Reset() {
    for (auto& bucket : buckets_) bucket.store(0, std::memory_order_relaxed);
    sum_.store(0, std::memory_order_relaxed);
  }

 private:
  std::array<std::atomic<uint64_t>, HistogramBuckets::kCount> buckets_{};
  std::atomic<uint64_t> sum_{0};
};

}  // namespace tally::storage
