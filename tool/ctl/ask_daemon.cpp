// SPDX-License-Identifier: GPL-2.0-only
// One request/answer exchange with msgtapd over its unix socket.
#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

#include "common/fd.h"
#include "ctl/daemon_client.h"

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
  // A stopped or frozen msgtapd with a full backlog makes connect() wait:
  // the send timeout bounds that wait (and the request's send) on unix
  // sockets, and connect() then fails with EAGAIN.
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(timeout);
  const timeval tv{
      static_cast<time_t>(secs.count()),
      static_cast<suseconds_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(timeout - secs).count())};
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
    return Error{errno, fmt::format("setsockopt(SO_SNDTIMEO): {}", std::strerror(errno))};
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) < 0) {
    const int err = errno;
    if (err == EAGAIN || err == EWOULDBLOCK)
      return Error{ETIMEDOUT,
                   fmt::format("msgtapd did not accept the connection within {} s (is it stopped? "
                               "see journalctl -u msgtapd)",
                               secs.count())};
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

}  // namespace msgtap::ctl
