// SPDX-License-Identifier: GPL-2.0-only
// The queue prober against the host kernel's real SysV queues: depth,
// removal, and a queue in another IPC namespace reached through a process
// living there.
#include "daemon/queue_probe.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/msg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "stats/snapshot.h"
#include "test_events.h"

namespace msgtap::daemon {
namespace {

struct Msg {
  long mtype;
  char text[100];
};

uint32_t own_ns() {
  struct stat st {};
  if (::stat("/proc/self/ns/ipc", &st) < 0) return 0;
  return static_cast<uint32_t>(st.st_ino);
}

TEST(QueueProber, DepthOfAQueueThenItsRemoval) {
  const int q = ::msgget(IPC_PRIVATE, IPC_CREAT | 0600);
  if (q < 0) GTEST_SKIP() << "no SysV message queues here: " << std::strerror(errno);
  Msg m{1, {}};
  ASSERT_EQ(::msgsnd(q, &m, 40, IPC_NOWAIT), 0);
  ASSERT_EQ(::msgsnd(q, &m, 60, IPC_NOWAIT), 0);

  QueueProber prober;
  ASSERT_EQ(prober.home_ns(), own_ns());
  stats::Aggregator agg;
  const stats::QueueKey key{own_ns(), q};
  agg.restore({{key, {}}}, {}, 0);
  const auto queue = [&]() -> const stats::QueueStats& { return *agg.queues().at(key); };
  prober.probe(agg, 1000.0);
  EXPECT_EQ(queue().live.state, stats::QueueLive::State::present) << queue().live.note;
  EXPECT_EQ(queue().live.qnum, 2U);
  EXPECT_EQ(queue().live.cbytes, 100U);
  EXPECT_GT(queue().live.qbytes, 100U);
  EXPECT_EQ(queue().removed_at, 0);

  ASSERT_EQ(::msgctl(q, IPC_RMID, nullptr), 0);
  prober.probe(agg, 1001.0);
  EXPECT_EQ(queue().live.state, stats::QueueLive::State::removed);
  EXPECT_EQ(queue().removed_at, 1001.0);
  prober.probe(agg, 1002.0);  // the first sighting stays the removal time
  EXPECT_EQ(queue().removed_at, 1001.0);
}

// A round that reads what the row already holds leaves the row alone: a
// snapshot that shares it (a scrape still rendering) must not make the
// aggregator copy every row each round. The snapshot dates such a row by
// the round that read it.
TEST(QueueProber, RereadingTheSameValuesCopiesNoRow) {
  const int q = ::msgget(IPC_PRIVATE, IPC_CREAT | 0600);
  if (q < 0) GTEST_SKIP() << "no SysV message queues here: " << std::strerror(errno);
  Msg m{1, {}};
  ASSERT_EQ(::msgsnd(q, &m, 40, IPC_NOWAIT), 0);
  QueueProber prober;
  stats::Aggregator agg;
  const stats::QueueKey key{own_ns(), q};
  agg.restore({{key, {}}}, {}, 0);
  const auto row_now = [&] { return agg.queues().at(key).share(); };
  const auto snapshot = [&](double t) {
    return stats::make_snapshot(t, {}, {}, agg, nullptr, &prober.read_at());
  };

  prober.probe(agg, 1000.0);
  const stats::Snapshot first = snapshot(1000.0);
  ASSERT_EQ(first.queues.size(), 1U);
  EXPECT_EQ(first.queues[0].checked_at, 1000.0);

  prober.probe(agg, 1001.0);
  EXPECT_EQ(row_now(), first.queues[0].stats) << "an unchanged row was copied";
  const stats::Snapshot second = snapshot(1001.0);
  EXPECT_EQ(second.queues[0].checked_at, 1001.0);
  EXPECT_EQ(second.queues[0].stats->live.qnum, 1U);
  EXPECT_EQ(first.queues[0].checked_at, 1000.0);

  ASSERT_EQ(::msgsnd(q, &m, 60, IPC_NOWAIT), 0);
  prober.probe(agg, 1002.0);
  EXPECT_NE(row_now(), first.queues[0].stats);
  EXPECT_EQ(row_now()->live.qnum, 2U);
  EXPECT_EQ(row_now()->live.checked_at, 1002.0);
  EXPECT_EQ(first.queues[0].stats->live.qnum, 1U);
  EXPECT_EQ(snapshot(1002.0).queues[0].checked_at, 1002.0);

  ASSERT_EQ(::msgctl(q, IPC_RMID, nullptr), 0);
  prober.probe(agg, 1003.0);
  const stats::Snapshot removed = snapshot(1003.0);
  EXPECT_EQ(removed.queues[0].stats->live.state, stats::QueueLive::State::removed);
  prober.probe(agg, 1004.0);
  EXPECT_EQ(row_now(), removed.queues[0].stats);
  const stats::Snapshot later = snapshot(1004.0);
  EXPECT_EQ(later.queues[0].checked_at, 1004.0);
  EXPECT_EQ(later.queues[0].stats->removed_at, 1003.0);
  // Without the prober's times (a document, a test), the row's own.
  EXPECT_EQ(stats::make_snapshot(1004.0, {}, {}, agg).queues[0].checked_at, 1003.0);
}

// A child unshares its IPC namespace and creates a queue there with the
// same id as one here; the prober must report each from its own namespace.
TEST(QueueProber, QueuesOfAnotherNamespaceThroughASender) {
  int ready[2], done[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(done), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int q = -1;
    if (::unshare(CLONE_NEWIPC) == 0) {
      q = ::msgget(IPC_PRIVATE, IPC_CREAT | 0600);
      Msg m{1, {}};
      for (int i = 0; i < 3; ++i) ::msgsnd(q, &m, 10, IPC_NOWAIT);
    }
    struct stat st {};
    ::stat("/proc/self/ns/ipc", &st);
    const int64_t msg[2] = {q, static_cast<int64_t>(st.st_ino)};
    (void)!::write(ready[1], msg, sizeof(msg));
    char c;
    (void)!::read(done[0], &c, 1);
    _exit(0);
  }
  int64_t got[2] = {-1, 0};
  ASSERT_EQ(::read(ready[0], got, sizeof(got)), static_cast<ssize_t>(sizeof(got)));
  auto finish = [&] {
    (void)!::write(done[1], "x", 1);
    ::waitpid(child, nullptr, 0);
  };
  if (got[0] < 0) {
    finish();
    GTEST_SKIP() << "cannot create an IPC namespace here (needs CAP_SYS_ADMIN)";
  }
  const auto ns = static_cast<uint32_t>(got[1]);
  stats::Aggregator agg;
  const stats::QueueKey key{ns, static_cast<int32_t>(got[0])};
  agg.restore({{key, {}}}, {}, 0);
  const auto theirs = [&]() -> const stats::QueueStats& { return *agg.queues().at(key); };
  QueueProber prober;

  prober.probe(agg, 5.0);  // no sender known: cannot enter
  EXPECT_EQ(theirs().live.state, stats::QueueLive::State::unknown);
  EXPECT_NE(theirs().live.note.find("no process"), std::string::npos) << theirs().live.note;
  EXPECT_EQ(prober.orphaned(), std::set<uint32_t>{ns});

  agg.edit(key).last_tgid = static_cast<uint32_t>(child);
  prober.probe(agg, 6.0);
  EXPECT_EQ(theirs().live.state, stats::QueueLive::State::present) << theirs().live.note;
  EXPECT_EQ(theirs().live.qnum, 3U);
  EXPECT_EQ(theirs().live.cbytes, 30U);
  EXPECT_TRUE(prober.orphaned().empty());
  // Back home afterwards.
  EXPECT_EQ(own_ns(), prober.home_ns());
  prober.probe(agg, 6.5);  // the same values: the row keeps 6.0
  EXPECT_EQ(theirs().live.checked_at, 6.0);
  finish();

  // The process has gone (and with it the namespace): unknown, with why,
  // and when it was last read.
  prober.probe(agg, 7.0);
  EXPECT_EQ(theirs().live.state, stats::QueueLive::State::unknown);
  EXPECT_FALSE(theirs().live.note.empty());
  EXPECT_EQ(prober.orphaned(), std::set<uint32_t>{ns});
  EXPECT_EQ(theirs().live.checked_at, 6.5);
  EXPECT_EQ(stats::make_snapshot(7.0, {}, {}, agg, nullptr, &prober.read_at()).queues[0].checked_at,
            6.5);
}

// A freed namespace's inode number may name a later namespace, whose queue
// with the same id is not the row's queue: the prober leaves such rows as
// the aggregator marked them, and only dates their removal. Here the
// "later namespace" is msgtapd's own, where a queue with the id exists.
TEST(QueueProber, RowsOfAFreedNamespaceAreNotLookedUp) {
  const int q = ::msgget(IPC_PRIVATE, IPC_CREAT | 0600);
  if (q < 0) GTEST_SKIP() << "no SysV message queues here: " << std::strerror(errno);
  QueueProber prober;
  stats::Aggregator agg;
  const stats::QueueKey key{own_ns(), q};
  agg.restore({{key, {}}}, {}, 0);
  agg.ns_gone(testing::make_ns_gone({.ipc_ns = own_ns(), .ts_ns = 1}));
  prober.probe(agg, 2000.0);
  const stats::QueueStats& row = *agg.queues().at(key);
  EXPECT_EQ(row.live.state, stats::QueueLive::State::removed);
  EXPECT_EQ(row.live.note, "its IPC namespace was freed");
  EXPECT_EQ(row.removed_at, 2000.0);
  ::msgctl(q, IPC_RMID, nullptr);
}

// A queue read (and found unchanged) until its namespace was freed: the
// row is dated by its last read, not by its last change.
TEST(QueueProber, AFreedNamespacesRowKeepsTheDateOfItsLastRead) {
  const int q = ::msgget(IPC_PRIVATE, IPC_CREAT | 0600);
  if (q < 0) GTEST_SKIP() << "no SysV message queues here: " << std::strerror(errno);
  QueueProber prober;
  stats::Aggregator agg;
  const stats::QueueKey key{own_ns(), q};
  agg.restore({{key, {}}}, {}, 0);
  agg.edit(key).first_seen_ns = 5;
  prober.probe(agg, 1000.0);
  prober.probe(agg, 1005.0);
  EXPECT_EQ(agg.queues().at(key)->live.checked_at, 1000.0);  // unchanged since
  agg.ns_gone(testing::make_ns_gone({.ipc_ns = own_ns(), .ts_ns = 10}));
  prober.probe(agg, 1006.0);
  const stats::QueueStats& row = *agg.queues().at(key);
  EXPECT_EQ(row.live.state, stats::QueueLive::State::removed);
  EXPECT_EQ(row.removed_at, 1006.0);
  EXPECT_EQ(row.live.checked_at, 1005.0);
  EXPECT_EQ(
      stats::make_snapshot(1006.0, {}, {}, agg, nullptr, &prober.read_at()).queues[0].checked_at,
      1005.0);
  ::msgctl(q, IPC_RMID, nullptr);
}

// Rows with a negative msqid are not queues: msgctl would find none and
// call them removed, and the fold row (--max-queues) would be retired while
// still in use. They stay unknown and go only once idle.
TEST(QueueProber, RowsWithNegativeIdsAreNotQueues) {
  QueueProber prober;
  if (prober.home_ns() == 0) GTEST_SKIP() << "no /proc/self/ns/ipc here";
  stats::Aggregator agg;
  const stats::QueueKey fold{own_ns(), stats::kFoldMsqid};
  const stats::QueueKey other{own_ns(), -7};
  agg.restore({{fold, {}}, {other, {}}}, {}, 0);
  prober.probe(agg, 1000.0);
  for (const auto& key : {fold, other}) {
    const stats::QueueStats& q = *agg.queues().at(key);
    EXPECT_EQ(q.live.state, stats::QueueLive::State::unknown) << key.msqid;
    EXPECT_EQ(q.removed_at, 0) << key.msqid;
    EXPECT_NE(q.live.note.find("not a queue"), std::string::npos) << q.live.note;
  }
}

TEST(RetireNow, RemovedQueuesAfterTheGraceRowsThatAreNotQueuesOnceIdle) {
  constexpr uint32_t kHome = 4026531839U;
  constexpr uint32_t kAway = 4026532200U;
  constexpr uint64_t kSecond = 1'000'000'000;
  const auto rule = [](double now, uint64_t mono_s, bool crowded = false) {
    return RetireRule{now, mono_s * kSecond, 300, kHome, crowded, nullptr};
  };
  stats::QueueStats q;
  q.last_seen_ns = 100 * kSecond;
  // Removed: by the wall clock, idle or not.
  q.removed_at = 1000.0;
  EXPECT_FALSE(retire_now({kHome, 3}, q, rule(1299.0, 100)));
  EXPECT_TRUE(retire_now({kHome, 3}, q, rule(1300.0, 100)));
  // ... at once in a crowded table.
  EXPECT_TRUE(retire_now({kHome, 3}, q, rule(1000.0, 100, true)));
  q.removed_at = 0;
  EXPECT_FALSE(retire_now({kHome, 3}, q, rule(5000.0, 900, true)));
  // A home queue that is not removed stays, however idle.
  EXPECT_FALSE(retire_now({kHome, 3}, q, rule(5000.0, 900)));
  // Away and unknown (no process known there): once idle for the grace.
  EXPECT_FALSE(retire_now({kAway, 3}, q, rule(5000.0, 399)));
  EXPECT_TRUE(retire_now({kAway, 3}, q, rule(5000.0, 400)));
  q.live.state = stats::QueueLive::State::present;
  EXPECT_FALSE(retire_now({kAway, 3}, q, rule(5000.0, 900)));
  // Not a queue: once idle for the grace, in any namespace.
  q.live.state = stats::QueueLive::State::unknown;
  EXPECT_FALSE(retire_now({kHome, stats::kFoldMsqid}, q, rule(5000.0, 399)));
  EXPECT_TRUE(retire_now({kHome, stats::kFoldMsqid}, q, rule(5000.0, 400)));
  EXPECT_TRUE(retire_now({0, stats::kFoldMsqid}, q, rule(5000.0, 400)));
}

// A crowded table lets every row of a namespace no known process is in go
// at once, idle or not; other namespaces' rows wait as before.
TEST(RetireNow, CrowdedTableDropsOrphanedNamespacesAtOnce) {
  constexpr uint32_t kHome = 4026531839U;
  constexpr uint32_t kGone = 4026532200U;
  constexpr uint32_t kDenied = 4026532201U;
  constexpr uint64_t kSecond = 1'000'000'000;
  const std::set<uint32_t> orphaned{kGone};
  RetireRule rule{5000.0, 101 * kSecond, 300, kHome, true, &orphaned};
  stats::QueueStats q;
  q.last_seen_ns = 100 * kSecond;  // 1 s ago
  EXPECT_TRUE(retire_now({kGone, 3}, q, rule));
  EXPECT_TRUE(retire_now({kGone, stats::kFoldMsqid}, q, rule));
  EXPECT_FALSE(retire_now({kDenied, 3}, q, rule));
  EXPECT_FALSE(retire_now({kHome, 3}, q, rule));
  rule.crowded = false;
  EXPECT_FALSE(retire_now({kGone, 3}, q, rule));
  rule.mono_ns = 400 * kSecond;
  EXPECT_TRUE(retire_now({kGone, 3}, q, rule));
}

}  // namespace
}  // namespace msgtap::daemon
