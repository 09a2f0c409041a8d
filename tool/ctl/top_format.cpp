// SPDX-License-Identifier: GPL-2.0-only
// Rates, order and rendering of msgtapctl top's frames.
#include "ctl/top_format.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "export/json.h"

namespace msgtap::ctl {

namespace {

// Per-second change of the counters from @was to @now over @dt seconds;
// nothing when a counter went down (a reset in between).
std::optional<stats::Rates> rates_between(const stats::SendStats& now, const Totals& was,
                                          double dt) {
  if (dt <= 0 || now.sends_ok < was.sends_ok || now.bytes_ok < was.bytes_ok ||
      now.sends_failed < was.sends_failed)
    return std::nullopt;
  stats::Rates r;
  r.interval_s = dt;
  r.sends_per_s = static_cast<double>(now.sends_ok - was.sends_ok) / dt;
  r.bytes_per_s = static_cast<double>(now.bytes_ok - was.bytes_ok) / dt;
  r.failures_per_s = static_cast<double>(now.sends_failed - was.sends_failed) / dt;
  return r;
}

std::optional<double> total_rate(uint64_t now, uint64_t was, double dt) {
  if (dt <= 0 || now < was) return std::nullopt;
  return static_cast<double>(now - was) / dt;
}

std::string rate_text(const std::optional<double>& r) {
  return r ? fmt::format("{:.1f}/s", *r) : std::string("-/s");
}

nlohmann::ordered_json optional_json(const std::optional<double>& v) {
  return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr);
}

}  // namespace

Totals totals(const stats::Snapshot& snapshot) {
  Totals t{snapshot.retired.sends_ok, snapshot.retired.bytes_ok, snapshot.retired.sends_failed};
  for (const auto& q : snapshot.queues) {
    t.sends_ok += q.stats->send.sends_ok;
    t.bytes_ok += q.stats->send.bytes_ok;
    t.sends_failed += q.stats->send.sends_failed;
  }
  return t;
}

std::vector<TopEntry> top_entries(const stats::Snapshot* prev, const stats::Snapshot& cur) {
  std::map<stats::QueueKey, Totals> before;
  // A reset between the frames restarts every counter: no rate is honest then.
  const bool comparable = prev && prev->stats_since == cur.stats_since;
  if (comparable)
    for (const auto& q : prev->queues)
      before[q.key] = {q.stats->send.sends_ok, q.stats->send.bytes_ok, q.stats->send.sends_failed};

  std::vector<TopEntry> out;
  out.reserve(cur.queues.size());
  for (const auto& q : cur.queues) {
    TopEntry e{&q, std::nullopt};
    if (comparable) {
      // A queue the previous frame did not have started from zero since.
      e.rates = rates_between(q.stats->send, before[q.key], cur.timestamp - prev->timestamp);
    } else if (!prev && q.rates.interval_s > 0) {
      e.rates = q.rates;
    }
    out.push_back(e);
  }
  std::stable_sort(out.begin(), out.end(), [](const TopEntry& a, const TopEntry& b) {
    if (a.rates.has_value() != b.rates.has_value()) return a.rates.has_value();
    if (a.rates) {
      if (a.rates->sends_per_s != b.rates->sends_per_s)
        return a.rates->sends_per_s > b.rates->sends_per_s;
      if (a.rates->bytes_per_s != b.rates->bytes_per_s)
        return a.rates->bytes_per_s > b.rates->bytes_per_s;
      if (a.rates->failures_per_s != b.rates->failures_per_s)
        return a.rates->failures_per_s > b.rates->failures_per_s;
    }
    // Then the busiest overall; the snapshot's (ipc_ns, msqid) order last.
    return a.row->stats->send.sends_ok > b.row->stats->send.sends_ok;
  });
  return out;
}

