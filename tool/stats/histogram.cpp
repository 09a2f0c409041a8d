// SPDX-License-Identifier: GPL-2.0-only
// Power-of-two histograms.
#include "stats/histogram.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace msgtap::stats {

int Log2Histogram::highest() const {
  for (int off = len_ - 1; off >= 0; --off)
    if (slots_.data()[off] != 0) return lo_ + off;
  return -1;
}

uint64_t Log2Histogram::quantile_bound(double q) const {
  if (count_ == 0) return 0;
  // The rank of the quantile, rounded up: q = 0.5 of 3 values is the 2nd.
  auto rank = static_cast<uint64_t>(q * static_cast<double>(count_));
  if (static_cast<double>(rank) < q * static_cast<double>(count_)) ++rank;
  if (rank == 0) rank = 1;
  uint64_t seen = 0;
  for (int off = 0; off < len_; ++off) {
    seen += slots_.data()[off];
    if (seen >= rank) return upper_bound(lo_ + off);
  }
  return upper_bound(kBuckets - 1);
}

void Log2Histogram::set_bucket(int i, uint64_t n) {
  if (n == 0 && bucket(i) == 0) return;
  widen(i);
  auto& b = slots_.data()[i - lo_];
  count_ = count_ - b + n;
  b = n;
}

bool Log2Histogram::operator==(const Log2Histogram& o) const {
  if (count_ != o.count_ || sum_ != o.sum_) return false;
  for (int i = 0; i < kBuckets; ++i)
    if (bucket(i) != o.bucket(i)) return false;
  return true;
}

Log2Histogram& Log2Histogram::operator=(Log2Histogram&& o) noexcept {
  if (this == &o) return *this;
  slots_ = std::move(o.slots_);
  lo_ = std::exchange(o.lo_, 0);
  len_ = std::exchange(o.len_, 0);
  count_ = std::exchange(o.count_, 0);
  sum_ = std::exchange(o.sum_, 0);
  return *this;
}

void Log2Histogram::widen_and_add(int b) {
  widen(b);
  ++slots_.data()[b - lo_];
}

void Log2Histogram::widen(int b) {
  if (static_cast<unsigned>(b - lo_) < len_) return;
  if (len_ == 0) {
    lo_ = static_cast<uint8_t>(b);
    len_ = 1;
    return;
  }
  const int lo = std::min<int>(lo_, b);
  const int len = std::max<int>(lo_ + len_, b + 1) - lo;
  if (len <= kInline) {
    // Still fits inline: shift the stored buckets up if @b is below them.
    uint64_t* s = slots_.data();
    const int shift = lo_ - lo;
    if (shift > 0) {
      std::memmove(s + shift, s, sizeof(*s) * len_);
      std::fill_n(s, shift, uint64_t{0});
    }
    lo_ = static_cast<uint8_t>(lo);
    len_ = static_cast<uint8_t>(len);
    return;
  }
  // Too wide: all buckets, each at its own index, from now on.
  slots_.spill(lo_, len_);
  lo_ = 0;
  len_ = kBuckets;
}

}  // namespace msgtap::stats
