// SPDX-License-Identifier: GPL-2.0-only
// One request/answer exchange with msgtapd over its unix socket.
#include "ctl/daemon_client.h"

#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

#include <cerrno>
#include <cstring>

#include "common/fd.h"
#include "ctl/ctl.h"
#include "export/json.h"
#include "genl/socket.h"

namespace msgtap::ctl {

Result<std::string> ask_daemon(const std::string& path, control::Command cmd,
                               std::chrono::milliseconds timeout) {
  using Clock = std::chrono::steady_clock;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path))
    return Error{ENAMETOOLONG, fmt::format("socket path \"{}\" is empty or too long", path)};
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);

  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Error{errno, fmt::format("socket(AF_UNIX): {}", std::strerror(errno))};
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) < 0) {
    const int err = errno;
    if (err == ENOENT)
      return Error{err, fmt::format("msgtapd not running (no socket at {})", path)};
    if (err == ECONNREFUSED) {
      struct stat st {};
      if (::lstat(path.c_str(), &st) == 0 && !S_ISSOCK(st.st_mode))
        return Error{ENOTSOCK, fmt::format("{} is not a socket (wrong --socket?)", path)};
      return Error{err, fmt::format("msgtapd not running (stale socket at {})", path)};
    }
    if (err == EACCES || err == EPERM)
      return Error{err, fmt::format("permission denied on {}: run as root", path)};
    return Error{err, fmt::format("cannot connect to msgtapd at {}: {}", path, std::strerror(err))};
  }

  const std::string request = control::encode_request(cmd);
  if (::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size()))
    return Error{errno, fmt::format("cannot send to msgtapd: {}", std::strerror(errno))};

  // The daemon answers after a sync round with the kernel: normally
  // milliseconds, up to its 30 s round limit when the kernel does not answer.
  const auto deadline = Clock::now() + timeout;
  std::string answer;
  char buf[16384];
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    pollfd p{fd.get(), POLLIN, 0};
    const int ready = left.count() > 0 ? ::poll(&p, 1, static_cast<int>(left.count())) : 0;
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0)
      return Error{ETIMEDOUT, fmt::format("msgtapd did not answer within {} s: see its log "
                                          "(journalctl -u msgtapd)",
                                          timeout.count() / 1000)};
    const ssize_t n = ::recv(fd.get(), buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      return Error{errno, fmt::format("cannot read from msgtapd: {}", std::strerror(errno))};
    if (n == 0) break;
    answer.append(buf, static_cast<size_t>(n));
  }
  if (answer.empty())
    return Error{EPIPE,
                 "msgtapd closed the connection without answering (too many clients, or "
                 "it is shutting down)"};
  return answer;
}

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
