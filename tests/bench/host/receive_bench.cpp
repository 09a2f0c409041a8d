// SPDX-License-Identifier: GPL-2.0-only
// msgtap-receive-bench: msgtapd's per-event userspace path on the host, the
// part of its CPU that does not depend on the kernel: EVENTS datagrams as
// msgtap.ko builds them -> visit_if_events() -> Receiver (sequence check) ->
// Aggregator. Google Benchmark; items/s are events.
//
// Under the guest's emulation this path is msgtapd's largest cost
// (BENCHMARKS.md), and wall time on a shared host is noisy: run it under
// `valgrind --tool=callgrind` for instruction counts, which are exact
// (tests/bench/host/ir-per-event.sh does that for every case).
#include <benchmark/benchmark.h>
#include <linux/genetlink.h>
#include <linux/msgtap.h>
#include <linux/netlink.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "daemon/receive.h"
#include "genl/parse.h"
#include "stats/aggregate.h"

namespace {

using namespace msgtap;

constexpr int kFamily = 0x20;
// Records per datagram: what fits NLMSG_GOODSIZE with 4 KiB pages, as the
// module batches (kmod/genl.c).
constexpr size_t kPerBatch = 30;

struct Workload {
  uint32_t queues = 1;   // msqid = i % queues
  uint32_t senders = 1;  // tgid = 1000 + i % senders
  uint32_t mtypes = 1;   // mtype = 1 + i % mtypes
};

// A recording of @batches datagrams; records numbered per CPU as the
// kernel numbers them (two CPUs alternating by batch).
std::vector<std::vector<uint8_t>> record(const Workload& w, size_t batches) {
  std::vector<std::vector<uint8_t>> out;
  uint64_t seq[2] = {0, 0};
  uint64_t i = 0;
  for (size_t b = 0; b < batches; ++b) {
    const uint32_t cpu = b % 2;
    const size_t attr = NLA_HDRLEN + NLA_ALIGN(sizeof(msgtap_send_event));
    std::vector<uint8_t> buf(NLMSG_HDRLEN + GENL_HDRLEN + kPerBatch * attr);
    auto* nlh = reinterpret_cast<nlmsghdr*>(buf.data());
    nlh->nlmsg_len = static_cast<uint32_t>(buf.size());
    nlh->nlmsg_type = kFamily;
    auto* g = reinterpret_cast<genlmsghdr*>(buf.data() + NLMSG_HDRLEN);
    g->cmd = MSGTAP_CMD_EVENTS;
    g->version = MSGTAP_GENL_VERSION;
    uint8_t* p = buf.data() + NLMSG_HDRLEN + GENL_HDRLEN;
    for (size_t k = 0; k < kPerBatch; ++k, ++i, p += attr) {
      msgtap_send_event ev{};
      ev.seq = ++seq[cpu];
      ev.ts_ns = 1'000'000 + i * 1000;
      ev.duration_ns = 800 + i % 7 * 100;
      ev.mtype = static_cast<int64_t>(1 + i % w.mtypes);
      ev.msgsz = 64;
      ev.ipc_ns = 4026531839U;
      ev.msqid = static_cast<int32_t>(i % w.queues);
      ev.cpu = cpu;
      ev.tgid = ev.tid = static_cast<uint32_t>(1000 + i % w.senders);
      ev.flags = MSGTAP_EVF_QUEUE_KNOWN;
      std::memcpy(ev.comm, "worker", 7);
      nlattr a{};
      a.nla_len = static_cast<uint16_t>(NLA_HDRLEN + sizeof(ev));
      a.nla_type = MSGTAP_A_EVENT_SEND;
      std::memcpy(p, &a, sizeof(a));
      std::memcpy(p + NLA_HDRLEN, &ev, sizeof(ev));
    }
    out.push_back(std::move(buf));
  }
  return out;
}

// Records handled by every run of every case, for ir-per-event.sh: Google
// Benchmark runs a case several times to size it, and callgrind counts them all.
uint64_t g_records = 0;

void receive(benchmark::State& state, Workload w) {
  // Every queue appears in the recording, which is at least 64 batches.
  const auto batches = record(w, std::max<size_t>(64, w.queues / kPerBatch + 1));
  stats::Aggregator aggregator;
  daemon::Receiver receiver(aggregator);
  const genl::SendVisitor visit = [&](const msgtap_send_event& ev) { receiver.on_send(ev); };
  const genl::NsGoneVisitor visit_ns = [&](const msgtap_ipcns_event& ev) {
    receiver.on_ns_gone(ev);
  };
  for (auto _ : state) {
    for (const auto& b : batches) {
      const auto* nlh = reinterpret_cast<const nlmsghdr*>(b.data());
      receiver.on_batch_end(*genl::visit_if_events(nlh, kFamily, visit, visit_ns));
    }
  }
  const auto c = receiver.counters();
  g_records += c.events_received;
  if (c.malformed != 0 || aggregator.queues().size() != w.queues)
    state.SkipWithError("the recording did not parse as expected");
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batches.size() * kPerBatch));
}

}  // namespace

int main(int argc, char** argv) {
  const struct {
    const char* name;
    Workload w;
  } cases[] = {
      {"receive/one_queue", {}},
      {"receive/one_queue_8_senders_8_mtypes", {1, 8, 8}},
      {"receive/round_robin_100_queues", {100, 1, 1}},
      {"receive/round_robin_10000_queues", {10000, 1, 1}},
  };
  // MSGTAP_BENCH_ITERATIONS=N: every case replays its recording N times,
  // so that instruction counts compare across builds (ir-per-event.sh).
  const char* fixed = std::getenv("MSGTAP_BENCH_ITERATIONS");
  for (const auto& c : cases) {
    auto* b = benchmark::RegisterBenchmark(c.name, receive, c.w);
    if (fixed) b->Iterations(std::strtoll(fixed, nullptr, 10));
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::fprintf(stderr, "records handled: %llu\n", static_cast<unsigned long long>(g_records));
  return 0;
}
