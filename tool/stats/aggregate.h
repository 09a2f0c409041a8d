// SPDX-License-Identifier: GPL-2.0-only
// Per-queue statistics of msgsnd(2) calls, keyed by (IPC namespace, msqid).
// Pure: no I/O, no clocks; everything comes from the event records.
#pragma once

#include <linux/msgtap.h>

#include <algorithm>
#include <atomic>
#include <compare>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "stats/histogram.h"
#include "stats/topk.h"

namespace msgtap::stats {

// A queue: msqids are unique only within one IPC namespace.
struct QueueKey {
  uint32_t ipc_ns = 0;
  int32_t msqid = 0;

  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads a defaulted <=>
  auto operator<=>(const QueueKey&) const = default;

  // Both halves in one word: distinct keys, distinct values.
  uint64_t packed() const { return uint64_t{ipc_ns} << 32 | static_cast<uint32_t>(msqid); }
};

struct QueueKeyHash {
  size_t operator()(const QueueKey& k) const { return std::hash<uint64_t>{}(k.packed()); }
};

// The send side of one queue.
struct SendStats {
  uint64_t sends_ok = 0;
  uint64_t bytes_ok = 0;  // sum of msgsz of successful sends
  uint64_t sends_failed = 0;
  // Failures by errno (positive; see errno_key()), so a table lists them in
  // errno order.
  std::map<int, uint64_t> errors;
  uint64_t sends_slept = 0;  // MSGTAP_EVF_SLEPT, whatever the result
  uint64_t slept_ns = 0;     // sum of duration_ns of those
  uint64_t compat_sends = 0;
  uint64_t nowait_failures = 0;  // failed with IPC_NOWAIT in msgflg

  // msgsz of successful sends (count == sends_ok, sum == bytes_ok).
  Log2Histogram size_bytes;
  // duration_ns of every call, whatever the result.
  Log2Histogram latency_ns;

  // mtype as the kernel used it, of calls that got that far (not EARLY).
  TopK mtypes;
  DistinctCounter mtypes_distinct;
  // Senders by tgid; sender_info holds comm and uid of the tracked ones.
  TopK senders;
  DistinctCounter senders_distinct;
  struct SenderInfo {
    std::string comm;
    uint32_t uid = 0;
    bool operator==(const SenderInfo&) const = default;
  };
  std::map<uint32_t, SenderInfo> sender_info;

  // The sender of the last record, whose sender_info entry holds this comm
  // and uid while `valid`: records of one sender come in runs, and then they
  // need no lookup and no compare of strings. A copy keeps that true; a
  // moved-from one forgets. A cache, not state: equal whatever it holds.
  struct LastSender {
    bool valid = false;
    uint32_t tgid = 0;
    uint32_t uid = 0;
    char comm[sizeof(msgtap_send_event::comm)] = {};

    LastSender() = default;
    LastSender(const LastSender&) = default;
    LastSender& operator=(const LastSender&) = default;
    LastSender(LastSender&& o) noexcept : LastSender(o) { o.valid = false; }
    LastSender& operator=(LastSender&& o) noexcept {
      *this = static_cast<const LastSender&>(o);
      o.valid = false;
      return *this;
    }
    bool operator==(const LastSender&) const { return true; }
  };
  LastSender last_sender;

  void add(const msgtap_send_event& ev);
  // Forgets the names of senders the top-k no longer tracks (done as they
  // pile up; the document keeps only the tracked ones).
  void prune_sender_info();
  bool operator==(const SendStats&) const = default;

