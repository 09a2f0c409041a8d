// SPDX-License-Identifier: GPL-2.0-only
// Building an immutable snapshot and its loss summary.
#include "stats/snapshot.h"

namespace msgtap::stats {

uint64_t Loss::total() const {
  return kernel_ring_full + kernel_undeliverable + probe_missed + seq_gaps + restore_gap;
}

Loss compute_loss(const DaemonCounters& daemon, const genl::KernelStats& kernel) {
  Loss l;
  l.kernel_ring_full = kernel.counter("drop_ring_full");
  l.kernel_undeliverable = kernel.counter("drop_undeliverable");
  l.probe_missed = kernel.probes_nmissed();
  l.seq_gaps = daemon.seq_gaps;
  l.restore_gap = daemon.restore_gap;
  return l;
}

namespace {

// The row's date by its namespace's latest read (the prober leaves unchanged
// rows as they are). Not for a row of a freed namespace, whose number may
// name a later one, nor for a row that is no queue.
double checked_at(const QueueKey& key, const QueueStats& q, const ReadTimes* read_at) {
  if (!read_at || key.msqid < 0 || q.ns_gone_ns != 0) return q.live.checked_at;
  const auto it = read_at->find(key.ipc_ns);
  return last_read(q.live, it == read_at->end() ? nullptr : &it->second);
}

}  // namespace

Snapshot make_snapshot(double timestamp, const DaemonCounters& daemon,
                       const genl::KernelStats& kernel, const Aggregator& aggregator,
                       const RateBase* base, const ReadTimes* read_at) {
  Snapshot s;
  s.timestamp = timestamp;
  s.daemon = daemon;
  s.kernel = kernel;
  s.loss = compute_loss(daemon, kernel);
  s.retired = aggregator.retired();
  s.folded = Folded{aggregator.folded_sends(), aggregator.limits().max_queues,
                    aggregator.limits().max_stray, aggregator.stray_rows()};
  s.queues.reserve(aggregator.queues().size());
  const double dt = base ? timestamp - base->timestamp : 0;
  for (const auto& [key, stats] : aggregator.queues()) {
    QueueRow& row = s.queues.emplace_back(QueueRow{key, stats.share(), {}});
    row.checked_at = checked_at(key, *stats, read_at);
    if (dt <= 0) continue;
    RateBase::Counts was;
    if (auto it = base->queues.find(key); it != base->queues.end()) was = it->second;
    // A reset since the base makes counters smaller: no rate for that one.
    const auto& now = stats->send;
    if (now.sends_ok < was.sends_ok || now.sends_failed < was.sends_failed ||
        now.bytes_ok < was.bytes_ok)
      continue;
    row.rates.interval_s = dt;
    row.rates.sends_per_s = static_cast<double>(now.sends_ok - was.sends_ok) / dt;
    row.rates.bytes_per_s = static_cast<double>(now.bytes_ok - was.bytes_ok) / dt;
    row.rates.failures_per_s = static_cast<double>(now.sends_failed - was.sends_failed) / dt;
  }
  return s;
}

bool QueueRow::operator==(const QueueRow& o) const {
  if (!(key == o.key && rates == o.rates && checked_at == o.checked_at)) return false;
  if (stats == o.stats) return true;
  if (!stats || !o.stats) return false;
  if (stats->live.checked_at == o.stats->live.checked_at) return *stats == *o.stats;
  QueueStats same = *stats;
  same.live.checked_at = o.stats->live.checked_at;
  return same == *o.stats;
}

RateBase make_rate_base(const Snapshot& snapshot) {
  RateBase b;
  b.timestamp = snapshot.timestamp;
  for (const auto& row : snapshot.queues)
    b.queues.emplace_hint(b.queues.end(), row.key,
                          RateBase::Counts{row.stats->send.sends_ok, row.stats->send.bytes_ok,
                                           row.stats->send.sends_failed});
  return b;
}

}  // namespace msgtap::stats
