// SPDX-License-Identifier: GPL-2.0-only
// The QUEUE argument of `msgtapctl stats QUEUE`: MSQID or NS:MSQID, and
// finding the queue it names in a snapshot.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "common/result.h"
#include "stats/snapshot.h"

namespace msgtap::ctl {

struct QueueSelector {
  std::optional<uint32_t> ipc_ns;  // absent: any namespace, if only one has the msqid
  int32_t msqid = 0;
};

// "5", "4026531839:5". Error EINVAL, with a message saying what is
// expected, for anything else.
Result<QueueSelector> parse_queue_selector(std::string_view text);

// The index of the queue @sel names in @snapshot.queues. Error ENOENT when
// there is none, EEXIST when a bare msqid is in several IPC namespaces (the
// message lists them as NS:MSQID).
Result<size_t> select_queue(const stats::Snapshot& snapshot, const QueueSelector& sel);

}  // namespace msgtap::ctl
