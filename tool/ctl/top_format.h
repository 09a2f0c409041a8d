// SPDX-License-Identifier: GPL-2.0-only
// msgtapctl top's pure part: rates between two snapshots, the order of the
// rows, and one frame as text or JSON.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "export/text.h"
#include "stats/snapshot.h"

namespace msgtap::ctl {

struct TopEntry {
  const stats::QueueRow* row = nullptr;  // into the current snapshot
  // Absent when not known: the first frame of a msgtapd without rates, or
  // the counters went down (msgtapctl reset) since the previous frame.
  std::optional<stats::Rates> rates;
};

// Every queue of @cur with its rates since @prev (may be null: then the
// rates msgtapd computed, if it has), sorted by sends/s, then bytes/s, then
// failures/s, highest first; rows without rates after those with, by sends.
std::vector<TopEntry> top_entries(const stats::Snapshot* prev, const stats::Snapshot& cur);

// Sends, bytes and failures over every queue, retired ones included.
struct Totals {
  uint64_t sends_ok = 0;
  uint64_t bytes_ok = 0;
  uint64_t sends_failed = 0;
};
Totals totals(const stats::Snapshot& snapshot);

// One refresh: header lines (time, queues, totals with rates, loss), then
// the table, at most @max_rows rows (0: all).
std::string render_top(const stats::Snapshot* prev, const stats::Snapshot& cur,
                       const exporter::Clocks& now, size_t max_rows = 0);
// The same frame as one JSON document.
nlohmann::ordered_json top_to_json(const stats::Snapshot* prev, const stats::Snapshot& cur);

}  // namespace msgtap::ctl
