// SPDX-License-Identifier: GPL-2.0-only
// Builders for synthetic msgtap records used across the unit tests.
#pragma once

#include <linux/msgtap.h>

#include <cstdint>
#include <cstring>

namespace msgtap::testing {

struct Ev {
  uint32_t ipc_ns = 4026531839U;
  int32_t msqid = 0;
  int32_t result = 0;
  uint64_t msgsz = 0;
  uint32_t flags = 0;
  uint64_t duration_ns = 0;
  uint64_t ts_ns = 1000;
  uint32_t cpu = 0;
  uint64_t seq = 1;
  int64_t mtype = 1;
  uint32_t tgid = 0;
  int32_t msgflg = 0;
  const char* comm = "";
};

inline msgtap_send_event make_event(const Ev& e) {
  msgtap_send_event ev{};
  ev.ipc_ns = e.ipc_ns;
  ev.msqid = e.msqid;
  ev.result = e.result;
  ev.msgsz = e.msgsz;
  ev.flags = e.flags;
  ev.duration_ns = e.duration_ns;
  ev.ts_ns = e.ts_ns;
  ev.cpu = e.cpu;
  ev.seq = e.seq;
  ev.mtype = e.mtype;
  ev.tgid = e.tgid;
  ev.tid = e.tgid;
  ev.msgflg = e.msgflg;
  // Up to all 16 bytes, as the kernel's comm may fill them; the rest stays 0.
  std::memcpy(ev.comm, e.comm, ::strnlen(e.comm, sizeof(ev.comm)));
  return ev;
}

struct NsGone {
  uint32_t ipc_ns = 4026532177U;
  uint64_t ts_ns = 1000;
  uint32_t cpu = 0;
  uint64_t seq = 1;
};

// A MSGTAP_A_EVENT_IPCNS_GONE record: namespace @ipc_ns was freed.
inline msgtap_ipcns_event make_ns_gone(const NsGone& n) {
  msgtap_ipcns_event ev{};
  ev.seq = n.seq;
  ev.ts_ns = n.ts_ns;
  ev.ipc_ns = n.ipc_ns;
  ev.cpu = n.cpu;
  return ev;
}

}  // namespace msgtap::testing