std::string render_top(const stats::Snapshot* prev, const stats::Snapshot& cur,
                       const exporter::Clocks& now, size_t max_rows) {
  const Totals t = totals(cur);
  const bool comparable = prev && prev->stats_since == cur.stats_since;
  const double dt = comparable ? cur.timestamp - prev->timestamp : 0;
  const Totals was = comparable ? totals(*prev) : Totals{};
  size_t removed = 0;
  for (const auto& q : cur.queues)
    if (q.stats->removed()) ++removed;

  std::string out =
      fmt::format("msgtapctl top - {}, {} queues ({} removed, {} retired), counted since {}\n",
                  exporter::local_time(cur.timestamp), cur.queues.size(), removed,
                  cur.retired.queues, exporter::local_time(cur.stats_since));
  out += fmt::format("sends: {} ok {}, {} bytes {}, {} failed {}\n", t.sends_ok,
                     rate_text(total_rate(t.sends_ok, was.sends_ok, dt)), t.bytes_ok,
                     rate_text(total_rate(t.bytes_ok, was.bytes_ok, dt)), t.sends_failed,
                     rate_text(total_rate(t.sends_failed, was.sends_failed, dt)));
  out += exporter::render_loss(cur.loss);
  out += "\n";

  std::vector<std::vector<std::string>> rows;
  rows.push_back({"SENDS/s", "BYTES/s", "FAILS/s", "IPCNS", "MSQID", "SENT", "FAILED", "QNUM",
                  "FILL", "LAST", "STATE"});
  const std::vector<TopEntry> entries = top_entries(prev, cur);
  size_t shown = 0;
  for (const TopEntry& e : entries) {
    if (max_rows && shown == max_rows) break;
    ++shown;
    const auto& q = *e.row;
    const auto& live = q.stats->live;
    const bool removed_q = q.stats->removed();
    const bool present = live.state == stats::QueueLive::State::present && !removed_q;
    auto r = [&](double v) { return e.rates ? fmt::format("{:.1f}", v) : std::string("-"); };
    rows.push_back({
        r(e.rates ? e.rates->sends_per_s : 0),
        r(e.rates ? e.rates->bytes_per_s : 0),
        r(e.rates ? e.rates->failures_per_s : 0),
        std::to_string(q.key.ipc_ns),
        std::to_string(q.key.msqid),
        std::to_string(q.stats->send.sends_ok),
        std::to_string(q.stats->send.sends_failed),
        present ? std::to_string(live.qnum) : "-",
        present && live.qbytes ? fmt::format("{:.1f}%", 100.0 * static_cast<double>(live.cbytes) /
                                                            static_cast<double>(live.qbytes))
                               : "-",
        q.stats->last_seen_ns ? exporter::age(now.unix_now - now.unix_of(q.stats->last_seen_ns))
                              : "-",
        removed_q ? "removed" : std::string(stats::live_state_name(live.state)),
    });
  }
  size_t width[11] = {};
  for (const auto& row : rows)
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  for (const auto& row : rows) {
    std::string line;
    // Numbers right-aligned; LAST ("3s ago") and STATE left-aligned.
    for (size_t c = 0; c < row.size(); ++c)
      line += c < 9 ? fmt::format("{:>{}}  ", row[c], width[c])
                    : fmt::format("{:<{}}  ", row[c], width[c]);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  if (cur.queues.empty()) out += "(no msgsnd() calls seen yet)\n";
  if (shown < entries.size())
    out += fmt::format("({} more {} not shown: a taller terminal shows more)\n",
                       entries.size() - shown, entries.size() - shown == 1 ? "queue" : "queues");
  return out + exporter::render_folded(cur.folded);
}

nlohmann::ordered_json top_to_json(const stats::Snapshot* prev, const stats::Snapshot& cur) {
  const Totals t = totals(cur);
  const bool comparable = prev && prev->stats_since == cur.stats_since;
  const double dt = comparable ? cur.timestamp - prev->timestamp : 0;
  const Totals was = comparable ? totals(*prev) : Totals{};
  nlohmann::ordered_json j;
  j["timestamp"] = cur.timestamp;
  j["stats_since"] = cur.stats_since;
  j["interval_s"] = dt > 0 ? nlohmann::ordered_json(dt) : nlohmann::ordered_json(nullptr);
  nlohmann::ordered_json tj;
  tj["sends_ok"] = t.sends_ok;
  tj["bytes_ok"] = t.bytes_ok;
  tj["sends_failed"] = t.sends_failed;
  tj["sends_per_s"] = optional_json(total_rate(t.sends_ok, was.sends_ok, dt));
  tj["bytes_per_s"] = optional_json(total_rate(t.bytes_ok, was.bytes_ok, dt));
  tj["failures_per_s"] = optional_json(total_rate(t.sends_failed, was.sends_failed, dt));
  tj["retired_queues"] = cur.retired.queues;
  j["totals"] = std::move(tj);
  nlohmann::ordered_json queues = nlohmann::ordered_json::array();
  for (const TopEntry& e : top_entries(prev, cur)) {
    const auto& q = *e.row;
    nlohmann::ordered_json o;
    o["ipc_ns"] = q.key.ipc_ns;
    o["msqid"] = q.key.msqid;
    o["sends_ok"] = q.stats->send.sends_ok;
    o["bytes_ok"] = q.stats->send.bytes_ok;
    o["sends_failed"] = q.stats->send.sends_failed;
    o["sends_per_s"] = optional_json(e.rates ? std::optional(e.rates->sends_per_s) : std::nullopt);
    o["bytes_per_s"] = optional_json(e.rates ? std::optional(e.rates->bytes_per_s) : std::nullopt);
    o["failures_per_s"] =
        optional_json(e.rates ? std::optional(e.rates->failures_per_s) : std::nullopt);
    o["live_state"] = stats::live_state_name(q.stats->live.state);
    o["removed"] = q.stats->removed();
    queues.push_back(std::move(o));
  }
  j["queues"] = std::move(queues);
  j["loss"] = exporter::loss_to_json(cur.loss);
  return j;
}

}  // namespace msgtap::ctl
