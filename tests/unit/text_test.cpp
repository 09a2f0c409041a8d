// SPDX-License-Identifier: GPL-2.0-only
// msgtapctl's text rendering of a snapshot.
#include "export/text.h"

#include <gtest/gtest.h>
#include <sys/ipc.h>

#include <cstdlib>
#include <cstring>
#include <ctime>

#include "test_events.h"

namespace msgtap::exporter {
namespace {

using testing::make_event;

TEST(Text, QueueTable) {
  stats::Aggregator agg;
  agg.add_send(make_event({.msqid = 5, .msgsz = 100}));
  agg.add_send(make_event({.msqid = 5, .result = -13}));
  agg.add_send(make_event({.msqid = 5, .result = -13}));
  agg.add_send(make_event(
      {.msqid = 5, .result = -11, .flags = MSGTAP_EVF_SLEPT, .duration_ns = 12'345'678}));
  agg.add_send(make_event({.ipc_ns = 1, .msqid = 32768, .msgsz = 7}));
  const auto snap = stats::make_snapshot(0, {}, {}, agg);
  EXPECT_EQ(render_queue_table(snap),
            "     IPCNS  MSQID  SENT  BYTES  FAILED  SLEPT  SLEPT(ms)  ERRORS\n"
            "         1  32768     1      7       0      0      0.000  -\n"
            "4026531839      5     1    100       3      1     12.346  EAGAIN:1,EACCES:2\n");
}

TEST(Text, EmptyTable) {
  const auto snap = stats::make_snapshot(0, {}, {}, stats::Aggregator{});
  EXPECT_EQ(render_queue_table(snap),
            "IPCNS  MSQID  SENT  BYTES  FAILED  SLEPT  SLEPT(ms)  ERRORS\n"
            "(no msgsnd() calls seen yet)\n");
}

TEST(Text, Loss) {
  EXPECT_EQ(render_loss({}), "lost: nothing\n");
  stats::Loss l;
  l.kernel_ring_full = 3;
  l.seq_gaps = 2;
  l.restore_gap = 4;
  EXPECT_EQ(render_loss(l),
            "lost: 9 (kernel_ring_full 3, kernel_undeliverable 0, probe_missed 0, seq_gaps 2, "
            "restore_gap 4)\n");
}

// Local times in the expected strings are UTC.
class TextUtc : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("TZ", "UTC", 1);
    ::tzset();
  }
};

TEST(Text, Suffixes) {
  EXPECT_EQ(with_suffix(0), "0");
  EXPECT_EQ(with_suffix(1), "1");
  EXPECT_EQ(with_suffix(512), "512");
  EXPECT_EQ(with_suffix(1000), "1000");
  EXPECT_EQ(with_suffix(1024), "1K");
  EXPECT_EQ(with_suffix(3 * 1024), "3K");
  EXPECT_EQ(with_suffix(1536), "1536");
  EXPECT_EQ(with_suffix(uint64_t{1} << 20), "1M");
  EXPECT_EQ(with_suffix(uint64_t{1} << 63), "8E");
}

TEST(Text, BucketLabelsSayWhatTheBucketHolds) {
  using H = stats::Log2Histogram;
  // Upper bounds are inclusive: a value equal to a label's right end is in it.
  EXPECT_EQ(bucket_label(H::bucket_of(0)), "[0, 1]");
  EXPECT_EQ(bucket_label(H::bucket_of(1)), "[0, 1]");
  EXPECT_EQ(bucket_label(H::bucket_of(2)), "(1, 2]");
  EXPECT_EQ(bucket_label(H::bucket_of(3)), "(2, 4]");
  EXPECT_EQ(bucket_label(H::bucket_of(64)), "(32, 64]");
  EXPECT_EQ(bucket_label(H::bucket_of(65)), "(64, 128]");
  EXPECT_EQ(bucket_label(H::bucket_of(1024)), "(512, 1K]");
  EXPECT_EQ(bucket_label(H::bucket_of(1025)), "(1K, 2K]");
  EXPECT_EQ(bucket_label(H::bucket_of(uint64_t{1} << 40)), "(512G, 1T]");
  EXPECT_EQ(bucket_label(H::bucket_of(UINT64_MAX)), "(8E, 16E)");
}

TEST(Text, HistogramEmpty) {
  EXPECT_EQ(render_histogram(stats::Log2Histogram{}, "  "), "  (none)\n");
}

