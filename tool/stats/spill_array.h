// SPDX-License-Identifier: GPL-2.0-only
// A fixed-size array that lives inside its owner while it is small and
// moves to the heap, at its full size, once it has to grow.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <memory>

namespace msgtap::stats {

// Every queue holds two histograms and two top-k tables, whose slots were
// 1,872 of the 2,248 bytes of a queue's statistics. Most queues use a few
// of them (one message size, one sender, one mtype), and as 10,000 queues
// appeared, page faults on their new memory took about half of msgtapd's
// CPU (BENCHMARKS.md, "Smaller queues"). So the first kInline slots are
// kept inline, and only an owner that needs more pays for all kFull.
//
// Slots are value-initialized. A moved-from array is empty and inline.
template <typename T, size_t kInline, size_t kFull>
class SpillArray {
  static_assert(kInline < kFull);

 public:
  SpillArray() = default;
  SpillArray(const SpillArray& o) : inline_(o.inline_) {
    if (o.spilled()) {
      heap_ = std::make_unique<T[]>(kFull);
      std::copy_n(o.heap_.get(), kFull, heap_.get());
      data_ = heap_.get();
    }
  }
  SpillArray& operator=(const SpillArray& o) {
    if (this != &o) *this = SpillArray(o);
    return *this;
  }
  SpillArray(SpillArray&& o) noexcept { *this = std::move(o); }
  SpillArray& operator=(SpillArray&& o) noexcept {
    if (this == &o) return *this;
    inline_ = o.inline_;
    heap_ = std::move(o.heap_);
    data_ = heap_ ? heap_.get() : inline_.data();
    o.inline_ = {};
    o.data_ = o.inline_.data();
    return *this;
  }
  ~SpillArray() = default;

  // One load, no branch: the records' hot path goes through here.
  T* data() { return data_; }
  const T* data() const { return data_; }
  static constexpr size_t inline_size() { return kInline; }
  static constexpr size_t full_size() { return kFull; }
  bool spilled() const { return heap_ != nullptr; }

  // Moves to the heap, where slot @at + i gets inline slot i for i < @n and
  // every other slot is T{}. Throws std::bad_alloc and then stays as it was.
  void spill(size_t at, size_t n) {
    auto heap = std::make_unique<T[]>(kFull);
    std::copy_n(inline_.data(), std::min({n, kInline, kFull - std::min(at, kFull)}),
                heap.get() + std::min(at, kFull));
    heap_ = std::move(heap);
    data_ = heap_.get();
    inline_ = {};
  }

 private:
  std::array<T, kInline> inline_{};
  std::unique_ptr<T[]> heap_;
  T* data_ = inline_.data();  // inline_ or heap_
};

}  // namespace msgtap::stats
