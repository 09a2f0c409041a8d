// SPDX-License-Identifier: GPL-2.0-only
// Bounded "most frequent values" with a count of distinct values: the
// mtypes and the senders of a queue, in constant memory per queue.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "stats/spill_array.h"

namespace msgtap::stats {

// The Space-Saving algorithm (Metwally, Agrawal, El Abbadi 2005) with
// kCapacity counters. A tracked value's `count` is never below its true
// count and at most `error` above it; `error` is 0 for every value that has
// been tracked since its first occurrence, so with at most kCapacity distinct
// values every count is exact. Any value whose true count exceeds
// total / kCapacity is guaranteed to be tracked.
//
// The first kInline counters are kept inline: most queues have one or two
// senders and mtypes, and then allocate nothing.
class TopK {
 public:
  static constexpr size_t kCapacity = 16;
  static constexpr size_t kInline = 2;

  struct Entry {
    uint64_t value = 0;
    uint64_t count = 0;  // upper bound of the true count
    uint64_t error = 0;  // count - error is a lower bound
    bool operator==(const Entry&) const = default;
  };

  void add(uint64_t value) {
    // Most queues have one sender and one mtype: the common case is this.
    Entry* e = entries_.data();
    if (size_ != 0 && e->value == value) {
      ++e->count;
      ++total_;
      return;
    }
    add_slow(value);
  }

  // Tracked entries by count, highest first (ties: smaller value first).
  std::vector<Entry> sorted() const;
  uint64_t total() const { return total_; }
  size_t size() const { return size_; }

  // Restoring a saved state: entries as sorted() gave them, and the total.
  void restore(const std::vector<Entry>& entries, uint64_t total);

  TopK() = default;
  TopK(const TopK&) = default;
  TopK& operator=(const TopK&) = default;
  // A moved-from TopK is empty.
  TopK(TopK&& o) noexcept { *this = std::move(o); }
  TopK& operator=(TopK&& o) noexcept {
    if (this == &o) return *this;
    entries_ = std::move(o.entries_);
    size_ = std::exchange(o.size_, 0);
    total_ = std::exchange(o.total_, 0);
    return *this;
  }
  ~TopK() = default;

  // Same entries and total, whatever their order inside.
  bool operator==(const TopK& other) const {
    return total_ == other.total_ && sorted() == other.sorted();
  }

 private:
  void add_slow(uint64_t value);

  SpillArray<Entry, kInline, kCapacity> entries_;
  size_t size_ = 0;
  uint64_t total_ = 0;
};

// The number of distinct values, exact up to kLimit; past it only "at least
// kLimit" is known (saturated), which every output says. A sketch would give
// an estimate instead, but an exact small number plus an honest bound is what
// an operator can act on, and it costs at most kLimit * 8 bytes.
class DistinctCounter {
 public:
  static constexpr size_t kLimit = 64;

  void add(uint64_t value) {
    // Most queues see one or a few values: the common case is this check.
    if (!values_.empty() && values_.front() == value) return;
    add_slow(value);
  }
  // Exact when !saturated(); otherwise a lower bound (kLimit).
  size_t count() const { return values_.size(); }
  bool saturated() const { return saturated_; }
  const std::vector<uint64_t>& values() const { return values_; }  // sorted

  void restore(std::vector<uint64_t> values, bool saturated);

  bool operator==(const DistinctCounter&) const = default;

 private:
  void add_slow(uint64_t value);

  std::vector<uint64_t> values_;  // sorted, at most kLimit
  bool saturated_ = false;
};

}  // namespace msgtap::stats
