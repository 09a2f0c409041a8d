// SPDX-License-Identifier: GPL-2.0-only
// A snapshot in the Prometheus text exposition format 0.0.4, for /metrics and
// for node_exporter's textfile collector.
#pragma once

#include <cstdint>
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

std::string render_prometheus(const stats::Snapshot& snapshot, const PrometheusOptions& options);

// A label value with \, " and newline escaped as the format requires.
std::string prometheus_label_value(std::string_view value);

// @name with every character outside [a-zA-Z0-9_] replaced by '_' (and a
// leading digit prefixed with '_'): a metric name part.
std::string prometheus_name(std::string_view name);

}  // namespace msgtap::exporter
