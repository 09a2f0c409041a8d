// SPDX-License-Identifier: GPL-2.0-only
// Prints the Prometheus rendering of the rich test snapshot, for promtool;
// --broken appends a family that breaks the naming rules.
#include "prometheus_sample.h"

#include <cstdio>
#include <cstring>

#include "export/prometheus.h"

int main(int argc, char** argv) {
  std::string out = msgtap::exporter::render_prometheus(
      msgtap::testing::rich_snapshot(),
      {.version = "0.0.0-test", .monotonic_now_ns = 5'000'000'000});
  if (argc > 1 && std::strcmp(argv[1], "--broken") == 0)
    out +=
        "# HELP msgtap_broken_sends A counter without _total.\n"
        "# TYPE msgtap_broken_sends counter\n"
        "msgtap_broken_sends 1\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  return std::ferror(stdout) ? 1 : 0;
}
