// SPDX-License-Identifier: GPL-2.0-only
// Aggregation: synthetic events in, exact per-queue numbers out.
#include "stats/aggregate.h"

#include <gtest/gtest.h>
#include <malloc.h>
#include <sys/ipc.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <stdexcept>
#include <string>

#include "stats/snapshot.h"
#include "test_events.h"

namespace msgtap::stats {
namespace {

using testing::make_event;

constexpr uint32_t kInitNs = 4026531839U;
constexpr uint32_t kOtherNs = 4026532200U;

TEST(ErrnoName, NamesWhatMsgsndReturns) {
  EXPECT_EQ(errno_name(EAGAIN), "EAGAIN");
  EXPECT_EQ(errno_name(EACCES), "EACCES");
  EXPECT_EQ(errno_name(EIDRM), "EIDRM");
  EXPECT_EQ(errno_name(EINVAL), "EINVAL");
  EXPECT_EQ(errno_name(EFAULT), "EFAULT");
  EXPECT_EQ(errno_name(ENOMEM), "ENOMEM");
  EXPECT_EQ(errno_name(EPERM), "EPERM");
  EXPECT_EQ(errno_name(EINTR), "EINTR");
  EXPECT_EQ(errno_name(600), "E600");
}

TEST(ErrnoKey, RestartCodesAreEintr) {
  EXPECT_EQ(errno_key(-512), EINTR);  // ERESTARTSYS
  EXPECT_EQ(errno_key(-513), EINTR);  // ERESTARTNOINTR
  EXPECT_EQ(errno_key(-514), EINTR);  // ERESTARTNOHAND
  EXPECT_EQ(errno_key(-516), EINTR);  // ERESTART_RESTARTBLOCK
  EXPECT_EQ(errno_key(-515), 515);    // ENOIOCTLCMD: not a restart code
  EXPECT_EQ(errno_key(-EINTR), EINTR);
  EXPECT_EQ(errno_key(-EAGAIN), EAGAIN);
  EXPECT_EQ(errno_name(errno_key(-515)), "E515");
  // No negation in 32 bits: kept apart from every real errno, and positive.
  EXPECT_EQ(errno_key(INT32_MIN), INT32_MAX);
}

TEST(ErrnoFromName, ReversesErrnoName) {
  for (int err : {EPERM, EAGAIN, EACCES, EIDRM, EINTR, 515, 600})
    EXPECT_EQ(errno_from_name(errno_name(err)), err) << err;
  EXPECT_EQ(errno_from_name("EWHATEVER"), 0);
  EXPECT_EQ(errno_from_name("E"), 0);
  EXPECT_EQ(errno_from_name("E12x"), 0);
  EXPECT_EQ(errno_from_name("eagain"), 0);
}

TEST(Aggregator, ExactPerQueueNumbers) {
  Aggregator agg;
  // Queue (init, 7): three successes, one of which slept; two failures.
  agg.add_send(make_event({.msqid = 7, .msgsz = 100, .ts_ns = 5000}));
  agg.add_send(make_event({.msqid = 7, .msgsz = 28, .ts_ns = 4000}));
  agg.add_send(make_event({.msqid = 7,
                           .msgsz = 1,
                           .flags = MSGTAP_EVF_SLEPT,
                           .duration_ns = 2'000'000,
                           .ts_ns = 9000}));
  agg.add_send(make_event({.msqid = 7, .result = -EAGAIN, .msgsz = 64, .ts_ns = 6000}));
  // A sender that slept, then was interrupted by a signal.
  agg.add_send(make_event({.msqid = 7,
                           .result = -514,
                           .msgsz = 64,
                           .flags = MSGTAP_EVF_SLEPT | MSGTAP_EVF_COMPAT,
                           .duration_ns = 3'000'000,
                           .ts_ns = 7000}));
  // Same msqid in another IPC namespace is another queue.
  agg.add_send(make_event({.ipc_ns = kOtherNs, .msqid = 7, .result = -EACCES, .ts_ns = 100}));
  agg.add_send(make_event({.ipc_ns = kOtherNs, .msqid = 7, .result = -EACCES, .ts_ns = 200}));
  agg.add_send(make_event({.msqid = 0, .msgsz = 10, .flags = MSGTAP_EVF_COMPAT, .ts_ns = 300}));

  const auto& q = agg.queues();
  ASSERT_EQ(q.size(), 3U);

  // Sorted by (ipc_ns, msqid).
  auto it = q.begin();
  EXPECT_EQ(it->first, (QueueKey{kInitNs, 0}));
  ++it;
  EXPECT_EQ(it->first, (QueueKey{kInitNs, 7}));
  ++it;
  EXPECT_EQ(it->first, (QueueKey{kOtherNs, 7}));

  const QueueStats& a = *q.at({kInitNs, 7});
  EXPECT_EQ(a.send.sends_ok, 3U);
  EXPECT_EQ(a.send.bytes_ok, 129U);  // failed sends' sizes do not count
  EXPECT_EQ(a.send.sends_failed, 2U);
  EXPECT_EQ(a.send.errors, (std::map<int, uint64_t>{{EINTR, 1}, {EAGAIN, 1}}));
  EXPECT_EQ(a.send.sends_slept, 2U);
  EXPECT_EQ(a.send.slept_ns, 5'000'000U);
  EXPECT_EQ(a.send.compat_sends, 1U);
  EXPECT_EQ(a.first_seen_ns, 4000U);  // smallest, not first to arrive
  EXPECT_EQ(a.last_seen_ns, 9000U);

  const QueueStats& b = *q.at({kOtherNs, 7});
  EXPECT_EQ(b.send.sends_ok, 0U);
  EXPECT_EQ(b.send.bytes_ok, 0U);
  EXPECT_EQ(b.send.sends_failed, 2U);
  EXPECT_EQ(b.send.errors, (std::map<int, uint64_t>{{EACCES, 2}}));
  EXPECT_EQ(b.send.sends_slept, 0U);
  EXPECT_EQ(b.first_seen_ns, 100U);
  EXPECT_EQ(b.last_seen_ns, 200U);

  const QueueStats& c = *q.at({kInitNs, 0});
  EXPECT_EQ(c.send.sends_ok, 1U);
  EXPECT_EQ(c.send.bytes_ok, 10U);
  EXPECT_EQ(c.send.compat_sends, 1U);
  EXPECT_TRUE(c.send.errors.empty());
}

TEST(Aggregator, AllRestartCodesMergeIntoEintr) {
  Aggregator agg;
  for (int32_t r : {-512, -513, -514, -516, -EINTR}) agg.add_send(make_event({.result = r}));
  agg.add_send(make_event({.result = -515}));
  const auto& s = agg.queues().begin()->second->send;
  EXPECT_EQ(s.sends_failed, 6U);
  EXPECT_EQ(s.errors, (std::map<int, uint64_t>{{EINTR, 5}, {515, 1}}));
}

TEST(Aggregator, RetireHookRemovesSelectedQueues) {
  Aggregator agg;
  agg.add_send(make_event({.msqid = 1, .ts_ns = 10}));
  agg.add_send(make_event({.msqid = 2, .ts_ns = 500}));
  const size_t n =
      agg.retire_if([](const QueueKey&, const QueueStats& s) { return s.last_seen_ns < 100; });
  EXPECT_EQ(n, 1U);
  ASSERT_EQ(agg.queues().size(), 1U);
  EXPECT_EQ(agg.queues().begin()->first.msqid, 2);
}

}  // namespace
}  // namespace msgtap::stats

