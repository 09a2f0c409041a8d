// SPDX-License-Identifier: GPL-2.0-only
// msgtapctl queues: the queues msgtapd knows, like `ipcs -q` but across IPC
// namespaces, with live depth and fill, sends, failures, rates and removal.
#include <cstdio>

#include "ctl/ctl.h"
#include "ctl/daemon_client.h"
#include "export/text.h"

namespace msgtap::ctl {

int run_queues(const Options& options) {
  auto got = fetch_snapshot(options.socket_path);
  if (!got) return kExitRuntime;
  if (options.json) {
    // msgtapd's own queue objects, so the fields are those of `stats --json`.
    nlohmann::ordered_json j;
    for (const char* key : {"schema", "timestamp", "stats_since", "queues", "retired", "loss"})
      if (auto it = got->doc.find(key); it != got->doc.end()) j[key] = *it;
    std::fputs((j.dump(2) + "\n").c_str(), stdout);
    return kExitOk;
  }
  std::fputs(exporter::render_queues(got->snapshot, clocks_now()).c_str(), stdout);
  std::fputs(exporter::render_loss(got->snapshot.loss).c_str(), stdout);
  return kExitOk;
}

}  // namespace msgtap::ctl
