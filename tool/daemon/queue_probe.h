// SPDX-License-Identifier: GPL-2.0-only
// Reads each queue's live depth and capacity with msgctl(MSG_STAT_ANY)
// inside the queue's own IPC namespace, and notices removed queues.
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include "common/fd.h"
#include "stats/aggregate.h"

namespace msgtap::daemon {

// A msqid only means something inside its IPC namespace, so a queue of a
// container is looked up from inside that container's namespace: the prober
// enters it with setns() through /proc/PID/ns/ipc of a process known to
// live there (a recent sender), checks with fstat that the file really is
// that namespace (PIDs are reused), does every msgctl() for that namespace,
// and returns home. It never keeps a namespace file open between rounds: an
// open file would keep a dead container's namespace, and its queues, alive.
//
// MSG_STAT_ANY (Linux 4.17) needs no read permission on the queue, so root
// without CAP_IPC_OWNER sees every queue. Entering a namespace needs
// CAP_SYS_ADMIN, and opening another user's /proc/PID/ns needs
// CAP_SYS_PTRACE; without them those queues stay "unknown" with a note.
class QueueProber {
 public:
  QueueProber();

  // Updates the live state and removed_at of every queue, changing a row
  // only where they differ from what it holds. @now: unix seconds.
  // A row with a negative msqid is not a queue (the fold rows, calls naming
  // such an id): it stays unknown, never removed.
  void probe(stats::Aggregator& aggregator, double now);

  // The IPC namespace msgtapd itself runs in (its inode number).
  uint32_t home_ns() const { return home_ns_; }
  // Namespace entries that failed in the last probe, for the status answer.
  const std::string& last_error() const { return last_error_; }
  // Namespaces of the last probe that no known process is in any more (all
  // of their recent senders exited or left): most likely gone with their
  // queues. Not those that refused to be entered (privileges).
  const std::set<uint32_t>& orphaned() const { return orphaned_; }
  // When each namespace's queues were last read, for make_snapshot(): a row
  // is changed only when what is read differs.
  const stats::ReadTimes& read_at() const { return read_at_; }

 private:
  // Enters the namespace @ns through a process of @candidates; empty
  // string on success, else why not. @orphaned: none of them is there.
  std::string enter(uint32_t ns, const std::set<uint32_t>& candidates, bool& orphaned);
  bool go_home();

  UniqueFd home_;
  uint32_t home_ns_ = 0;
  std::string last_error_;
  std::set<uint32_t> orphaned_;
  stats::ReadTimes read_at_;
};

// What decides whether a row goes at an interval's end (retire_now).
struct RetireRule {
  double now = 0;        // unix seconds
  uint64_t mono_ns = 0;  // the events' clock (CLOCK_MONOTONIC)
  double grace_s = 0;    // --retire-after
  uint32_t home_ns = 0;  // msgtapd's own IPC namespace
  bool crowded = false;  // the table holds 3/4 of --max-queues rows or more
  // Namespaces the last probe found no known process in (QueueProber).
  const std::set<uint32_t>* orphaned = nullptr;
};

// Whether a row goes: a queue removed grace_s ago or more, or at all when
// the table is crowded; or, idle that long, a queue of a namespace no
// process is known in any more (not home_ns), or a row that is not a queue
// (negative msqid). In a crowded table, every row of an orphaned namespace
// goes at once: nothing can look into it, and a stopped container's queues
// must not keep new ones out.
bool retire_now(const stats::QueueKey& key, const stats::QueueStats& q, const RetireRule& rule);

}  // namespace msgtap::daemon
