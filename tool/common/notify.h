// SPDX-License-Identifier: GPL-2.0-only
// systemd's readiness protocol (sd_notify) without libsystemd, so that the
// static builds for the test guests need nothing more.
#pragma once

#include <string_view>

#include "common/result.h"

namespace msgtap {

// Sends @state ("READY=1", "STATUS=...", "STOPPING=1", "RELOADING=1", lines
// joined by '\n') to the socket in $NOTIFY_SOCKET, a path or "@abstract".
// Without $NOTIFY_SOCKET (not started by systemd) it does nothing and
// succeeds.
Result<void> sd_notify_state(std::string_view state);

}  // namespace msgtap
