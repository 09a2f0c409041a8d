// SPDX-License-Identifier: GPL-2.0-only
// Parsing and resolving msgtapctl's QUEUE argument.
#include "ctl/queue_select.h"

#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <string>
#include <vector>

namespace msgtap::ctl {

namespace {

// The whole of @text as a number of type T, or nothing.
template <typename T>
std::optional<T> whole_number(std::string_view text) {
  T v{};
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || p != end) return std::nullopt;
  return v;
}

}  // namespace

Result<QueueSelector> parse_queue_selector(std::string_view text) {
  const auto bad = [text] {
    return Error{EINVAL, fmt::format("\"{}\" is not a queue: give MSQID or IPCNS:MSQID (numbers, "
                                     "as `msgtapctl queues` lists them), e.g. 5 or 4026531839:5",
                                     text)};
  };
  QueueSelector sel;
  std::string_view id = text;
  if (auto colon = text.find(':'); colon != std::string_view::npos) {
    auto ns = whole_number<uint32_t>(text.substr(0, colon));
    if (!ns) return bad();
    sel.ipc_ns = *ns;
    id = text.substr(colon + 1);
  }
  auto msqid = whole_number<int32_t>(id);
  if (!msqid) return bad();
  sel.msqid = *msqid;
  return sel;
}

Result<size_t> select_queue(const stats::Snapshot& snapshot, const QueueSelector& sel) {
  std::vector<size_t> found;
  for (size_t i = 0; i < snapshot.queues.size(); ++i) {
    const auto& key = snapshot.queues[i].key;
    if (key.msqid == sel.msqid && (!sel.ipc_ns || key.ipc_ns == *sel.ipc_ns)) found.push_back(i);
  }
  if (found.size() == 1) return found.front();
  if (found.empty()) {
    const std::string name =
        sel.ipc_ns ? fmt::format("{}:{}", *sel.ipc_ns, sel.msqid) : std::to_string(sel.msqid);
    return Error{ENOENT, fmt::format("msgtapd has no statistics for queue {} (no msgsnd() on it "
                                     "since msgtapd started or was reset); `msgtapctl queues` "
                                     "lists the queues it has",
                                     name)};
  }
  std::string names;
  for (size_t i : found) {
    if (!names.empty()) names += ", ";
    names += fmt::format("{}:{}", snapshot.queues[i].key.ipc_ns, sel.msqid);
  }
  return Error{EEXIST, fmt::format("msqid {} is in {} IPC namespaces: name one of {}", sel.msqid,
                                   found.size(), names)};
}

}  // namespace msgtap::ctl
