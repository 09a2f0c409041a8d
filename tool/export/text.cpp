// SPDX-License-Identifier: GPL-2.0-only
// Text tables for msgtapctl.
#include "export/text.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <ctime>
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

// Lays out @rows (the first is the header) in columns two spaces apart:
// numbers right-aligned, the columns @left_from and after left-aligned.
std::string layout(const std::vector<std::vector<std::string>>& rows, size_t left_from,
                   std::string_view indent = "") {
  std::vector<size_t> width;
  for (const auto& r : rows) {
    width.resize(std::max(width.size(), r.size()));
    for (size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], r[c].size());
  }
  std::string out;
  for (const auto& r : rows) {
    std::string line(indent);
    for (size_t c = 0; c < r.size(); ++c) {
      if (c + 1 == r.size() && c >= left_from)
        line += r[c];  // no trailing blanks
      else if (c >= left_from)
        line += fmt::format("{:<{}}  ", r[c], width[c]);
      else
        line += fmt::format("{:>{}}  ", r[c], width[c]);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

std::string key_text(int32_t key) { return fmt::format("{:#010x}", static_cast<uint32_t>(key)); }

std::string fill_text(const stats::QueueLive& live) {
  if (live.qbytes == 0) return "-";
  return fmt::format("{:.1f}%",
                     100.0 * static_cast<double>(live.cbytes) / static_cast<double>(live.qbytes));
}

std::string rate_text(double v) { return fmt::format("{:.1f}", v); }

// "3", or "≥64" once the counter saw more distinct values than it keeps.
std::string distinct_text(const stats::DistinctCounter& d) {
  return d.saturated() ? fmt::format("\u2265{}", d.count()) : std::to_string(d.count());
}

// A Space-Saving count: exact, or "N (at most E too high)".
std::string topk_count(const stats::TopK::Entry& e) {
  return e.error == 0 ? std::to_string(e.count)
                      : fmt::format("{} (at most {} too high)", e.count, e.error);
}

}  // namespace

double Clocks::unix_of(uint64_t mono_ns) const {
  if (mono_ns >= mono_now_ns) return unix_now;
  return unix_now - static_cast<double>(mono_now_ns - mono_ns) / 1e9;
}

std::string age(double seconds) {
  if (seconds < 0) seconds = 0;
  if (seconds < 120) return fmt::format("{:.0f}s ago", seconds);
  if (seconds < 2 * 3600) return fmt::format("{:.0f}m ago", seconds / 60);
  if (seconds < 2 * 86400) return fmt::format("{:.0f}h ago", seconds / 3600);
  return fmt::format("{:.0f}d ago", seconds / 86400);
}

std::string local_time(double unix_seconds) {
  const auto t = static_cast<time_t>(unix_seconds);
  tm tm{};
  if (!localtime_r(&t, &tm)) return fmt::format("@{:.0f}", unix_seconds);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

std::string with_suffix(uint64_t value) {
  static constexpr char kSuffixes[] = "KMGTPE";
  if (value == 0) return "0";
  int power = 0;
  while (power < 6 && value % 1024 == 0) {
    value /= 1024;
    ++power;
  }
  return power == 0 ? std::to_string(value) : fmt::format("{}{}", value, kSuffixes[power - 1]);
}

std::string bucket_label(int bucket) {
  using H = stats::Log2Histogram;
  if (bucket <= 0) return "[0, 1]";
  // The last bucket ends at 2^64 - 1, which has no short name: it is below 16E.
  if (bucket >= H::kBuckets - 1)
    return fmt::format("({}, 16E)", with_suffix(H::lower_bound(bucket)));
  return fmt::format("({}, {}]", with_suffix(H::lower_bound(bucket)),
                     with_suffix(H::upper_bound(bucket)));
}

std::string render_histogram(const stats::Log2Histogram& hist, std::string_view indent) {
  constexpr size_t kBar = 52;
  const int high = hist.highest();
  if (high < 0) return fmt::format("{}(none)\n", indent);
  int low = 0;
  while (hist.bucket(low) == 0) ++low;
  uint64_t max = 0;
  size_t label_width = 0;
  for (int i = low; i <= high; ++i) {
    max = std::max(max, hist.bucket(i));
    label_width = std::max(label_width, bucket_label(i).size());
  }
  const size_t count_width = std::to_string(max).size();
  std::string out;
  for (int i = low; i <= high; ++i) {
    const uint64_t n = hist.bucket(i);
    // long double: n * kBar overflows uint64 for counts near 2^64.
    const auto bar =
        static_cast<size_t>(static_cast<long double>(n) * kBar / static_cast<long double>(max));
    out += fmt::format("{}{:<{}} {:>{}} |{:<{}}|\n", indent, bucket_label(i), label_width, n,
                       count_width, std::string(bar, '@'), kBar);
  }
  return out;
}

std::string render_queues(const stats::Snapshot& snapshot, const Clocks& now) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"IPCNS", "MSQID", "KEY", "OWNER", "PERMS", "QNUM", "CBYTES", "QBYTES", "FILL",
                  "SENT", "FAILED", "SENDS/s", "BYTES/s", "LAST", "STATE"});
  for (const auto& q : snapshot.queues) {
    const auto& id = q.stats->identity;
    const auto& live = q.stats->live;
    const bool present = live.state == stats::QueueLive::State::present && !q.stats->removed();
    const bool rated = q.rates.interval_s > 0;
    rows.push_back({
        std::to_string(q.key.ipc_ns),
        std::to_string(q.key.msqid),
        id.known ? key_text(id.key) : "-",
        id.known ? std::to_string(id.uid) : "-",
        id.known ? fmt::format("{:o}", id.mode & 0777) : "-",
        present ? std::to_string(live.qnum) : "-",
        present ? std::to_string(live.cbytes) : "-",
        present ? std::to_string(live.qbytes) : "-",
        present ? fill_text(live) : "-",
        std::to_string(q.stats->send.sends_ok),
        std::to_string(q.stats->send.sends_failed),
        rated ? rate_text(q.rates.sends_per_s) : "-",
        rated ? rate_text(q.rates.bytes_per_s) : "-",
        q.stats->last_seen_ns ? age(now.unix_now - now.unix_of(q.stats->last_seen_ns)) : "-",
        q.stats->removed() ? "removed" : std::string(stats::live_state_name(live.state)),
    });
  }
  // LAST is two words ("3s ago") and STATE the last column: both left-aligned.
  std::string out = layout(rows, 13);
  if (snapshot.queues.empty()) out += "(no msgsnd() calls seen yet)\n";
  return out + render_folded(snapshot.folded);
}

