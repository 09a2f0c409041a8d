// SPDX-License-Identifier: GPL-2.0-only
// msgtapd's side of the control socket: the listening unix socket and its
// clients' buffers. No policy here; the event loop decides what to answer.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common/control.h"
#include "common/fd.h"
#include "common/result.h"

namespace msgtap::daemon {

struct ControlClient {
  enum class State {
    reading,  // waiting for the request line
    waiting,  // request read; waiting for a sync round
    writing,  // sending the answer; closed when done
  };
  UniqueFd fd;
  State state = State::reading;
  std::string in;
  // The answer, never null while writing; the round's JSON document is
  // shared by every client that asked for it.
  std::shared_ptr<const std::string> out;
  size_t out_done = 0;
  control::Command cmd = control::Command::status;
  std::chrono::steady_clock::time_point deadline{};  // reading and writing only
};

// Creates the socket's parent directory, replaces a stale socket file, binds
// with mode 0600 and listens. Non-blocking.
Result<UniqueFd> listen_control_socket(const std::string& path);

// What reading a client's socket produced.
enum class ReadResult {
  more,     // no whole line yet
  request,  // client.cmd holds the request
  invalid,  // client.out holds an error answer
  closed,   // the client went away or broke the protocol: drop it
};
ReadResult read_request(ControlClient& client);

// Writes what it can of *client.out; true once all of it is out (or the
// client is gone): then close it.
bool write_answer(ControlClient& client);

}  // namespace msgtap::daemon
