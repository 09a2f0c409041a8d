// SPDX-License-Identifier: GPL-2.0-only
// Power-of-two histograms.
#include "stats/histogram.h"

namespace msgtap::stats {

int Log2Histogram::highest() const {
  for (int i = kBuckets - 1; i >= 0; --i)
    if (buckets_[static_cast<size_t>(i)] != 0) return i;
  return -1;
}

uint64_t Log2Histogram::quantile_bound(double q) const {
  if (count_ == 0) return 0;
  // The rank of the quantile, rounded up: q = 0.5 of 3 values is the 2nd.
  auto rank = static_cast<uint64_t>(q * static_cast<double>(count_));
  if (static_cast<double>(rank) < q * static_cast<double>(count_)) ++rank;
  if (rank == 0) rank = 1;
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += buckets_[static_cast<size_t>(i)];
    if (seen >= rank) return upper_bound(i);
  }
  return upper_bound(kBuckets - 1);
}

void Log2Histogram::set_bucket(int i, uint64_t n) {
  auto& b = buckets_[static_cast<size_t>(i)];
  count_ = count_ - b + n;
  b = n;
}

}  // namespace msgtap::stats
