// SPDX-License-Identifier: GPL-2.0-only
// The Prometheus rendering of a snapshot. Names and label sets are a contract
// with dashboards and alerts: they only ever grow, and every series a queue
// has exists from its first scrape on (fixed buckets, the usual errnos at 0),
// so rate() never misses a first increment.
#include "export/prometheus.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace msgtap::exporter {

namespace {

using Label = std::pair<std::string_view, std::string>;
using Labels = std::vector<Label>;
using ExtraLabel = std::pair<std::string_view, std::string_view>;

void append_label_value(std::string& out, std::string_view value);

// The errnos do_msgsnd() returns: always present, 0 until one happens.
constexpr std::array<int, 7> kUsualErrnos = {EAGAIN, EACCES, EIDRM, EINVAL, EFAULT, EINTR, ENOMEM};

std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

double seconds(uint64_t ns) { return static_cast<double>(ns) / 1e9; }

// HELP text escapes only \ and newline.
std::string help_text(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

// Appends families to a string. The format wants every line of a family in
// one group: a family's samples for all queues come together, in one piece
// or in consecutive ones (PrometheusStream).
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  void family(std::string_view name, std::string_view type, std::string_view help) {
    fmt::format_to(std::back_inserter(out_), "# HELP {} {}\n# TYPE {} {}\n", name, help_text(help),
                   name, type);
  }

  // A sample of @labels, plus @extra (a histogram bucket's le) when it has a
  // name: the bucket loop need not copy the queue's label set.
  void sample(std::string_view name, const Labels& labels, std::string_view value,
              const ExtraLabel& extra = {}) {
    out_ += name;
    if (!labels.empty() || !extra.first.empty()) {
      out_ += '{';
      bool first = true;
      const auto label = [&](std::string_view k, std::string_view v) {
        if (!first) out_ += ',';
        first = false;
        out_ += k;
        out_ += "=\"";
        append_label_value(out_, v);
        out_ += '"';
      };
      for (const auto& [k, v] : labels) label(k, v);
      if (!extra.first.empty()) label(extra.first, extra.second);
      out_ += '}';
    }
    out_ += ' ';
    out_ += value;
    out_ += '\n';
  }
  void sample(std::string_view name, const Labels& labels, uint64_t v,
              const ExtraLabel& extra = {}) {
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof(digits), v).ptr;
    sample(name, labels, std::string_view(digits, static_cast<size_t>(end - digits)), extra);
  }
  void sample(std::string_view name, const Labels& labels, double v) {
    sample(name, labels, std::string_view(number(v)));
  }

  // A whole family with one unlabelled sample.
  void single(std::string_view name, std::string_view type, std::string_view help, uint64_t v) {
    family(name, type, help);
    sample(name, {}, v);
  }
  void single(std::string_view name, std::string_view type, std::string_view help, double v) {
    family(name, type, help);
    sample(name, {}, v);
  }

 private:
  std::string& out_;
};

Labels queue_labels(const stats::QueueRow& q) {
  return {{"ipc_ns", std::to_string(q.key.ipc_ns)}, {"msqid", std::to_string(q.key.msqid)}};
}

Labels with(Labels labels, std::initializer_list<Label> more) {
  labels.insert(labels.end(), more);
  return labels;
}

using Rows = std::span<const stats::QueueRow>;

// The per-queue families take a range of queues at a time, and @head says
// whether the range is the family's first (with its HELP and TYPE lines):
// consecutive ranges render what one call over all queues renders.

// One histogram family: @hist picks the histogram; its values divided by
// @divisor are in the exported base unit (a division, not a multiplication
// by 1e-9: 2^35 / 1e9 rounds to the short 34.359738368).
void histogram(Writer& w, Rows rows, bool head, std::string_view name, std::string_view help,
               int first, int last, double divisor,
               const std::function<const stats::Log2Histogram&(const stats::QueueRow&)>& hist) {
  if (head) w.family(name, "histogram", help);
  const std::string bucket = fmt::format("{}_bucket", name);
  const std::string sum = fmt::format("{}_sum", name);
  const std::string count = fmt::format("{}_count", name);
  // The same bounds for every queue: rendered once per range.
  std::vector<std::string> le;
  for (int i = first; i <= last; ++i)
    le.push_back(number(static_cast<double>(stats::Log2Histogram::upper_bound(i)) / divisor));
  for (const auto& q : rows) {
    const stats::Log2Histogram& h = hist(q);
    const Labels base = queue_labels(q);
    uint64_t cumulative = 0;
    for (int i = 0; i < first; ++i) cumulative += h.bucket(i);
    for (int i = first; i <= last; ++i) {
      cumulative += h.bucket(i);
      w.sample(bucket, base, cumulative, {"le", le[static_cast<size_t>(i - first)]});
    }
    w.sample(bucket, base, h.count(), {"le", "+Inf"});
    if (divisor == 1.0)
      w.sample(sum, base, h.sum());
    else
      w.sample(sum, base, static_cast<double>(h.sum()) / divisor);
    w.sample(count, base, h.count());
  }
}

