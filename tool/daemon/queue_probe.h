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

  // Updates live state and removed_at of every queue. @now: unix seconds.
  void probe(stats::Aggregator& aggregator, double now);

  // The IPC namespace msgtapd itself runs in (its inode number).
  uint32_t home_ns() const { return home_ns_; }
  // Namespace entries that failed in the last probe, for the status answer.
  const std::string& last_error() const { return last_error_; }

 private:
  // Enters the namespace @ns through a process of @candidates; empty
  // string on success, else why not.
  std::string enter(uint32_t ns, const std::set<uint32_t>& candidates);
  bool go_home();

  UniqueFd home_;
  uint32_t home_ns_ = 0;
  std::string last_error_;
};

}  // namespace msgtap::daemon
