// SPDX-License-Identifier: GPL-2.0-only
// The JSON snapshot document: a contract with its readers (the verifier in
// tests/tools, dashboards), so field names and meanings only ever grow.
#include "export/json.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <type_traits>
#include <utility>

#include "common/fd.h"

namespace msgtap::exporter {

using nlohmann::ordered_json;

namespace {

// The kernel counters of schema 1, in its order.
constexpr std::array<std::string_view, 9> kKernelCounters = {
    "probe_hits",       "events_queued",      "drop_ring_full",
    "drop_no_listener", "drop_undeliverable", "delivery_nomem",
    "events_delivered", "batches_delivered",  "delivery_retries",
};

// Added to schema 1 with the namespace records: written when the module
// sends them. A lost namespace end can add a freed namespace's counts to a
// later one's with the same inode, so the document must show it.
constexpr std::array<std::string_view, 3> kNamespaceCounters = {
    "ipcns_gone_queued",
    "ipcns_gone_delivered",
    "ipcns_gone_lost",
};

template <size_t N>
bool listed(const std::array<std::string_view, N>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// The kernel object's numbers that are settings, not counters.
constexpr std::array<std::string_view, 5> kKernelSettings = {
    "ring_size", "ns_ring_size", "nr_cpus", "flush_ms", "listener_portid",
};

bool is_schema_counter(std::string_view name) {
  return listed(kKernelCounters, name) || listed(kNamespaceCounters, name);
}

template <typename T>
T get(const ordered_json& j, const char* key) {
  return j.at(key).get<T>();
}

Error bad_document(const std::exception& e) {
  return Error{EPROTO, fmt::format("malformed msgtap JSON document: {}", e.what())};
}

stats::Log2Histogram histogram_from_json(const ordered_json& j) {
  stats::Log2Histogram h;
  for (const auto& b : j.at("buckets")) {
    const int i = stats::Log2Histogram::bucket_of(b.at(0).get<uint64_t>());
    if (stats::Log2Histogram::upper_bound(i) != b.at(0).get<uint64_t>())
      throw std::invalid_argument("histogram bound " + b.at(0).dump() + " is not a power of two");
    h.set_bucket(i, b.at(1).get<uint64_t>());
  }
  h.set_sum(get<uint64_t>(j, "sum"));
  if (h.count() != get<uint64_t>(j, "count"))
    throw std::invalid_argument("histogram count does not match its buckets");
  return h;
}

void values_from_json(const ordered_json& j, const char* value_key, stats::TopK& top,
                      stats::DistinctCounter& distinct) {
  std::vector<stats::TopK::Entry> entries;
  for (const auto& o : j.at("top"))
    entries.push_back({o.at(value_key).is_number_integer() && o.at(value_key).get<int64_t>() < 0
                           ? static_cast<uint64_t>(o.at(value_key).get<int64_t>())
                           : o.at(value_key).get<uint64_t>(),
                       get<uint64_t>(o, "count"), get<uint64_t>(o, "error")});
  top.restore(entries, get<uint64_t>(j, "total"));
  distinct.restore(j.at("seen").get<std::vector<uint64_t>>(), get<bool>(j, "distinct_saturated"));
}

stats::QueueLive live_from_json(const ordered_json& j) {
  stats::QueueLive l;
  const auto state = get<std::string>(j, "state");
  if (state == "present")
    l.state = stats::QueueLive::State::present;
  else if (state == "removed")
    l.state = stats::QueueLive::State::removed;
  else if (state != "unknown")
    throw std::invalid_argument("unknown live state \"" + state + "\"");
  l.qnum = get<uint64_t>(j, "qnum");
  l.cbytes = get<uint64_t>(j, "cbytes");
  l.qbytes = get<uint64_t>(j, "qbytes");
  l.checked_at = get<double>(j, "checked_at");
  l.note = get<std::string>(j, "note");
  return l;
}

// The snapshot is written by hand rather than built as a json value and
// dumped: with ten thousand queues that took most of a second of CPU per
// snapshot (far more in a TCG guest); this writes into one buffer.
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  void open(char c) {
    comma();
    out_.push_back(c);
    first_ = true;
  }
  void close(char c) {
    out_.push_back(c);
    first_ = false;
  }
  // @k is one of ours (or an errno name): it needs no escaping.
  void key(std::string_view k) {
    comma();
    out_.push_back('"');
    append(k);
    out_.push_back('"');
    out_.push_back(':');
    first_ = true;  // the value follows without a comma
  }
  template <typename T>
  void value(const T& v) {
    comma();
    if constexpr (std::is_same_v<T, bool>) {
      append(v ? "true" : "false");
    } else if constexpr (std::is_floating_point_v<T>) {
      if (std::isfinite(v))
        fmt::format_to(std::back_inserter(out_), "{}", v);
      else
        append("null");
    } else if constexpr (std::is_integral_v<T>) {
      // to_chars, not format_to: a third of a large document's cost was
      // fmt parsing "{}" for every number.
      char digits[24];
      const auto end = std::to_chars(digits, digits + sizeof(digits), v).ptr;
      out_.append(digits, end);
    } else {
      string(std::string_view(v));
    }
  }
  template <typename T>
  void field(std::string_view k, const T& v) {
    key(k);
    value(v);
  }
  // An object of counters: "k": {"a": 1, "b": 2}.
  void counters(std::string_view k,
                std::initializer_list<std::pair<std::string_view, uint64_t>> members) {
    key(k);
    open('{');
    for (const auto& [name, v] : members) field(name, v);
    close('}');
  }
  void null_field(std::string_view k) {
    key(k);
    comma();
    append("null");
  }
  // Already-rendered JSON (a dump()), for the parts built as json values.
  void raw_field(std::string_view k, std::string_view json) {
    key(k);
    comma();
    append(json);
  }
  void newline() { out_.push_back('\n'); }

 private:
  void comma() {
    if (!first_) out_.push_back(',');
    first_ = false;
  }
  void append(std::string_view s) { out_.append(s.data(), s.data() + s.size()); }
  // Valid UTF-8 passes; any other byte (a comm may hold anything) becomes
  // \u00XX, so the document is always valid JSON.
  void string(std::string_view s) {
    out_.push_back('"');
    size_t plain = 0;  // start of the run of bytes that need no escaping
    for (size_t i = 0; i < s.size();) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
        ++i;
        continue;
      }
      const size_t n = c >= 0x80 ? utf8_length(s.substr(i)) : 0;
      if (n > 0) {
        i += n;
        continue;
      }
      append(s.substr(plain, i - plain));
      if (c == '"' || c == '\\') {
        out_.push_back('\\');
        out_.push_back(static_cast<char>(c));
      } else {
        fmt::format_to(std::back_inserter(out_), "\\u{:04x}", c);
      }
      plain = ++i;
    }
    append(s.substr(plain));
    out_.push_back('"');
  }
  // Length of the valid UTF-8 sequence @s starts with, 0 if none.
  static size_t utf8_length(std::string_view s) {
    const auto b0 = static_cast<unsigned char>(s[0]);
    // 0xf5..0xff never start a sequence (they would encode past U+10FFFF).
    const size_t n = b0 >= 0xf5 ? 0 : b0 >= 0xf0 ? 4 : b0 >= 0xe0 ? 3 : b0 >= 0xc2 ? 2 : 0;
    if (n == 0 || s.size() < n) return 0;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[k]) & 0xc0) != 0x80) return 0;
    const auto b1 = static_cast<unsigned char>(s[1]);
    if ((b0 == 0xe0 && b1 < 0xa0) || (b0 == 0xed && b1 >= 0xa0) || (b0 == 0xf0 && b1 < 0x90) ||
        (b0 == 0xf4 && b1 >= 0x90))
      return 0;  // overlong, a surrogate, or beyond U+10FFFF
    return n;
  }

  std::string& out_;
  bool first_ = true;
};