// A family with one sample per queue.
template <typename F>
void per_queue(Writer& w, Rows rows, bool head, std::string_view name, std::string_view type,
               std::string_view help, F&& value) {
  if (head) w.family(name, type, help);
  for (const auto& q : rows) w.sample(name, queue_labels(q), value(q));
}

// Only what msgctl(MSG_STAT_ANY) saw: a gauge that is not known is absent,
// not 0.
template <typename F>
void live(Writer& w, Rows rows, bool head, std::string_view name, std::string_view help,
          F&& value) {
  if (head) w.family(name, "gauge", help);
  for (const auto& q : rows)
    if (q.stats->live.state == stats::QueueLive::State::present)
      w.sample(name, queue_labels(q), value(q.stats->live));
}

// A top-k list is two families: @name, the estimated counts (@field count),
// and @name_overcount, how far each may be above the true count (@field
// error).
template <typename Top, typename EntryLabels>
void top_k(Writer& w, Rows rows, bool head, std::string_view name, std::string_view help,
           uint64_t stats::TopK::Entry::*field, Top&& top, EntryLabels&& labels) {
  const bool overcount = field == &stats::TopK::Entry::error;
  const std::string family = overcount ? fmt::format("{}_overcount", name) : std::string(name);
  if (head) {
    if (overcount)
      w.family(family, "gauge",
               fmt::format("How far {} may be above the true count; 0: exact.", name));
    else
      w.family(family, "gauge", help);
  }
  for (const auto& q : rows)
    for (const auto& e : top(q).sorted()) w.sample(family, labels(q, e), e.*field);
}

constexpr std::string_view kTopMtypeHelp =
    "Estimated msgsnd() calls per mtype, for the most frequent mtypes only (top-k, "
    "Space-Saving): an upper bound, at most msgtap_queue_top_mtype_calls_overcount above "
    "the true count. Calls that failed before the kernel read the mtype are not counted.";
constexpr std::string_view kTopSenderHelp =
    "Estimated msgsnd() calls per sending process, for the most frequent senders only "
    "(top-k, Space-Saving): an upper bound, at most "
    "msgtap_queue_top_sender_calls_overcount above the true count.";

const stats::TopK& mtypes_of(const stats::QueueRow& q) { return q.stats->send.mtypes; }
const stats::TopK& senders_of(const stats::QueueRow& q) { return q.stats->send.senders; }

Labels mtype_labels(const stats::QueueRow& q, const stats::TopK::Entry& e) {
  return with(queue_labels(q), {{"mtype", std::to_string(static_cast<int64_t>(e.value))}});
}

Labels sender_labels(const stats::QueueRow& q, const stats::TopK::Entry& e) {
  const auto& info = q.stats->send.sender_info;
  const auto it = info.find(static_cast<uint32_t>(e.value));
  return with(queue_labels(q), {{"tgid", std::to_string(e.value)},
                                {"comm", it != info.end() ? it->second.comm : ""},
                                {"uid", it != info.end() ? std::to_string(it->second.uid) : ""}});
}

// The per-queue families in page order. Each renders one range of queues.
using QueueFamily = void (*)(Writer&, Rows, bool head, const PrometheusOptions&);

