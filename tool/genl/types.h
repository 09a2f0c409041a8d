// SPDX-License-Identifier: GPL-2.0-only
// Plain C++ structs that tool/genl/ makes out of msgtap netlink messages; the
// rest of the tools see these, never libnl.
#pragma once

#include <linux/msgtap.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/result.h"

namespace msgtap::genl {

// One attached probe (MSGTAP_A_PROBE).
struct ProbeInfo {
  std::string symbol;
  uint32_t kind = MSGTAP_PROBE_KIND_UNSPEC;
  uint64_t nmissed = 0;
  uint32_t maxactive = 0;

  bool operator==(const ProbeInfo&) const = default;
};

// "kretprobe", "kprobe", or "kind<N>" for kinds newer than this tool.
std::string probe_kind_name(uint32_t kind);
// The reverse of probe_kind_name(); MSGTAP_PROBE_KIND_UNSPEC if not known.
uint32_t probe_kind_from_name(std::string_view name);

// Name of a MSGTAP_STAT_* counter: "probe_hits", "drop_ring_full", ... and
// "stat<N>" for counters newer than this tool.
std::string stat_name(int type);

// The answer to MSGTAP_CMD_GET_STATS.
struct KernelStats {
  // Every MSGTAP_STAT_* counter the kernel sent, by name, in wire order.
  std::vector<std::pair<std::string, uint64_t>> counters;
  uint32_t listener_portid = 0;  // 0: no listener
  uint32_t ring_size = 0;
  // MSGTAP_A_NS_RING_SIZE: namespace records each CPU holds; 0 from older
  // modules, which hold 256.
  uint32_t ns_ring_size = 0;
  uint32_t nr_cpus = 0;
  uint32_t flush_ms = 0;
  std::optional<bool> enabled;  // MSGTAP_A_ENABLED; absent from older modules
  // MSGTAP_A_LOAD_ID: differs between two loads of the module; absent from
  // older modules.
  std::optional<uint64_t> load_id;
  std::vector<ProbeInfo> probes;

  // The counter's value, 0 when the kernel did not send it.
  uint64_t counter(std::string_view name) const;
  // Calls the probes could not follow: the sum of nmissed over the
  // kretprobes. The msg_exit_ns kprobe's misses are ends of IPC namespaces,
  // not calls; the module counts them in ipcns_gone_lost.
  uint64_t probes_nmissed() const;

  bool operator==(const KernelStats&) const = default;
};

// Shortest MSGTAP_A_EVENT_SEND payload accepted: every field up to and
// including @cpu, which the statistics and the sequence check need. Longer
// (newer) and shorter (older, down to this) records are both fine.
inline constexpr size_t kMinSendRecord = offsetof(msgtap_send_event, cpu) + sizeof(__u32);

// Shortest MSGTAP_A_EVENT_IPCNS_GONE payload accepted: every field up to and
// including @cpu, as for send records.
inline constexpr size_t kMinNsGoneRecord = offsetof(msgtap_ipcns_event, cpu) + sizeof(__u32);

// One MSGTAP_CMD_EVENTS message.
struct EventBatch {
  std::vector<msgtap_send_event> sends;
  std::vector<msgtap_ipcns_event> ns_gone;  // IPC namespaces freed
  uint32_t malformed = 0;                   // records too short, attributes cut off
  uint32_t unknown_attributes = 0;          // attribute types this tool does not know
};

// NLMSG_ERROR: an ack (error == 0) or a failure of request @seq.
struct Ack {
  uint32_t seq = 0;
  int error = 0;       // positive errno, 0 for success
  std::string extack;  // the kernel's extended ack message, if any
};

// A MSGTAP_CMD_GET_STATS answer to request @seq.
struct StatsReply {
  uint32_t seq = 0;
  KernelStats stats;
};

// One filter rule (nest MSGTAP_FILTER_A_RULE): the call's @field must be one
// of @values (include) or none of them (@exclude).
struct FilterRule {
  uint32_t field = MSGTAP_FIELD_UNSPEC;  // enum msgtap_filter_field
  bool exclude = false;
  std::vector<uint64_t> values;

  bool operator==(const FilterRule&) const = default;
};

// The filter in force (MSGTAP_A_FILTER); empty: every call is recorded.
struct Filter {
  uint32_t flags = 0;  // MSGTAP_FILTER_F_*
  std::vector<FilterRule> rules;

  bool empty() const { return flags == 0 && rules.empty(); }
  bool operator==(const Filter&) const = default;
};

// "tgid", "uid", "ipc-ns", "msqid", "cgroup", or "field<N>" for fields newer
// than this tool. These are also msgtapctl's option names (--tgid ...).
std::string filter_field_name(uint32_t field);

// A MSGTAP_CMD_GET_FILTER answer to request @seq.
struct FilterReply {
  uint32_t seq = 0;
  Filter filter;
};

// Anything else (NLMSG_NOOP, NLMSG_DONE, other commands, datagrams not sent
// by the kernel): read and dropped.
struct Ignored {};

using Message = std::variant<EventBatch, Ack, StatsReply, FilterReply, Ignored>;

// "REGISTER", "FLUSH", ...
std::string_view command_name(uint8_t cmd);

// "EPERM", "EINVAL", ... or "errno <N>".
std::string errno_name(int err);

// The error for command @cmd failing with positive errno @err, with the
// errno's name, the kernel's extack message @extack when it sent one, and
// what to do about it where that is clear.
Error command_error(uint8_t cmd, int err, std::string_view extack);

}  // namespace msgtap::genl
