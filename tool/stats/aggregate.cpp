// SPDX-License-Identifier: GPL-2.0-only
// Per-queue statistics of msgsnd(2) calls.
#include "stats/aggregate.h"

#include <sys/ipc.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <tuple>

namespace msgtap::stats {

namespace {

// Kernel-internal codes (include/linux/errno.h) a signal produces; never seen
// by userspace as such.
constexpr int kERESTARTSYS = 512;
constexpr int kERESTARTNOINTR = 513;
constexpr int kERESTARTNOHAND = 514;
constexpr int kERESTART_RESTARTBLOCK = 516;

struct Named {
  int err;
  const char* name;
};

#define MSGTAP_ERRNO(e) \
  { e, #e }
// What do_msgsnd() can return, and the common rest. EWOULDBLOCK and
// EDEADLOCK are aliases and left out so each number has one name.
constexpr Named kErrnos[] = {
    MSGTAP_ERRNO(EPERM),     MSGTAP_ERRNO(ENOENT),    MSGTAP_ERRNO(ESRCH),
    MSGTAP_ERRNO(EINTR),     MSGTAP_ERRNO(EIO),       MSGTAP_ERRNO(ENXIO),
    MSGTAP_ERRNO(E2BIG),     MSGTAP_ERRNO(ENOEXEC),   MSGTAP_ERRNO(EBADF),
    MSGTAP_ERRNO(ECHILD),    MSGTAP_ERRNO(EAGAIN),    MSGTAP_ERRNO(ENOMEM),
    MSGTAP_ERRNO(EACCES),    MSGTAP_ERRNO(EFAULT),    MSGTAP_ERRNO(EBUSY),
    MSGTAP_ERRNO(EEXIST),    MSGTAP_ERRNO(EINVAL),    MSGTAP_ERRNO(ENFILE),
    MSGTAP_ERRNO(EMFILE),    MSGTAP_ERRNO(ENOSPC),    MSGTAP_ERRNO(ERANGE),
    MSGTAP_ERRNO(EDEADLK),   MSGTAP_ERRNO(ENOSYS),    MSGTAP_ERRNO(ENOMSG),
    MSGTAP_ERRNO(EIDRM),     MSGTAP_ERRNO(EOVERFLOW), MSGTAP_ERRNO(EOPNOTSUPP),
    MSGTAP_ERRNO(ETIMEDOUT), MSGTAP_ERRNO(ENOTCONN),  MSGTAP_ERRNO(EDQUOT),
};
#undef MSGTAP_ERRNO

}  // namespace

int errno_key(int32_t result) {
  // INT32_MIN has no negation in 32 bits; only a broken kernel sends it,
  // and it is counted under "E2147483647".
  const int err = result == INT32_MIN ? INT32_MAX : -static_cast<int>(result);
  switch (err) {
    case kERESTARTSYS:
    case kERESTARTNOINTR:
    case kERESTARTNOHAND:
    case kERESTART_RESTARTBLOCK:
      return EINTR;
    default:
      return err;
  }
}

std::string errno_name(int err) {
  for (const auto& n : kErrnos)
    if (n.err == err) return n.name;
  return "E" + std::to_string(err);
}

int errno_from_name(std::string_view name) {
  for (const auto& n : kErrnos)
    if (name == n.name) return n.err;
  if (name.size() < 2 || name[0] != 'E') return 0;
  int err = 0;
  const char* end = name.data() + name.size();
  auto [p, ec] = std::from_chars(name.data() + 1, end, err);
  return ec == std::errc() && p == end ? err : 0;
}

void SendStats::add(const msgtap_send_event& ev) {
  if (ev.result == 0) {
    ++sends_ok;
    bytes_ok += ev.msgsz;
    size_bytes.add(ev.msgsz);
  } else {
    ++sends_failed;
    ++errors[errno_key(ev.result)];
    if (ev.msgflg & IPC_NOWAIT) ++nowait_failures;
  }
  latency_ns.add(ev.duration_ns);
  if (ev.flags & MSGTAP_EVF_SLEPT) {
    ++sends_slept;
    slept_ns += ev.duration_ns;
  }
  if (ev.flags & MSGTAP_EVF_COMPAT) ++compat_sends;
  // An EARLY record failed before the kernel read the message: no mtype.
  if (!(ev.flags & MSGTAP_EVF_EARLY)) {
    mtypes.add(static_cast<uint64_t>(ev.mtype));
    mtypes_distinct.add(static_cast<uint64_t>(ev.mtype));
  }
  note_sender(ev);
}

void SendStats::note_sender(const msgtap_send_event& ev) {
  senders.add(ev.tgid);
  senders_distinct.add(ev.tgid);
  LastSender& last = last_sender;
  if (last.valid && last.tgid == ev.tgid && last.uid == ev.uid &&
      std::memcmp(last.comm, ev.comm, sizeof(last.comm)) == 0)
    return;
  auto [it, inserted] = sender_info.try_emplace(ev.tgid);
  // The latest name wins: a process may exec or rename itself.
  const std::string_view comm(ev.comm, strnlen(ev.comm, sizeof(ev.comm)));
  if (it->second.comm != comm) it->second.comm.assign(comm);
  it->second.uid = ev.uid;
  if (inserted && sender_info.size() > 2 * TopK::kCapacity) {
    prune_sender_info();
    // The top-k has just counted this sender, so it tracks it: kept.
    if (!sender_info.contains(ev.tgid)) return;
  }
  last.valid = true;
  last.tgid = ev.tgid;
  last.uid = ev.uid;
  std::memcpy(last.comm, ev.comm, sizeof(last.comm));
}

void SendStats::prune_sender_info() {
  last_sender.valid = false;
  const std::vector<TopK::Entry> tracked = senders.sorted();
  std::erase_if(sender_info, [&](const auto& kv) {
    for (const auto& e : tracked)
      if (e.value == kv.first) return false;
    return true;
  });
}

std::string_view live_state_name(QueueLive::State s) {
  switch (s) {
    case QueueLive::State::present:
      return "present";
    case QueueLive::State::removed:
      return "removed";
    case QueueLive::State::unknown:
      break;
  }
  return "unknown";
}

QueueStats& SharedQueueStats::copy() {
  p_ = std::make_shared<QueueStats>(*p_);
  return *p_;
}

SharedQueueStats* Aggregator::insert(const QueueKey& key) {
  auto it = queues_.lower_bound(key);
  if (it == queues_.end() || it->first != key) {
    it = queues_.emplace_hint(it, key, SharedQueueStats(std::make_shared<QueueStats>()));
    // Empty, the row is stray until its first record says otherwise.
    stray_rows_ += QueueLimits::stray(key, *it->second);
  }
  // std::map nodes stay put until erased.
  return index_.insert_or_assign(key, &it->second).first->second;
}

namespace {

void mark_gone(QueueStats& q, uint64_t end_ns) {
  q.ns_gone_ns = end_ns;
  q.live.state = QueueLive::State::removed;
  q.live.qnum = q.live.cbytes = 0;
  q.live.note = "its IPC namespace was freed";
}

}  // namespace

std::pair<SharedQueueStats*, bool> Aggregator::new_row(const QueueKey& key,
                                                       const msgtap_send_event& ev) {
  // A new queue. A call that failed without finding a queue makes a stray row.
  const bool stray =
      key.msqid != kFoldMsqid && !(ev.flags & MSGTAP_EVF_QUEUE_KNOWN) && ev.result != 0;
  const bool room = queues_.size() < limits_.max_queues;
  if (room && (!stray || stray_rows_ < limits_.max_stray)) {
    SharedQueueStats* row = insert(key);
    mark_if_late(row, key, ev.ts_ns);
    // Calls of this id held back before it had a row came first: counted
    // now, they find it. Not those made after the end of a freed namespace
    // whose late call made this row: they are a later namespace's and would
    // retire it (and re-enter this function) while it is still in use.
    if (!deferred_.empty()) {
      const uint64_t end = (*row)->ns_gone_ns;
      std::erase_if(deferred_, [&](const msgtap_send_event& held) {
        if (!(QueueKey{held.ipc_ns, held.msqid} == key)) return false;
        if (end != 0 && held.ts_ns > end) return false;
        add_send(held);
        return true;
      });
    }
    return {row, false};
  }
  if (room && !settling_ && deferred_.size() < kMaxDeferred) {
    deferred_.push_back(ev);
    return {nullptr, false};
  }
  ++folded_sends_;
  QueueKey fold{key.ipc_ns, kFoldMsqid};
  // Beyond the limit by one row at most, whatever the number of namespaces.
  if (queues_.size() >= limits_.max_queues && !index_.contains(fold)) fold.ipc_ns = 0;
  if (SharedQueueStats* row = find_current(fold, ev.ts_ns)) return {row, true};
  SharedQueueStats* row = insert(fold);
  mark_if_late(row, fold, ev.ts_ns);
  return {row, true};
}

inline SharedQueueStats* Aggregator::find_current(const QueueKey& key, uint64_t ts_ns) {
  const auto slot = index_.find(key);
  if (slot == index_.end()) return nullptr;
  const uint64_t gone = (*slot->second)->ns_gone_ns;
  if (gone == 0 || ts_ns <= gone) [[likely]]
    return slot->second;
  // The first call of a later namespace with the same inode number.
  retire_row(key);
  return nullptr;
}

void Aggregator::mark_if_late(SharedQueueStats* row, const QueueKey& key, uint64_t ts_ns) {
  if (gone_.empty()) return;
  if (auto g = gone_.find(key.ipc_ns); g != gone_.end() && ts_ns <= g->second)
    mark_gone(row->writable(), g->second);
}

void Aggregator::remember_gone(uint32_t ipc_ns, uint64_t end_ns) {
  uint64_t& end = gone_[ipc_ns];
  end = std::max(end, end_ns);
  if (gone_.size() > kMaxGone)
    gone_.erase(std::min_element(gone_.begin(), gone_.end(),
                                 [](const auto& a, const auto& b) { return a.second < b.second; }));
}

bool Aggregator::retired_late(const QueueStats& row, const msgtap_send_event& ev) {
  if (gone_.empty() || row.ns_gone_ns != 0) return false;
  auto g = gone_.find(ev.ipc_ns);
  // The row began after the end, the call before it.
  if (g == gone_.end() || ev.ts_ns > g->second || row.first_seen_ns <= g->second) return false;
  if (ev.result == 0) {
    ++retired_.sends_ok;
    retired_.bytes_ok += ev.msgsz;
  } else {
    ++retired_.sends_failed;
  }
  return true;
}

bool Aggregator::before_row(QueueStats& q, const msgtap_send_event& ev) {
  if (q.first_seen_ns != 0 && retired_late(q, ev)) return true;
  q.first_seen_ns = ev.ts_ns;
  return false;
}

void Aggregator::add_send(const msgtap_send_event& ev) {
  const QueueKey key{ev.ipc_ns, ev.msqid};
  SharedQueueStats* row = last_;
  bool folded = false;
  if (!row || !(key == last_key_)) {
    row = find_current(key, ev.ts_ns);
    if (!row) {
      std::tie(row, folded) = new_row(key, ev);
      if (!row) return;  // held back
    }
    // A folded record is counted again on the next one of its queue; the
    // row of a freed namespace is looked at on each.
    last_ = folded || (*row)->ns_gone_ns != 0 ? nullptr : row;
    last_key_ = key;
  }
  QueueStats& q = row->writable();
  // Records of different CPUs interleave on the wire: one that began before
  // the row's first is rare. A row's first record comes this way too: its
  // first_seen_ns, 0, wraps to the largest value.
  if (ev.ts_ns <= q.first_seen_ns - 1) [[unlikely]]
    if (before_row(q, ev)) return;
  // stray_rows_ counts the rows that are stray: a record that found the
  // queue, or succeeded, ends that. A queue's row is known after its first
  // record, so this costs the others one test.
  if (!q.identity.known) [[unlikely]]
    if (!folded && QueueLimits::stray(key, q) &&
        ((ev.flags & MSGTAP_EVF_QUEUE_KNOWN) || ev.result == 0))
      --stray_rows_;
  q.send.add(ev);
  if (ev.ts_ns > q.last_seen_ns) q.last_seen_ns = ev.ts_ns;
  q.last_tgid = ev.tgid;
  if (ev.flags & MSGTAP_EVF_QUEUE_KNOWN)
    q.identity = QueueIdentity{true, ev.key, ev.q_uid, ev.q_gid, ev.q_mode};
}

void Aggregator::ns_gone(const msgtap_ipcns_event& ev) {
  last_ = nullptr;
  remember_gone(ev.ipc_ns, ev.ts_ns);
  // The rows of this inode number that still belonged to a living
  // namespace belonged to this one, if they began before its end (a row that
  // began after it is a later namespace's: the module delivers an end that
  // came while no listener was registered to the next one); those already
  // marked keep their end.
  for (auto it = queues_.lower_bound({ev.ipc_ns, INT32_MIN});
       it != queues_.end() && it->first.ipc_ns == ev.ipc_ns; ++it) {
    const QueueStats& q = *it->second;
    if (q.ns_gone_ns == 0 && q.first_seen_ns <= ev.ts_ns)
      mark_gone(it->second.writable(), ev.ts_ns);
  }
}

void Aggregator::settle() {
  if (deferred_.empty()) return;
  const std::vector<msgtap_send_event> held = std::exchange(deferred_, {});
  last_ = nullptr;
  settling_ = true;
  for (const msgtap_send_event& ev : held) add_send(ev);
  settling_ = false;
}

size_t Aggregator::retire_if(
    const std::function<bool(const QueueKey&, const QueueStats&)>& retire) {
  last_ = nullptr;
  return std::erase_if(queues_, [&](const auto& kv) {
    const QueueStats& q = *kv.second;
    if (!retire(kv.first, q)) return false;
    index_.erase(kv.first);
    count_retired(kv.first, q);
    return true;
  });
}

void Aggregator::count_retired(const QueueKey& key, const QueueStats& q) {
  ++retired_.queues;
  stray_rows_ -= QueueLimits::stray(key, q);
  retired_.sends_ok += q.send.sends_ok;
  retired_.bytes_ok += q.send.bytes_ok;
  retired_.sends_failed += q.send.sends_failed;
}

void Aggregator::retire_row(const QueueKey& key) {
  last_ = nullptr;
  auto it = queues_.find(key);
  count_retired(key, *it->second);
  index_.erase(key);
  queues_.erase(it);
}

void Aggregator::reset() {
  last_ = nullptr;
  deferred_.clear();
  queues_.clear();
  index_.clear();
  retired_ = {};
  folded_sends_ = 0;
  stray_rows_ = 0;
  gone_.clear();
}

void Aggregator::restore(std::map<QueueKey, QueueStats> queues, RetiredTotals retired,
                         uint64_t folded_sends) {
  last_ = nullptr;
  deferred_.clear();
  queues_.clear();
  index_.clear();
  stray_rows_ = 0;
  for (auto& [key, q] : queues) {
    stray_rows_ += QueueLimits::stray(key, q);
    index_[key] = &queues_
                       .emplace_hint(queues_.end(), key,
                                     SharedQueueStats(std::make_shared<QueueStats>(std::move(q))))
                       ->second;
  }
  retired_ = retired;
  folded_sends_ = folded_sends;
  // The freed namespaces the rows knew of (the document is of this boot,
  // so their times are of this monotonic clock).
  gone_.clear();
  for (const auto& [key, q] : queues_)
    if (q->ns_gone_ns != 0) remember_gone(key.ipc_ns, q->ns_gone_ns);
}

}  // namespace msgtap::stats
