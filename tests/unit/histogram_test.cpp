// SPDX-License-Identifier: GPL-2.0-only
// Log2 histograms, Space-Saving top-k and the saturating distinct counter.
#include "stats/histogram.h"

#include <gtest/gtest.h>

#include <array>
#include <map>
#include <random>
#include <utility>
#include <vector>

#include "stats/topk.h"

namespace msgtap::stats {
namespace {

TEST(Log2Histogram, BucketBoundsAreInclusiveUpperPowersOfTwo) {
  EXPECT_EQ(Log2Histogram::bucket_of(0), 0);
  EXPECT_EQ(Log2Histogram::bucket_of(1), 0);
  EXPECT_EQ(Log2Histogram::bucket_of(2), 1);
  EXPECT_EQ(Log2Histogram::bucket_of(3), 2);
  EXPECT_EQ(Log2Histogram::bucket_of(4), 2);
  EXPECT_EQ(Log2Histogram::bucket_of(5), 3);
  EXPECT_EQ(Log2Histogram::bucket_of(64), 6);
  EXPECT_EQ(Log2Histogram::bucket_of(65), 7);
  EXPECT_EQ(Log2Histogram::bucket_of(UINT64_MAX), 64);
  for (int i = 1; i < 64; ++i) {
    EXPECT_EQ(Log2Histogram::bucket_of(Log2Histogram::upper_bound(i)), i) << i;
    EXPECT_EQ(Log2Histogram::bucket_of(Log2Histogram::lower_bound(i) + 1), i) << i;
    EXPECT_EQ(Log2Histogram::bucket_of(Log2Histogram::lower_bound(i)), i - 1) << i;
  }
}

TEST(Log2Histogram, CountsSumsAndQuantiles) {
  Log2Histogram h;
  EXPECT_EQ(h.highest(), -1);
  EXPECT_EQ(h.quantile_bound(0.5), 0U);
  for (uint64_t v : {1, 100, 100, 100, 5000}) h.add(v);
  EXPECT_EQ(h.count(), 5U);
  EXPECT_EQ(h.sum(), 5301U);
  EXPECT_EQ(h.bucket(0), 1U);
  EXPECT_EQ(h.bucket(7), 3U);   // (64, 128]
  EXPECT_EQ(h.bucket(13), 1U);  // (4096, 8192]
  EXPECT_EQ(h.highest(), 13);
  EXPECT_EQ(h.quantile_bound(0.5), 128U);
  EXPECT_EQ(h.quantile_bound(0.99), 8192U);
  EXPECT_EQ(h.quantile_bound(0.2), 1U);
}

TEST(Log2Histogram, RestoresFromBuckets) {
  Log2Histogram h;
  for (uint64_t v = 0; v < 1000; v += 7) h.add(v);
  Log2Histogram back;
  for (int i = 0; i < Log2Histogram::kBuckets; ++i)
    if (h.bucket(i)) back.set_bucket(i, h.bucket(i));
  back.set_sum(h.sum());
  EXPECT_EQ(back, h);
}

// The buckets a histogram reports are those of a plain array of all 65,
// whether it keeps a few inline (values in at most kInline neighbouring
// buckets, in whatever order they come) or has moved them all to the heap.
TEST(Log2Histogram, InlineAndSpilledBucketsMatchAPlainArray) {
  std::mt19937_64 rng(11);
  for (int trial = 0; trial < 400; ++trial) {
    // Narrow spreads stay inline; wide ones spill, at a random point.
    const int spread = 1 + trial % 12;
    const int base = static_cast<int>(rng() % 50);
    Log2Histogram h;
    std::array<uint64_t, Log2Histogram::kBuckets> want{};
    uint64_t sum = 0;
    const int n = 1 + static_cast<int>(rng() % 40);
    for (int k = 0; k < n; ++k) {
      const int b = base + static_cast<int>(rng() % static_cast<uint64_t>(spread));
      const uint64_t v = b == 0 ? rng() % 2 : Log2Histogram::lower_bound(b) + 1;
      h.add(v);
      ++want[static_cast<size_t>(Log2Histogram::bucket_of(v))];
      sum += v;
    }
    int highest = -1;
    for (int i = 0; i < Log2Histogram::kBuckets; ++i) {
      ASSERT_EQ(h.bucket(i), want[static_cast<size_t>(i)]) << "trial " << trial << " bucket " << i;
      if (want[static_cast<size_t>(i)]) highest = i;
    }
    EXPECT_EQ(h.count(), static_cast<uint64_t>(n));
    EXPECT_EQ(h.sum(), sum);
    EXPECT_EQ(h.highest(), highest);

    // The same values restored bucket by bucket from the top (every
    // set_bucket below the last widens downwards) compare equal.
    Log2Histogram back;
    for (int i = Log2Histogram::kBuckets - 1; i >= 0; --i) back.set_bucket(i, h.bucket(i));
    back.set_sum(h.sum());
    EXPECT_EQ(back, h);
    EXPECT_EQ(back.quantile_bound(0.5), h.quantile_bound(0.5));
  }
}

TEST(Log2Histogram, EqualAcrossRepresentationsAndCopies) {
  Log2Histogram inl;
  inl.add(100);
  inl.add(1000);
  Log2Histogram spilled;
  spilled.add(UINT64_MAX);  // bucket 64, then bucket 0: too wide to stay inline
  spilled.add(1);
  spilled.set_bucket(64, 0);
  spilled.set_bucket(0, 0);
  spilled.set_sum(0);
  EXPECT_EQ(spilled.count(), 0U);
  EXPECT_EQ(spilled.highest(), -1);
  EXPECT_EQ(spilled, Log2Histogram{});
  spilled.add(100);
  spilled.add(1000);
  EXPECT_EQ(spilled, inl);

  Log2Histogram copy = spilled;
  EXPECT_EQ(copy, inl);
  copy.add(5);
  EXPECT_NE(copy, spilled);  // a copy owns its buckets
  EXPECT_EQ(spilled.bucket(Log2Histogram::bucket_of(5)), 0U);

  Log2Histogram moved = std::move(copy);
  EXPECT_EQ(moved.bucket(Log2Histogram::bucket_of(5)), 1U);
  EXPECT_EQ(moved.count(), 3U);
  // A moved-from histogram is empty, and usable.
  // NOLINTNEXTLINE(bugprone-use-after-move,clang-analyzer-cplusplus.Move): on purpose
  const bool moved_from_is_empty = copy == Log2Histogram{};
  EXPECT_TRUE(moved_from_is_empty);
  copy.add(7);
  EXPECT_EQ(copy.count(), 1U);
  EXPECT_EQ(copy.bucket(3), 1U);
}

TEST(TopK, ExactWhileFewDistinctValues) {
  TopK t;
  for (int i = 0; i < 100; ++i) t.add(static_cast<uint64_t>(i % 10));
  t.add(3);
  const auto s = t.sorted();
  ASSERT_EQ(s.size(), 10U);
  EXPECT_EQ(s[0], (TopK::Entry{3, 11, 0}));
  EXPECT_EQ(s[1], (TopK::Entry{0, 10, 0}));
  EXPECT_EQ(t.total(), 101U);
  for (const auto& e : s) EXPECT_EQ(e.error, 0U);
}

// With more distinct values than counters, every tracked count is an upper
// bound within its error, and a value above total/k is always tracked.
TEST(TopK, BoundsHoldOnASkewedStream) {
  TopK t;
  std::map<uint64_t, uint64_t> truth;
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> noise(100, 10'000);
  for (int i = 0; i < 20'000; ++i) {
    const uint64_t v = i % 4 == 0 ? 42 : i % 9 == 0 ? 43 : static_cast<uint64_t>(noise(rng));
    t.add(v);
    ++truth[v];
  }
  const auto s = t.sorted();
  ASSERT_EQ(s.size(), TopK::kCapacity);
  EXPECT_EQ(s[0].value, 42U);
  EXPECT_EQ(s[1].value, 43U);
  for (const auto& e : s) {
    EXPECT_GE(e.count, truth[e.value]) << e.value;
    EXPECT_LE(e.count - e.error, truth[e.value]) << e.value;
  }
}

TEST(TopK, RestoresWhatItSorted) {
  TopK t;
  for (int i = 0; i < 50; ++i) t.add(static_cast<uint64_t>(i * i % 23));
  TopK back;
  back.restore(t.sorted(), t.total());
  EXPECT_EQ(back, t);
}

// The first kInline values are held inline, the next ones on the heap: the
// counts are the same either way, and copies and moves keep them.
TEST(TopK, ExactAcrossTheInlineCountersAndCopies) {
  TopK t;
  for (uint64_t v = 1; v <= TopK::kInline; ++v) t.add(v);
  TopK small = t;
  for (uint64_t v = 1; v <= TopK::kCapacity; ++v)
    for (uint64_t k = 0; k < v; ++k) t.add(v);
  const auto s = t.sorted();
  ASSERT_EQ(s.size(), TopK::kCapacity);
  for (const TopK::Entry& e : s) {
    EXPECT_EQ(e.count, e.value + (e.value <= TopK::kInline ? 1 : 0)) << e.value;
    EXPECT_EQ(e.error, 0U) << e.value;
  }
  EXPECT_EQ(s.front().value, TopK::kCapacity);
  EXPECT_EQ(small.size(), TopK::kInline);
  EXPECT_EQ(small.total(), TopK::kInline);

  TopK copy = t;
  EXPECT_EQ(copy, t);
  TopK moved = std::move(copy);
  EXPECT_EQ(moved, t);
  // NOLINTNEXTLINE(bugprone-use-after-move,clang-analyzer-cplusplus.Move): on purpose
  const size_t moved_from_size = copy.size();
  EXPECT_EQ(moved_from_size, 0U);
  EXPECT_EQ(copy.total(), 0U);
  copy.add(9);
  EXPECT_EQ(copy.sorted(), (std::vector<TopK::Entry>{{9, 1, 0}}));
}

TEST(DistinctCounter, ExactUpToTheLimitThenSaturated) {
  DistinctCounter d;
  for (int round = 0; round < 3; ++round)
    for (uint64_t v = 0; v < DistinctCounter::kLimit; ++v) d.add(v * 3);
  EXPECT_EQ(d.count(), DistinctCounter::kLimit);
  EXPECT_FALSE(d.saturated());
  d.add(0);
  EXPECT_FALSE(d.saturated());
  d.add(1);
  EXPECT_TRUE(d.saturated());
  EXPECT_EQ(d.count(), DistinctCounter::kLimit);  // a lower bound from now on

  DistinctCounter back;
  back.restore(d.values(), d.saturated());
  EXPECT_EQ(back, d);
}

}  // namespace
}  // namespace msgtap::stats
