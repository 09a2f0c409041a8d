// SPDX-License-Identifier: GPL-2.0-only
// The sd_notify datagram: one message of NEWLINE-separated assignments.
#include "common/notify.h"

#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "common/fd.h"

namespace msgtap {

Result<void> sd_notify_state(std::string_view state) {
  const char* where = std::getenv("NOTIFY_SOCKET");
  if (where == nullptr || *where == '\0') return {};
  const std::string_view path(where);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if ((path[0] != '/' && path[0] != '@') || path.size() >= sizeof(addr.sun_path))
    return Error{EINVAL, fmt::format("NOTIFY_SOCKET={} is not a socket path", path)};
  std::memcpy(addr.sun_path, path.data(), path.size());
  if (path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());

  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Error{errno, fmt::format("sd_notify socket: {}", std::strerror(errno))};
  if (::sendto(fd.get(), state.data(), state.size(), MSG_NOSIGNAL,
               reinterpret_cast<const sockaddr*>(&addr), len) < 0)
    return Error{errno, fmt::format("sd_notify to {}: {}", path, std::strerror(errno))};
  return {};
}

}  // namespace msgtap
