// SPDX-License-Identifier: GPL-2.0-only
// msgtapctl: looks at msgtap from the command line. Subcommands live in files
// of their own and are dispatched from the table below, as in wg(8).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include "ctl/ctl.h"

namespace msgtap::ctl {
namespace {

void no_options(CLI::App&, Options&) {}

constexpr Subcommand kSubcommands[] = {
    {"status",
     "Is the module loaded, is a listener registered, is msgtapd running; every kernel counter "
     "and the probes. Without msgtapd it asks the kernel itself (root needed). Exit status 0 only "
     "when msgtapd runs and answered.",
     "Examples:\n  msgtapctl status\n  msgtapctl status --json | jq .kernel.disabled", run_status},
    {"queues",
     "The queues msgtapd has seen, like ipcs -q across IPC namespaces: key, owner, mode, live "
     "depth (qnum, cbytes, qbytes) and fill, sends, failures, rates, last seen; removed queues "
     "are marked. Synced with the kernel first. --json: msgtapd's queue objects.",
     "Examples:\n  msgtapctl queues\n  msgtapctl queues --json | jq '.queues[] | "
     "{msqid, sends_ok}'",
     run_queues},
    {"stats",
     "Per-queue statistics from msgtapd, synced with the kernel first (everything recorded "
     "before the request is counted), then what was lost. With QUEUE (MSQID, or IPCNS:MSQID "
     "when the msqid is in several namespaces): everything about that queue, with histograms "
     "of message size and latency, top mtypes and senders. --json prints msgtapd's snapshot "
     "document as is (with QUEUE: that queue's object).",
     "Examples:\n  msgtapctl stats\n  msgtapctl stats 3\n  msgtapctl stats 4026532201:0\n"
     "  msgtapctl stats --json > snapshot.json",
     run_stats, configure_stats},
    {"top",
     "A live view of the queues sorted by send rate, refreshed every --interval seconds like "
     "top(1): totals and loss on top. Rates are computed between refreshes. Ctrl-C ends it. "
     "--json: one JSON document per line per refresh.",
     "Examples:\n  msgtapctl top\n  msgtapctl top -d 1\n  msgtapctl top -n 3 --json", run_top,
     configure_top},
    {"reset",
     "Zeroes msgtapd's per-queue statistics, after counting everything recorded before the "
     "request; says what was forgotten. Loss and kernel counters stay. Root needed.",
     "Examples:\n  msgtapctl reset\n  msgtapctl reset --json", run_reset},
    {"filter",
     "Shows or replaces the kernel's capture filter (root needed; talks to the module, not "
     "msgtapd). Without a word: filter show.",
     "Examples:\n  msgtapctl filter\n  msgtapctl filter set --tgid 123,456 --uid '!0'\n"
     "  msgtapctl filter set --failures-only --msqid 3,4\n  msgtapctl filter clear",
     run_filter, configure_filter},
    {"enable", "Starts recording msgsnd() calls again (root needed; the module loads enabled).",
     "Example:\n  msgtapctl enable", run_enable, no_options},
    {"disable",
     "Stops recording without unloading the module; probe hits are only counted (`disabled` in "
     "msgtapctl status). Root needed.",
     "Example:\n  msgtapctl disable", run_disable, no_options},
};

}  // namespace

void print_error(std::string_view message) {
  std::fprintf(stderr, "msgtapctl: %.*s\n", static_cast<int>(message.size()), message.data());
}

namespace {

int run_main(int argc, char** argv) {
  Options options;
  CLI::App app{
      "msgtapctl: shows msgtap's state and the per-queue statistics of SysV msgsnd(2) "
      "that msgtapd collects; sets the kernel's filter and turns capture on and off.\n"
      "Examples:\n  msgtapctl status\n  msgtapctl queues\n  msgtapctl stats 3\n"
      "  msgtapctl top\n  msgtapctl reset\n"
      "Exit status: 0 ok, 1 runtime error, 2 usage error.",
      "msgtapctl"};
  app.set_version_flag("--version", MSGTAP_VERSION);
  app.add_option("--socket", options.socket_path, "msgtapd's control socket")
      ->capture_default_str();
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the subcommand
  for (const Subcommand& cmd : kSubcommands) {
    CLI::App* sub = app.add_subcommand(std::string(cmd.name), std::string(cmd.summary));
    sub->footer(std::string(cmd.examples));
    if (cmd.configure)
      cmd.configure(*sub, options);
    else
      sub->add_flag("--json", options.json, "print JSON instead of text");
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  for (const Subcommand& cmd : kSubcommands)
    if (app.got_subcommand(std::string(cmd.name))) return cmd.run(options);
  return kExitUsage;
}

}  // namespace
}  // namespace msgtap::ctl

int main(int argc, char** argv) {
  int rc;
  try {
    rc = msgtap::ctl::run_main(argc, argv);
  } catch (const std::exception& e) {  // out of memory, or a bug
    msgtap::ctl::print_error(e.what());
    rc = msgtap::ctl::kExitRuntime;
  }
  // `msgtapctl stats --json > snapshot.json` on a full disk must not pass
  // for success with half a document written.
  errno = 0;
  std::cout.flush();
  if (std::fflush(stdout) != 0 || std::ferror(stdout) || !std::cout) {
    msgtap::ctl::print_error(std::string("cannot write standard output: ") +
                             (errno ? std::strerror(errno) : "write error"));
    if (rc == msgtap::ctl::kExitOk) rc = msgtap::ctl::kExitRuntime;
  }
  return rc;
}
