// SPDX-License-Identifier: GPL-2.0-only
// msgtap-export-bench: what msgtapd's documents cost with many queues, on
// the host. Fills an aggregator with N queues (20 records each, a few sizes,
// mtypes and senders), then R times: takes a snapshot, renders it as JSON
// and as Prometheus text, drops it, and sends one more record to every queue
// (as the next interval would). Prints the best time of each rendering and
// the peak RSS before the first snapshot and at the end: their difference is
// what the documents add to the aggregator's own memory.
//
// The Prometheus page is rendered twice: first in pieces as msgtapd serves
// it (PrometheusStream), then whole as the textfile gets it.
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
#include <memory>
#include <string>

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

  // First the page as msgtapd serves it: in pieces, while a record for every
  // queue arrives halfway through (the aggregator then copies the
  // statistics the stream's snapshot shares).
  double stream_ms = 1e300;
  size_t stream_bytes = 0, largest_piece = 0;
  for (int i = 0; i < rounds; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    auto snap =
        std::make_shared<const stats::Snapshot>(stats::make_snapshot(1.7e9 + i, {}, {}, agg));
    exporter::PrometheusStream stream(snap, {"bench", 1});
    snap.reset();
    std::string piece;
    size_t bytes = 0, pieces = 0;
    double ms = 0;
    while (stream.next(piece)) {
      bytes += piece.size();
      largest_piece = std::max(largest_piece, piece.size());
      piece.clear();
      if (++pieces == 100) {
        ms += Ms(std::chrono::steady_clock::now() - t0).count();
        for (int q = 0; q < queues; ++q) agg.add_send(record(q, ++seq, i));
        t0 = std::chrono::steady_clock::now();
      }
    }
    ms += Ms(std::chrono::steady_clock::now() - t0).count();
    stream_ms = std::min(stream_ms, ms);
    stream_bytes = bytes;
  }
  const long rss_streamed = peak_rss_kb();

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
      "snapshot + Prometheus in pieces: best %.1f ms, %zu bytes, largest piece %zu bytes\n"
      "snapshot + JSON: best %.1f ms, %zu bytes\n"
      "Prometheus whole: best %.1f ms, %zu bytes\n"
      "peak RSS: %ld kB filled, %ld kB after the pieces, %ld kB at the end\n",
      queues, rounds, stream_ms, stream_bytes, largest_piece, json_ms, json_bytes, prom_ms,
      prom_bytes, rss_filled, rss_streamed, peak_rss_kb());
  return 0;
}
