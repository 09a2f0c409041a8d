// SPDX-License-Identifier: GPL-2.0-only
// Log2 histograms, Space-Saving top-k and the saturating distinct counter.
#include "stats/histogram.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

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