void write_histogram(Writer& w, std::string_view name, const stats::Log2Histogram& h) {
  w.key(name);
  w.open('{');
  w.field("count", h.count());
  w.field("sum", h.sum());
  w.key("buckets");  // [upper bound (inclusive), count] of the non-empty ones
  w.open('[');
  for (int i = 0; i < stats::Log2Histogram::kBuckets; ++i) {
    if (h.bucket(i) == 0) continue;
    w.open('[');
    w.value(stats::Log2Histogram::upper_bound(i));
    w.value(h.bucket(i));
    w.close(']');
  }
  w.close(']');
  w.close('}');
}

// A top-k with its distinct counter; @entry writes the value's own members.
template <typename Entry>
void write_values(Writer& w, std::string_view name, const stats::TopK& top,
                  const stats::DistinctCounter& distinct, Entry entry) {
  w.key(name);
  w.open('{');
  w.field("total", top.total());
  w.field("distinct", distinct.count());
  w.field("distinct_saturated", distinct.saturated());  // then distinct is a lower bound
  w.key("seen");
  w.open('[');
  for (uint64_t v : distinct.values()) w.value(v);
  w.close(']');
  w.key("top");
  w.open('[');
  for (const auto& e : top.sorted()) {
    w.open('{');
    entry(e.value);
    w.field("count", e.count);
    w.field("error", e.error);  // the true count is in [count - error, count]
    w.close('}');
  }
  w.close(']');
  w.close('}');
}

