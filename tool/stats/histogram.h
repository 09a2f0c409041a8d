// SPDX-License-Identifier: GPL-2.0-only
// A power-of-two histogram of unsigned values (message sizes, durations).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace msgtap::stats {

// Bucket 0 counts values 0 and 1; bucket i (1..64) counts values in
// (2^(i-1), 2^i]. Upper bounds are inclusive so that they are Prometheus
// `le` bounds as they stand: a 64-byte message is in the bucket le="64".
// Fixed size, no allocation: adding is a count-leading-zeros and two adds.
class Log2Histogram {
 public:
  static constexpr int kBuckets = 65;

  void add(uint64_t value) {
    ++buckets_[bucket_of(value)];
    ++count_;
    sum_ += value;
  }

  // The bucket @value falls in.
  static int bucket_of(uint64_t value) { return value <= 1 ? 0 : 64 - __builtin_clzll(value - 1); }
  // Inclusive upper bound of bucket @i (i < 64); bucket 64 ends at 2^64 - 1.
  static uint64_t upper_bound(int i) { return i >= 64 ? UINT64_MAX : uint64_t{1} << i; }
  // Exclusive lower bound of bucket @i, except bucket 0 which starts at 0.
  static uint64_t lower_bound(int i) { return i == 0 ? 0 : uint64_t{1} << (i - 1); }

  uint64_t bucket(int i) const { return buckets_[static_cast<size_t>(i)]; }
  uint64_t count() const { return count_; }
  // Sum of the values added; wraps only after 2^64 bytes or ns (584 years).
  uint64_t sum() const { return sum_; }
  // Highest non-empty bucket, or -1 when empty.
  int highest() const;
  // Smallest bucket upper bound at or above the @q quantile (0 < q <= 1) of
  // the values: an upper estimate, exact to within a factor of two. 0 if empty.
  uint64_t quantile_bound(double q) const;

  // For restoring a saved state: sets bucket @i and adjusts the count.
  void set_bucket(int i, uint64_t n);
  void set_sum(uint64_t sum) { sum_ = sum; }

  bool operator==(const Log2Histogram&) const = default;

 private:
  std::array<uint64_t, kBuckets> buckets_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
};

}  // namespace msgtap::stats
