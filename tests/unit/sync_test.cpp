// SPDX-License-Identifier: GPL-2.0-only
// msgtapd's sync rounds: FLUSH, its ack, GET_STATS, its answer, with the
// failures a busy socket produces.
#include "daemon/sync.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace msgtap::daemon {
namespace {

using namespace std::chrono_literals;

genl::Ack ack(uint32_t seq, int error = 0) { return genl::Ack{seq, error, ""}; }

class SyncTest : public ::testing::Test {
 protected:
  Clock::time_point t0 = Clock::time_point{} + 1h;
  Syncer s;
};

TEST_F(SyncTest, IdleUntilSomeoneWaits) {
  EXPECT_EQ(s.start(t0), SyncStep::none);
  EXPECT_FALSE(s.busy());
  EXPECT_FALSE(s.deadline());
  EXPECT_EQ(s.on_drained(), SyncStep::none);
  EXPECT_EQ(s.on_tick(t0 + 1h), SyncStep::none);
}

TEST_F(SyncTest, FlushAckThenStatsCompletesTheRound) {
  s.enqueue(21);
  s.enqueue(22);
  ASSERT_EQ(s.start(t0), SyncStep::send_flush);
  s.sent(100, t0);
  EXPECT_TRUE(s.busy());
  EXPECT_EQ(s.on_stats(100), SyncStep::none);  // not the phase for it
  ASSERT_EQ(s.on_ack(ack(100)), SyncStep::send_get_stats);
  s.sent(101, t0);
  ASSERT_EQ(s.on_stats(101), SyncStep::done);
  EXPECT_EQ(s.take_waiters(), (std::vector<WaiterId>{21, 22}));
  EXPECT_FALSE(s.busy());
  EXPECT_EQ(s.resends(), 0U);
}

TEST_F(SyncTest, LateRequestsWaitForTheNextRound) {
  s.enqueue(1);
  ASSERT_EQ(s.start(t0), SyncStep::send_flush);
  s.sent(10, t0);
  s.enqueue(2);  // after the FLUSH went out: it must not be answered by it
  EXPECT_EQ(s.start(t0), SyncStep::none);
  ASSERT_EQ(s.on_ack(ack(10)), SyncStep::send_get_stats);
  s.sent(11, t0);
  ASSERT_EQ(s.on_stats(11), SyncStep::done);
  EXPECT_EQ(s.take_waiters(), (std::vector<WaiterId>{1}));
  EXPECT_TRUE(s.has_queued());
  ASSERT_EQ(s.start(t0), SyncStep::send_flush);
  s.sent(12, t0);
  ASSERT_EQ(s.on_ack(ack(12)), SyncStep::send_get_stats);
  s.sent(13, t0);
  ASSERT_EQ(s.on_stats(13), SyncStep::done);
  EXPECT_EQ(s.take_waiters(), (std::vector<WaiterId>{2}));
}

TEST_F(SyncTest, StaleAnswersAreIgnored) {
  s.enqueue(1);
  ASSERT_EQ(s.start(t0), SyncStep::send_flush);
  s.sent(50, t0);
  EXPECT_EQ(s.on_ack(ack(49)), SyncStep::none);
  EXPECT_EQ(s.on_ack(ack(49, EAGAIN)), SyncStep::none);
  EXPECT_EQ(s.on_stats(49), SyncStep::none);
  EXPECT_EQ(s.on_ack(ack(50)), SyncStep::send_get_stats);
}

TEST_F(SyncTest, FlushEagainReadsThenFlushesAgain) {
  s.enqueue(1);
  ASSERT_EQ(s.start(t0), SyncStep::send_flush);
  s.sent(7, t0);
  EXPECT_EQ(s.on_ack(ack(7, EAGAIN)), SyncStep::none);  // the socket is full: read first
  EXPECT_EQ(s.on_drained(), SyncStep::send_flush);
  s.sent(8, t0);
  EXPECT_EQ(s.on_ack(ack(8)), SyncStep::send_get_stats);
  EXPECT_EQ(s.flush_retries(), 1U);
  EXPECT_EQ(s.resends(), 0U);
}

TEST_F(SyncTest, AnswerMissingOnceTheSocketIsEmptyWasDropped) {
  s.enqueue(1);
  ASSERT_EQ(s.start(t0), SyncStep::send_flush);
  s.sent(7, t0);
  EXPECT_EQ(s.on_drained(), SyncStep::send_flush);  // the ack was dropped by an overrun
  s.sent(8, t0);
  EXPECT_EQ(s.on_ack(ack(7)), SyncStep::none);  // a late ack of the old FLUSH: stale
  EXPECT_EQ(s.on_ack(ack(8)), SyncStep::send_get_stats);
  s.sent(9, t0);
  EXPECT_EQ(s.on_drained(), SyncStep::send_get_stats);  // the answer was dropped too
  s.sent(10, t0);
  EXPECT_EQ(s.on_stats(10), SyncStep::done);
  EXPECT_EQ(s.resends(), 2U);
}

TEST_F(SyncTest, TimeoutResendsThenRoundLimitFails) {
  s.enqueue(1);
  ASSERT_EQ(s.start(t0), SyncStep::send_flush);
  s.sent(7, t0);
  ASSERT_TRUE(s.deadline());
  EXPECT_EQ(*s.deadline(), t0 + 2s);
  EXPECT_EQ(s.on_tick(t0 + 1999ms), SyncStep::none);
  EXPECT_EQ(s.on_tick(t0 + 2s), SyncStep::send_flush);
  s.sent(8, t0 + 2s);
  EXPECT_EQ(*s.deadline(), t0 + 4s);
  Clock::time_point t = t0 + 2s;
  while (t < t0 + 28s) {
    t += 2s;
    ASSERT_EQ(s.on_tick(t), SyncStep::send_flush);
    s.sent(9, t);
  }
  EXPECT_EQ(s.on_tick(t0 + 30s), SyncStep::failed);
  EXPECT_NE(s.failure().find("30 s"), std::string::npos) << s.failure();
  EXPECT_EQ(s.failure_code(), ETIMEDOUT);
  EXPECT_EQ(s.take_waiters(), (std::vector<WaiterId>{1}));
  EXPECT_FALSE(s.busy());
}

TEST_F(SyncTest, KernelErrorsFailTheRound) {
  s.enqueue(1);
  ASSERT_EQ(s.start(t0), SyncStep::send_flush);
  s.sent(7, t0);
  ASSERT_EQ(s.on_ack(genl::Ack{7, ENOTCONN, "no listener is registered"}), SyncStep::failed);
  EXPECT_NE(s.failure().find("FLUSH"), std::string::npos) << s.failure();
  EXPECT_NE(s.failure().find("no listener is registered"), std::string::npos) << s.failure();
  EXPECT_EQ(s.failure_code(), ENOTCONN);
  s.take_waiters();

  s.enqueue(2);
  ASSERT_EQ(s.start(t0), SyncStep::send_flush);
  s.sent(8, t0);
  ASSERT_EQ(s.on_ack(ack(8)), SyncStep::send_get_stats);
  s.sent(9, t0);
  ASSERT_EQ(s.on_ack(ack(9, EPERM)), SyncStep::failed);
  EXPECT_NE(s.failure().find("run as root"), std::string::npos) << s.failure();
}

TEST_F(SyncTest, SendFailureFailsTheRound) {
  s.enqueue(1);
  ASSERT_EQ(s.start(t0), SyncStep::send_flush);
  EXPECT_EQ(s.send_failed(Error{EIO, "cannot send"}), SyncStep::failed);
  EXPECT_EQ(s.failure(), "cannot send");
  EXPECT_EQ(s.failure_code(), EIO);
}

}  // namespace
}  // namespace msgtap::daemon
