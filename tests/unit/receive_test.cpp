// SPDX-License-Identifier: GPL-2.0-only
// The receive stage: per-CPU sequence gaps and the hand-off to aggregation.
#include "daemon/receive.h"

#include <gtest/gtest.h>

#include "test_events.h"

namespace msgtap::daemon {
namespace {

using testing::make_event;
using testing::make_ns_gone;

TEST(SeqTracker, FirstRecordPerCpuSetsTheBase) {
  SeqTracker t;
  // A previous listener saw 1..499 on CPU 0: not our loss.
  EXPECT_EQ(t.observe(0, 500), 0U);
  EXPECT_EQ(t.observe(3, 42), 0U);
  EXPECT_EQ(t.gaps(), 0U);
}

TEST(SeqTracker, CountsMissingNumbersPerCpu) {
  SeqTracker t;
  EXPECT_EQ(t.observe(0, 1), 0U);
  EXPECT_EQ(t.observe(0, 2), 0U);
  EXPECT_EQ(t.observe(1, 10), 0U);
  EXPECT_EQ(t.observe(0, 5), 2U);   // 3 and 4 lost
  EXPECT_EQ(t.observe(1, 11), 0U);  // CPU 1 is unaffected by CPU 0
  EXPECT_EQ(t.observe(1, 20), 8U);  // 12..19 lost
  EXPECT_EQ(t.observe(0, 6), 0U);
  EXPECT_EQ(t.gaps(), 10U);
  EXPECT_EQ(t.regressions(), 0U);
}

TEST(SeqTracker, RegressionRebasesWithoutCountingAGap) {
  SeqTracker t;
  t.observe(2, 100);
  EXPECT_EQ(t.observe(2, 100), 0U);  // duplicate
  EXPECT_EQ(t.observe(2, 7), 0U);    // back in time
  EXPECT_EQ(t.observe(2, 8), 0U);    // continues from the new base
  EXPECT_EQ(t.observe(2, 10), 1U);
  EXPECT_EQ(t.regressions(), 2U);
  EXPECT_EQ(t.gaps(), 1U);
}

TEST(Receiver, CountsAndAggregatesABatch) {
  stats::Aggregator agg;
  Receiver r(agg);
  genl::EventBatch b;
  b.sends = {make_event({.msqid = 1, .msgsz = 5, .cpu = 0, .seq = 1}),
             make_event({.msqid = 1, .msgsz = 5, .cpu = 1, .seq = 9}),
             make_event({.msqid = 2, .msgsz = 5, .cpu = 0, .seq = 4})};
  b.malformed = 1;
  b.unknown_attributes = 2;
  r.on_batch(b);

  genl::EventBatch b2;
  b2.sends = {make_event({.msqid = 1, .cpu = 1, .seq = 10}),
              make_event({.msqid = 1, .cpu = 0, .seq = 0}),          // no such number
              make_event({.msqid = 1, .cpu = 1U << 20, .seq = 1})};  // no such CPU
  r.on_batch(b2);
  r.on_overrun();

  const stats::DaemonCounters c = r.counters();
  EXPECT_EQ(c.batches_received, 2U);
  EXPECT_EQ(c.events_received, 4U);
  EXPECT_EQ(c.seq_gaps, 2U);  // CPU 0: 2 and 3
  EXPECT_EQ(c.malformed, 3U);
  EXPECT_EQ(c.unknown_attributes, 2U);
  EXPECT_EQ(c.socket_overruns, 1U);
  EXPECT_EQ(c.socket_drops, 0U);

  ASSERT_EQ(agg.queues().size(), 2U);
  EXPECT_EQ(agg.queues().begin()->second->send.sends_ok, 3U);
}

// Namespace records are numbered in a series of their own on each CPU:
// their gaps are counted apart, and neither series makes gaps or
// regressions in the other.
TEST(Receiver, NamespaceRecordsHaveTheirOwnNumbering) {
  stats::Aggregator agg;
  Receiver r(agg);
  r.on_send(make_event({.msqid = 1, .cpu = 0, .seq = 1}));
  r.on_ns_gone(make_ns_gone({.cpu = 0, .seq = 1}));  // not a regression of sends
  r.on_send(make_event({.msqid = 1, .cpu = 0, .seq = 2}));
  r.on_ns_gone(make_ns_gone({.cpu = 0, .seq = 4}));  // 2 and 3 lost
  r.on_ns_gone(make_ns_gone({.cpu = 1, .seq = 9}));  // sets CPU 1's base
  r.on_send(make_event({.msqid = 1, .cpu = 0, .seq = 3}));
  r.on_ns_gone(make_ns_gone({.cpu = 0, .seq = 0}));         // no such number
  r.on_ns_gone(make_ns_gone({.cpu = 1U << 20, .seq = 1}));  // no such CPU

  const stats::DaemonCounters c = r.counters();
  EXPECT_EQ(c.events_received, 3U);
  EXPECT_EQ(c.seq_gaps, 0U);
  EXPECT_EQ(c.ipcns_gone_received, 3U);
  EXPECT_EQ(c.ipcns_gone_seq_gaps, 2U);
  EXPECT_EQ(c.malformed, 2U);
  EXPECT_EQ(r.seq_regressions(), 0U);
  EXPECT_EQ(r.ns_gone_seq_regressions(), 0U);
  ASSERT_EQ(agg.queues().size(), 1U);
  EXPECT_EQ(agg.queues().begin()->second->send.sends_ok, 3U);
}

TEST(Receiver, BatchHandsOverBothKinds) {
  stats::Aggregator agg;
  Receiver r(agg);
  genl::EventBatch b;
  b.sends = {make_event({.msqid = 1, .cpu = 0, .seq = 1}),
             make_event({.msqid = 1, .cpu = 0, .seq = 3})};
  b.ns_gone = {make_ns_gone({.cpu = 0, .seq = 1}), make_ns_gone({.cpu = 0, .seq = 2})};
  r.on_batch(b);

  const stats::DaemonCounters c = r.counters();
  EXPECT_EQ(c.batches_received, 1U);
  EXPECT_EQ(c.events_received, 2U);
  EXPECT_EQ(c.seq_gaps, 1U);
  EXPECT_EQ(c.ipcns_gone_received, 2U);
  EXPECT_EQ(c.ipcns_gone_seq_gaps, 0U);
  EXPECT_EQ(c.malformed, 0U);
}

}  // namespace
}  // namespace msgtap::daemon
