// SPDX-License-Identifier: GPL-2.0-only
// CLI11 checks shared by msgtapd and msgtapctl.
#pragma once

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string>

namespace msgtap {

// A finite decimal number ("5", "0.5", "1e3"). Goes before a CLI::Range:
// "nan" and "inf" pass any range check (every comparison with NaN is
// false), and a range check calls junk such as "5x" "not in range".
inline CLI::Validator finite_number() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        const char* begin = s.c_str();
        char* end = nullptr;
        errno = 0;
        const double v = std::strtod(begin, &end);
        if (end == begin || *end != '\0' || errno == ERANGE || !std::isfinite(v))
          return "'" + s + "' is not a number";
        return {};
      },
      "NUMBER");
}

// Not the empty string: `msgtapctl stats "$Q"` with Q unset must not mean
// "every queue".
inline CLI::Validator non_empty() {
  return CLI::Validator(
      [](std::string& s) -> std::string { return s.empty() ? "must not be empty" : ""; }, "");
}

}  // namespace msgtap
