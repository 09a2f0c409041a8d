// SPDX-License-Identifier: GPL-2.0-only
// msgtapctl's subcommand table entries and what they share.
#pragma once

#include <string>
#include <string_view>

#include "common/control.h"

namespace msgtap::ctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitRuntime = 1;
inline constexpr int kExitUsage = 2;

struct Options {
  std::string socket_path{control::kDefaultSocketPath};
  bool json = false;
};

// One subcommand: a file of its own (status.cpp, stats.cpp), one entry in
// main.cpp's table.
struct Subcommand {
  std::string_view name;
  std::string_view summary;
  int (*run)(const Options& options);
};

int run_status(const Options& options);
int run_stats(const Options& options);

// Prints "msgtapctl: <message>" to stderr.
void print_error(std::string_view message);

}  // namespace msgtap::ctl
