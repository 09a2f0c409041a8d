// SPDX-License-Identifier: GPL-2.0-only
// The receive stage: per-CPU sequence checking, then aggregation.
#include "daemon/receive.h"

namespace msgtap::daemon {

uint64_t SeqTracker::observe(uint32_t cpu, uint64_t seq) {
  if (cpu >= last_.size()) last_.resize(cpu + 1, 0);
  uint64_t& last = last_[cpu];
  uint64_t missing = 0;
  if (last != 0) {
    if (seq > last)
      missing = seq - last - 1;
    else
      ++regressions_;
  }
  last = seq;
  gaps_ += missing;
  return missing;
}

void Receiver::on_send(const msgtap_send_event& ev) {
  if (!SeqTracker::valid(ev.cpu, ev.seq)) {
    ++counters_.malformed;
    return;
  }
  seq_.observe(ev.cpu, ev.seq);
  ++counters_.events_received;
  aggregator_.add_send(ev);
}

void Receiver::on_ns_gone(const msgtap_ipcns_event& ev) {
  if (!SeqTracker::valid(ev.cpu, ev.seq)) {
    ++counters_.malformed;
    return;
  }
  ns_gone_seq_.observe(ev.cpu, ev.seq);
  ++counters_.ipcns_gone_received;
  aggregator_.ns_gone(ev);
}

void Receiver::on_batch_end(const genl::BatchDefects& defects) {
  ++counters_.batches_received;
  counters_.malformed += defects.malformed;
  counters_.unknown_attributes += defects.unknown_attributes;
}

// EventBatch keeps each kind in order but not the two kinds' interleaving.
// Namespace records go first: a send record of the freed namespace that the
// batch held before its namespace record is told apart by its lower ts_ns,
// as one drained later has to be anyway (uapi "Namespace ends"), but a send
// record of a new namespace with the reused number must not come before the
// record of the old one's end.
void Receiver::on_batch(const genl::EventBatch& batch) {
  for (const auto& ev : batch.ns_gone) on_ns_gone(ev);
  for (const auto& ev : batch.sends) on_send(ev);
  on_batch_end({batch.malformed, batch.unknown_attributes});
}

stats::DaemonCounters Receiver::counters() const {
  stats::DaemonCounters c = counters_;
  c.seq_gaps = seq_.gaps();
  c.ipcns_gone_seq_gaps = ns_gone_seq_.gaps();
  return c;
}

}  // namespace msgtap::daemon
