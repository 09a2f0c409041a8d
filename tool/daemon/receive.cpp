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
  // Numbers start at 1 and CPU ids are small: anything else is not a
  // record this protocol produces; keep it out of the statistics.
  if (ev.seq == 0 || ev.cpu >= SeqTracker::kMaxCpus) {
    ++counters_.malformed;
    return;
  }
  seq_.observe(ev.cpu, ev.seq);
  ++counters_.events_received;
  aggregator_.add_send(ev);
}

void Receiver::on_batch_end(const genl::BatchDefects& defects) {
  ++counters_.batches_received;
  counters_.malformed += defects.malformed;
  counters_.unknown_attributes += defects.unknown_attributes;
}

void Receiver::on_batch(const genl::EventBatch& batch) {
  for (const auto& ev : batch.sends) on_send(ev);
  on_batch_end({batch.malformed, batch.unknown_attributes});
}

stats::DaemonCounters Receiver::counters() const {
  stats::DaemonCounters c = counters_;
  c.seq_gaps = seq_.gaps();
  return c;
}

}  // namespace msgtap::daemon
