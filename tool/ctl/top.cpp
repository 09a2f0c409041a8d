// SPDX-License-Identifier: GPL-2.0-only
// msgtapctl top: a live view of the busiest queues, refreshed like top(1);
// rates are computed here, between two synced snapshots.
#include <sys/ioctl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <optional>
#include <thread>

#include "common/cli_checks.h"
#include "ctl/ctl.h"
#include "ctl/daemon_client.h"
#include "ctl/top_format.h"

namespace msgtap::ctl {

namespace {

// Table rows that fit the terminal under the header, or 0 (all) when
// stdout is not one.
size_t rows_that_fit() {
  winsize ws{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 || ws.ws_row < 9) return 0;
  // Three header lines, a blank, the column names, the line on the rows
  // not shown, the cursor.
  return ws.ws_row - 7;
}

}  // namespace

void configure_top(CLI::App& sub, Options& options) {
  sub.add_flag("--json", options.json, "print one JSON document (a line) per refresh");
  sub.add_option("-d,--interval", options.interval_s, "seconds between refreshes")
      ->capture_default_str()
      ->check(finite_number())
      ->check(CLI::Range(0.1, 3600.0));
  sub.add_option("-n,--iterations", options.iterations,
                 "stop after this many refreshes (default: run until interrupted)")
      ->check(CLI::Range(1U, 1'000'000'000U));
}

int run_top(const Options& options) {
  using Clock = std::chrono::steady_clock;
  const bool tty = ::isatty(STDOUT_FILENO) == 1;
  const auto period = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(options.interval_s));
  std::optional<Fetched> prev;
  bool failed = false;
  auto next = Clock::now();
  for (unsigned i = 0; options.iterations == 0 || i < options.iterations; ++i) {
    if (i > 0) {
      next += period;
      std::this_thread::sleep_until(next);
    }
    // A refresh that fails (msgtapd restarting) says why and the next one
    // tries again, like top(1); the exit status is the last refresh's.
    auto got = fetch_snapshot(options.socket_path);
    failed = !got;
    if (failed) {
      std::fflush(stderr);
      continue;
    }
    const stats::Snapshot* before = prev ? &prev->snapshot : nullptr;
    if (options.json) {
      std::fputs((top_to_json(before, got->snapshot).dump() + "\n").c_str(), stdout);
    } else {
      // Only a terminal is redrawn in place; a file or pipe gets every frame.
      if (tty)
        std::fputs("\033[H\033[2J", stdout);
      else if (i > 0)
        std::fputs("\n", stdout);
      std::fputs(render_top(before, got->snapshot, clocks_now(), tty ? rows_that_fit() : 0).c_str(),
                 stdout);
    }
    std::fflush(stdout);
    prev = std::move(got);
  }
  return failed ? kExitRuntime : kExitOk;
}

}  // namespace msgtap::ctl
