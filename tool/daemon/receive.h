// SPDX-License-Identifier: GPL-2.0-only
// The receive stage: checks each CPU's record numbers for records lost in
// transit and hands the records to the aggregator. Send and namespace
// records are numbered in series of their own, so each kind has its tracker.
#pragma once

#include <cstdint>
#include <vector>

#include "genl/parse.h"
#include "genl/types.h"
#include "stats/aggregate.h"
#include "stats/snapshot.h"

namespace msgtap::daemon {

// Each CPU numbers the records it queues 1, 2, 3, ... (uapi "Sequence
// numbers"). The first record seen from a CPU after registration sets that
// CPU's base: numbers before it belong to earlier listeners (or were
// discarded as undeliverable before we registered), so they are not gaps.
// A consequence: records lost in transit before the first one that arrives
// from a CPU go unnoticed here (the kernel counters still show them).
// After that, a jump from n to n+k counts k-1 missing records.
class SeqTracker {
 public:
  // Highest CPU number tracked; records claiming a higher one are rejected.
  static constexpr uint32_t kMaxCpus = 1U << 16;

  // Numbers start at 1 and CPU ids are small: a record with other values
  // is not one this protocol produces, and stays out of the statistics.
  static bool valid(uint32_t cpu, uint64_t seq) { return seq != 0 && cpu < kMaxCpus; }

  // Returns how many records are missing before @seq on @cpu.
  uint64_t observe(uint32_t cpu, uint64_t seq);

  uint64_t gaps() const { return gaps_; }
  // Records whose number was not above the last one of their CPU: the
  // protocol never does that; counted, and the number becomes the new base.
  uint64_t regressions() const { return regressions_; }

 private:
  std::vector<uint64_t> last_;  // by CPU; 0: nothing seen yet
  uint64_t gaps_ = 0;
  uint64_t regressions_ = 0;
};

class Receiver {
 public:
  explicit Receiver(stats::Aggregator& aggregator) : aggregator_(aggregator) {}

  // One record of a batch, as the socket reads it (the hot path) ...
  void on_send(const msgtap_send_event& ev);
  void on_ns_gone(const msgtap_ipcns_event& ev);
  // ... then the batch's end, with what could not be read in it.
  void on_batch_end(const genl::BatchDefects& defects);
  // A whole batch: each record, then its end.
  void on_batch(const genl::EventBatch& batch);
  // The netlink socket reported ENOBUFS.
  void on_overrun() { ++counters_.socket_overruns; }

  // socket_drops is left 0: it comes from the socket, read at snapshot time.
  stats::DaemonCounters counters() const;
  uint64_t seq_regressions() const { return seq_.regressions(); }
  uint64_t ns_gone_seq_regressions() const { return ns_gone_seq_.regressions(); }

 private:
  stats::Aggregator& aggregator_;
  SeqTracker seq_;          // send records
  SeqTracker ns_gone_seq_;  // namespace records
  stats::DaemonCounters counters_;
};

}  // namespace msgtap::daemon
