// SPDX-License-Identifier: GPL-2.0-only
// msgtapctl reset: has msgtapd zero its per-queue statistics, after counting
// everything recorded before the request.
#include <fmt/format.h>

#include <cstdio>

#include "common/control.h"
#include "ctl/ctl.h"
#include "ctl/daemon_client.h"
#include "export/text.h"

namespace msgtap::ctl {

int run_reset(const Options& options) {
  auto answer = ask_daemon(options.socket_path, control::Command::reset);
  if (!answer) {
    print_daemon_error(answer.error());
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
  try {
    const auto& r = doc->at("reset");
    std::fputs(fmt::format("reset: forgot {} sends ok ({} bytes) and {} failures on {} queues and "
                           "{} retired ones; counting since {}\n"
                           "(loss and kernel counters are not per queue and were kept)\n",
                           r.at("sends_ok").get<uint64_t>(), r.at("bytes_ok").get<uint64_t>(),
                           r.at("sends_failed").get<uint64_t>(), r.at("queues").get<uint64_t>(),
                           r.at("retired_queues").get<uint64_t>(),
                           exporter::local_time(doc->at("stats_since").get<double>()))
                   .c_str(),
               stdout);
  } catch (const std::exception& e) {
    // The reset happened; only its description is unreadable.
    print_error(
        fmt::format("msgtapd reset the statistics but its answer is malformed: {}", e.what()));
    return kExitRuntime;
  }
  return kExitOk;
}

}  // namespace msgtap::ctl
