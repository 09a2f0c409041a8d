// SPDX-License-Identifier: GPL-2.0-only
// A snapshot that exercises every Prometheus family and every escape, shared
// by the unit tests and the promtool check.
#pragma once

#include <cstring>

#include "stats/snapshot.h"
#include "test_events.h"

namespace msgtap::testing {

inline msgtap_send_event sample_event(const Ev& e, int64_t mtype, uint32_t tgid, const char* comm,
                                      uint32_t uid) {
  msgtap_send_event ev = make_event(e);
  ev.mtype = mtype;
  ev.tgid = tgid;
  ev.uid = uid;
  std::strncpy(ev.comm, comm, sizeof(ev.comm));
  return ev;
}

inline stats::Snapshot rich_snapshot() {
  stats::Aggregator agg;
  // Queue (init ns, 5): sizes from 0 to past the top bucket, all kinds of
  // failure, senders whose names need escaping.
  for (uint64_t size :
       {0ULL, 1ULL, 2ULL, 3ULL, 64ULL, 65ULL, 4096ULL, 1ULL << 24, (1ULL << 24) + 1})
    agg.add_send(sample_event({.msqid = 5, .msgsz = size, .duration_ns = 300 + size, .ts_ns = 100},
                              1, 100, "plain", 0));
  agg.add_send(
      sample_event({.msqid = 5, .result = -11, .duration_ns = 100}, 2, 101, "q\"uo\\te\nnl", 1000));
  agg.add_send(sample_event({.msqid = 5,
                             .result = -512,
                             .flags = MSGTAP_EVF_SLEPT,
                             .duration_ns = 2'500'000'000,
                             .ts_ns = 900},
                            2, 102, "bad\xff\xfeutf8", 1000));
  agg.add_send(sample_event({.msqid = 5, .result = -77, .flags = MSGTAP_EVF_COMPAT}, 3, 101,
                            "q\"uo\\te\nnl", 1000));
  // A second namespace with the same msqid, and more mtypes than top-k keeps.
  for (int64_t t = 1; t <= 40; ++t)
    agg.add_send(sample_event(
        {.ipc_ns = 4026532177U, .msqid = 5, .msgsz = 8, .duration_ns = 1000, .ts_ns = 500}, t,
        200 + static_cast<uint32_t>(t % 3), "worker", 0));
  agg.add_send(sample_event({.msqid = 7, .msgsz = 1, .duration_ns = 40'000'000'000, .ts_ns = 50}, 9,
                            300, "slow", 0));

  auto& q5 = agg.edit({4026531839U, 5});
  q5.identity = {.known = true, .key = 0xabcd, .uid = 1000, .gid = 100, .mode = 0640};
  q5.live = {.state = stats::QueueLive::State::present,
             .qnum = 3,
             .cbytes = 4096,
             .qbytes = 16384,
             .checked_at = 1732700000,
             .note = ""};
  auto& q7 = agg.edit({4026531839U, 7});
  q7.identity = {.known = true, .key = -1, .uid = 0, .gid = 0, .mode = 0600};
  q7.live.state = stats::QueueLive::State::removed;
  q7.removed_at = 1732700001;

  genl::KernelStats k;
  k.counters = {{"probe_hits", 60},      {"events_queued", 55},     {"drop_ring_full", 2},
                {"drop_no_listener", 3}, {"drop_undeliverable", 0}, {"ipcns_gone_lost", 1},
                {"stat12", 99}};
  k.enabled = true;
  k.probes = {{"do_msgsnd", MSGTAP_PROBE_KIND_KRETPROBE, 1, 4096},
              {"__x64_sys_msgsnd", MSGTAP_PROBE_KIND_KPROBE, 0, 0}};
  stats::DaemonCounters d{.events_received = 53,
                          .batches_received = 4,
                          .seq_gaps = 0,
                          .socket_overruns = 1,
                          .socket_drops = 2,
                          .malformed = 0,
                          .unknown_attributes = 4,
                          .foreign_datagrams = 3,
                          .ipcns_gone_received = 5,
                          .ipcns_gone_seq_gaps = 1,
                          .drop_no_listener_at_register = 3,
                          .delivered_at_register = 40,
                          .restore_gap = 0};
  stats::Snapshot s = stats::make_snapshot(1732700000.25, d, k, agg);
  s.stats_since = 1732690000.5;
  s.retired = {.queues = 2, .sends_ok = 10, .bytes_ok = 1000, .sends_failed = 1};
  return s;
}

}  // namespace msgtap::testing