TEST(Text, HistogramOneBucket) {
  stats::Log2Histogram h;
  h.add(100);
  h.add(128);
  EXPECT_EQ(render_histogram(h),
            "(64, 128] 2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n");
}

TEST(Text, HistogramShowsEmptyBucketsBetweenAndScalesBars) {
  stats::Log2Histogram h;
  for (int i = 0; i < 4; ++i) h.add(3);   // (2, 4]
  h.add(1);                               // [0, 1]
  for (int i = 0; i < 2; ++i) h.add(16);  // (8, 16]
  EXPECT_EQ(render_histogram(h, "  "),
            "  [0, 1]  1 |@@@@@@@@@@@@@                                       |\n"
            "  (1, 2]  0 |                                                    |\n"
            "  (2, 4]  4 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
            "  (4, 8]  0 |                                                    |\n"
            "  (8, 16] 2 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n");
}

TEST(Text, HistogramLargeCountsDoNotOverflow) {
  stats::Log2Histogram h;
  h.set_bucket(10, UINT64_MAX);
  h.set_bucket(11, UINT64_MAX / 2);
  const std::string out = render_histogram(h);
  EXPECT_EQ(
      out,
      "(512, 1K] 18446744073709551615 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
      "(1K, 2K]   9223372036854775807 |@@@@@@@@@@@@@@@@@@@@@@@@@                           |\n");
}

TEST(Text, LossDetailNamesEveryNumber) {
  EXPECT_EQ(render_loss_detail({}),
            "loss (all queues): nothing lost\n"
            "  kernel_ring_full       0\n"
            "  kernel_undeliverable   0\n"
            "  probe_missed           0\n"
            "  seq_gaps               0\n"
            "  restore_gap            0\n");
  stats::Loss l;
  l.kernel_undeliverable = 1;
  l.probe_missed = 4;
  const std::string out = render_loss_detail(l);
  EXPECT_EQ(out.substr(0, out.find('\n')),
            "loss (all queues): 5 records lost; counts above may be short by up to that many");
  EXPECT_EQ(out.find("nothing lost"), std::string::npos);
  EXPECT_NE(out.find("  kernel_undeliverable   1\n"), std::string::npos);
  EXPECT_NE(out.find("  probe_missed           4\n"), std::string::npos);
}

TEST(Text, Ages) {
  EXPECT_EQ(age(-1), "0s ago");
  EXPECT_EQ(age(3.4), "3s ago");
  EXPECT_EQ(age(300), "5m ago");
  EXPECT_EQ(age(3 * 3600), "3h ago");
  EXPECT_EQ(age(5 * 86400), "5d ago");
}

// 2026-11-27 15:00:00 UTC, and the monotonic clock at that moment.
constexpr double kNow = 1795791600;
constexpr uint64_t kMonoNow = 1'000'000'000'000;
const Clocks kClocks{kNow, kMonoNow};

