// SPDX-License-Identifier: GPL-2.0-only
// Live queue state through msgctl(MSG_STAT_ANY) in each queue's namespace.
#include "daemon/queue_probe.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>
#include <sys/msg.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "common/log.h"

namespace msgtap::daemon {

namespace {

uint32_t ns_inode(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 ? static_cast<uint32_t>(st.st_ino) : 0;
}

// A row's live values and removal time as one round finds them.
struct Found {
  stats::QueueLive live;
  double removed_at = 0;
};

void mark_removed(Found& f, double now, std::string note) {
  f.live.state = stats::QueueLive::State::removed;
  f.live.qnum = f.live.cbytes = 0;
  f.live.checked_at = now;
  f.live.note = std::move(note);
  if (f.removed_at == 0) f.removed_at = now;
}

// One queue, from inside its namespace; @f: what the row holds.
Found read_queue(int32_t msqid, Found f, double now) {
  msqid_ds ds{};
  // MSG_STAT_ANY looks the slot up by the index part of the id and returns
  // the full id of the queue in it: another id means ours was removed and
  // the slot reused.
  const int id = ::msgctl(msqid, MSG_STAT_ANY, &ds);
  if (id < 0) {
    if (errno == EINVAL || errno == EIDRM) {
      mark_removed(f, now, "msgctl(MSG_STAT_ANY) finds no queue with this id");
    } else {
      f.live.state = stats::QueueLive::State::unknown;
      f.live.note = fmt::format("msgctl(MSG_STAT_ANY): {}", std::strerror(errno));
    }
    return f;
  }
  if (id != msqid) {
    mark_removed(f, now, fmt::format("the id's slot now holds queue {}", id));
    return f;
  }
  f.live.state = stats::QueueLive::State::present;
  f.live.qnum = ds.msg_qnum;
  f.live.cbytes = ds.msg_cbytes;
  f.live.qbytes = ds.msg_qbytes;
  f.live.checked_at = now;
  f.live.note.clear();
  f.removed_at = 0;  // the same id again (after a sequence wrap): alive
  return f;
}

// Puts @f into the row of @key only if it differs from what the row holds:
// a row a snapshot still shares is copied before it changes (aggregate.h),
// and rewriting every row each round would copy them all while a scrape
// renders the last snapshot. With @read, @f's checked_at (this round) is no
// change by itself: the snapshot dates the rows of namespaces read this
// round (QueueProber::read_at()).
void store(stats::Aggregator& aggregator, const stats::QueueKey& key, const stats::QueueStats& q,
           Found f, bool read) {
  if (f.removed_at == q.removed_at) {
    if (f.live == q.live) return;
    if (read) {
      const double checked_at = f.live.checked_at;
      f.live.checked_at = q.live.checked_at;
      if (f.live == q.live) return;
      f.live.checked_at = checked_at;
    }
  }
  stats::QueueStats& w = aggregator.edit(key);
  w.live = std::move(f.live);
  w.removed_at = f.removed_at;
}

}  // namespace

QueueProber::QueueProber()
    : home_(::open("/proc/self/ns/ipc", O_RDONLY | O_CLOEXEC)),
      home_ns_(home_.valid() ? ns_inode(home_.get()) : 0) {
  if (!home_.valid())
    log(Priority::warning, "cannot open /proc/self/ns/ipc ({}): live queue depth is unavailable",
        std::strerror(errno));
}

std::string QueueProber::enter(uint32_t ns, const std::set<uint32_t>& candidates, bool& orphaned) {
  orphaned = true;
  if (candidates.empty()) return "no process of this IPC namespace is known";
  std::string why;
  for (const uint32_t tgid : candidates) {
    const std::string path = fmt::format("/proc/{}/ns/ipc", tgid);
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
      // Only a process that is gone says nothing about our rights.
      if (errno != ENOENT && errno != ESRCH) orphaned = false;
      why = fmt::format("cannot open {}: {}", path, std::strerror(errno));
      continue;
    }
    if (ns_inode(fd.get()) != ns) {
      why = fmt::format("process {} has left the namespace", tgid);
      continue;
    }
    orphaned = false;
    if (::setns(fd.get(), CLONE_NEWIPC) < 0)
      return fmt::format("setns into {}: {} (needs CAP_SYS_ADMIN)", path, std::strerror(errno));
    return {};
  }
  return why;
}