 private:
  void note_sender(const msgtap_send_event& ev);
};

// What the kernel reported about the queue object (MSGTAP_EVF_QUEUE_KNOWN).
struct QueueIdentity {
  bool known = false;
  int32_t key = 0;  // the IPC key; 0 is IPC_PRIVATE
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint32_t mode = 0;  // permission bits
  bool operator==(const QueueIdentity&) const = default;
};

// The queue as msgctl(MSG_STAT_ANY) saw it inside its IPC namespace, filled
// in by the daemon (daemon/queue_probe.cpp), not from events.
struct QueueLive {
  enum class State : uint8_t {
    unknown,  // not looked at, or the namespace could not be entered (see note)
    present,
    removed,  // the id no longer names a queue (IPC_RMID)
  };
  State state = State::unknown;
  uint64_t qnum = 0;      // messages in the queue
  uint64_t cbytes = 0;    // bytes in the queue
  uint64_t qbytes = 0;    // capacity in bytes
  double checked_at = 0;  // unix seconds of the msgctl
  std::string note;       // why unknown, or how the removal was seen
  bool operator==(const QueueLive&) const = default;
};
std::string_view live_state_name(QueueLive::State s);

// IPC namespace (inode number) -> unix seconds of the queue prober's latest
// round that read its queues. The prober changes a row only when what it
// reads differs, so a row that stays present (or removed) keeps the
// checked_at of its last change; a snapshot dates it by this instead.
using ReadTimes = std::map<uint32_t, double>;

// When @live was last read: its own checked_at, or @ns_read (may be null),
// the latest read of its namespace, if that is later and @live says present
// or removed, which that read found (else the row would have changed).
inline double last_read(const QueueLive& live, const double* ns_read) {
  if (!ns_read || live.state == QueueLive::State::unknown) return live.checked_at;
  return std::max(live.checked_at, *ns_read);
}

// Everything known about one queue. The receive side (msgrcv) will be a
// `RecvStats recv;` beside `send`.
struct QueueStats {
  SendStats send;
  QueueIdentity identity;
  QueueLive live;
  uint64_t first_seen_ns = 0;  // smallest ts_ns of any event (CLOCK_MONOTONIC)
  uint64_t last_seen_ns = 0;   // largest ts_ns
  uint32_t last_tgid = 0;      // the latest sender: a way into the namespace
  // Unix seconds at which the queue was seen removed (EIDRM, or msgctl no
  // longer finds it); 0 while it exists. Retired after a grace period.
  double removed_at = 0;
  // ts_ns of the record that said the queue's IPC namespace was freed; 0
  // while it lives. Its inode number may then name a later namespace: a
  // call that began after this is not this queue's.
  uint64_t ns_gone_ns = 0;

  // Seen removed, by a send (EIDRM) or by msgctl.
  bool removed() const { return removed_at > 0 || live.state == QueueLive::State::removed; }
  bool operator==(const QueueStats&) const = default;
};

// The errno a failed call's result is counted under: -result, except that the
// kernel-internal restart codes (-512 ERESTARTSYS, -513 ERESTARTNOINTR,
// -514 ERESTARTNOHAND, -516 ERESTART_RESTARTBLOCK) count as EINTR, which is
// what userspace sees (or the call is restarted and shows up again).
int errno_key(int32_t result);
// "EAGAIN", "EACCES", ... or "E<n>" for numbers without a name here.
std::string errno_name(int err);
// The reverse of errno_name(); 0 for a string that is neither.
int errno_from_name(std::string_view name);

// The msqid of the rows that count the calls of queues without a row of
// their own: one per IPC namespace, and one in namespace 0 (no namespace has
// inode 0) once even that row does not fit. No queue has a negative id; a
// call naming msqid -1 itself, which fails with EINVAL, is counted there too.
inline constexpr int32_t kFoldMsqid = -1;

// How many rows the aggregator keeps apart (msgtapd --max-queues). Memory,
// the work of each round and the /metrics page grow with rows, and an id that
// names no queue costs a sender nothing to make up: without a bound, any user
// could grow msgtapd by a row (1 to 9 KB) per made-up id.
struct QueueLimits {
  size_t max_queues = 32768;  // a whole namespace at the default msgmni (32000)
  // Of those, rows of stray ids (QueueLimits::stray()).
  size_t max_stray = 32768 / 16;

