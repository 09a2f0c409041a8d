// SPDX-License-Identifier: GPL-2.0-only
// msgtapctl enable / disable: turns recording on or off in the kernel
// (ENABLE/DISABLE) on a socket of its own, whether msgtapd runs or not.
#include <chrono>
#include <cstdio>

#include "ctl/ctl.h"
#include "genl/socket.h"

namespace msgtap::ctl {

namespace {

int switch_capture(uint8_t cmd, const char* done) {
  auto sock = genl::Socket::open();
  if (!sock) {
    print_error(sock.error().message);
    return kExitRuntime;
  }
  if (auto r = sock->call(cmd, std::chrono::seconds(5)); !r) {
    print_error(r.error().message);
    return kExitRuntime;
  }
  std::puts(done);
  return kExitOk;
}

}  // namespace

int run_enable(const Options&) { return switch_capture(MSGTAP_CMD_ENABLE, "capture enabled"); }

int run_disable(const Options&) { return switch_capture(MSGTAP_CMD_DISABLE, "capture disabled"); }

}  // namespace msgtap::ctl