namespace msgtap::stats {
namespace {

TEST(Aggregator, DistributionsIdentityAndNowaitFailures) {
  Aggregator agg;
  msgtap_send_event known = testing::make_event(
      {.msqid = 2, .msgsz = 64, .duration_ns = 3000, .mtype = 9, .tgid = 40, .comm = "producer"});
  known.flags |= MSGTAP_EVF_QUEUE_KNOWN;
  known.key = 0x1234;
  known.q_uid = 1000;
  known.q_gid = 100;
  known.q_mode = 0640;
  agg.add_send(known);
  agg.add_send(testing::make_event({.msqid = 2,
                                    .result = -EAGAIN,
                                    .duration_ns = 100,
                                    .mtype = 9,
                                    .tgid = 41,
                                    .msgflg = IPC_NOWAIT}));
  agg.add_send(testing::make_event({.msqid = 2, .result = -EAGAIN, .mtype = 9, .tgid = 41}));
  // EARLY: failed before the kernel read the message; its mtype means nothing.
  agg.add_send(testing::make_event(
      {.msqid = 2, .result = -EFAULT, .flags = MSGTAP_EVF_EARLY, .mtype = 0, .tgid = 41}));

  const QueueStats& q = *agg.queues().at({4026531839U, 2});
  EXPECT_EQ(q.identity, (QueueIdentity{true, 0x1234, 1000, 100, 0640}));
  EXPECT_EQ(q.send.nowait_failures, 1U);
  EXPECT_EQ(q.send.size_bytes.count(), 1U);    // successful sends only
  EXPECT_EQ(q.send.size_bytes.bucket(6), 1U);  // (32, 64]
  EXPECT_EQ(q.send.latency_ns.count(), 4U);    // every call
  EXPECT_EQ(q.send.latency_ns.sum(), 3100U);
  EXPECT_EQ(q.send.mtypes.total(), 3U);
  EXPECT_EQ(q.send.mtypes_distinct.count(), 1U);
  EXPECT_EQ(q.send.senders.sorted().front(), (TopK::Entry{41, 3, 0}));
  EXPECT_EQ(q.send.sender_info.at(40).comm, "producer");
  EXPECT_EQ(q.last_tgid, 41U);
}

// Runs of one sender skip the name lookup (SendStats::LastSender): a rename,
// a new uid, a prune that drops the cached sender and a moved-from copy must
// each still leave sender_info as the slow path alone would.
TEST(SendStats, SenderNamesStayExactAcrossRunsOfOneSender) {
  SendStats s;
  auto ev = testing::make_event({.tgid = 7, .comm = "worker"});
  s.add(ev);
  s.add(ev);
  EXPECT_EQ(s.sender_info.at(7), (SendStats::SenderInfo{"worker", 0}));
  std::strncpy(ev.comm, "renamed", sizeof(ev.comm));
  s.add(ev);
  EXPECT_EQ(s.sender_info.at(7).comm, "renamed");
  ev.uid = 1000;
  s.add(ev);
  EXPECT_EQ(s.sender_info.at(7).uid, 1000U);

  // 40 other senders, 16 of them tracked: the prunes on the way drop 7,
  // which comes back named.
  for (uint32_t t = 100; t < 140; ++t)
    for (int i = 0; i < 10; ++i) s.add(testing::make_event({.tgid = t, .comm = "other"}));
  EXPECT_FALSE(s.sender_info.contains(7));
  s.add(ev);
  EXPECT_EQ(s.sender_info.at(7), (SendStats::SenderInfo{"renamed", 1000}));
  EXPECT_LE(s.sender_info.size(), 2 * TopK::kCapacity + 1);

  // A moved-from object used again must not trust its cache: whatever its
  // map kept, the sender must be there, named, after the next record.
  SendStats moved = std::move(s);
  s.add(ev);  // NOLINT(bugprone-use-after-move): that use is the point
  EXPECT_EQ(s.sender_info.at(7), (SendStats::SenderInfo{"renamed", 1000}));
  EXPECT_EQ(moved.sender_info.at(7), (SendStats::SenderInfo{"renamed", 1000}));
}

TEST(Aggregator, RetiredQueuesKeepTheTotalsAndResetForgetsAll) {
  Aggregator agg;
  for (int i = 0; i < 3; ++i) agg.add_send(testing::make_event({.msqid = 1, .msgsz = 10}));
  agg.add_send(testing::make_event({.msqid = 1, .result = -EIDRM}));
  agg.add_send(testing::make_event({.msqid = 2, .msgsz = 5}));
  EXPECT_EQ(agg.retire_if([](const QueueKey& k, const QueueStats&) { return k.msqid == 1; }), 1U);
  EXPECT_EQ(agg.retired(), (RetiredTotals{1, 3, 30, 1}));
  ASSERT_EQ(agg.queues().size(), 1U);
  // The lookup cache must not point at the retired queue.
  agg.add_send(testing::make_event({.msqid = 1, .msgsz = 7}));
  EXPECT_EQ(agg.queues().at({4026531839U, 1})->send.sends_ok, 1U);
  agg.reset();
  EXPECT_TRUE(agg.queues().empty());
  EXPECT_EQ(agg.retired(), RetiredTotals{});
}

// Rows are bounded (msgtapd --max-queues): ids that name no queue get a
// small share, and calls of queues without a row go to their namespace's
// fold row, or to namespace 0's once even that does not fit. Every call is
// still counted once.
TEST(Aggregator, RowsAreBoundedAndTheRestFolded) {
  constexpr uint32_t kThirdNs = 4026532300U;
  Aggregator agg;
  agg.set_limits({.max_queues = 8, .max_stray = 2});
  const auto known = [](uint32_t ns, int32_t id) {
    return make_event({.ipc_ns = ns, .msqid = id, .flags = MSGTAP_EVF_QUEUE_KNOWN});
  };
  const auto stray = [](int32_t id) { return make_event({.msqid = id, .result = -EINVAL}); };
  const auto failed_sum = [&] {
    uint64_t n = 0;
    for (const auto& [k, q] : agg.queues()) n += q->send.sends_failed;
    return n;
  };
  agg.add_send(known(kInitNs, 1));
  for (int32_t id = 100; id < 110; ++id) agg.add_send(stray(id));
  agg.add_send(stray(105));  // the same id again: folded again, not cached
  // Held back until msgtapd settles (before each snapshot): see below.
  EXPECT_EQ(agg.deferred(), 9U);
  EXPECT_EQ(agg.folded_sends(), 0U);
  agg.settle();
  EXPECT_EQ(agg.deferred(), 0U);
  EXPECT_EQ(agg.stray_rows(), 2U);
  EXPECT_EQ(agg.folded_sends(), 9U);
  ASSERT_EQ(agg.queues().size(), 4U);  // 1, 100, 101 and the fold row
  EXPECT_EQ(agg.queues().at({kInitNs, kFoldMsqid})->send.errors.at(EINVAL), 9U);
  EXPECT_EQ(failed_sum(), 11U);

  // Id 100 names a queue after all: no longer stray, and 110 gets a row.
  agg.add_send(known(kInitNs, 100));
  EXPECT_EQ(agg.stray_rows(), 1U);
  agg.add_send(stray(110));
  EXPECT_EQ(agg.stray_rows(), 2U);
  EXPECT_EQ(agg.queues().size(), 5U);

  // Real queues fill the rest; the next one is folded.
  for (int32_t id = 200; id < 204; ++id) agg.add_send(known(kInitNs, id));
  EXPECT_EQ(agg.queues().size(), 8U);
  EXPECT_FALSE(agg.queues().contains({kInitNs, 203}));
  EXPECT_EQ(agg.folded_sends(), 10U);
  // A call naming -1 itself is that row's own.
  agg.add_send(stray(kFoldMsqid));
  EXPECT_EQ(agg.folded_sends(), 10U);
  EXPECT_EQ(agg.queues().at({kInitNs, kFoldMsqid})->send.sends_failed, 10U);

  // Other namespaces have no fold row and no room for one: namespace 0's,
  // one row beyond the limit, takes them all.
  agg.add_send(known(kOtherNs, 1));
  agg.add_send(known(kThirdNs, 1));
  agg.add_send(make_event({.ipc_ns = kThirdNs, .msqid = 2, .result = -EINVAL}));
  EXPECT_EQ(agg.queues().size(), 9U);
  EXPECT_EQ(agg.queues().at({0, kFoldMsqid})->send.sends_ok, 2U);
  EXPECT_EQ(agg.queues().at({0, kFoldMsqid})->send.sends_failed, 1U);
  EXPECT_EQ(agg.folded_sends(), 13U);

  // Retiring a stray row and another makes room for a stray one.
  agg.retire_if(
      [](const QueueKey& k, const QueueStats&) { return k.msqid == 101 || k.msqid == 202; });
  EXPECT_EQ(agg.stray_rows(), 1U);
  agg.add_send(stray(111));
  EXPECT_TRUE(agg.queues().contains({kInitNs, 111}));
  EXPECT_EQ(agg.stray_rows(), 2U);

  // A restore counts the stray rows it brings and keeps the folded count.
  std::map<QueueKey, QueueStats> saved;
  for (const auto& [k, q] : agg.queues()) saved.emplace(k, *q);
  Aggregator again;
  again.restore(std::move(saved), agg.retired(), agg.folded_sends());
  EXPECT_EQ(again.stray_rows(), 2U);
  EXPECT_EQ(again.folded_sends(), 13U);

  agg.reset();
  EXPECT_EQ(agg.stray_rows(), 0U);
  EXPECT_EQ(agg.folded_sends(), 0U);
}

// The module drains its rings one CPU after the other, so a call that
// failed before finding its queue (EINVAL, an EARLY EFAULT) can come in
// before the calls of another CPU that found it. While the stray rows are all
// taken, such a record waits for them instead of being folded at once.
TEST(Aggregator, FailedCallsWaitForTheirQueueWhileStrayRowsAreFull) {
  Aggregator agg;
  agg.set_limits({.max_queues = 8, .max_stray = 1});
  const auto stray = [](int32_t id) { return make_event({.msqid = id, .result = -EINVAL}); };
  agg.add_send(stray(100));  // takes the one stray row
  ASSERT_EQ(agg.stray_rows(), 1U);

  agg.add_send(stray(5));
  agg.add_send(make_event({.msqid = 5, .result = -EFAULT, .flags = MSGTAP_EVF_EARLY}));
  agg.add_send(stray(101));
  EXPECT_EQ(agg.deferred(), 3U);
  EXPECT_EQ(agg.queues().size(), 1U);
  EXPECT_EQ(agg.folded_sends(), 0U);

  // Queue 5's call from the other CPU: its row takes the two held back.
  agg.add_send(make_event({.msqid = 5, .msgsz = 40, .flags = MSGTAP_EVF_QUEUE_KNOWN}));
  EXPECT_EQ(agg.deferred(), 1U);
  const QueueStats& q5 = *agg.queues().at({kInitNs, 5});
  EXPECT_EQ(q5.send.sends_ok, 1U);
  EXPECT_EQ(q5.send.sends_failed, 2U);
  EXPECT_EQ(q5.send.errors.at(EINVAL), 1U);
  EXPECT_EQ(q5.send.errors.at(EFAULT), 1U);
  EXPECT_TRUE(q5.identity.known);
  EXPECT_EQ(agg.stray_rows(), 1U);  // 5 is a queue; 100 is still the stray row
  EXPECT_EQ(agg.folded_sends(), 0U);

  // Settling: 101 named no queue after all, and there is no stray row for it.
  agg.settle();
  EXPECT_EQ(agg.deferred(), 0U);
  EXPECT_EQ(agg.folded_sends(), 1U);
  EXPECT_EQ(agg.queues().at({kInitNs, kFoldMsqid})->send.errors.at(EINVAL), 1U);
  EXPECT_FALSE(agg.queues().contains({kInitNs, 101}));

  // Once a stray row has gone, a held-back id settles into a row of its own.
  agg.add_send(stray(102));
  agg.add_send(stray(102));
  agg.retire_if([](const QueueKey& k, const QueueStats&) { return k.msqid == 100; });
  agg.settle();
  EXPECT_EQ(agg.queues().at({kInitNs, 102})->send.sends_failed, 2U);
  EXPECT_EQ(agg.folded_sends(), 1U);

  // Bounded: beyond kMaxDeferred, records are folded at once.
  for (int32_t id = 1000; id < 1000 + static_cast<int32_t>(Aggregator::kMaxDeferred) + 3; ++id)
    agg.add_send(stray(id));
  EXPECT_EQ(agg.deferred(), Aggregator::kMaxDeferred);
  EXPECT_EQ(agg.folded_sends(), 4U);
  agg.reset();  // forgets them with the rest
  EXPECT_EQ(agg.deferred(), 0U);
  agg.settle();
  EXPECT_TRUE(agg.queues().empty());
}

// A failed call of a later namespace held back, then a late call of the freed
// one with the same number and msqid: the row made for the late call is the
// freed namespace's, and the held-back call does not belong in it. Counted
// into it, it retired the row its own insertion was still using.
TEST(Aggregator, HeldBackCallOfALaterNamespaceKeepsWaiting) {
  using testing::make_ns_gone;
  Aggregator agg;
  agg.set_limits({.max_queues = 8, .max_stray = 1});
  agg.add_send(make_event({.msqid = 100, .result = -EINVAL}));  // takes the one stray row
  agg.add_send(
      make_event({.ipc_ns = kOtherNs, .msqid = 0, .flags = MSGTAP_EVF_QUEUE_KNOWN, .ts_ns = 50}));
  agg.ns_gone(make_ns_gone({.ipc_ns = kOtherNs, .ts_ns = 200}));

  // The later namespace's call on id 0 found no queue: the old row retires,
  // and the call waits, the stray rows being full.
  agg.add_send(make_event({.ipc_ns = kOtherNs, .msqid = 0, .result = -EINVAL, .ts_ns = 300}));
  EXPECT_EQ(agg.deferred(), 1U);
  EXPECT_FALSE(agg.queues().contains({kOtherNs, 0}));
  EXPECT_EQ(agg.retired().queues, 1U);

  // A CPU drained later brings a call of the freed namespace.
  agg.add_send(make_event(
      {.ipc_ns = kOtherNs, .msqid = 0, .msgsz = 8, .flags = MSGTAP_EVF_QUEUE_KNOWN, .ts_ns = 150}));
  const QueueStats& old = *agg.queues().at({kOtherNs, 0});
  EXPECT_EQ(old.ns_gone_ns, 200U);
  EXPECT_EQ(old.send.sends_ok, 1U);
  EXPECT_EQ(old.send.bytes_ok, 8U);
  EXPECT_EQ(old.send.sends_failed, 0U);
  EXPECT_EQ(agg.deferred(), 1U);

  // Settled, the held-back call retires the freed namespace's row and, with
  // no stray row for it, is folded into its namespace's row.
  agg.settle();
  EXPECT_EQ(agg.deferred(), 0U);
  EXPECT_EQ(agg.retired().queues, 2U);
  EXPECT_EQ(agg.retired().sends_ok, 2U);
  EXPECT_EQ(agg.folded_sends(), 1U);
  EXPECT_EQ(agg.queues().at({kOtherNs, kFoldMsqid})->send.errors.at(EINVAL), 1U);
  EXPECT_FALSE(agg.queues().contains({kOtherNs, 0}));
}

// A freed namespace's inode number given to a later one: the kernel does
// that (lowest free number first), and the first queue of each gets msqid 0.
TEST(Aggregator, ReusedNamespaceGetsRowsOfItsOwn) {
  using testing::make_ns_gone;
  Aggregator agg;
  const auto send = [&](int32_t id, uint64_t ts, uint64_t size) {
    agg.add_send(make_event({.ipc_ns = kOtherNs,
                             .msqid = id,
                             .msgsz = size,
                             .flags = MSGTAP_EVF_QUEUE_KNOWN,
                             .ts_ns = ts}));
  };
  send(0, 100, 10);
  send(0, 110, 10);
  send(1, 120, 10);
  agg.add_send(make_event({.msqid = 0, .ts_ns = 130}));  // the init namespace's queue 0
  agg.ns_gone(make_ns_gone({.ipc_ns = kOtherNs, .ts_ns = 200}));
  EXPECT_EQ(agg.gone_namespaces(), 1U);
  for (int32_t id : {0, 1}) {
    const QueueStats& q = *agg.queues().at({kOtherNs, id});
    EXPECT_EQ(q.ns_gone_ns, 200U);
    EXPECT_TRUE(q.removed());
    EXPECT_EQ(q.live.note, "its IPC namespace was freed");
  }
  EXPECT_EQ(agg.queues().at({kInitNs, 0})->ns_gone_ns, 0U);

  // A call of the freed namespace that arrives late still counts in its row.
  send(0, 190, 10);
  EXPECT_EQ(agg.queues().at({kOtherNs, 0})->send.sends_ok, 3U);

  // The later namespace's first call on id 0: the old row is retired.
  send(0, 300, 7);
  const QueueStats& fresh = *agg.queues().at({kOtherNs, 0});
  EXPECT_EQ(fresh.send.sends_ok, 1U);
  EXPECT_EQ(fresh.send.bytes_ok, 7U);
  EXPECT_EQ(fresh.ns_gone_ns, 0U);
  EXPECT_FALSE(fresh.removed());
  EXPECT_EQ(agg.retired().queues, 1U);
  EXPECT_EQ(agg.retired().sends_ok, 3U);
  EXPECT_EQ(agg.retired().bytes_ok, 30U);
  // Cached for the next record: it counts in the new row.
  send(0, 310, 7);
  EXPECT_EQ(agg.queues().at({kOtherNs, 0})->send.sends_ok, 2U);
  // Id 1 of the freed namespace is untouched until its time comes.
  EXPECT_EQ(agg.queues().at({kOtherNs, 1})->send.sends_ok, 1U);
  EXPECT_EQ(agg.queues().at({kOtherNs, 1})->ns_gone_ns, 200U);

  // A late call of the freed namespace after the new row began: its row is
  // retired, so it goes to the retired totals, not into the new row.
  send(0, 150, 5);
  EXPECT_EQ(agg.queues().at({kOtherNs, 0})->send.sends_ok, 2U);
  EXPECT_EQ(agg.retired().sends_ok, 4U);
  EXPECT_EQ(agg.retired().bytes_ok, 35U);

  // A late call of the freed namespace on a queue it had no row for yet:
  // the row is made already marked.
  send(5, 160, 1);
  EXPECT_EQ(agg.queues().at({kOtherNs, 5})->ns_gone_ns, 200U);
  EXPECT_TRUE(agg.queues().at({kOtherNs, 5})->removed());
}

TEST(Aggregator, OnlyTheFirstEndOfARowCounts) {
  using testing::make_ns_gone;
  Aggregator agg;
  const auto send = [&](int32_t id, uint64_t ts) {
    agg.add_send(make_event({.ipc_ns = kOtherNs, .msqid = id, .ts_ns = ts}));
  };
  send(0, 100);
  send(1, 100);
  agg.ns_gone(make_ns_gone({.ipc_ns = kOtherNs, .ts_ns = 200}));
  send(0, 300);  // a second namespace with that number: a new row for id 0
  agg.ns_gone(make_ns_gone({.ipc_ns = kOtherNs, .ts_ns = 400, .seq = 2}));
  // Id 1's row is the first namespace's: its end stays the first one.
  EXPECT_EQ(agg.queues().at({kOtherNs, 1})->ns_gone_ns, 200U);
  EXPECT_EQ(agg.queues().at({kOtherNs, 0})->ns_gone_ns, 400U);
  // A third namespace: both old rows give way.
  send(1, 500);
  send(0, 500);
  EXPECT_EQ(agg.retired().queues, 3U);
  EXPECT_EQ(agg.retired().sends_ok, 3U);
  for (int32_t id : {0, 1}) EXPECT_EQ(agg.queues().at({kOtherNs, id})->send.sends_ok, 1U);
}

TEST(Aggregator, FoldRowsOfAFreedNamespaceGiveWayToo) {
  using testing::make_ns_gone;
  Aggregator agg;
  agg.set_limits({.max_queues = 8, .max_stray = 0});
  // Stray ids get no row: held back, then folded into the namespace's row.
  const auto stray = [&](int32_t id, uint64_t ts) {
    agg.add_send(make_event({.ipc_ns = kOtherNs, .msqid = id, .result = -EINVAL, .ts_ns = ts}));
    agg.settle();
  };
  agg.add_send(
      make_event({.ipc_ns = kOtherNs, .msqid = 0, .flags = MSGTAP_EVF_QUEUE_KNOWN, .ts_ns = 100}));
  stray(7, 100);
  stray(8, 110);
  const QueueKey fold{kOtherNs, kFoldMsqid};
  ASSERT_EQ(agg.queues().at(fold)->send.sends_failed, 2U);
  agg.ns_gone(make_ns_gone({.ipc_ns = kOtherNs, .ts_ns = 200}));
  EXPECT_EQ(agg.queues().at(fold)->ns_gone_ns, 200U);
  stray(7, 150);  // late: still the freed namespace's
  EXPECT_EQ(agg.queues().at(fold)->send.sends_failed, 3U);
  stray(7, 300);  // a later namespace's: the old fold row retires
  EXPECT_EQ(agg.queues().at(fold)->send.sends_failed, 1U);
  EXPECT_EQ(agg.queues().at(fold)->ns_gone_ns, 0U);
  EXPECT_EQ(agg.retired().queues, 1U);
  EXPECT_EQ(agg.retired().sends_failed, 3U);
  EXPECT_EQ(agg.queues().at({kOtherNs, 0})->ns_gone_ns, 200U);
  EXPECT_EQ(agg.folded_sends(), 4U);
}

TEST(Aggregator, FreedNamespacesAreBounded) {
  using testing::make_ns_gone;
  Aggregator agg;
  for (uint32_t i = 0; i < Aggregator::kMaxGone + 10; ++i)
    agg.ns_gone(make_ns_gone({.ipc_ns = kOtherNs + i, .ts_ns = 1000 + i}));
  EXPECT_EQ(agg.gone_namespaces(), Aggregator::kMaxGone);
  // The oldest were forgotten: a late call of one makes an ordinary row.
  agg.add_send(make_event({.ipc_ns = kOtherNs, .msqid = 0, .ts_ns = 500}));
  EXPECT_EQ(agg.queues().at({kOtherNs, 0})->ns_gone_ns, 0U);
  agg.add_send(make_event({.ipc_ns = kOtherNs + 20, .msqid = 0, .ts_ns = 500}));
  EXPECT_EQ(agg.queues().at({kOtherNs + 20, 0})->ns_gone_ns, 1020U);
  agg.reset();
  EXPECT_EQ(agg.gone_namespaces(), 0U);
}

// A restarted msgtapd continues from its document: rows it had marked keep
// giving way to a later namespace, and late calls still find them.
TEST(Aggregator, RestoredRowsOfAFreedNamespaceStillGiveWay) {
  Aggregator agg;
  QueueStats gone;
  gone.send.sends_ok = 5;
  gone.first_seen_ns = gone.last_seen_ns = 100;
  gone.ns_gone_ns = 200;
  agg.restore({{{kOtherNs, 0}, gone}}, {}, 0);
  EXPECT_EQ(agg.gone_namespaces(), 1U);
  // A late call of the freed namespace on a queue without a row: marked.
  agg.add_send(make_event({.ipc_ns = kOtherNs, .msqid = 3, .ts_ns = 150}));
  EXPECT_EQ(agg.queues().at({kOtherNs, 3})->ns_gone_ns, 200U);
  agg.add_send(make_event({.ipc_ns = kOtherNs, .msqid = 0, .ts_ns = 300}));
  EXPECT_EQ(agg.queues().at({kOtherNs, 0})->send.sends_ok, 1U);
  EXPECT_EQ(agg.retired().sends_ok, 5U);
  // An end the module kept while no msgtapd listened may come after rows of
  // a later namespace began: those are not the freed one's.
  agg.ns_gone(testing::make_ns_gone({.ipc_ns = kOtherNs, .ts_ns = 250, .seq = 2}));
  EXPECT_EQ(agg.queues().at({kOtherNs, 0})->ns_gone_ns, 0U);
}

TEST(Aggregator, CrowdedFromThreeQuartersOfTheLimit) {
  stats::Aggregator agg;
  agg.set_limits(QueueLimits::with_max(8));
  for (int32_t id = 0; id < 6; ++id) {
    EXPECT_FALSE(agg.crowded()) << id;
    agg.add_send(make_event({.msqid = id}));
  }
  EXPECT_TRUE(agg.crowded());
}

// Records find their queue through a hash index beside the sorted map: it
// must follow restores, retirements and resets.
TEST(Aggregator, LookupFollowsRestoreRetireAndReset) {
  Aggregator agg;
  QueueStats saved;
  saved.send.sends_ok = 5;
  agg.restore({{{kInitNs, 1}, saved}, {{kOtherNs, 1}, saved}}, {}, 0);
  EXPECT_EQ(agg.edit({kOtherNs, 1}).send.sends_ok, 5U);
  agg.add_send(make_event({.msqid = 1}));
  agg.add_send(make_event({.ipc_ns = kOtherNs, .msqid = 1}));
  agg.add_send(make_event({.msqid = 1}));
  ASSERT_EQ(agg.queues().size(), 2U);
  EXPECT_EQ(agg.queues().at({kInitNs, 1})->send.sends_ok, 7U);
  EXPECT_EQ(agg.queues().at({kOtherNs, 1})->send.sends_ok, 6U);
  EXPECT_THROW(agg.edit({kInitNs, 2}), std::out_of_range);

  agg.retire_if([](const QueueKey& k, const QueueStats&) { return k.ipc_ns == kOtherNs; });
  EXPECT_THROW(agg.edit({kOtherNs, 1}), std::out_of_range);
  agg.add_send(make_event({.ipc_ns = kOtherNs, .msqid = 1}));
  EXPECT_EQ(agg.queues().at({kOtherNs, 1})->send.sends_ok, 1U);  // a new queue

  agg.reset();
  EXPECT_THROW(agg.edit({kInitNs, 1}), std::out_of_range);
  agg.add_send(make_event({.msqid = 1}));
  ASSERT_EQ(agg.queues().size(), 1U);
  EXPECT_EQ(agg.edit({kInitNs, 1}).send.sends_ok, 1U);
}

// What --max-queues costs (msgtapd(8), README): a row takes about 1 KB
// with one sender and one mtype, and stays under about 9 KB however many
// senders (with 16-byte names, more than the kernel's comm holds), mtypes,
// sizes, latencies and errors its calls bring. The names of senders pile up
// to 32 before the untracked ones go: the sweep over sender counts meets
// the fullest pile. Measured by malloc's own count, which ASan's allocator
// does not keep.
TEST(Aggregator, ARowStaysUnderNineKilobytes) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "mallinfo2() counts nothing under ASan";
#else
  constexpr int kQueues = 100;
  // Every errno msgsnd(2) returns, and then some.
  static const int kErrors[] = {0,      EAGAIN, EINTR, EIDRM, EINVAL, EFAULT,
                                EACCES, ENOMEM, E2BIG, EPERM, ENOSPC, EBADF};
  const auto bytes_per_row = [&](int calls, int senders) {
    Aggregator agg;
    const size_t before = ::mallinfo2().uordblks;
    for (int q = 0; q < kQueues; ++q) {
      for (int i = 0; i < calls; ++i) {
        const int err = kErrors[i % std::size(kErrors)];
        agg.add_send(make_event({.msqid = q,
                                 .result = -err,
                                 .msgsz = static_cast<uint64_t>(1) << (i % 20),
                                 .flags = MSGTAP_EVF_QUEUE_KNOWN,
                                 .duration_ns = static_cast<uint64_t>(1) << (i % 40),
                                 .ts_ns = 1000 + static_cast<uint64_t>(i),
                                 .seq = static_cast<uint64_t>(i),
                                 .mtype = i,
                                 .tgid = 1000 + static_cast<uint32_t>(i % senders),
                                 .comm = "a-full-16-b-comm"}));
      }
    }
    EXPECT_EQ(agg.queues().size(), static_cast<size_t>(kQueues));
    return static_cast<double>(::mallinfo2().uordblks - before) / kQueues;
  };
  const double one = bytes_per_row(1, 1);
  EXPECT_LT(one, 1.5 * 1024) << "one call of one sender";
  double most = 0;
  for (int senders = 2000; senders <= 2040; ++senders)
    most = std::max(most, bytes_per_row(senders, senders));
  EXPECT_LT(most, 9.5 * 1024) << "2,000 to 2,040 senders, mtypes and 12 errnos";
  EXPECT_GT(most, 4 * one);
  RecordProperty("bytes_per_row_one", std::to_string(one));
  RecordProperty("bytes_per_row_most", std::to_string(most));
#endif
}

// A snapshot shares the queues instead of copying them, and stays what it
// was while the aggregator goes on: a change to a shared queue goes to a copy.
TEST(Aggregator, SnapshotsShareQueuesAndNeverChange) {
  Aggregator agg;
  agg.add_send(make_event({.msqid = 1, .msgsz = 10}));
  agg.add_send(make_event({.msqid = 2, .msgsz = 20}));
  const Snapshot first = make_snapshot(1, {}, {}, agg);
  ASSERT_EQ(first.queues.size(), 2U);
  EXPECT_EQ(first.queues[0].stats.get(), &*agg.queues().at({kInitNs, 1}));  // no copy

  // The lookup cache points at queue 2, which the snapshot shares.
  agg.add_send(make_event({.msqid = 2, .msgsz = 30}));
  agg.edit({kInitNs, 1}).live.qnum = 5;
  agg.add_send(make_event({.msqid = 3, .msgsz = 40}));
  EXPECT_EQ(first.queues[0].stats->live.qnum, 0U);
  EXPECT_EQ(first.queues[1].stats->send.sends_ok, 1U);
  EXPECT_EQ(first.queues[1].stats->send.bytes_ok, 20U);
  EXPECT_EQ(agg.queues().at({kInitNs, 1})->live.qnum, 5U);
  EXPECT_EQ(agg.queues().at({kInitNs, 2})->send.bytes_ok, 50U);

  // Once nothing shares a queue, changes go to it in place.
  const QueueStats* two = &*agg.queues().at({kInitNs, 2});
  agg.add_send(make_event({.msqid = 2, .msgsz = 1}));
  EXPECT_EQ(&*agg.queues().at({kInitNs, 2}), two);

  // Retiring or forgetting queues leaves the snapshot whole.
  const Snapshot second = make_snapshot(2, {}, {}, agg);
  agg.retire_if([](const QueueKey&, const QueueStats&) { return true; });
  agg.reset();
  ASSERT_EQ(second.queues.size(), 3U);
  EXPECT_EQ(second.queues[1].stats->send.sends_ok, 3U);
  EXPECT_EQ(second.queues[2].stats->send.bytes_ok, 40U);
  EXPECT_EQ(first.queues[1].stats->send.bytes_ok, 20U);
}

}  // namespace
}  // namespace msgtap::stats
