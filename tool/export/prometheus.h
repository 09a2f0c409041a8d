// SPDX-License-Identifier: GPL-2.0-only
// A snapshot in the Prometheus text exposition format 0.0.4, for /metrics and
// for node_exporter's textfile collector.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "stats/snapshot.h"

namespace msgtap::exporter {

// What an HTTP answer carrying render_prometheus() output must say it is.
inline constexpr std::string_view kPrometheusContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// The fixed bucket sets, as Log2Histogram bucket indexes: a series set that
// never changes shape, whatever values arrive. Sizes 1 B .. 16 MiB (msgmax
// tops out at INT_MAX, but queues that large are rare: the rest is in +Inf);
// durations 256 ns .. 34 s.
inline constexpr int kSizeFirstBucket = 0;
inline constexpr int kSizeLastBucket = 24;
inline constexpr int kLatencyFirstBucket = 8;
inline constexpr int kLatencyLastBucket = 35;

struct PrometheusOptions {
  std::string_view version;  // msgtap_build_info{version=...}
  // CLOCK_MONOTONIC now, in ns, for msgtap_queue_last_call_age_seconds (the
  // events carry monotonic times); 0 leaves that family out.
  uint64_t monotonic_now_ns = 0;
};

// The whole page.
std::string render_prometheus(const stats::Snapshot& snapshot, const PrometheusOptions& options);

// The same page in pieces, for a writer that sends each piece before it asks
// for the next: with 10,000 queues the page is 73 MB, and msgtapd reads
// events between pieces instead of stalling for the whole rendering. The
// pieces put together are render_prometheus() byte for byte. The stream
// keeps its snapshot (which shares the queues' statistics; the aggregator
// copies those it changes meanwhile).
class PrometheusStream {
 public:
  // About this much per piece: a few hundred queues of one family.
  static constexpr size_t kPieceBytes = size_t{256} * 1024;

  PrometheusStream(std::shared_ptr<const stats::Snapshot> snapshot,
                   const PrometheusOptions& options);
  // options_ points into version_: the stream stays where it was made.
  PrometheusStream(const PrometheusStream&) = delete;
  PrometheusStream& operator=(const PrometheusStream&) = delete;

  // Appends the next piece to @out: at least @min_bytes (and 1) unless the page ends
  // first. False, with nothing appended, once the page is complete.
  bool next(std::string& out, size_t min_bytes = kPieceBytes);

 private:
  // Queues rendered per step of a family.
  static constexpr size_t kQueuesPerStep = 64;

  std::shared_ptr<const stats::Snapshot> snap_;
  std::string version_;
  PrometheusOptions options_;  // its version points into version_
  size_t family_ = 0;          // 0: the global families; then 1 + per-queue family
  size_t row_ = 0;             // the next queue of that family
};

// A label value with \, " and newline escaped as the format requires.
std::string prometheus_label_value(std::string_view value);

// @name with every character outside [a-zA-Z0-9_] replaced by '_' (and a
// leading digit prefixed with '_'): a metric name part.
std::string prometheus_name(std::string_view name);

}  // namespace msgtap::exporter
