// SPDX-License-Identifier: GPL-2.0-only
// msgtapctl stats [QUEUE]: msgtapd's synced snapshot as a per-queue table
// (or as is, with --json) followed by what was lost; with QUEUE, everything
// about that one queue.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "common/cli_checks.h"
#include "common/control.h"
#include "ctl/ctl.h"
#include "ctl/daemon_client.h"
#include "ctl/queue_select.h"
#include "export/json.h"
#include "export/text.h"

namespace msgtap::ctl {

namespace {

// The document's member @key, if it has one (older msgtapd: null).
nlohmann::ordered_json member_or_null(const nlohmann::ordered_json& doc, const char* key) {
  auto it = doc.find(key);
  return it == doc.end() ? nlohmann::ordered_json(nullptr) : *it;
}

int show_queue(const Options& options) {
  // A malformed QUEUE is a usage error whether or not msgtapd runs.
  auto sel = parse_queue_selector(options.queue);
  if (!sel) {
    print_error(sel.error().message);
    return kExitUsage;
  }
  auto got = fetch_snapshot(options.socket_path);
  if (!got) return kExitRuntime;
  auto index = select_queue(got->snapshot, *sel);
  if (!index) {
    print_error(index.error().message);
    return kExitRuntime;
  }
  if (options.json) {
    // The queue's object from msgtapd's document, as msgtapd wrote it, so the
    // fields are those of `stats --json`.
    nlohmann::ordered_json j;
    j["schema"] = member_or_null(got->doc, "schema");
    j["timestamp"] = member_or_null(got->doc, "timestamp");
    j["stats_since"] = member_or_null(got->doc, "stats_since");
    j["queue"] = got->doc.at("queues").at(*index);
    j["loss"] = member_or_null(got->doc, "loss");
    std::fputs((j.dump(2) + "\n").c_str(), stdout);
    return kExitOk;
  }
  std::fputs(
      exporter::render_queue_detail(got->snapshot, got->snapshot.queues[*index], clocks_now())
          .c_str(),
      stdout);
  return kExitOk;
}

}  // namespace

void configure_stats(CLI::App& sub, Options& options) {
  sub.add_flag("--json", options.json, "print JSON instead of text");
  sub.add_option("QUEUE", options.queue,
                 "one queue: MSQID, or IPCNS:MSQID when the msqid is in several IPC namespaces")
      ->check(non_empty());
}

int run_stats(const Options& options) {
  if (!options.queue.empty()) return show_queue(options);
  auto got = fetch_snapshot(options.socket_path);
  if (!got) return kExitRuntime;
  if (options.json) {
    std::fwrite(got->text.data(), 1, got->text.size(), stdout);
    return kExitOk;
  }
  std::fputs(exporter::render_queue_table(got->snapshot).c_str(), stdout);
  std::fputs(exporter::render_loss(got->snapshot.loss).c_str(), stdout);
  return kExitOk;
}

}  // namespace msgtap::ctl