void write_queue(Writer& w, const stats::QueueRow& row) {
  const auto& s = row.stats->send;
  const auto& id = row.stats->identity;
  const auto& live = row.stats->live;
  w.open('{');
  w.field("ipc_ns", row.key.ipc_ns);
  w.field("msqid", row.key.msqid);
  w.field("identity_known", id.known);
  w.field("key", id.key);
  w.field("uid", id.uid);
  w.field("gid", id.gid);
  w.field("mode", id.mode);
  w.field("sends_ok", s.sends_ok);
  w.field("bytes_ok", s.bytes_ok);
  w.field("sends_failed", s.sends_failed);
  w.key("errors");
  w.open('{');
  for (const auto& [err, n] : s.errors)
    if (n != 0) w.field(stats::errno_name(err), n);
  w.close('}');
  w.field("nowait_failures", s.nowait_failures);
  w.field("sends_slept", s.sends_slept);
  w.field("slept_ns", s.slept_ns);
  w.field("compat_sends", s.compat_sends);
  w.field("first_seen_ns", row.stats->first_seen_ns);
  w.field("last_seen_ns", row.stats->last_seen_ns);
  w.field("last_tgid", row.stats->last_tgid);
  w.field("removed_at", row.stats->removed_at);
  w.field("ns_gone_ns", row.stats->ns_gone_ns);
  w.key("live");
  w.open('{');
  w.field("state", stats::live_state_name(live.state));
  w.field("qnum", live.qnum);
  w.field("cbytes", live.cbytes);
  w.field("qbytes", live.qbytes);
  if (live.state == stats::QueueLive::State::present && live.qbytes != 0)
    w.field("fill", static_cast<double>(live.cbytes) / static_cast<double>(live.qbytes));
  else
    w.null_field("fill");
  w.field("checked_at", row.checked_at);
  w.field("note", live.note);
  w.close('}');
  w.key("rates");
  w.open('{');
  w.field("interval_s", row.rates.interval_s);
  w.field("sends_per_s", row.rates.sends_per_s);
  w.field("bytes_per_s", row.rates.bytes_per_s);
  w.field("failures_per_s", row.rates.failures_per_s);
  w.close('}');
  write_histogram(w, "size_bytes", s.size_bytes);
  write_histogram(w, "latency_ns", s.latency_ns);
  write_values(w, "mtypes", s.mtypes, s.mtypes_distinct,
               [&](uint64_t v) { w.field("mtype", static_cast<int64_t>(v)); });
  write_values(w, "senders", s.senders, s.senders_distinct, [&](uint64_t v) {
    w.field("tgid", v);
    auto it = s.sender_info.find(static_cast<uint32_t>(v));
    w.field("comm", it != s.sender_info.end() ? std::string_view(it->second.comm) : "");
    w.field("uid", it != s.sender_info.end() ? it->second.uid : 0U);
  });
  w.close('}');
}

