// SPDX-License-Identifier: GPL-2.0-only
// Human-readable renderings of a snapshot for msgtapctl.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "stats/histogram.h"
#include "stats/snapshot.h"

namespace msgtap::exporter {

// Both clocks read at one moment: events carry CLOCK_MONOTONIC stamps, and
// an operator wants wall-clock times and ages.
struct Clocks {
  double unix_now = 0;
  uint64_t mono_now_ns = 0;

  // The unix time of the monotonic stamp @mono_ns (not after unix_now).
  double unix_of(uint64_t mono_ns) const;
};

// One row per queue: IPCNS MSQID SENT BYTES FAILED SLEPT SLEPT(ms) ERRORS,
// errors as "EAGAIN:1,EACCES:2" in errno order.
std::string render_queue_table(const stats::Snapshot& snapshot);

// An `ipcs -q` with what msgtap adds: identity, live depth and fill, sends,
// failures, rates, last seen and whether the queue was removed.
std::string render_queues(const stats::Snapshot& snapshot, const Clocks& now);

// Everything about one queue of @snapshot, then the loss section.
std::string render_queue_detail(const stats::Snapshot& snapshot, const stats::QueueRow& row,
                                const Clocks& now);

// "lost: nothing", or every loss counter by name with the total.
std::string render_loss(const stats::Loss& loss);
// One line on the calls counted under a fold row (stats::kFoldMsqid), or
// nothing if there were none.
std::string render_folded(const stats::Folded& folded);
// A section naming every loss counter, one a line, saying "nothing lost"
// when that is so.
std::string render_loss_detail(const stats::Loss& loss);

// 1024 -> "1K", 3 << 20 -> "3M"; numbers that are not a whole multiple of a
// power of 1024 stay as they are (bpftrace's labels).
std::string with_suffix(uint64_t value);
// A bucket's range as it really is: "[0, 1]", "(32, 64]", "(512, 1K]".
std::string bucket_label(int bucket);
// A bpftrace-style text histogram of the buckets from the lowest to the
// highest non-empty one, each line "(32, 64]   123 |@@@@   |" after
// @indent; "(none)" on one line when empty.
std::string render_histogram(const stats::Log2Histogram& hist, std::string_view indent = "");

// "3s ago", "5m ago", "2h ago", "4d ago".
std::string age(double seconds);
// "2026-11-27 15:40:01" in local time.
std::string local_time(double unix_seconds);

}  // namespace msgtap::exporter