const std::vector<QueueFamily>& queue_families() {
  static const std::vector<QueueFamily> families = {
      [](Writer& w, Rows rows, bool head, const PrometheusOptions&) {
        if (head)
          w.family("msgtap_queue_info", "gauge",
                   "Always 1: a queue's identity as the kernel reported it (IPC key as 0x%08x, "
                   "owner uid and gid, octal mode). Join on ipc_ns and msqid.");
        for (const auto& q : rows) {
          const auto& id = q.stats->identity;
          if (!id.known) continue;
          w.sample("msgtap_queue_info",
                   with(queue_labels(q),
                        {{"key", fmt::format("0x{:08x}", static_cast<uint32_t>(id.key))},
                         {"uid", std::to_string(id.uid)},
                         {"gid", std::to_string(id.gid)},
                         {"mode", fmt::format("{:04o}", id.mode)}}),
                   uint64_t{1});
        }
      },
      [](Writer& w, Rows rows, bool head, const PrometheusOptions&) {
        per_queue(w, rows, head, "msgtap_queue_sends_total", "counter",
                  "Successful msgsnd() calls.",
                  [](const auto& q) { return q.stats->send.sends_ok; });
      },
      [](Writer& w, Rows rows, bool head, const PrometheusOptions&) {
        per_queue(w, rows, head, "msgtap_queue_send_bytes_total", "counter",
                  "Bytes (msgsz) of successful msgsnd() calls.",
                  [](const auto& q) { return q.stats->send.bytes_ok; });
      },
      [](Writer& w, Rows rows, bool head, const PrometheusOptions&) {
        if (head)
          w.family("msgtap_queue_send_failures_total", "counter",
                   "Failed msgsnd() calls by errno; kernel restart codes count as EINTR.");
        for (const auto& q : rows) {
          std::map<int, uint64_t> errors = q.stats->send.errors;
          for (int e : kUsualErrnos) errors.try_emplace(e, 0);
          for (const auto& [err, n] : errors)
            w.sample("msgtap_queue_send_failures_total",
                     with(queue_labels(q), {{"errno", stats::errno_name(err)}}), n);
        }
      },
      [](Writer& w, Rows rows, bool head, const PrometheusOptions&) {
        per_queue(w, rows, head, "msgtap_queue_nowait_failures_total", "counter",
                  "Failed msgsnd() calls that had IPC_NOWAIT in msgflg.",
                  [](const auto& q) { return q.stats->send.nowait_failures; });
      },
      [](Writer& w, Rows rows, bool head, const PrometheusOptions&) {
        per_queue(w, rows, head, "msgtap_queue_sends_slept_total", "counter",
                  "msgsnd() calls that slept waiting for room in the queue, whatever their "
                  "result.",
                  [](const auto& q) { return q.stats->send.sends_slept; });
      },
      [](Writer& w, Rows rows, bool head, const PrometheusOptions&) {
        per_queue(w, rows, head, "msgtap_queue_slept_seconds_total", "counter",
                  "Time spent in msgsnd() calls that slept.",
                  [](const auto& q) { return seconds(q.stats->send.slept_ns); });
      },
      [](Writer& w, Rows rows, bool head, const PrometheusOptions&) {
        per_queue(w, rows, head, "msgtap_queue_compat_sends_total", "counter",
                  "msgsnd() calls made through the 32-bit compat entry points, whatever their "
                  "result.",
                  [](const auto& q) { return q.stats->send.compat_sends; });
      },
      [](Writer& w, Rows rows, bool head, const PrometheusOptions&) {
        histogram(
            w, rows, head, "msgtap_queue_message_size_bytes",
            "Sizes (msgsz) of successful msgsnd() calls; power-of-two buckets.", kSizeFirstBucket,
            kSizeLastBucket, 1.0,
            [](const auto& q) -> const auto& { return q.stats->send.size_bytes; });
      },
      [](Writer& w, Rows rows, bool head, const PrometheusOptions&) {
        histogram(
            w, rows, head, "msgtap_queue_send_duration_seconds",
            "Duration of msgsnd() calls, whatever their result, including time slept; "
            "power-of-two buckets.",
            kLatencyFirstBucket, kLatencyLastBucket, 1e9,
            [](const auto& q) -> const auto& { return q.stats->send.latency_ns; });
      },
      [](Writer& w, Rows rows, bool head, const PrometheusOptions&) {
        live(w, rows, head, "msgtap_queue_messages",
             "Messages in the queue (msg_qnum) at the snapshot.",
             [](const stats::QueueLive& l) { return l.qnum; });
      },
      [](Writer& w, Rows rows, bool head, const PrometheusOptions&) {
        live(w, rows, head, "msgtap_queue_bytes",
             "Bytes in the queue (msg_cbytes) at the snapshot.",
             [](const stats::QueueLive& l) { return l.cbytes; });
      },
      [](Writer& w, Rows rows, bool head, const PrometheusOptions&) {
        live(w, rows, head, "msgtap_queue_capacity_bytes",
             "Capacity of the queue in bytes (msg_qbytes).",
             [](const stats::QueueLive& l) { return l.qbytes; });
      },
      [](Writer& w, Rows rows, bool head, const PrometheusOptions&) {
        if (head)
          w.family("msgtap_queue_fill_ratio", "gauge",
                   "Bytes in the queue over its capacity, 0 to 1; a full queue makes senders "
                   "sleep or fail with EAGAIN.");
        for (const auto& q : rows) {
          const auto& l = q.stats->live;
          if (l.state == stats::QueueLive::State::present && l.qbytes > 0)
            w.sample("msgtap_queue_fill_ratio", queue_labels(q),
                     static_cast<double>(l.cbytes) / static_cast<double>(l.qbytes));
        }
      },
      [](Writer& w, Rows rows, bool head, const PrometheusOptions&) {
        per_queue(w, rows, head, "msgtap_queue_removed", "gauge",
                  "1 once the queue has been seen removed (IPC_RMID); its series go away when "
                  "it is retired.",
                  [](const auto& q) { return uint64_t{q.stats->removed()}; });
      },
      [](Writer& w, Rows rows, bool head, const PrometheusOptions& opt) {
        if (opt.monotonic_now_ns == 0) return;
        if (head)
          w.family("msgtap_queue_last_call_age_seconds", "gauge",
                   "Seconds since the latest msgsnd() call on the queue that msgtap recorded.");
        for (const auto& q : rows) {
          // Events from before a reboot (restored state) have no age here.
          if (q.stats->last_seen_ns == 0 || q.stats->last_seen_ns > opt.monotonic_now_ns) continue;
          w.sample("msgtap_queue_last_call_age_seconds", queue_labels(q),
                   seconds(opt.monotonic_now_ns - q.stats->last_seen_ns));
        }
      },
      [](Writer& w, Rows rows, bool head, const PrometheusOptions&) {
        top_k(w, rows, head, "msgtap_queue_top_mtype_calls", kTopMtypeHelp,
              &stats::TopK::Entry::count, mtypes_of, mtype_labels);
      },
      [](Writer& w, Rows rows, bool head, const PrometheusOptions&) {
        top_k(w, rows, head, "msgtap_queue_top_mtype_calls", kTopMtypeHelp,
              &stats::TopK::Entry::error, mtypes_of, mtype_labels);
      },
      [](Writer& w, Rows rows, bool head, const PrometheusOptions&) {
        top_k(w, rows, head, "msgtap_queue_top_sender_calls", kTopSenderHelp,
              &stats::TopK::Entry::count, senders_of, sender_labels);
      },
      [](Writer& w, Rows rows, bool head, const PrometheusOptions&) {
        top_k(w, rows, head, "msgtap_queue_top_sender_calls", kTopSenderHelp,
              &stats::TopK::Entry::error, senders_of, sender_labels);
      },
      [](Writer& w, Rows rows, bool head, const PrometheusOptions&) {
        per_queue(w, rows, head, "msgtap_queue_mtypes_distinct", "gauge",
                  "Distinct mtypes seen; a lower bound when "
                  "msgtap_queue_mtypes_distinct_saturated is 1.",
                  [](const auto& q) { return uint64_t{q.stats->send.mtypes_distinct.count()}; });
      },
      [](Writer& w, Rows rows, bool head, const PrometheusOptions&) {
        per_queue(
            w, rows, head, "msgtap_queue_mtypes_distinct_saturated", "gauge",
            "1 when there were more distinct mtypes than msgtap counts exactly.",
            [](const auto& q) { return uint64_t{q.stats->send.mtypes_distinct.saturated()}; });
      },
      [](Writer& w, Rows rows, bool head, const PrometheusOptions&) {
        per_queue(w, rows, head, "msgtap_queue_senders_distinct", "gauge",
                  "Distinct sending processes (tgid) seen; a lower bound when "
                  "msgtap_queue_senders_distinct_saturated is 1.",
                  [](const auto& q) { return uint64_t{q.stats->send.senders_distinct.count()}; });
      },
      [](Writer& w, Rows rows, bool head, const PrometheusOptions&) {
        per_queue(
            w, rows, head, "msgtap_queue_senders_distinct_saturated", "gauge",
            "1 when there were more distinct senders than msgtap counts exactly.",
            [](const auto& q) { return uint64_t{q.stats->send.senders_distinct.saturated()}; });
      },
  };
  return families;
}