stats::QueueRow queue_from_json(const ordered_json& q) {
  stats::QueueRow row;
  auto stats = std::make_shared<stats::QueueStats>();
  row.key.ipc_ns = get<uint32_t>(q, "ipc_ns");
  row.key.msqid = get<int32_t>(q, "msqid");
  auto& id = stats->identity;
  id.known = get<bool>(q, "identity_known");
  id.key = get<int32_t>(q, "key");
  id.uid = get<uint32_t>(q, "uid");
  id.gid = get<uint32_t>(q, "gid");
  id.mode = get<uint32_t>(q, "mode");
  auto& s = stats->send;
  s.sends_ok = get<uint64_t>(q, "sends_ok");
  s.bytes_ok = get<uint64_t>(q, "bytes_ok");
  s.sends_failed = get<uint64_t>(q, "sends_failed");
  for (const auto& [name, n] : q.at("errors").items()) {
    const int err = stats::errno_from_name(name);
    if (err == 0) throw std::invalid_argument("unknown errno name \"" + name + "\"");
    s.errors[err] += n.get<uint64_t>();
  }
  s.nowait_failures = get<uint64_t>(q, "nowait_failures");
  s.sends_slept = get<uint64_t>(q, "sends_slept");
  s.slept_ns = get<uint64_t>(q, "slept_ns");
  s.compat_sends = get<uint64_t>(q, "compat_sends");
  stats->first_seen_ns = get<uint64_t>(q, "first_seen_ns");
  stats->last_seen_ns = get<uint64_t>(q, "last_seen_ns");
  stats->last_tgid = get<uint32_t>(q, "last_tgid");
  stats->removed_at = get<double>(q, "removed_at");
  // Absent from documents of msgtapd before namespace records.
  if (auto gone = q.find("ns_gone_ns"); gone != q.end()) stats->ns_gone_ns = gone->get<uint64_t>();
  stats->live = live_from_json(q.at("live"));
  row.checked_at = stats->live.checked_at;
  const auto& r = q.at("rates");
  row.rates.interval_s = get<double>(r, "interval_s");
  row.rates.sends_per_s = get<double>(r, "sends_per_s");
  row.rates.bytes_per_s = get<double>(r, "bytes_per_s");
  row.rates.failures_per_s = get<double>(r, "failures_per_s");
  s.size_bytes = histogram_from_json(q.at("size_bytes"));
  s.latency_ns = histogram_from_json(q.at("latency_ns"));
  values_from_json(q.at("mtypes"), "mtype", s.mtypes, s.mtypes_distinct);
  values_from_json(q.at("senders"), "tgid", s.senders, s.senders_distinct);
  for (const auto& o : q.at("senders").at("top"))
    s.sender_info[get<uint32_t>(o, "tgid")] = {get<std::string>(o, "comm"),
                                               get<uint32_t>(o, "uid")};
  row.stats = std::move(stats);
  return row;
}

}  // namespace

