// SPDX-License-Identifier: GPL-2.0-only
// Building an immutable snapshot and its loss summary.
#include "stats/snapshot.h"

namespace msgtap::stats {

uint64_t Loss::total() const {
  return kernel_ring_full + kernel_undeliverable + probe_missed + seq_gaps;
}

Loss compute_loss(const DaemonCounters& daemon, const genl::KernelStats& kernel) {
  Loss l;
  l.kernel_ring_full = kernel.counter("drop_ring_full");
  l.kernel_undeliverable = kernel.counter("drop_undeliverable");
  l.probe_missed = kernel.probes_nmissed();
  l.seq_gaps = daemon.seq_gaps;
  return l;
}

Snapshot make_snapshot(double timestamp, const DaemonCounters& daemon,
                       const genl::KernelStats& kernel, const Aggregator& aggregator) {
  Snapshot s;
  s.timestamp = timestamp;
  s.daemon = daemon;
  s.kernel = kernel;
  s.loss = compute_loss(daemon, kernel);
  s.queues.reserve(aggregator.queues().size());
  for (const auto& [key, stats] : aggregator.queues()) s.queues.push_back({key, stats});
  return s;
}

}  // namespace msgtap::stats