bool QueueProber::go_home() {
  if (::setns(home_.get(), CLONE_NEWIPC) == 0) return true;
  // Staying in a container's namespace would make every later answer wrong.
  log(Priority::err, "cannot return to msgtapd's own IPC namespace: {}", std::strerror(errno));
  std::abort();
}

void QueueProber::probe(stats::Aggregator& aggregator, double now) {
  if (!home_.valid()) return;
  const auto& queues = aggregator.queues();
  last_error_.clear();
  orphaned_.clear();
  stats::ReadTimes read_at;  // of the namespaces that still have rows
  // The map is sorted by namespace first: one entry per namespace.
  for (auto it = queues.begin(); it != queues.end();) {
    const uint32_t ns = it->first.ipc_ns;
    auto end = it;
    std::set<uint32_t> candidates;  // ordered, so the choice is stable
    bool living = false;
    while (end != queues.end() && end->first.ipc_ns == ns) {
      const stats::QueueStats& s = *end->second;
      ++end;
      // A freed namespace's inode number may name a later one now: its
      // processes say nothing of the rows of the freed one.
      if (s.ns_gone_ns != 0) continue;
      living = true;
      if (s.last_tgid != 0) candidates.insert(s.last_tgid);
      for (const auto& e : s.send.senders.sorted())
        if (e.value != 0) candidates.insert(static_cast<uint32_t>(e.value));
    }
    std::string why;
    const bool away = living && ns != home_ns_;
    if (away) {
      bool orphaned = false;
      why = enter(ns, candidates, orphaned);
      if (orphaned) orphaned_.insert(ns);
    }
    const auto last = read_at_.find(ns);
    const double* ns_read = last == read_at_.end() ? nullptr : &last->second;
    bool read = false;
    for (; it != end; ++it) {
      const stats::QueueKey& key = it->first;
      const stats::QueueStats& q = *it->second;
      Found f{q.live, q.removed_at};
      // A row read at some time existed at the namespace's last read: if
      // this round does not read it, that read is its last. So for a row
      // the aggregator has since marked as of a freed namespace (not one it
      // made marked, never read).
      if (q.live.checked_at != 0) f.live.checked_at = stats::last_read(q.live, ns_read);
      if (q.ns_gone_ns != 0) {
        // Marked removed by the aggregator, which has no clock.
        if (q.removed_at == 0) {
          f.removed_at = now;
          store(aggregator, key, q, std::move(f), false);
        }
        continue;
      }
      if (key.msqid < 0) {
        f.live.state = stats::QueueLive::State::unknown;
        f.live.note = key.msqid == stats::kFoldMsqid
                          ? "not a queue: the calls of queues without a row of their own "
                            "(msgtapd --max-queues), and of msqid -1"
                          : "not a queue: no queue has a negative id";
        store(aggregator, key, q, std::move(f), false);
        continue;
      }
      if (why.empty()) {
        read = true;
        store(aggregator, key, q, read_queue(key.msqid, std::move(f), now), true);
        continue;
      }
      // Outside the namespace nothing is known, except that a send already
      // failed with EIDRM: the queue was removed under it.
      if (q.live.state != stats::QueueLive::State::removed) {
        f.live.state = stats::QueueLive::State::unknown;
        f.live.note = why;
        if (auto e = q.send.errors.find(EIDRM); e != q.send.errors.end() && e->second != 0)
          mark_removed(f, now, "a send failed with EIDRM");
      }
      store(aggregator, key, q, std::move(f), false);
    }
    if (read)
      read_at[ns] = now;
    else if (ns_read)
      read_at.insert(*last);
    if (!why.empty())
      last_error_ = fmt::format("IPC namespace {}: {}", ns, why);
    else if (away)
      go_home();
  }
  read_at_ = std::move(read_at);
}

bool retire_now(const stats::QueueKey& key, const stats::QueueStats& q, const RetireRule& rule) {
  if (q.removed_at != 0) return rule.crowded || rule.now - q.removed_at >= rule.grace_s;
  if (rule.crowded && rule.orphaned && rule.orphaned->count(key.ipc_ns) != 0) return true;
  const bool idle = rule.mono_ns > q.last_seen_ns &&
                    static_cast<double>(rule.mono_ns - q.last_seen_ns) >= rule.grace_s * 1e9;
  if (key.msqid < 0) return idle;
  // A namespace without any known process left (a stopped container) can
  // no longer be looked into: its queues go once they have been idle as
  // long as a removed queue is kept.
  return key.ipc_ns != rule.home_ns && q.live.state == stats::QueueLive::State::unknown && idle;
}

}  // namespace msgtap::daemon