void global_families(Writer& w, const stats::Snapshot& snap, const PrometheusOptions& opt) {
  w.family("msgtap_build_info", "gauge", "Always 1: the msgtapd version.");
  w.sample("msgtap_build_info", {{"version", std::string(opt.version)}}, uint64_t{1});

  w.single("msgtap_queues", "gauge", "Queues msgtapd tracks now.",
           static_cast<uint64_t>(snap.queues.size()));
  if (snap.stats_since > 0)
    w.single("msgtap_stats_since_timestamp_seconds", "gauge",
             "Unix time the counters count from (daemon start or the last reset).",
             snap.stats_since);

  w.family("msgtap_lost_events_total", "counter",
           "msgsnd() calls msgtap did not count, by the stage that lost them; all 0 means every "
           "call is in the statistics.");
  const auto& l = snap.loss;
  for (const auto& [stage, n] :
       {std::pair{"kernel_ring_full", l.kernel_ring_full},
        std::pair{"kernel_undeliverable", l.kernel_undeliverable},
        std::pair{"probe_missed", l.probe_missed}, std::pair{"seq_gaps", l.seq_gaps},
        std::pair{"restore_gap", l.restore_gap}})
    w.sample("msgtap_lost_events_total", {{"stage", stage}}, n);

  // Every counter the module sent, under the module's own name for it.
  for (const auto& [name, v] : snap.kernel.counters) {
    const std::string metric = fmt::format("msgtap_kernel_{}_total", prometheus_name(name));
    w.single(metric, "counter",
             fmt::format("The msgtap kernel module's {} counter (see include/uapi/linux/msgtap.h).",
                         name),
             v);
  }
  if (snap.kernel.enabled)
    w.single("msgtap_kernel_enabled", "gauge", "1 while the module records calls.",
             uint64_t{*snap.kernel.enabled});
  w.family("msgtap_probe_missed_total", "counter",
           "Calls a kernel probe could not follow (kretprobe nmissed), by probed symbol.");
  for (const auto& p : snap.kernel.probes)
    w.sample("msgtap_probe_missed_total",
             {{"symbol", p.symbol}, {"kind", genl::probe_kind_name(p.kind)}}, p.nmissed);

  const auto& d = snap.daemon;
  w.single("msgtap_daemon_events_received_total", "counter", "Event records msgtapd received.",
           d.events_received);
  w.single("msgtap_daemon_batches_received_total", "counter",
           "Event batches (netlink messages) msgtapd received.", d.batches_received);
  w.single("msgtap_daemon_seq_gaps_total", "counter", "Records missing by per-CPU sequence number.",
           d.seq_gaps);
  w.single("msgtap_daemon_socket_overruns_total", "counter",
           "ENOBUFS seen on the netlink socket; the module retries, so not a loss by itself.",
           d.socket_overruns);
  w.single("msgtap_daemon_socket_drops_total", "counter",
           "Batches the netlink socket refused (SO_MEMINFO); the module retries them.",
           d.socket_drops);
  w.single("msgtap_daemon_malformed_records_total", "counter",
           "Records or attributes msgtapd could not parse.", d.malformed);
  w.single("msgtap_daemon_unknown_attributes_total", "counter",
           "Netlink attributes newer than this msgtapd, ignored.", d.unknown_attributes);
  w.single("msgtap_daemon_foreign_datagrams_total", "counter",
           "Datagrams another local process sent to msgtapd's netlink port, ignored.",
           d.foreign_datagrams);
  w.single("msgtap_daemon_ipcns_gone_received_total", "counter",
           "Records of freed IPC namespaces msgtapd received.", d.ipcns_gone_received);
  w.single("msgtap_daemon_ipcns_gone_seq_gaps_total", "counter",
           "Records of freed IPC namespaces missing by their own per-CPU sequence number.",
           d.ipcns_gone_seq_gaps);

  const auto& r = snap.retired;
  w.single("msgtap_retired_queues_total", "counter",
           "Removed queues whose series msgtapd dropped; their counts are in the retired totals.",
           r.queues);
  w.single("msgtap_retired_sends_total", "counter", "Successful msgsnd() calls on retired queues.",
           r.sends_ok);
  w.single("msgtap_retired_send_bytes_total", "counter",
           "Bytes of successful msgsnd() calls on retired queues.", r.bytes_ok);
  w.single("msgtap_retired_send_failures_total", "counter",
           "Failed msgsnd() calls on retired queues.", r.sends_failed);
  w.single("msgtap_folded_sends_total", "counter",
           "msgsnd() calls counted under msqid=\"-1\" of their namespace (or of ipc_ns=\"0\") "
           "because msgtapd kept --max-queues rows, or its share of rows for ids that named no "
           "queue, already.",
           snap.folded.sends);
  w.single("msgtap_max_queues", "gauge",
           "Queues msgtapd keeps apart (--max-queues); calls of further queues are folded.",
           snap.folded.max_queues);
}

