// SPDX-License-Identifier: GPL-2.0-only
// msgtapctl filter [show|set|clear]: reads or replaces the kernel's capture
// filter with GET_FILTER/SET_FILTER on a socket of its own. msgtapd has no
// part in it: the filter belongs to the module, and going through the daemon
// would make changing it depend on the daemon running.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <string>

#include "ctl/ctl.h"
#include "genl/socket.h"

namespace msgtap::ctl {

namespace {

constexpr auto kTimeout = std::chrono::seconds(5);

struct FieldOption {
  uint32_t field;
  const char* help;
};

constexpr FieldOption kFieldOptions[] = {
    {MSGTAP_FIELD_TGID, "process ids (initial PID namespace)"},
    {MSGTAP_FIELD_UID, "caller uids (initial user namespace)"},
    {MSGTAP_FIELD_IPC_NS, "IPC namespace inode numbers (ls -L -i /proc/PID/ns/ipc)"},
    {MSGTAP_FIELD_MSQID, "queue ids as passed to msgsnd()"},
    {MSGTAP_FIELD_CGROUP, "cgroup v2 ids (inode number of the cgroup directory)"},
};

int show(genl::Socket& sock, bool json) {
  auto filter = sock.get_filter(kTimeout);
  if (!filter) {
    print_error(filter.error().message);
    return kExitRuntime;
  }
  if (json)
    std::fputs((filter_to_json(*filter).dump(2) + "\n").c_str(), stdout);
  else
    std::fputs(filter_to_text(*filter).c_str(), stdout);
  return kExitOk;
}

}  // namespace

void configure_filter(CLI::App& sub, Options& options) {
  sub.add_flag("--json", options.json,
               "print JSON instead of text (set and clear: the filter now in force)");
  sub.require_subcommand(0, 1);

  CLI::App* show = sub.add_subcommand("show", "Prints the filter in force (the default).");
  show->add_flag("--json", options.json, "print JSON instead of text");
  show->footer("Example:\n  msgtapctl filter show --json");
  show->parse_complete_callback([&options] { options.filter_action = "show"; });

  CLI::App* set = sub.add_subcommand(
      "set",
      "Replaces the whole filter. A call is recorded when it passes every rule given; "
      "each LIST is comma-separated decimal values, a `!` in front excludes them instead. "
      "Without options: no filter.");
  set->add_flag("--failures-only", options.filter.failures_only,
                "record failed calls only (result != 0)");
  for (const FieldOption& f : kFieldOptions) {
    const uint32_t field = f.field;
    set->add_option_function<std::string>(
           "--" + genl::filter_field_name(field),
           [&options, field](const std::string& list) {
             options.filter.lists.emplace_back(field, list);
           },
           f.help)
        ->type_name("LIST");
  }
  set->footer(
      "Examples:\n  msgtapctl filter set --tgid 123,456\n"
      "  msgtapctl filter set --uid '!0' --failures-only\n  msgtapctl filter set --msqid 3,4");
  set->parse_complete_callback([&options] { options.filter_action = "set"; });

  CLI::App* clear = sub.add_subcommand("clear", "Removes the filter: every call is recorded.");
  clear->footer("Example:\n  msgtapctl filter clear");
  clear->parse_complete_callback([&options] { options.filter_action = "clear"; });
}

int run_filter(const Options& options) {
  genl::Filter filter;
  if (options.filter_action == "set") {
    // Checked before touching the kernel: a typo is a usage error even
    // where the module is not loaded.
    auto built = build_filter(options.filter);
    if (!built) {
      print_error(built.error().message);
      return kExitUsage;
    }
    filter = std::move(*built);
  }

  auto sock = genl::Socket::open();
  if (!sock) {
    print_error(sock.error().message);
    return kExitRuntime;
  }
  if (options.filter_action != "set" && options.filter_action != "clear")
    return show(*sock, options.json);

  if (auto r = sock->set_filter(filter, kTimeout); !r) {
    print_error(r.error().message);
    return kExitRuntime;
  }
  // What is now in force, as `filter show` would print it.
  if (options.json)
    std::fputs((filter_to_json(filter).dump(2) + "\n").c_str(), stdout);
  else
    std::fputs(filter.empty() ? "filter cleared\n" : filter_to_text(filter).c_str(), stdout);
  return kExitOk;
}

}  // namespace msgtap::ctl
