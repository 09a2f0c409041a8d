// SPDX-License-Identifier: GPL-2.0-only
// Text tables for msgtapctl.
#include "export/text.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <vector>

namespace msgtap::exporter {

namespace {

constexpr size_t kColumns = 8;
using Row = std::array<std::string, kColumns>;

std::string errors_cell(const stats::SendStats& s) {
  std::string out;
  for (const auto& [err, n] : s.errors) {
    if (n == 0) continue;
    if (!out.empty()) out += ',';
    out += fmt::format("{}:{}", stats::errno_name(err), n);
  }
  return out.empty() ? "-" : out;
}

}  // namespace

std::string render_queue_table(const stats::Snapshot& snapshot) {
  std::vector<Row> rows;
  rows.push_back({"IPCNS", "MSQID", "SENT", "BYTES", "FAILED", "SLEPT", "SLEPT(ms)", "ERRORS"});
  for (const auto& q : snapshot.queues) {
    const auto& s = q.stats.send;
    rows.push_back({
        std::to_string(q.key.ipc_ns),
        std::to_string(q.key.msqid),
        std::to_string(s.sends_ok),
        std::to_string(s.bytes_ok),
        std::to_string(s.sends_failed),
        std::to_string(s.sends_slept),
        fmt::format("{:.3f}", static_cast<double>(s.slept_ns) / 1e6),
        errors_cell(s),
    });
  }
  std::array<size_t, kColumns> width{};
  for (const auto& r : rows)
    for (size_t c = 0; c < kColumns; ++c) width[c] = std::max(width[c], r[c].size());

  std::string out;
  for (const auto& r : rows) {
    std::string line;
    // Numbers right-aligned; the last column (errors) left-aligned, unpadded.
    for (size_t c = 0; c + 1 < kColumns; ++c) line += fmt::format("{:>{}}  ", r[c], width[c]);
    line += r[kColumns - 1];
    out += line + "\n";
  }
  if (snapshot.queues.empty()) out += "(no msgsnd() calls seen yet)\n";
  return out;
}

std::string render_loss(const stats::Loss& l) {
  if (l.nothing_lost()) return "lost: nothing\n";
  return fmt::format(
      "lost: {} (kernel_ring_full {}, kernel_undeliverable {}, probe_missed {}, seq_gaps {})\n",
      l.total(), l.kernel_ring_full, l.kernel_undeliverable, l.probe_missed, l.seq_gaps);
}

}  // namespace msgtap::exporter
