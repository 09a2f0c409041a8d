// SPDX-License-Identifier: GPL-2.0-only
// Logging to stderr with syslog priority prefixes ("<6>msgtapd: ...") that
// journald and sd-daemon(3) readers understand.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>
#include <utility>

namespace msgtap {

enum class Priority { err = 3, warning = 4, notice = 5, info = 6, debug = 7 };

// The program name after the priority prefix; set once at start.
void set_log_ident(std::string_view ident);

// Writes one line with a single write(2) so lines from concurrent writers do
// not interleave.
void log_line(Priority prio, std::string_view message);

template <typename... Args>
void log(Priority prio, fmt::format_string<Args...> format, Args&&... args) {
  log_line(prio, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace msgtap
