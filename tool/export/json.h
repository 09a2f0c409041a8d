// SPDX-License-Identifier: GPL-2.0-only
// The JSON snapshot document (schema 1): rendering, reading it back (for
// msgtapctl), and writing it to a file atomically.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/result.h"
#include "genl/types.h"
#include "stats/snapshot.h"

namespace msgtap::exporter {

inline constexpr int kSchemaVersion = 1;

// The "kernel" object: schema 1's nine counters, and the ipcns_gone_*
// counters when the module sends them. @extended adds what schema 1 does not
// have: newer counters (by name, "stat<N>" if newer than this tool) and
// "enabled" (the status answer does that; the snapshot keeps to its schema).
nlohmann::ordered_json kernel_to_json(const genl::KernelStats& kernel, bool extended = false);
Result<genl::KernelStats> kernel_from_json(const nlohmann::ordered_json& j);

nlohmann::ordered_json daemon_to_json(const stats::DaemonCounters& daemon);
Result<stats::DaemonCounters> daemon_from_json(const nlohmann::ordered_json& j);

// "nothing_lost" and "total" are derived; reading ignores them.
nlohmann::ordered_json loss_to_json(const stats::Loss& loss);
Result<stats::Loss> loss_from_json(const nlohmann::ordered_json& j);

// The document as a json value (parsed back from render_json: for tests
// and tools, not the daemon's hot path).
nlohmann::ordered_json snapshot_to_json(const stats::Snapshot& snapshot);
Result<stats::Snapshot> snapshot_from_json(const nlohmann::ordered_json& j);

enum class JsonStyle {
  document,  // the --json file and answers: a top-level member or a queue a line
  line,      // one line, for JSON lines
};
// The document, ending in a newline. Strings that are not valid UTF-8 (a
// comm may hold any bytes) have those bytes written as \u00XX.
std::string render_json(const stats::Snapshot& snapshot, JsonStyle style = JsonStyle::document);

// Writes @data to a temporary file in @path's directory, fsyncs it, and
// renames it over @path (then fsyncs the directory): readers see the old or
// the new document, never a part. The file is mode 0600 by default: it
// shows every user's IPC activity, which the kernel reveals to CAP_NET_ADMIN
// only. A file another daemon must read (node_exporter's textfile collector)
// passes its @mode.
Result<void> write_file_atomically(const std::string& path, std::string_view data,
                                   mode_t mode = 0600);

}  // namespace msgtap::exporter
