// SPDX-License-Identifier: GPL-2.0-only
// msgtapctl's text rendering of a snapshot.
#include "export/text.h"

#include <gtest/gtest.h>

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
  EXPECT_EQ(render_loss(l),
            "lost: 5 (kernel_ring_full 3, kernel_undeliverable 0, probe_missed 0, seq_gaps 2)\n");
}

}  // namespace
}  // namespace msgtap::exporter
