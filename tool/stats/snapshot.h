// SPDX-License-Identifier: GPL-2.0-only
// Everything msgtapd reports at one moment, immutable; exporters render
// this, never live state. The queues' statistics are shared with the
// aggregator, which copies them before it changes them (aggregate.h).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "genl/types.h"
#include "stats/aggregate.h"

namespace msgtap::stats {

// The daemon's own counters.
struct DaemonCounters {
  uint64_t events_received = 0;
  uint64_t batches_received = 0;
  uint64_t seq_gaps = 0;         // records missing by sequence number
  uint64_t socket_overruns = 0;  // ENOBUFS seen on the netlink socket
  // SO_MEMINFO drops of the netlink socket. Not a loss: netlink counts every
  // batch it refuses, and the module keeps refused batches queued and
  // retries them; a record really lost in transit shows as a seq_gap.
  uint64_t socket_drops = 0;
  uint64_t malformed = 0;
  uint64_t unknown_attributes = 0;
  // Datagrams another local process sent to msgtapd's port: ignored, not
  // events and not malformed ones (only the kernel speaks for msgtap).
  uint64_t foreign_datagrams = 0;
  // Namespace records (MSGTAP_A_EVENT_IPCNS_GONE), numbered apart from the
  // send records: received, and missing by their own sequence numbers. A
  // missing one is a freed namespace msgtapd did not hear of, not a lost call.
  uint64_t ipcns_gone_received = 0;
  uint64_t ipcns_gone_seq_gaps = 0;
  // The kernel's drop_no_listener when this msgtapd registered (it does not
  // grow while one is registered): where the next msgtapd's restore_gap
  // starts.
  std::optional<uint64_t> drop_no_listener_at_register;  // none: not known yet
  // The kernel's events_delivered just before this msgtapd registered (none
  // delivers while no listener is registered): with events_received, what
  // the kernel had delivered to this msgtapd when the document was taken.
  // The next msgtapd's restore_gap adds what was delivered after it.
  std::optional<uint64_t> delivered_at_register;  // none: not known
  // Calls the counts continued from a saved document (--restore) miss: made
  // while no msgtapd was registered between this one and the one that wrote
  // the document; delivered to that one (or to any listener) after it wrote
  // the document, if it did not stop cleanly; and what that document had
  // lost itself that the kernel's counters no longer show (its seq_gaps and
  // restore_gap; all of its loss if the module was reloaded since).
  uint64_t restore_gap = 0;

  bool operator==(const DaemonCounters&) const = default;
};

// What was lost between msgsnd() and the aggregator, by where.
struct Loss {
  uint64_t kernel_ring_full = 0;      // kernel drop_ring_full
  uint64_t kernel_undeliverable = 0;  // kernel drop_undeliverable
  uint64_t probe_missed = 0;          // sum of the probes' nmissed
  uint64_t seq_gaps = 0;              // daemon seq_gaps
  uint64_t restore_gap = 0;           // daemon restore_gap

  uint64_t total() const;
  bool nothing_lost() const { return total() == 0; }
  bool operator==(const Loss&) const = default;
};

// Kernel drop_no_listener is not a loss of this daemon (those calls happened
// before it registered), so it is not part of Loss; unless its counts continue
// a saved document's, which they then miss (restore_gap).
Loss compute_loss(const DaemonCounters& daemon, const genl::KernelStats& kernel);

// Per-second rates of a queue over the interval since the rate base.
struct Rates {
  double interval_s = 0;  // 0: no base yet, the rates are not known
  double sends_per_s = 0;
  double bytes_per_s = 0;
  double failures_per_s = 0;
  bool operator==(const Rates&) const = default;
};

struct QueueRow {
  QueueKey key;
  // Never null. Shared with the aggregator it came from (which copies before
  // it changes them), or the row's own when read from a document.
  std::shared_ptr<const QueueStats> stats;
  Rates rates;
  // When the live values were last read: stats->live.checked_at, or the
  // later read of its namespace that found them unchanged (ReadTimes).
  double checked_at = 0;

  // Equal statistics, wherever they are held. The live values are dated
  // by checked_at: stats->live.checked_at may be older (a read that found
  // them unchanged), and a document keeps only checked_at.
  bool operator==(const QueueRow& o) const;
};

// The counters rates are computed against: taken at each interval's
// snapshot, 24 bytes a queue instead of a copy of the statistics.
struct RateBase {
  struct Counts {
    uint64_t sends_ok = 0;
    uint64_t bytes_ok = 0;
    uint64_t sends_failed = 0;
  };
  double timestamp = 0;
  std::map<QueueKey, Counts> queues;
};

// Calls counted under a fold row (kFoldMsqid), and the limits that made
// msgtapd fold them.
struct Folded {
  uint64_t sends = 0;
  uint64_t max_queues = 0;
  uint64_t max_stray = 0;
  uint64_t stray_rows = 0;  // rows of stray ids when the snapshot was taken
  bool operator==(const Folded&) const = default;
};

struct Snapshot {
  double timestamp = 0;    // unix seconds
  double stats_since = 0;  // unix seconds of the start or the last reset
  // The kernel's boot id: msqids and namespace numbers mean nothing in
  // another boot, so a saved document is only continued within its own.
  std::string boot_id;
  DaemonCounters daemon;
  genl::KernelStats kernel;
  Loss loss;
  std::vector<QueueRow> queues;  // sorted by (ipc_ns, msqid)
  RetiredTotals retired;
  Folded folded;

  bool operator==(const Snapshot&) const = default;
};

// @base (may be null) gives the rates; queues it does not know started
// from zero at its time. @read_at (may be null): when the queue prober last
// read each namespace's queues.
Snapshot make_snapshot(double timestamp, const DaemonCounters& daemon,
                       const genl::KernelStats& kernel, const Aggregator& aggregator,
                       const RateBase* base = nullptr, const ReadTimes* read_at = nullptr);
RateBase make_rate_base(const Snapshot& snapshot);

}  // namespace msgtap::stats
