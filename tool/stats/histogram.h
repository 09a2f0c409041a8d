// SPDX-License-Identifier: GPL-2.0-only
// A power-of-two histogram of unsigned values (message sizes, durations).
#pragma once

#include <cstddef>
#include <cstdint>

#include "stats/spill_array.h"

namespace msgtap::stats {

// Bucket 0 counts values 0 and 1; bucket i (1..64) counts values in
// (2^(i-1), 2^i]. Upper bounds are inclusive so that they are Prometheus
// `le` bounds as they stand: a 64-byte message is in the bucket le="64".
// No allocation while the values span at most kInline neighbouring
// buckets (the usual message size or latency of a queue): adding is a
// count-leading-zeros, a range check and two adds. Wider histograms keep
// all kBuckets on the heap.
class Log2Histogram {
 public:
  static constexpr int kBuckets = 65;
  static constexpr int kInline = 8;

  void add(uint64_t value) {
    const int b = bucket_of(value);
    const auto off = static_cast<unsigned>(b - lo_);  // wraps below lo_
    if (off < len_)
      ++slots_.data()[off];
    else
      widen_and_add(b);
    ++count_;
    sum_ += value;
  }

  // The bucket @value falls in.
  static int bucket_of(uint64_t value) { return value <= 1 ? 0 : 64 - __builtin_clzll(value - 1); }
  // Inclusive upper bound of bucket @i (i < 64); bucket 64 ends at 2^64 - 1.
  static uint64_t upper_bound(int i) { return i >= 64 ? UINT64_MAX : uint64_t{1} << i; }
  // Exclusive lower bound of bucket @i, except bucket 0 which starts at 0.
  static uint64_t lower_bound(int i) { return i == 0 ? 0 : uint64_t{1} << (i - 1); }

  uint64_t bucket(int i) const {
    const auto off = static_cast<unsigned>(i - lo_);
    return off < len_ ? slots_.data()[off] : 0;
  }
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

  // Same buckets, count and sum, however they are stored.
  bool operator==(const Log2Histogram& o) const;

  Log2Histogram() = default;
  Log2Histogram(const Log2Histogram&) = default;
  Log2Histogram& operator=(const Log2Histogram&) = default;
  // A moved-from histogram is empty.
  Log2Histogram(Log2Histogram&& o) noexcept { *this = std::move(o); }
  Log2Histogram& operator=(Log2Histogram&& o) noexcept;
  ~Log2Histogram() = default;

 private:
  // Makes the stored range cover bucket @b, then counts one value in it.
  void widen_and_add(int b);
  void widen(int b);

  // Buckets lo_ .. lo_ + len_ - 1 are stored, from slot 0; all others are 0.
  SpillArray<uint64_t, kInline, kBuckets> slots_;
  uint8_t lo_ = 0;
  uint8_t len_ = 0;
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
};

}  // namespace msgtap::stats