// Length of the valid UTF-8 sequence at the start of @s, 0 if it is not one.
size_t utf8_length(std::string_view s) {
  const auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const auto cont = [&](size_t i) { return i < s.size() && (b(i) & 0xC0) == 0x80; };
  const unsigned char c = b(0);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if ((c == 0xE0 && b(1) < 0xA0) || (c == 0xED && b(1) > 0x9F)) return 0;  // overlong, surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if ((c == 0xF0 && b(1) < 0x90) || (c == 0xF4 && b(1) > 0x8F)) return 0;
    return 4;
  }
  return 0;
}

// A comm is whatever bytes a process set with prctl(PR_SET_NAME), but the
// format is UTF-8 and a scraper rejects the whole page over one bad byte:
// invalid sequences become U+FFFD. Appends @value escaped to @out.
void append_label_value(std::string& out, std::string_view value) {
  // Most values (numbers, names) need nothing: append them whole.
  if (std::all_of(value.begin(), value.end(), [](char ch) {
        const auto c = static_cast<unsigned char>(ch);
        return c >= 0x20 && c < 0x7f && c != '\\' && c != '"';
      })) {
    out.append(value);
    return;
  }
  while (!value.empty()) {
    const size_t n = utf8_length(value);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      value.remove_prefix(1);
      continue;
    }
    const char c = value[0];
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out.append(value.substr(0, n));
    value.remove_prefix(n);
  }
}

}  // namespace

