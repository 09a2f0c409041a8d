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

void mark_removed(stats::QueueStats& q, double now, std::string note) {
  q.live.state = stats::QueueLive::State::removed;
  q.live.qnum = q.live.cbytes = 0;
  q.live.checked_at = now;
  q.live.note = std::move(note);
  if (q.removed_at == 0) q.removed_at = now;
}

// One queue, from inside its namespace.
void stat_queue(int32_t msqid, stats::QueueStats& q, double now) {
  msqid_ds ds{};
  // MSG_STAT_ANY looks the slot up by the index part of the id and returns
  // the full id of the queue in it: another id means ours was removed and
  // the slot reused.
  const int id = ::msgctl(msqid, MSG_STAT_ANY, &ds);
  if (id < 0) {
    if (errno == EINVAL || errno == EIDRM) {
      mark_removed(q, now, "msgctl(MSG_STAT_ANY) finds no queue with this id");
    } else {
      q.live.state = stats::QueueLive::State::unknown;
      q.live.note = fmt::format("msgctl(MSG_STAT_ANY): {}", std::strerror(errno));
    }
    return;
  }
  if (id != msqid) {
    mark_removed(q, now, fmt::format("the id's slot now holds queue {}", id));
    return;
  }
  q.live.state = stats::QueueLive::State::present;
  q.live.qnum = ds.msg_qnum;
  q.live.cbytes = ds.msg_cbytes;
  q.live.qbytes = ds.msg_qbytes;
  q.live.checked_at = now;
  q.live.note.clear();
  q.removed_at = 0;  // the same id again (after a sequence wrap): alive
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
    for (; it != end; ++it) {
      if (it->second->ns_gone_ns != 0) {
        // Marked removed by the aggregator, which has no clock.
        if (it->second->removed_at == 0) aggregator.edit(it->first).removed_at = now;
        continue;
      }
      stats::QueueStats& q = aggregator.edit(it->first);
      if (it->first.msqid < 0) {
        q.live.state = stats::QueueLive::State::unknown;
        q.live.note = it->first.msqid == stats::kFoldMsqid
                          ? "not a queue: the calls of queues without a row of their own "
                            "(msgtapd --max-queues), and of msqid -1"
                          : "not a queue: no queue has a negative id";
        continue;
      }
      if (why.empty()) {
        stat_queue(it->first.msqid, q, now);
        continue;
      }
      // Outside the namespace nothing is known, except that a send already
      // failed with EIDRM: the queue was removed under it.
      if (q.live.state != stats::QueueLive::State::removed) {
        q.live.state = stats::QueueLive::State::unknown;
        q.live.note = why;
        if (auto e = q.send.errors.find(EIDRM); e != q.send.errors.end() && e->second != 0)
          mark_removed(q, now, "a send failed with EIDRM");
      }
    }
    if (!why.empty())
      last_error_ = fmt::format("IPC namespace {}: {}", ns, why);
    else if (away)
      go_home();
  }
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
