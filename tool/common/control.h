// SPDX-License-Identifier: GPL-2.0-only
// The control protocol between msgtapctl and msgtapd over a unix stream
// socket: the client sends one line of JSON, {"cmd":"stats"}, {"cmd":"status"}
// or {"cmd":"reset"}; the daemon answers with one JSON document and closes.
// A failure is answered as {"error": "message"}.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/result.h"

namespace msgtap::control {

inline constexpr std::string_view kDefaultSocketPath = "/run/msgtap/msgtapd.sock";
// A request line longer than this is refused.
inline constexpr size_t kMaxRequestLine = 4096;

enum class Command {
  stats,   // the snapshot document, synced with the kernel (FLUSH first)
  status,  // the daemon's state and the kernel's counters, synced as well
  // Zeroes the per-queue statistics after a sync round, so everything
  // recorded before the request is counted before it is forgotten. Answers
  // {"reset": {what was cleared}, "stats_since": unix seconds}. Loss counters
  // are not per-queue statistics and stay.
  reset,
};

std::string_view command_name(Command cmd);

// One line, newline included.
std::string encode_request(Command cmd);
// @line without its newline. Unknown members are ignored, so later clients
// may add some.
Result<Command> decode_request(std::string_view line);

// A failure answer, newline included.
std::string encode_error(std::string_view message);
// A whole answer: the document, or the daemon's error as an Error.
Result<nlohmann::ordered_json> decode_response(std::string_view text);

}  // namespace msgtap::control