// As append_label_value().
std::string prometheus_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  append_label_value(out, value);
  return out;
}

std::string prometheus_name(std::string_view name) {
  std::string out;
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) out += '_';
  for (char c : name) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    out += ok ? c : '_';
  }
  return out;
}

std::string render_prometheus(const stats::Snapshot& snapshot, const PrometheusOptions& options) {
  std::string out;
  // A queue's series take about 7 KB, more with many senders and mtypes.
  // Reserving 16 KB each costs address space, not memory (untouched pages),
  // and spares growing a string of tens of megabytes by copies.
  out.reserve(size_t{64} * 1024 + snapshot.queues.size() * 16 * 1024);
  Writer w(out);
  global_families(w, snapshot, options);
  for (const QueueFamily family : queue_families()) family(w, snapshot.queues, true, options);
  return out;
}

PrometheusStream::PrometheusStream(std::shared_ptr<const stats::Snapshot> snapshot,
                                   const PrometheusOptions& options)
    : snap_(std::move(snapshot)), version_(options.version), options_(options) {
  options_.version = version_;
}

bool PrometheusStream::next(std::string& out, size_t min_bytes) {
  min_bytes = std::max<size_t>(min_bytes, 1);  // a piece is never empty
  const size_t start = out.size();
  Writer w(out);
  const auto& families = queue_families();
  const Rows rows = snap_->queues;
  while (out.size() - start < min_bytes) {
    if (family_ == 0) {
      global_families(w, *snap_, options_);
      family_ = 1;
      continue;
    }
    if (family_ > families.size()) break;
    const size_t n = std::min(kQueuesPerStep, rows.size() - row_);
    families[family_ - 1](w, rows.subspan(row_, n), row_ == 0, options_);
    row_ += n;
    if (row_ == rows.size()) {
      ++family_;
      row_ = 0;
    }
  }
  return out.size() > start;
}

}  // namespace msgtap::exporter
