// SPDX-License-Identifier: GPL-2.0-only
// msgtapctl's side of the control socket: one request, one answer.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/control.h"
#include "common/result.h"
#include "export/text.h"
#include "stats/snapshot.h"

namespace msgtap::ctl {

// How to start the daemon, appended to "not running" errors.
inline constexpr std::string_view kStartHint =
    "start it with `systemctl start msgtapd` (or run msgtapd)";

// Sends @cmd to the msgtapd listening on @path and returns its whole answer.
// Error ENOENT or ECONNREFUSED: msgtapd is not running (the message says
// "msgtapd not running (...)").
Result<std::string> ask_daemon(const std::string& path, control::Command cmd,
                               std::chrono::milliseconds timeout = std::chrono::seconds(45));

inline bool daemon_not_running(const Error& e) {
  return e.code == ENOENT || e.code == ECONNREFUSED;
}

// Prints an ask_daemon() error with what to do about it: how to start
// msgtapd, and to load the module first when that is missing too.
void print_daemon_error(const Error& e);

// msgtapd's synced snapshot document, as sent and as read.
struct Fetched {
  std::string text;
  nlohmann::ordered_json doc;
  stats::Snapshot snapshot;
};
// Asks msgtapd for its snapshot; on failure prints why (see
// print_daemon_error) and returns nothing.
std::optional<Fetched> fetch_snapshot(const std::string& socket_path);

// The wall clock and CLOCK_MONOTONIC, now.
exporter::Clocks clocks_now();

}  // namespace msgtap::ctl
