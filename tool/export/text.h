// SPDX-License-Identifier: GPL-2.0-only
// Human-readable renderings of a snapshot for msgtapctl.
#pragma once

#include <string>

#include "stats/snapshot.h"

namespace msgtap::exporter {

// One row per queue: IPCNS MSQID SENT BYTES FAILED SLEPT SLEPT(ms) ERRORS,
// errors as "EAGAIN:1,EACCES:2" in errno order.
std::string render_queue_table(const stats::Snapshot& snapshot);

// "lost: nothing", or every loss counter by name with the total.
std::string render_loss(const stats::Loss& loss);

}  // namespace msgtap::exporter
