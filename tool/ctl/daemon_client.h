// SPDX-License-Identifier: GPL-2.0-only
// msgtapctl's side of the control socket: one request, one answer.
#pragma once

#include <chrono>
#include <string>

#include "common/control.h"
#include "common/result.h"

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

}  // namespace msgtap::ctl