stats::Snapshot queues_snapshot() {
  stats::Aggregator agg;
  auto ev = testing::make_event({.msqid = 3, .msgsz = 64, .ts_ns = kMonoNow - 5'000'000'000});
  ev.flags |= MSGTAP_EVF_QUEUE_KNOWN;
  ev.key = 0x162e;
  ev.q_uid = 1000;
  ev.q_mode = 0640;
  agg.add_send(ev);
  agg.add_send(testing::make_event(
      {.ipc_ns = 7, .msqid = 3, .result = -11, .ts_ns = kMonoNow - 600'000'000'000}));
  auto& q = agg.edit({4026531839U, 3});
  q.live = {stats::QueueLive::State::present, 2, 512, 2048, kNow - 1, ""};
  auto& gone = agg.edit({7, 3});
  gone.removed_at = kNow - 30;
  gone.live.state = stats::QueueLive::State::removed;
  stats::Snapshot s = stats::make_snapshot(kNow, {}, {}, agg);
  s.queues[1].rates = {10, 2.5, 160, 0};
  return s;
}

TEST_F(TextUtc, QueuesTable) {
  EXPECT_EQ(render_queues(queues_snapshot(), kClocks),
            "     IPCNS  MSQID         KEY  OWNER  PERMS  QNUM  CBYTES  QBYTES   FILL  SENT  "
            "FAILED  SENDS/s  BYTES/s  LAST     STATE\n"
            "         7      3           -      -      -     -       -       -      -     0  "
            "     1        -        -  10m ago  removed\n"
            "4026531839      3  0x0000162e   1000    640     2     512    2048  25.0%     1  "
            "     0      2.5    160.0  5s ago   present\n");
}

TEST_F(TextUtc, QueueDetail) {
  stats::Aggregator agg;
  for (int i = 0; i < 3; ++i) {
    auto ev = testing::make_event(
        {.msqid = 3, .msgsz = 100, .duration_ns = 3000, .ts_ns = kMonoNow - 2'000'000'000});
    ev.flags |= MSGTAP_EVF_QUEUE_KNOWN;
    ev.q_mode = 0600;
    ev.tgid = 42;
    ev.uid = 1000;
    std::memcpy(ev.comm, "sender", 7);
    agg.add_send(ev);
  }
  auto fail = testing::make_event({.msqid = 3,
                                   .result = -11,
                                   .flags = MSGTAP_EVF_SLEPT,
                                   .duration_ns = 2'000'000,
                                   .ts_ns = kMonoNow - 1'000'000'000});
  fail.msgflg = IPC_NOWAIT;
  fail.mtype = 9;
  fail.tgid = 43;
  agg.add_send(fail);
  stats::Snapshot s = stats::make_snapshot(kNow, {}, {}, agg);
  s.stats_since = kNow - 3600;
  EXPECT_EQ(render_queue_detail(s, s.queues.front(), kClocks),
            "queue 4026531839:3 (IPC namespace 4026531839, msqid 3)\n"
            "  key          0x00000000 (IPC_PRIVATE)\n"
            "  owner        uid 0, gid 0, mode 0600\n"
            "  live         unknown\n"
            "  first seen   2026-11-27 14:59:58\n"
            "  last seen    2026-11-27 14:59:59 (1s ago), by tgid 43\n"
            "  counted      since 2026-11-27 14:00:00\n"
            "sends\n"
            "  ok           3 (300 bytes)\n"
            "  failed       1\n"
            "    EAGAIN     1\n"
            "  IPC_NOWAIT   1 of the failures had IPC_NOWAIT\n"
            "  slept        1 calls, 2.000 ms in total\n"
            "  32-bit       0 calls\n"
            "  rates        not known yet (msgtapd has no earlier interval to compare with)\n"
            "message size (bytes) of successful sends, 3 in all:\n"
            "  (64, 128] 3 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
            "call latency (ns), 4 calls:\n"
            "  (2K, 4K]     3 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
            "  (4K, 8K]     0 |                                                    |\n"
            "  (8K, 16K]    0 |                                                    |\n"
            "  (16K, 32K]   0 |                                                    |\n"
            "  (32K, 64K]   0 |                                                    |\n"
            "  (64K, 128K]  0 |                                                    |\n"
            "  (128K, 256K] 0 |                                                    |\n"
            "  (256K, 512K] 0 |                                                    |\n"
            "  (512K, 1M]   0 |                                                    |\n"
            "  (1M, 2M]     1 |@@@@@@@@@@@@@@@@@                                   |\n"
            "top mtypes (2 distinct):\n"
            "  MTYPE  COUNT\n"
            "      1  3\n"
            "      9  1\n"
            "top senders (2 distinct):\n"
            "  TGID   UID  COMM    COUNT\n"
            "    42  1000  sender  3\n"
            "    43     0          1\n"
            "loss (all queues): nothing lost\n"
            "  kernel_ring_full       0\n"
            "  kernel_undeliverable   0\n"
            "  probe_missed           0\n"
            "  seq_gaps               0\n"
            "  restore_gap            0\n");
}

TEST(Text, TopKErrorBoundsAndSaturatedDistinct) {
  stats::Aggregator agg;
  // 80 senders, one each, then one sender 10 more times: more than the top-k
  // tracks, so some counts carry an error bound, and more than the distinct
  // counter keeps.
  for (uint32_t t = 1; t <= 80; ++t) {
    auto ev = testing::make_event({.msqid = 1});
    ev.tgid = t;
    agg.add_send(ev);
  }
  const std::string out =
      render_queue_detail(stats::make_snapshot(kNow, {}, {}, agg),
                          stats::make_snapshot(kNow, {}, {}, agg).queues.front(), kClocks);
  EXPECT_NE(out.find("top senders (\u226564 distinct):"), std::string::npos) << out;
  EXPECT_NE(out.find("top mtypes (1 distinct):"), std::string::npos) << out;
  EXPECT_NE(out.find("too high)"), std::string::npos) << out;
  EXPECT_NE(out.find("loss (all queues): nothing lost"), std::string::npos) << out;
}

}  // namespace
}  // namespace msgtap::exporter