ordered_json kernel_to_json(const genl::KernelStats& k, bool extended) {
  ordered_json j;
  for (auto name : kKernelCounters) j[std::string(name)] = k.counter(name);
  for (const auto& [name, v] : k.counters)
    if (listed(kNamespaceCounters, name)) j[name] = v;
  if (extended) {
    for (const auto& [name, v] : k.counters)
      if (!is_schema_counter(name)) j[name] = v;
    if (k.enabled) j["enabled"] = *k.enabled;
  }
  j["ring_size"] = k.ring_size;
  if (k.ns_ring_size) j["ns_ring_size"] = k.ns_ring_size;
  j["nr_cpus"] = k.nr_cpus;
  j["flush_ms"] = k.flush_ms;
  j["listener_portid"] = k.listener_portid;
  // A string: readers whose numbers are doubles would round a u64.
  if (k.load_id) j["load_id"] = fmt::format("{:016x}", *k.load_id);
  ordered_json probes = ordered_json::array();
  for (const auto& p : k.probes) {
    ordered_json o;
    o["symbol"] = p.symbol;
    o["kind"] = genl::probe_kind_name(p.kind);
    o["nmissed"] = p.nmissed;
    o["maxactive"] = p.maxactive;
    probes.push_back(std::move(o));
  }
  j["probes"] = std::move(probes);
  return j;
}

Result<genl::KernelStats> kernel_from_json(const ordered_json& j) {
  try {
    genl::KernelStats k;
    for (const auto& [name, v] : j.items()) {
      if (listed(kKernelSettings, name) || !v.is_number_unsigned())
        continue;  // ("enabled" is a boolean, "probes" an array)
      k.counters.emplace_back(name, v.get<uint64_t>());
    }
    k.ring_size = get<uint32_t>(j, "ring_size");
    if (j.contains("ns_ring_size")) k.ns_ring_size = get<uint32_t>(j, "ns_ring_size");
    k.nr_cpus = get<uint32_t>(j, "nr_cpus");
    k.flush_ms = get<uint32_t>(j, "flush_ms");
    k.listener_portid = get<uint32_t>(j, "listener_portid");
    if (auto it = j.find("enabled"); it != j.end()) k.enabled = it->get<bool>();
    if (auto it = j.find("load_id"); it != j.end()) {
      const auto text = it->get<std::string>();
      uint64_t v = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v, 16);
      if (ec != std::errc{} || end != text.data() + text.size() || text.size() != 16)
        throw std::invalid_argument("kernel.load_id is not 16 hex digits: '" + text + "'");
      k.load_id = v;
    }
    for (const auto& o : j.at("probes")) {
      genl::ProbeInfo p;
      p.symbol = get<std::string>(o, "symbol");
      p.kind = genl::probe_kind_from_name(get<std::string>(o, "kind"));
      p.nmissed = get<uint64_t>(o, "nmissed");
      p.maxactive = get<uint32_t>(o, "maxactive");
      k.probes.push_back(std::move(p));
    }
    return k;
  } catch (const std::exception& e) {
    return bad_document(e);
  }
}

ordered_json daemon_to_json(const stats::DaemonCounters& d) {
  ordered_json j;
  j["events_received"] = d.events_received;
  j["batches_received"] = d.batches_received;
  j["seq_gaps"] = d.seq_gaps;
  j["socket_overruns"] = d.socket_overruns;
  j["socket_drops"] = d.socket_drops;
  j["malformed"] = d.malformed;
  j["unknown_attributes"] = d.unknown_attributes;
  j["foreign_datagrams"] = d.foreign_datagrams;
  if (d.drop_no_listener_at_register)
    j["drop_no_listener_at_register"] = *d.drop_no_listener_at_register;
  else
    j["drop_no_listener_at_register"] = nullptr;
  if (d.delivered_at_register)
    j["delivered_at_register"] = *d.delivered_at_register;
  else
    j["delivered_at_register"] = nullptr;
  j["restore_gap"] = d.restore_gap;
  j["ipcns_gone_received"] = d.ipcns_gone_received;
  j["ipcns_gone_seq_gaps"] = d.ipcns_gone_seq_gaps;
  return j;
}

