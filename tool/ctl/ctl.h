// SPDX-License-Identifier: GPL-2.0-only
// msgtapctl's subcommand table entries and what they share.
#pragma once

#include <string>
#include <string_view>

#include "common/control.h"
#include "ctl/filter_options.h"

namespace CLI {
class App;
}

namespace msgtap::ctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitRuntime = 1;
inline constexpr int kExitUsage = 2;

struct Options {
  std::string socket_path{control::kDefaultSocketPath};
  bool json = false;
  // msgtapctl filter: "show" (also without a word), "set" or "clear", and
  // what `filter set` was given.
  std::string filter_action;
  FilterArgs filter;
  // msgtapctl stats QUEUE: MSQID or IPCNS:MSQID; empty: every queue.
  std::string queue;
  // msgtapctl top: seconds between refreshes, and how many (0: until killed).
  double interval_s = 2;
  unsigned iterations = 0;
};

// One subcommand: a file of its own (status.cpp, stats.cpp), one entry in
// main.cpp's table.
struct Subcommand {
  std::string_view name;
  std::string_view summary;
  std::string_view examples;  // the end of its --help
  int (*run)(const Options& options);
  // Adds the subcommand's options and words; null: just --json.
  void (*configure)(CLI::App& sub, Options& options) = nullptr;
};

int run_status(const Options& options);
int run_queues(const Options& options);
int run_stats(const Options& options);
void configure_stats(CLI::App& sub, Options& options);
int run_top(const Options& options);
void configure_top(CLI::App& sub, Options& options);
int run_reset(const Options& options);
int run_filter(const Options& options);
void configure_filter(CLI::App& sub, Options& options);
int run_enable(const Options& options);
int run_disable(const Options& options);

// Prints "msgtapctl: <message>" to stderr.
void print_error(std::string_view message);

}  // namespace msgtap::ctl
