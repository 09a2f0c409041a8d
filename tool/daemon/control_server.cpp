// SPDX-License-Identifier: GPL-2.0-only
// The listening control socket and non-blocking request/answer I/O.
#include "daemon/control_server.h"

#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace msgtap::daemon {

Result<UniqueFd> listen_control_socket(const std::string& path) {
  namespace fs = std::filesystem;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path))
    return Error{ENAMETOOLONG, fmt::format("control socket path \"{}\" is empty or longer than {} "
                                           "bytes: choose another --socket",
                                           path, sizeof(addr.sun_path) - 1)};
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);

  const fs::path parent = fs::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) fs::create_directories(parent, ec);
  if (ec)
    return Error{ec.value(),
                 fmt::format("cannot create directory {}: {}", parent.string(), ec.message())};

  // A socket file left by a msgtapd that died. A live msgtapd cannot own it:
  // it would still be registered, and our REGISTER succeeded.
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      return Error{EEXIST, fmt::format("{} exists and is not a socket: remove it or choose "
                                       "another --socket",
                                       path)};
    ::unlink(path.c_str());
  }

  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Error{errno, fmt::format("socket(AF_UNIX): {}", std::strerror(errno))};
  // Only root may ask: the answers show every user's IPC activity.
  const mode_t old_umask = ::umask(0177);
  const int rc = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  const int bind_errno = errno;
  ::umask(old_umask);
  if (rc < 0)
    return Error{bind_errno,
                 fmt::format("cannot bind control socket {}: {}", path, std::strerror(bind_errno))};
  if (::chmod(path.c_str(), 0600) < 0 || ::listen(fd.get(), 16) < 0)
    return Error{errno,
                 fmt::format("cannot set up control socket {}: {}", path, std::strerror(errno))};
  return fd;
}

ReadResult read_request(ControlClient& client) {
  char buf[1024];
  for (;;) {
    ssize_t n = ::recv(client.fd.get(), buf, sizeof(buf), MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return ReadResult::more;
    if (n <= 0) return ReadResult::closed;
    client.in.append(buf, static_cast<size_t>(n));

    const auto nl = client.in.find('\n');
    if (nl == std::string::npos) {
      if (client.in.size() > control::kMaxRequestLine) {
        client.out =
            std::make_shared<const std::string>(control::encode_error("request line too long"));
        return ReadResult::invalid;
      }
      continue;
    }
    const std::string_view line = client.in;
    auto cmd = control::decode_request(line.substr(0, nl));
    if (!cmd) {
      client.out = std::make_shared<const std::string>(control::encode_error(cmd.error().message));
      return ReadResult::invalid;
    }
    client.cmd = *cmd;
    return ReadResult::request;
  }
}

bool write_answer(ControlClient& client) {
  return send_rest(client.fd.get(), *client.out, client.out_done);
}

}  // namespace msgtap::daemon