Result<stats::DaemonCounters> daemon_from_json(const ordered_json& j) {
  try {
    stats::DaemonCounters d;
    d.events_received = get<uint64_t>(j, "events_received");
    d.batches_received = get<uint64_t>(j, "batches_received");
    d.seq_gaps = get<uint64_t>(j, "seq_gaps");
    d.socket_overruns = get<uint64_t>(j, "socket_overruns");
    d.socket_drops = get<uint64_t>(j, "socket_drops");
    d.malformed = get<uint64_t>(j, "malformed");
    d.unknown_attributes = get<uint64_t>(j, "unknown_attributes");
    // Absent from documents of msgtapd before it counted them.
    d.foreign_datagrams = j.value("foreign_datagrams", uint64_t{0});
    // Absent from documents of msgtapd before restore_gap: unknown, and 0.
    if (auto at = j.find("drop_no_listener_at_register"); at != j.end() && !at->is_null())
      d.drop_no_listener_at_register = at->get<uint64_t>();
    // Absent from documents of msgtapd before it noted it: unknown.
    if (auto at = j.find("delivered_at_register"); at != j.end() && !at->is_null())
      d.delivered_at_register = at->get<uint64_t>();
    d.restore_gap = j.value("restore_gap", uint64_t{0});
    // Absent from documents of msgtapd before namespace records: none seen.
    d.ipcns_gone_received = j.value("ipcns_gone_received", uint64_t{0});
    d.ipcns_gone_seq_gaps = j.value("ipcns_gone_seq_gaps", uint64_t{0});
    return d;
  } catch (const std::exception& e) {
    return bad_document(e);
  }
}

ordered_json loss_to_json(const stats::Loss& l) {
  ordered_json j;
  j["nothing_lost"] = l.nothing_lost();
  j["total"] = l.total();
  j["kernel_ring_full"] = l.kernel_ring_full;
  j["kernel_undeliverable"] = l.kernel_undeliverable;
  j["probe_missed"] = l.probe_missed;
  j["seq_gaps"] = l.seq_gaps;
  j["restore_gap"] = l.restore_gap;
  return j;
}

Result<stats::Loss> loss_from_json(const ordered_json& j) try {
  stats::Loss l;
  l.kernel_ring_full = get<uint64_t>(j, "kernel_ring_full");
  l.kernel_undeliverable = get<uint64_t>(j, "kernel_undeliverable");
  l.probe_missed = get<uint64_t>(j, "probe_missed");
  l.seq_gaps = get<uint64_t>(j, "seq_gaps");
  l.restore_gap = j.value("restore_gap", uint64_t{0});
  return l;
} catch (const std::exception& e) {
  return bad_document(e);
}

ordered_json snapshot_to_json(const stats::Snapshot& s) {
  return ordered_json::parse(render_json(s, JsonStyle::line));
}

Result<stats::Snapshot> snapshot_from_json(const ordered_json& j) {
  try {
    if (get<int>(j, "schema") != kSchemaVersion)
      return Error{EPROTO,
                   fmt::format("msgtap JSON schema {} is not supported (this tool reads {})",
                               get<int>(j, "schema"), kSchemaVersion)};
    stats::Snapshot s;
    s.timestamp = get<double>(j, "timestamp");
    s.stats_since = get<double>(j, "stats_since");
    s.boot_id = get<std::string>(j, "boot_id");
    auto daemon = daemon_from_json(j.at("daemon"));
    if (!daemon) return daemon.error();
    s.daemon = *daemon;
    auto kernel = kernel_from_json(j.at("kernel"));
    if (!kernel) return kernel.error();
    s.kernel = std::move(*kernel);
    auto loss = loss_from_json(j.at("loss"));
    if (!loss) return loss.error();
    s.loss = *loss;
    for (const auto& q : j.at("queues")) s.queues.push_back(queue_from_json(q));
    const auto& r = j.at("retired");
    s.retired.queues = get<uint64_t>(r, "queues");
    s.retired.sends_ok = get<uint64_t>(r, "sends_ok");
    s.retired.bytes_ok = get<uint64_t>(r, "bytes_ok");
    s.retired.sends_failed = get<uint64_t>(r, "sends_failed");
    // A document from before --max-queues has no "folded": nothing was.
    if (auto f = j.find("folded"); f != j.end()) {
      s.folded.sends = get<uint64_t>(*f, "sends");
      s.folded.max_queues = get<uint64_t>(*f, "max_queues");
      s.folded.max_stray = get<uint64_t>(*f, "max_stray_ids");
      s.folded.stray_rows = get<uint64_t>(*f, "stray_rows");
    }
    return s;
  } catch (const std::exception& e) {
    return bad_document(e);
  }
}

