// SPDX-License-Identifier: GPL-2.0-only
// msgtap-export-bench: what msgtapd's documents cost with many queues, on
// the host. Fills an aggregator with N queues (20 records each, a few sizes,
// mtypes and senders), then R times: takes a snapshot, renders it as JSON
// and as Prometheus text, drops it, and sends one more record to every queue
// (as the next interval would). Prints the best time of each rendering and
// the peak RSS before the first snapshot and at the end: their difference is
// what the documents add to the aggregator's own memory.
//
// Usage: msgtap-export-bench [QUEUES [ROUNDS]]   (default 10000 3)
#include <linux/msgtap.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "export/json.h"
#include "export/prometheus.h"
#include "stats/aggregate.h"
#include "stats/snapshot.h"

namespace {

using namespace msgtap;
using Ms = std::chrono::duration<double, std::milli>;

long peak_rss_kb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

msgtap_send_event record(int32_t msqid, uint64_t seq, int round) {
  msgtap_send_event ev{};
  ev.ipc_ns = 4026531839U;
  ev.msqid = msqid;
  ev.seq = seq;
  ev.ts_ns = 1'000'000 + seq * 1000;
  ev.msgsz = 64 + static_cast<uint64_t>(round % 5) * 100;
  ev.duration_ns = 1000 + static_cast<uint64_t>(msqid % 50) * 100;
  ev.mtype = 1 + round % 3;
  ev.tgid = ev.tid = 100 + static_cast<uint32_t>(round % 2);
  ev.flags = MSGTAP_EVF_QUEUE_KNOWN;
  std::memcpy(ev.comm, "sender", 7);
  return ev;
}

}  // namespace

int main(int argc, char** argv) {
  const int queues = argc > 1 ? std::atoi(argv[1]) : 10000;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 3;
  if (queues <= 0 || rounds <= 0) {
    std::fprintf(stderr, "usage: %s [QUEUES [ROUNDS]] (both positive)\n", argv[0]);
    return 2;
  }
  stats::Aggregator agg;
  uint64_t seq = 0;
  for (int r = 0; r < 20; ++r)
    for (int q = 0; q < queues; ++q) agg.add_send(record(q, ++seq, r));
  const long rss_filled = peak_rss_kb();

  double json_ms = 1e300, prom_ms = 1e300;
  size_t json_bytes = 0, prom_bytes = 0;
  for (int i = 0; i < rounds; ++i) {
    {
      const auto t0 = std::chrono::steady_clock::now();
      const stats::Snapshot s = stats::make_snapshot(1.7e9 + i, {}, {}, agg);
      const std::string json = exporter::render_json(s);
      const auto t1 = std::chrono::steady_clock::now();
      const std::string prom = exporter::render_prometheus(s, {"bench", 1});
      const auto t2 = std::chrono::steady_clock::now();
      if (s.queues.size() != static_cast<size_t>(queues) || json.empty() || prom.empty()) {
        std::fprintf(stderr, "msgtap-export-bench: the snapshot lost queues\n");
        return 1;
      }
      json_ms = std::min(json_ms, Ms(t1 - t0).count());
      prom_ms = std::min(prom_ms, Ms(t2 - t1).count());
      json_bytes = json.size();
      prom_bytes = prom.size();
    }
    for (int q = 0; q < queues; ++q) agg.add_send(record(q, ++seq, i));
  }
  std::printf(
      "queues %d rounds %d\n"
      "snapshot + JSON: best %.1f ms, %zu bytes\n"
      "Prometheus: best %.1f ms, %zu bytes\n"
      "peak RSS: %ld kB filled, %ld kB at the end\n",
      queues, rounds, json_ms, json_bytes, prom_ms, prom_bytes, rss_filled, peak_rss_kb());
  return 0;
}
