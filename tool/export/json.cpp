// SPDX-License-Identifier: GPL-2.0-only
// The JSON snapshot document: a contract with its readers (the verifier in
// tests/tools, dashboards), so field names and meanings only ever grow.
#include "export/json.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>

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

bool is_schema_counter(std::string_view name) {
  for (auto c : kKernelCounters)
    if (c == name) return true;
  return false;
}

template <typename T>
T get(const ordered_json& j, const char* key) {
  return j.at(key).get<T>();
}

Error bad_document(const std::exception& e) {
  return Error{EPROTO, fmt::format("malformed msgtap JSON document: {}", e.what())};
}

ordered_json histogram_to_json(const stats::Log2Histogram& h) {
  ordered_json buckets = ordered_json::array();
  for (int i = 0; i < stats::Log2Histogram::kBuckets; ++i)
    if (h.bucket(i) != 0) buckets.push_back({stats::Log2Histogram::upper_bound(i), h.bucket(i)});
  ordered_json j;
  j["count"] = h.count();
  j["sum"] = h.sum();
  j["buckets"] = std::move(buckets);  // [upper bound (inclusive), count], non-empty ones
  return j;
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

// A top-k and its distinct counter; @top renders one entry.
template <typename Render>
ordered_json values_to_json(const stats::TopK& top, const stats::DistinctCounter& distinct,
                            Render render) {
  ordered_json entries = ordered_json::array();
  for (const auto& e : top.sorted()) {
    ordered_json o = render(e.value);
    o["count"] = e.count;
    o["error"] = e.error;  // the true count is in [count - error, count]
    entries.push_back(std::move(o));
  }
  ordered_json j;
  j["total"] = top.total();
  j["distinct"] = distinct.count();
  j["distinct_saturated"] = distinct.saturated();  // then distinct is a lower bound
  j["seen"] = distinct.values();
  j["top"] = std::move(entries);
  return j;
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

ordered_json live_to_json(const stats::QueueLive& l) {
  ordered_json j;
  j["state"] = stats::live_state_name(l.state);
  j["qnum"] = l.qnum;
  j["cbytes"] = l.cbytes;
  j["qbytes"] = l.qbytes;
  if (l.state == stats::QueueLive::State::present && l.qbytes != 0)
    j["fill"] = static_cast<double>(l.cbytes) / static_cast<double>(l.qbytes);
  else
    j["fill"] = nullptr;
  j["checked_at"] = l.checked_at;
  j["note"] = l.note;
  return j;
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

ordered_json queue_to_json(const stats::QueueRow& row) {
  const auto& s = row.stats.send;
  const auto& id = row.stats.identity;
  ordered_json errors = ordered_json::object();
  for (const auto& [err, n] : s.errors)
    if (n != 0) errors[stats::errno_name(err)] = n;
  ordered_json q;
  q["ipc_ns"] = row.key.ipc_ns;
  q["msqid"] = row.key.msqid;
  q["identity_known"] = id.known;
  q["key"] = id.key;
  q["uid"] = id.uid;
  q["gid"] = id.gid;
  q["mode"] = id.mode;
  q["sends_ok"] = s.sends_ok;
  q["bytes_ok"] = s.bytes_ok;
  q["sends_failed"] = s.sends_failed;
  q["errors"] = std::move(errors);
  q["nowait_failures"] = s.nowait_failures;
  q["sends_slept"] = s.sends_slept;
  q["slept_ns"] = s.slept_ns;
  q["compat_sends"] = s.compat_sends;
  q["first_seen_ns"] = row.stats.first_seen_ns;
  q["last_seen_ns"] = row.stats.last_seen_ns;
  q["last_tgid"] = row.stats.last_tgid;
  q["removed_at"] = row.stats.removed_at;
  q["live"] = live_to_json(row.stats.live);
  ordered_json rates;
  rates["interval_s"] = row.rates.interval_s;
  rates["sends_per_s"] = row.rates.sends_per_s;
  rates["bytes_per_s"] = row.rates.bytes_per_s;
  rates["failures_per_s"] = row.rates.failures_per_s;
  q["rates"] = std::move(rates);
  q["size_bytes"] = histogram_to_json(s.size_bytes);
  q["latency_ns"] = histogram_to_json(s.latency_ns);
  q["mtypes"] = values_to_json(s.mtypes, s.mtypes_distinct, [](uint64_t v) {
    ordered_json o;
    o["mtype"] = static_cast<int64_t>(v);
    return o;
  });
  q["senders"] = values_to_json(s.senders, s.senders_distinct, [&](uint64_t v) {
    ordered_json o;
    o["tgid"] = v;
    auto it = s.sender_info.find(static_cast<uint32_t>(v));
    o["comm"] = it != s.sender_info.end() ? it->second.comm : "";
    o["uid"] = it != s.sender_info.end() ? it->second.uid : 0;
    return o;
  });
  return q;
}

stats::QueueRow queue_from_json(const ordered_json& q) {
  stats::QueueRow row;
  row.key.ipc_ns = get<uint32_t>(q, "ipc_ns");
  row.key.msqid = get<int32_t>(q, "msqid");
  auto& id = row.stats.identity;
  id.known = get<bool>(q, "identity_known");
  id.key = get<int32_t>(q, "key");
  id.uid = get<uint32_t>(q, "uid");
  id.gid = get<uint32_t>(q, "gid");
  id.mode = get<uint32_t>(q, "mode");
  auto& s = row.stats.send;
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
  row.stats.first_seen_ns = get<uint64_t>(q, "first_seen_ns");
  row.stats.last_seen_ns = get<uint64_t>(q, "last_seen_ns");
  row.stats.last_tgid = get<uint32_t>(q, "last_tgid");
  row.stats.removed_at = get<double>(q, "removed_at");
  row.stats.live = live_from_json(q.at("live"));
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
  return row;
}

}  // namespace

ordered_json kernel_to_json(const genl::KernelStats& k, bool extended) {
  ordered_json j;
  for (auto name : kKernelCounters) j[std::string(name)] = k.counter(name);
  if (extended) {
    for (const auto& [name, v] : k.counters)
      if (!is_schema_counter(name)) j[name] = v;
    if (k.enabled) j["enabled"] = *k.enabled;
  }
  j["ring_size"] = k.ring_size;
  j["nr_cpus"] = k.nr_cpus;
  j["flush_ms"] = k.flush_ms;
  j["listener_portid"] = k.listener_portid;
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
      if (name == "ring_size" || name == "nr_cpus" || name == "flush_ms" ||
          name == "listener_portid" || name == "probes" || !v.is_number_unsigned())
        continue;  // ("enabled" is a boolean)
      k.counters.emplace_back(name, v.get<uint64_t>());
    }
    k.ring_size = get<uint32_t>(j, "ring_size");
    k.nr_cpus = get<uint32_t>(j, "nr_cpus");
    k.flush_ms = get<uint32_t>(j, "flush_ms");
    k.listener_portid = get<uint32_t>(j, "listener_portid");
    if (auto it = j.find("enabled"); it != j.end()) k.enabled = it->get<bool>();
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
  return j;
}

Result<stats::Loss> loss_from_json(const ordered_json& j) try {
  stats::Loss l;
  l.kernel_ring_full = get<uint64_t>(j, "kernel_ring_full");
  l.kernel_undeliverable = get<uint64_t>(j, "kernel_undeliverable");
  l.probe_missed = get<uint64_t>(j, "probe_missed");
  l.seq_gaps = get<uint64_t>(j, "seq_gaps");
  return l;
} catch (const std::exception& e) {
  return bad_document(e);
}

ordered_json snapshot_to_json(const stats::Snapshot& s) {
  ordered_json j;
  j["schema"] = kSchemaVersion;
  j["timestamp"] = s.timestamp;
  j["stats_since"] = s.stats_since;
  j["boot_id"] = s.boot_id;
  j["daemon"] = daemon_to_json(s.daemon);
  j["kernel"] = kernel_to_json(s.kernel);
  j["loss"] = loss_to_json(s.loss);
  ordered_json queues = ordered_json::array();
  for (const auto& q : s.queues) queues.push_back(queue_to_json(q));
  j["queues"] = std::move(queues);
  ordered_json retired;
  retired["queues"] = s.retired.queues;
  retired["sends_ok"] = s.retired.sends_ok;
  retired["bytes_ok"] = s.retired.bytes_ok;
  retired["sends_failed"] = s.retired.sends_failed;
  j["retired"] = std::move(retired);
  return j;
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
    return s;
  } catch (const std::exception& e) {
    return bad_document(e);
  }
}

std::string render_json(const stats::Snapshot& snapshot) {
  return snapshot_to_json(snapshot).dump(2) + "\n";
}

Result<void> write_file_atomically(const std::string& path, std::string_view data,
                                   mode_t mode) {
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