std::string render_json(const stats::Snapshot& s, JsonStyle style) {
  // Rendered in place, without a copy at the end. A queue takes about 1 KB,
  // more with many senders: reserving 4 KB each costs address space, not
  // memory, and spares the copies of growing a document of megabytes.
  std::string out;
  out.reserve(4096 + s.queues.size() * 4096);
  Writer w(out);
  const bool lines = style == JsonStyle::document;
  w.open('{');
  if (lines) w.newline();
  w.field("schema", kSchemaVersion);
  w.field("timestamp", s.timestamp);
  w.field("stats_since", s.stats_since);
  w.field("boot_id", s.boot_id);
  if (lines) w.newline();
  w.raw_field("daemon", daemon_to_json(s.daemon).dump());
  if (lines) w.newline();
  w.raw_field("kernel", kernel_to_json(s.kernel).dump());
  if (lines) w.newline();
  w.raw_field("loss", loss_to_json(s.loss).dump());
  if (lines) w.newline();
  w.key("queues");
  w.open('[');
  for (const auto& q : s.queues) {
    if (lines) w.newline();  // a queue a line: greppable, diffable
    write_queue(w, q);
  }
  if (lines && !s.queues.empty()) w.newline();
  w.close(']');
  if (lines) w.newline();
  w.counters("retired", {{"queues", s.retired.queues},
                         {"sends_ok", s.retired.sends_ok},
                         {"bytes_ok", s.retired.bytes_ok},
                         {"sends_failed", s.retired.sends_failed}});
  if (lines) w.newline();
  w.counters("folded", {{"sends", s.folded.sends},
                        {"max_queues", s.folded.max_queues},
                        {"max_stray_ids", s.folded.max_stray},
                        {"stray_rows", s.folded.stray_rows}});
  if (lines) w.newline();
  w.close('}');
  w.newline();
  return out;
}

Result<void> write_file_atomically(const std::string& path, std::string_view data, mode_t mode) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::string tmp = (dir / ("." + target.filename().string() + ".XXXXXX")).string();

  UniqueFd fd(mkostemp(tmp.data(), O_CLOEXEC));
  if (!fd.valid())
    return Error{errno, fmt::format("cannot create a temporary file in {}: {}", dir.string(),
                                    std::strerror(errno))};
  auto fail = [&](std::string_view what) {
    Error e{errno, fmt::format("cannot {} {}: {}", what, tmp, std::strerror(errno))};
    ::unlink(tmp.c_str());
    return e;
  };
  for (size_t off = 0; off < data.size();) {
    ssize_t n = ::write(fd.get(), data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("write");
    off += static_cast<size_t>(n);
  }
  if (::fchmod(fd.get(), mode) < 0) return fail("chmod");
  if (::fsync(fd.get()) < 0) return fail("fsync");
  if (::close(fd.release()) < 0) return fail("close");
  if (::rename(tmp.c_str(), path.c_str()) < 0) {
    Error e{errno, fmt::format("cannot rename {} to {}: {}", tmp, path, std::strerror(errno))};
    ::unlink(tmp.c_str());
    return e;
  }
  // The rename itself is durable once the directory is synced.
  UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd.valid()) ::fsync(dfd.get());
  return {};
}

}  // namespace msgtap::exporter