std::string render_queue_detail(const stats::Snapshot& snapshot, const stats::QueueRow& row,
                                const Clocks& now) {
  const stats::QueueStats& q = *row.stats;
  const stats::SendStats& s = q.send;
  std::string out;
  auto line = [&out](std::string_view label, const std::string& text) {
    out += fmt::format("  {:<12} {}\n", label, text);
  };

  out += fmt::format("queue {}:{} (IPC namespace {}, msqid {})\n", row.key.ipc_ns, row.key.msqid,
                     row.key.ipc_ns, row.key.msqid);
  if (row.key.msqid == stats::kFoldMsqid && snapshot.folded.sends != 0)
    out += "  also the calls of queues msgtapd had no row left for:\n  " +
           render_folded(snapshot.folded);
  if (q.identity.known) {
    line("key", q.identity.key == 0 ? key_text(0) + " (IPC_PRIVATE)" : key_text(q.identity.key));
    line("owner", fmt::format("uid {}, gid {}, mode {:04o}", q.identity.uid, q.identity.gid,
                              q.identity.mode & 07777));
  } else {
    line("key", "unknown (no record named the queue object)");
  }
  switch (q.live.state) {
    case stats::QueueLive::State::present:
      line("live", fmt::format("{} messages, {} of {} bytes ({} full), checked {}", q.live.qnum,
                               q.live.cbytes, q.live.qbytes, fill_text(q.live),
                               local_time(row.checked_at)));
      break;
    case stats::QueueLive::State::removed:
      line("live", "removed" + (q.live.note.empty() ? "" : " (" + q.live.note + ")"));
      break;
    case stats::QueueLive::State::unknown:
      line("live", "unknown" + (q.live.note.empty() ? "" : " (" + q.live.note + ")"));
      break;
  }
  if (q.removed_at > 0) line("removed", "seen removed at " + local_time(q.removed_at));
  if (q.first_seen_ns) line("first seen", local_time(now.unix_of(q.first_seen_ns)));
  if (q.last_seen_ns)
    line("last seen",
         fmt::format("{} ({}){}", local_time(now.unix_of(q.last_seen_ns)),
                     age(now.unix_now - now.unix_of(q.last_seen_ns)),
                     q.last_tgid ? fmt::format(", by tgid {}", q.last_tgid) : std::string()));
  line("counted", "since " + local_time(snapshot.stats_since));

  out += "sends\n";
  line("ok", fmt::format("{} ({} bytes)", s.sends_ok, s.bytes_ok));
  line("failed", std::to_string(s.sends_failed));
  for (const auto& [err, n] : s.errors)
    if (n != 0) out += fmt::format("    {:<10} {}\n", stats::errno_name(err), n);
  line("IPC_NOWAIT", fmt::format("{} of the failures had IPC_NOWAIT", s.nowait_failures));
  line("slept", fmt::format("{} calls, {:.3f} ms in total", s.sends_slept,
                            static_cast<double>(s.slept_ns) / 1e6));
  line("32-bit", fmt::format("{} calls", s.compat_sends));
  if (row.rates.interval_s > 0)
    line("rates", fmt::format("{:.1f} sends/s, {:.1f} bytes/s, {:.1f} failures/s over {:.1f} s",
                              row.rates.sends_per_s, row.rates.bytes_per_s,
                              row.rates.failures_per_s, row.rates.interval_s));
  else
    line("rates", "not known yet (msgtapd has no earlier interval to compare with)");

  out +=
      fmt::format("message size (bytes) of successful sends, {} in all:\n", s.size_bytes.count());
  out += render_histogram(s.size_bytes, "  ");
  out += fmt::format("call latency (ns), {} calls:\n", s.latency_ns.count());
  out += render_histogram(s.latency_ns, "  ");

  out += fmt::format("top mtypes ({} distinct):\n", distinct_text(s.mtypes_distinct));
  if (s.mtypes.size() == 0) {
    out += "  (none)\n";
  } else {
    std::vector<std::vector<std::string>> rows{{"MTYPE", "COUNT"}};
    for (const auto& e : s.mtypes.sorted())
      rows.push_back({std::to_string(static_cast<int64_t>(e.value)), topk_count(e)});
    out += layout(rows, 1, "  ");
  }
  out += fmt::format("top senders ({} distinct):\n", distinct_text(s.senders_distinct));
  if (s.senders.size() == 0) {
    out += "  (none)\n";
  } else {
    std::vector<std::vector<std::string>> rows{{"TGID", "UID", "COMM", "COUNT"}};
    for (const auto& e : s.senders.sorted()) {
      auto it = s.sender_info.find(static_cast<uint32_t>(e.value));
      const bool info = it != s.sender_info.end();
      rows.push_back({std::to_string(e.value), info ? std::to_string(it->second.uid) : "?",
                      info ? it->second.comm : "?", topk_count(e)});
    }
    out += layout(rows, 2, "  ");
  }
  out += render_loss_detail(snapshot.loss);
  return out;
}

