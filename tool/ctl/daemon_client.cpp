// SPDX-License-Identifier: GPL-2.0-only
// What msgtapctl makes of msgtapd's answers and errors (the exchange
// itself: ask_daemon.cpp).
#include "ctl/daemon_client.h"

#include <time.h>

#include "ctl/ctl.h"
#include "export/json.h"
#include "genl/socket.h"

namespace msgtap::ctl {

void print_daemon_error(const Error& e) {
  if (!daemon_not_running(e)) {
    print_error(e.message);
    return;
  }
  // msgtapd cannot start without the module: say that first.
  if (auto sock = genl::Socket::open(); !sock && sock.error().code == ENOENT)
    print_error(e.message + "; " + std::string(genl::kModuleNotLoaded) +
                ", then start msgtapd with `systemctl start msgtapd`");
  else
    print_error(e.message + ": " + std::string(kStartHint));
}

std::optional<Fetched> fetch_snapshot(const std::string& socket_path) {
  auto answer = ask_daemon(socket_path, control::Command::stats);
  if (!answer) {
    print_daemon_error(answer.error());
    return std::nullopt;
  }
  auto doc = control::decode_response(*answer);
  if (!doc) {
    print_error("msgtapd: " + doc.error().message);
    return std::nullopt;
  }
  auto snap = exporter::snapshot_from_json(*doc);
  if (!snap) {
    print_error(snap.error().message);
    return std::nullopt;
  }
  return Fetched{std::move(*answer), std::move(*doc), std::move(*snap)};
}

exporter::Clocks clocks_now() {
  timespec wall{};
  timespec mono{};
  clock_gettime(CLOCK_REALTIME, &wall);
  clock_gettime(CLOCK_MONOTONIC, &mono);
  return {
      static_cast<double>(wall.tv_sec) + static_cast<double>(wall.tv_nsec) / 1e9,
      static_cast<uint64_t>(mono.tv_sec) * 1'000'000'000U + static_cast<uint64_t>(mono.tv_nsec)};
}

}  // namespace msgtap::ctl
