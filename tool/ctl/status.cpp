// SPDX-License-Identifier: GPL-2.0-only
// msgtapctl status: module loaded? listener registered? msgtapd reachable?
// Then every kernel counter and the probes. Asks msgtapd when it runs (its
// answer is synced with the kernel), else the kernel directly.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

#include "common/control.h"
#include "ctl/ctl.h"
#include "ctl/daemon_client.h"
#include "export/json.h"
#include "export/text.h"
#include "genl/socket.h"

namespace msgtap::ctl {

namespace {

using nlohmann::ordered_json;

struct Status {
  bool module_loaded = false;
  int family_id = 0;
  std::string socket_path;
  std::optional<ordered_json> daemon;  // msgtapd's status answer
  std::string daemon_problem;          // why there is none
  bool daemon_down = false;            // not running, rather than failing
  std::optional<genl::KernelStats> kernel;
  std::string kernel_problem;  // why there is none
};

template <typename T>
T member(const ordered_json& j, const char* section, const char* key, T fallback) {
  try {
    return j.at(section).at(key).get<T>();
  } catch (const std::exception&) {
    return fallback;
  }
}

ordered_json to_json(const Status& s) {
  ordered_json j;
  j["module_loaded"] = s.module_loaded;
  j["family_id"] = s.module_loaded ? ordered_json(s.family_id) : ordered_json(nullptr);
  ordered_json d;
  // A daemon that is up but could not answer (its sync with the kernel
  // failed) is running; only "answered" says its numbers are here.
  d["running"] = !s.daemon_down;
  d["answered"] = s.daemon.has_value();
  d["socket"] = s.socket_path;
  if (!s.daemon_problem.empty()) d["problem"] = s.daemon_problem;
  if (s.daemon)
    for (const auto& [k, v] : s.daemon->at("msgtapd").items()) d[k] = v;
  j["msgtapd"] = std::move(d);
  if (s.daemon) j["daemon"] = s.daemon->at("daemon");
  if (s.kernel)
    j["kernel"] = exporter::kernel_to_json(*s.kernel, /*extended=*/true);
  else
    j["kernel_problem"] = s.kernel_problem;
  if (s.daemon) j["loss"] = s.daemon->at("loss");
  return j;
}

std::string daemon_problem_text(const Status& s) {
  return s.daemon_down ? s.daemon_problem + ": " + std::string(kStartHint) : s.daemon_problem;
}

std::string to_text(const Status& s) {
  std::string out;
  auto line = [&out](std::string_view label, const std::string& text) {
    out += fmt::format("{:<10} {}\n", label, text);
  };
  line("module:", s.module_loaded ? fmt::format("loaded (generic netlink family \"{}\", id {})",
                                                MSGTAP_GENL_NAME, s.family_id)
                                  : std::string(genl::kModuleNotLoaded));

  const uint32_t daemon_port =
      s.daemon ? member<uint32_t>(*s.daemon, "msgtapd", "netlink_portid", 0) : 0;
  if (s.kernel) {
    const uint32_t port = s.kernel->listener_portid;
    if (port == 0)
      line("listener:", "none registered (events are not recorded)");
    else if (port == daemon_port)
      line("listener:", fmt::format("netlink port {} (msgtapd)", port));
    else
      line("listener:", fmt::format("netlink port {}", port));
  }

  if (s.daemon) {
    const auto& d = *s.daemon;
    line("msgtapd:", fmt::format("running (pid {}, up {:.0f} s), socket {}",
                                 member<int64_t>(d, "msgtapd", "pid", 0),
                                 member<double>(d, "msgtapd", "uptime_s", 0), s.socket_path));
    line("", fmt::format("writes {} every {} s ({} writes, {} failed)",
                         member<std::string>(d, "msgtapd", "json", "?"),
                         member<double>(d, "msgtapd", "interval_s", 0),
                         member<uint64_t>(d, "msgtapd", "json_writes", 0),
                         member<uint64_t>(d, "msgtapd", "json_write_errors", 0)));
    if (auto e = member<std::string>(d, "msgtapd", "last_json_error", ""); !e.empty())
      line("", "last write failed: " + e);
    // The files are written on a thread of their own; a disk too slow for
    // the interval makes it skip snapshots.
    if (auto skipped = member<uint64_t>(d, "msgtapd", "file_writes_skipped", 0); skipped != 0)
      line("", fmt::format("{} snapshots not written: the disk was slower than the interval "
                           "({} writes waiting)",
                           skipped, member<uint64_t>(d, "msgtapd", "file_writes_pending", 0)));
    line("", fmt::format("received {} events in {} batches, {} queues; receive buffer {} bytes",
                         member<uint64_t>(d, "daemon", "events_received", 0),
                         member<uint64_t>(d, "daemon", "batches_received", 0),
                         member<uint64_t>(d, "msgtapd", "queues", 0),
                         member<int64_t>(d, "msgtapd", "rcvbuf", 0)));
    line("", fmt::format("seq gaps {}, socket overruns {}, socket drops {}, malformed {}, "
                         "unknown attributes {}",
                         member<uint64_t>(d, "daemon", "seq_gaps", 0),
                         member<uint64_t>(d, "daemon", "socket_overruns", 0),
                         member<uint64_t>(d, "daemon", "socket_drops", 0),
                         member<uint64_t>(d, "daemon", "malformed", 0),
                         member<uint64_t>(d, "daemon", "unknown_attributes", 0)));
    if (auto foreign = member<uint64_t>(d, "daemon", "foreign_datagrams", 0); foreign != 0)
      line("", fmt::format("ignored {} datagrams other processes sent to msgtapd's port", foreign));
    line("", fmt::format("received {} records of freed IPC namespaces, seq gaps {}",
                         member<uint64_t>(d, "daemon", "ipcns_gone_received", 0),
                         member<uint64_t>(d, "daemon", "ipcns_gone_seq_gaps", 0)));
  } else {
    line("msgtapd:", daemon_problem_text(s));
  }

  if (!s.kernel) return out;
  const auto& k = *s.kernel;
  if (k.enabled)
    line("capture:", fmt::format("{}; filtered {}, disabled {} (probe hits not recorded)",
                                 *k.enabled ? "enabled" : "disabled (probe hits are only counted)",
                                 k.counter("filtered"), k.counter("disabled")));
  line("rings:", fmt::format("{} records per CPU x {} CPUs, drained every {} ms", k.ring_size,
                             k.nr_cpus, k.flush_ms));
  if (k.ns_ring_size)
    line("", fmt::format("{} ends of IPC namespaces per CPU kept for msgtapd (ns_ring_size)",
                         k.ns_ring_size));
  out += "kernel counters:\n";
  for (const auto& [name, v] : k.counters) out += fmt::format("  {:<20} {}\n", name, v);
  out += "probes:\n";
  if (k.probes.empty()) out += "  (none attached)\n";
  size_t width = 20;
  for (const auto& p : k.probes) width = std::max(width, p.symbol.size());
  for (const auto& p : k.probes)
    out += fmt::format("  {:<{}} {:<10} maxactive {:<6} nmissed {}\n", p.symbol, width,
                       genl::probe_kind_name(p.kind), p.maxactive, p.nmissed);
  if (s.daemon) {
    if (auto loss = exporter::loss_from_json(s.daemon->at("loss")))
      out += exporter::render_loss(*loss);
  }
  return out;
}

}  // namespace

int run_status(const Options& options) {
  Status s;
  s.socket_path = options.socket_path;

  // Resolving the family needs no privilege.
  auto sock = genl::Socket::open();
  if (sock) {
    s.module_loaded = true;
    s.family_id = sock->family_id();
  } else if (sock.error().code != ENOENT) {
    print_error(sock.error().message);
    return kExitRuntime;
  }

  auto answer = ask_daemon(options.socket_path, control::Command::status);
  if (answer) {
    auto doc = control::decode_response(*answer);
    if (doc)
      s.daemon = std::move(*doc);
    else
      s.daemon_problem = "msgtapd running but failing: " + doc.error().message;
  } else if (daemon_not_running(answer.error())) {
    s.daemon_problem = answer.error().message;
    s.daemon_down = true;
  } else {
    print_error(answer.error().message);
    return kExitRuntime;
  }

  if (s.daemon) {
    auto k = exporter::kernel_from_json(s.daemon->at("kernel"));
    if (k)
      s.kernel = std::move(*k);
    else
      s.kernel_problem = k.error().message;
  } else if (sock) {
    auto k = sock->get_stats(std::chrono::seconds(5));
    if (k)
      s.kernel = std::move(*k);
    else
      s.kernel_problem = k.error().message;
  } else {
    s.kernel_problem = std::string(genl::kModuleNotLoaded);
  }

  if (options.json)
    std::fputs((to_json(s).dump(2) + "\n").c_str(), stdout);
  else
    std::fputs(to_text(s).c_str(), stdout);
  // Scripts wait for `msgtapctl status` to succeed before relying on msgtapd:
  // success means the daemon runs and answered, synced with the kernel.
  if (!s.kernel) {
    print_error(s.kernel_problem);
    return kExitRuntime;
  }
  if (!s.daemon) {
    print_error(daemon_problem_text(s));
    return kExitRuntime;
  }
  return kExitOk;
}

}  // namespace msgtap::ctl