std::string render_queue_table(const stats::Snapshot& snapshot) {
  std::vector<Row> rows;
  rows.push_back({"IPCNS", "MSQID", "SENT", "BYTES", "FAILED", "SLEPT", "SLEPT(ms)", "ERRORS"});
  for (const auto& q : snapshot.queues) {
    const auto& s = q.stats->send;
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
  return out + render_folded(snapshot.folded);
}

std::string render_folded(const stats::Folded& f) {
  if (f.sends == 0) return {};
  return fmt::format(
      "folded: {} calls of queues without a row of their own are counted under msqid {} "
      "(msgtapd --max-queues {}, of them {} for ids that named no queue)\n",
      f.sends, stats::kFoldMsqid, f.max_queues, f.max_stray);
}

std::string render_loss(const stats::Loss& l) {
  if (l.nothing_lost()) return "lost: nothing\n";
  return fmt::format(
      "lost: {} (kernel_ring_full {}, kernel_undeliverable {}, probe_missed {}, seq_gaps {}, "
      "restore_gap {})\n",
      l.total(), l.kernel_ring_full, l.kernel_undeliverable, l.probe_missed, l.seq_gaps,
      l.restore_gap);
}

std::string render_loss_detail(const stats::Loss& l) {
  // Loss is counted where it happens, before a record names its queue: it
  // is for the whole pipeline, and any queue may be short by that much.
  std::string out = l.nothing_lost()
                        ? "loss (all queues): nothing lost\n"
                        : fmt::format(
                              "loss (all queues): {} records lost; counts above may be short by up "
                              "to that many\n",
                              l.total());
  out += fmt::format("  {:<22} {}\n", "kernel_ring_full", l.kernel_ring_full);
  out += fmt::format("  {:<22} {}\n", "kernel_undeliverable", l.kernel_undeliverable);
  out += fmt::format("  {:<22} {}\n", "probe_missed", l.probe_missed);
  out += fmt::format("  {:<22} {}\n", "seq_gaps", l.seq_gaps);
  out += fmt::format("  {:<22} {}\n", "restore_gap", l.restore_gap);
  return out;
}

}  // namespace msgtap::exporter
