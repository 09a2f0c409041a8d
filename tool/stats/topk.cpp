// SPDX-License-Identifier: GPL-2.0-only
// Space-Saving top-k and a saturating distinct counter.
#include "stats/topk.h"

#include <algorithm>

namespace msgtap::stats {

void TopK::add_slow(uint64_t value) {
  ++total_;
  Entry* e = entries_.data();
  // add() has compared the first entry.
  for (size_t i = 1; i < size_; ++i) {
    if (e[i].value == value) {
      ++e[i].count;
      return;
    }
  }
  if (size_ == kInline && !entries_.spilled()) {
    entries_.spill(0, size_);
    e = entries_.data();
  }
  if (size_ < kCapacity) {
    e[size_++] = Entry{value, 1, 0};
    return;
  }
  // Replace the least counted value: the newcomer may have occurred up to
  // that many times while untracked.
  Entry* min = &e[0];
  for (size_t i = 1; i < size_; ++i)
    if (e[i].count < min->count) min = &e[i];
  *min = Entry{value, min->count + 1, min->count};
}

std::vector<TopK::Entry> TopK::sorted() const {
  std::vector<Entry> out(entries_.data(), entries_.data() + size_);
  std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) {
    return a.count != b.count ? a.count > b.count : a.value < b.value;
  });
  return out;
}

void TopK::restore(const std::vector<Entry>& entries, uint64_t total) {
  *this = TopK{};
  for (const Entry& e : entries) {
    if (size_ == kCapacity) break;
    if (size_ == kInline && !entries_.spilled()) entries_.spill(0, size_);
    entries_.data()[size_++] = e;
  }
  total_ = total;
}

void DistinctCounter::add_slow(uint64_t value) {
  auto it = std::lower_bound(values_.begin(), values_.end(), value);
  if (it != values_.end() && *it == value) return;
  if (values_.size() >= kLimit) {
    saturated_ = true;
    return;
  }
  values_.insert(it, value);
}

void DistinctCounter::restore(std::vector<uint64_t> values, bool saturated) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  if (values.size() > kLimit) {
    values.resize(kLimit);
    saturated = true;
  }
  values_ = std::move(values);
  saturated_ = saturated;
}

}  // namespace msgtap::stats
