// SPDX-License-Identifier: GPL-2.0-only
// msgtapctl stats: msgtapd's synced snapshot as a per-queue table (or as is,
// with --json) followed by what was lost.
#include <cstdio>

#include "common/control.h"
#include "ctl/ctl.h"
#include "ctl/daemon_client.h"
#include "export/json.h"
#include "export/text.h"

namespace msgtap::ctl {

int run_stats(const Options& options) {
  auto answer = ask_daemon(options.socket_path, control::Command::stats);
  if (!answer) {
    if (daemon_not_running(answer.error()))
      print_error(answer.error().message + ": " + std::string(kStartHint));
    else
      print_error(answer.error().message);
    return kExitRuntime;
  }
  auto doc = control::decode_response(*answer);
  if (!doc) {
    print_error("msgtapd: " + doc.error().message);
    return kExitRuntime;
  }
  if (options.json) {
    std::fwrite(answer->data(), 1, answer->size(), stdout);
    return kExitOk;
  }
  auto snap = exporter::snapshot_from_json(*doc);
  if (!snap) {
    print_error(snap.error().message);
    return kExitRuntime;
  }
  std::fputs(exporter::render_queue_table(*snap).c_str(), stdout);
  std::fputs(exporter::render_loss(snap->loss).c_str(), stdout);
  return kExitOk;
}

}  // namespace msgtap::ctl