  static QueueLimits with_max(size_t max_queues) { return {max_queues, max_queues / 16}; }
  // A row is stray while its id has named no queue: every call failed and
  // none found a queue there (a made-up id, or a stale one msgtapd did not see
  // in use). The fold rows are not stray.
  static bool stray(const QueueKey& key, const QueueStats& q) {
    return key.msqid != kFoldMsqid && !q.identity.known && q.send.sends_ok == 0;
  }
};

// What retired queues had counted, so that totals over all queues stay
// exact after their rows are gone.
struct RetiredTotals {
  uint64_t queues = 0;
  uint64_t sends_ok = 0;
  uint64_t bytes_ok = 0;
  uint64_t sends_failed = 0;
  bool operator==(const RetiredTotals&) const = default;
};

// One queue's statistics as the aggregator holds them. Snapshots share
// them instead of copying (with 10,000 queues a copy is tens of megabytes),
// and a change to statistics that a snapshot still shares goes to a copy
// first: a snapshot never changes, and a daemon that renders its snapshot
// before the next event copies nothing.
class SharedQueueStats {
 public:
  const QueueStats& operator*() const { return *p_; }
  const QueueStats* operator->() const { return p_.get(); }
  // For a snapshot: these statistics as they are now, for as long as it needs.
  std::shared_ptr<const QueueStats> share() const { return p_; }

 private:
  friend class Aggregator;
  explicit SharedQueueStats(std::shared_ptr<QueueStats> p) : p_(std::move(p)) {}
  // The statistics to change: copied first while a snapshot shares them.
  // On the path of every record: the test stays inline, the copy does not.
  QueueStats& writable() {
    if (p_.use_count() != 1) [[unlikely]]
      return copy();
    // The last snapshot let go, maybe on msgtapd's writer thread: its reads
    // came first.
    std::atomic_thread_fence(std::memory_order_acquire);
    return *p_;
  }
  [[gnu::noinline]] QueueStats& copy();

  std::shared_ptr<QueueStats> p_;
};

class Aggregator {
 public:
  using Queues = std::map<QueueKey, SharedQueueStats>;

  // Neither copied nor moved: the index and the lookup cache point into the
  // map, and the daemon and the tests keep theirs in place.
  Aggregator() = default;
  Aggregator(const Aggregator&) = delete;
  Aggregator& operator=(const Aggregator&) = delete;

  // Counts @ev in its queue's row, or in a fold row; or holds it back until
  // settle(): a failed call that found no queue, whose id has no row while
  // the rows of stray ids are all taken. Records reach msgtapd CPU by CPU,
  // one CPU's ring after the other, so such a call may come in before the
  // calls of another CPU that found its queue. Held back, it goes to that
  // queue's row when one of those arrives.
  void add_send(const msgtap_send_event& ev);
  // Counts what add_send() held back: in the rows made since, or as stray
  // rows if there is room now, or folded as before. Every record of a call
  // that returned before a module FLUSH is in once that FLUSH is answered,
  // so msgtapd settles after it, before each snapshot.
  void settle();
  // An IPC namespace was freed (MSGTAP_A_EVENT_IPCNS_GONE): its rows are
  // marked removed (QueueStats::ns_gone_ns). The kernel may give its inode
  // number to a later namespace: the first call of such a namespace on an
  // msqid retires the old row and starts a new one. A call of the freed
  // namespace that comes in after its end still counts in its row (made
  // marked if there is none), or in the retired totals if its row was
  // already retired for a later namespace's.
  void ns_gone(const msgtap_ipcns_event& ev);
  // Freed namespaces remembered, by inode number (at most kMaxGone; the
  // oldest ends are forgotten first).
  size_t gone_namespaces() const { return gone_.size(); }
  static constexpr size_t kMaxGone = 1024;
  // Records held back (at most kMaxDeferred; the next are folded at once).
  size_t deferred() const { return deferred_.size(); }
  static constexpr size_t kMaxDeferred = 1024;

  // Applies to rows made from now on; rows already kept stay.
  void set_limits(const QueueLimits& limits) { limits_ = limits; }
  const QueueLimits& limits() const { return limits_; }
  // Records counted under a fold row (kFoldMsqid) instead of their queue's,
  // because the queue had no row and the limits allowed none.
  uint64_t folded_sends() const { return folded_sends_; }
  // Rows of stray ids (QueueLimits::stray) among queues().
  size_t stray_rows() const { return stray_rows_; }
  // Three quarters of max_queues rows or more: the daemon then retires
  // removed queues at once, so that queues made and removed in a loop cannot
  // keep the rows of new ones from being made.
  bool crowded() const { return queues_.size() * 4 >= limits_.max_queues * 3; }

