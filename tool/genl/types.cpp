// SPDX-License-Identifier: GPL-2.0-only
// Names and small helpers for the plain netlink structs; no libnl here, so
// pure code (statistics, exporters, msgtapd's sync logic) can use them.
#include "genl/types.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

namespace msgtap::genl {

std::string probe_kind_name(uint32_t kind) {
  switch (kind) {
    case MSGTAP_PROBE_KIND_KRETPROBE:
      return "kretprobe";
    case MSGTAP_PROBE_KIND_KPROBE:
      return "kprobe";
    default:
      return "kind" + std::to_string(kind);
  }
}

uint32_t probe_kind_from_name(std::string_view name) {
  if (name == "kretprobe") return MSGTAP_PROBE_KIND_KRETPROBE;
  if (name == "kprobe") return MSGTAP_PROBE_KIND_KPROBE;
  if (name.starts_with("kind")) {
    uint32_t v = 0;
    for (char c : name.substr(4)) {
      if (c < '0' || c > '9') return MSGTAP_PROBE_KIND_UNSPEC;
      v = v * 10 + static_cast<uint32_t>(c - '0');
    }
    return v;
  }
  return MSGTAP_PROBE_KIND_UNSPEC;
}

std::string stat_name(int type) {
  switch (type) {
    case MSGTAP_STAT_PROBE_HITS:
      return "probe_hits";
    case MSGTAP_STAT_EVENTS_QUEUED:
      return "events_queued";
    case MSGTAP_STAT_DROP_RING_FULL:
      return "drop_ring_full";
    case MSGTAP_STAT_DROP_NO_LISTENER:
      return "drop_no_listener";
    case MSGTAP_STAT_DROP_UNDELIVERABLE:
      return "drop_undeliverable";
    case MSGTAP_STAT_DELIVERY_NOMEM:
      return "delivery_nomem";
    case MSGTAP_STAT_EVENTS_DELIVERED:
      return "events_delivered";
    case MSGTAP_STAT_BATCHES_DELIVERED:
      return "batches_delivered";
    case MSGTAP_STAT_DELIVERY_RETRIES:
      return "delivery_retries";
    case MSGTAP_STAT_FILTERED:
      return "filtered";
    case MSGTAP_STAT_DISABLED:
      return "disabled";
    case MSGTAP_STAT_IPCNS_GONE_QUEUED:
      return "ipcns_gone_queued";
    case MSGTAP_STAT_IPCNS_GONE_DELIVERED:
      return "ipcns_gone_delivered";
    case MSGTAP_STAT_IPCNS_GONE_LOST:
      return "ipcns_gone_lost";
    default:
      return "stat" + std::to_string(type);
  }
}

uint64_t KernelStats::counter(std::string_view name) const {
  for (const auto& [n, v] : counters)
    if (n == name) return v;
  return 0;
}

uint64_t KernelStats::probes_nmissed() const {
  uint64_t sum = 0;
  for (const auto& p : probes)
    if (p.kind != MSGTAP_PROBE_KIND_KPROBE) sum += p.nmissed;
  return sum;
}

std::string filter_field_name(uint32_t field) {
  switch (field) {
    case MSGTAP_FIELD_TGID:
      return "tgid";
    case MSGTAP_FIELD_UID:
      return "uid";
    case MSGTAP_FIELD_IPC_NS:
      return "ipc-ns";
    case MSGTAP_FIELD_MSQID:
      return "msqid";
    case MSGTAP_FIELD_CGROUP:
      return "cgroup";
    default:
      return "field" + std::to_string(field);
  }
}

std::string errno_name(int err) {
  // strerrorname_np() needs glibc 2.32 and knows nothing under musl; these
  // are the errors msgtap's commands document, plus the netlink basics.
  switch (err) {
    case EPERM:
      return "EPERM";
    case ENOENT:
      return "ENOENT";
    case EINTR:
      return "EINTR";
    case EIO:
      return "EIO";
    case EAGAIN:
      return "EAGAIN";
    case ENOMEM:
      return "ENOMEM";
    case EACCES:
      return "EACCES";
    case EBUSY:
      return "EBUSY";
    case EINVAL:
      return "EINVAL";
    case ERANGE:
      return "ERANGE";
    case EOPNOTSUPP:
      return "EOPNOTSUPP";
    case ENOBUFS:
      return "ENOBUFS";
    case ENOTCONN:
      return "ENOTCONN";
    case ETIMEDOUT:
      return "ETIMEDOUT";
    case ECONNREFUSED:
      return "ECONNREFUSED";
    case EPROTO:
      return "EPROTO";
    case EBADMSG:
      return "EBADMSG";
    case EMSGSIZE:
      return "EMSGSIZE";
    default:
      return "errno " + std::to_string(err);
  }
}

std::string_view command_name(uint8_t cmd) {
  switch (cmd) {
    case MSGTAP_CMD_REGISTER:
      return "REGISTER";
    case MSGTAP_CMD_UNREGISTER:
      return "UNREGISTER";
    case MSGTAP_CMD_GET_STATS:
      return "GET_STATS";
    case MSGTAP_CMD_FLUSH:
      return "FLUSH";
    case MSGTAP_CMD_EVENTS:
      return "EVENTS";
    case MSGTAP_CMD_SET_FILTER:
      return "SET_FILTER";
    case MSGTAP_CMD_GET_FILTER:
      return "GET_FILTER";
    case MSGTAP_CMD_ENABLE:
      return "ENABLE";
    case MSGTAP_CMD_DISABLE:
      return "DISABLE";
    default:
      return "command";
  }
}

Error command_error(uint8_t cmd, int err, std::string_view extack) {
  std::string msg;
  if (err == EPERM || err == EACCES)
    msg = fmt::format(
        "msgtap {} failed: {}: permission denied: msgtap needs CAP_NET_ADMIN (run as root)",
        command_name(cmd), errno_name(err));
  else if (err == ENOENT && cmd != MSGTAP_CMD_UNREGISTER)
    // genetlink's answer for a family id that no longer exists
    msg = fmt::format(
        "msgtap {} failed: {}: the family is gone (module unloaded?): run `modprobe "
        "msgtap` and restart msgtapd",
        command_name(cmd), errno_name(err));
  else
    msg = fmt::format("msgtap {} failed: {} ({})", command_name(cmd), errno_name(err),
                      std::strerror(err));
  if (!extack.empty()) msg += fmt::format(" (kernel: {})", extack);
  return Error{err, msg};
}

}  // namespace msgtap::genl
