// SPDX-License-Identifier: GPL-2.0-only
// Logging to stderr with syslog priority prefixes.
#include "common/log.h"

#include <unistd.h>

#include <cerrno>

namespace msgtap {

namespace {
std::string g_ident = "msgtap";
}  // namespace

void set_log_ident(std::string_view ident) { g_ident = ident; }

void log_line(Priority prio, std::string_view message) {
  std::string line = fmt::format("<{}>{}: {}\n", static_cast<int>(prio), g_ident, message);
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere to report a failing stderr
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace msgtap