  // Sorted by (ipc_ns, msqid).
  const Queues& queues() const { return queues_; }
  const RetiredTotals& retired() const { return retired_; }

  // The statistics of queue @key to change (queue_probe.cpp sets `live`);
  // std::out_of_range if there is no such queue.
  QueueStats& edit(const QueueKey& key) { return index_.at(key)->writable(); }

  // Memory grows with the number of queues alive at once: drops the queues
  // @retire selects (removed ones past their grace period), adds their
  // numbers to retired(), and returns how many.
  size_t retire_if(const std::function<bool(const QueueKey&, const QueueStats&)>& retire);

  // Forgets every queue, the retired totals and the folded count (msgtapctl
  // reset).
  void reset();

  // Restoring the state a previous msgtapd saved: all of its rows, even
  // beyond the limits (new rows wait until retired ones make room), and the
  // freed namespaces their ns_gone_ns name.
  void restore(std::map<QueueKey, QueueStats> queues, RetiredTotals retired, uint64_t folded_sends);

 private:
  // The row that counts @ev, whose queue has none yet: made if the limits
  // allow, else a fold row (then true: the lookup cache must not remember
  // it); nullptr if @ev is held back (deferred_) instead.
  std::pair<SharedQueueStats*, bool> new_row(const QueueKey& key, const msgtap_send_event& ev);
  SharedQueueStats* insert(const QueueKey& key);
  // The row of @key for a call that began at @ts_ns: none if there is no
  // row, or if the row's namespace ended before (then it is retired).
  // Inline: on the path of each record of another queue than the last's;
  // out of line it cost about 14 instructions a record more (BENCHMARKS.md).
  inline SharedQueueStats* find_current(const QueueKey& key, uint64_t ts_ns);
  // @row was made just now for a call that began at @ts_ns: if that was
  // before its namespace's end (a call that came in late), marked as the
  // namespace's other rows are.
  void mark_if_late(SharedQueueStats* row, const QueueKey& key, uint64_t ts_ns);
  // Notes that namespace @ipc_ns ended at @end_ns (the latest end wins),
  // forgetting the oldest end beyond kMaxGone.
  void remember_gone(uint32_t ipc_ns, uint64_t end_ns);
  // A late call of a freed namespace whose row @row already belongs to a
  // later namespace with the same inode number: true, and counted in the
  // retired totals.
  bool retired_late(const QueueStats& row, const msgtap_send_event& ev);
  // @ev began before the first call @q (a row's statistics, writable)
  // counts: true if it is such a late call, counted as retired; else it is
  // the row's first now. Out of line: the path of every record only tests.
  [[gnu::noinline]] bool before_row(QueueStats& q, const msgtap_send_event& ev);
  void count_retired(const QueueKey& key, const QueueStats& q);
  void retire_row(const QueueKey& key);

  Queues queues_;
  // The same queues by hash, for the lookup of each record: a std::map
  // lookup among 10,000 queues visits 14 nodes (BENCHMARKS.md, "msgtapd
  // with many queues"). The map keeps them sorted for the documents.
  std::unordered_map<QueueKey, SharedQueueStats*, QueueKeyHash> index_;
  RetiredTotals retired_;
  QueueLimits limits_;
  uint64_t folded_sends_ = 0;
  size_t stray_rows_ = 0;
  // Held back by add_send(), in arrival order; none while settling_.
  std::vector<msgtap_send_event> deferred_;
  bool settling_ = false;
  // Freed IPC namespaces: inode number -> ts_ns of the latest end.
  std::unordered_map<uint32_t, uint64_t> gone_;
  // Consecutive records mostly name the same queue: skip the lookup. Never
  // a row whose namespace was freed.
  QueueKey last_key_;
  SharedQueueStats* last_ = nullptr;
};

}  // namespace msgtap::stats
