// SPDX-License-Identifier: GPL-2.0-only
// Per-queue statistics of msgsnd(2) calls, keyed by (IPC namespace, msqid).
// Pure: no I/O, no clocks; everything comes from the event records.
#pragma once

#include <linux/msgtap.h>

#include <compare>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace msgtap::stats {

// A queue: msqids are unique only within one IPC namespace.
struct QueueKey {
  uint32_t ipc_ns = 0;
  int32_t msqid = 0;

  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads a defaulted <=>
  auto operator<=>(const QueueKey&) const = default;
};

// The send side of one queue.
struct SendStats {
  uint64_t sends_ok = 0;
  uint64_t bytes_ok = 0;  // sum of msgsz of successful sends
  uint64_t sends_failed = 0;
  // Failures by errno (positive; see errno_key()), so a table lists them in
  // errno order.
  std::map<int, uint64_t> errors;
  uint64_t sends_slept = 0;  // MSGTAP_EVF_SLEPT, whatever the result
  uint64_t slept_ns = 0;     // sum of duration_ns of those
  uint64_t compat_sends = 0;

  void add(const msgtap_send_event& ev);
  bool operator==(const SendStats&) const = default;
};

// Everything known about one queue. The receive side (msgrcv) will be a
// `RecvStats recv;` beside `send`.
struct QueueStats {
  SendStats send;
  uint64_t first_seen_ns = 0;  // smallest ts_ns of any event (CLOCK_MONOTONIC)
  uint64_t last_seen_ns = 0;   // largest ts_ns

  void seen(uint64_t ts_ns);
  bool operator==(const QueueStats&) const = default;
};

// The errno a failed call's result is counted under: -result, except that the
// kernel-internal restart codes (-512 ERESTARTSYS, -513 ERESTARTNOINTR,
// -514 ERESTARTNOHAND, -516 ERESTART_RESTARTBLOCK) count as EINTR, which is
// what userspace sees (or the call is restarted and shows up again).
int errno_key(int32_t result);
// "EAGAIN", "EACCES", ... or "E<n>" for numbers without a name here.
std::string errno_name(int err);
// The reverse of errno_name(); 0 for a string that is neither.
int errno_from_name(std::string_view name);

class Aggregator {
 public:
  void add_send(const msgtap_send_event& ev);

  // Sorted by (ipc_ns, msqid).
  const std::map<QueueKey, QueueStats>& queues() const { return queues_; }

  // Memory grows with the number of distinct queues only. Retirement hook:
  // drops the queues @retire selects (e.g. idle ones, or ones whose msqid was
  // removed) and returns how many; nothing calls it yet.
  size_t retire_if(const std::function<bool(const QueueKey&, const QueueStats&)>& retire);

 private:
  std::map<QueueKey, QueueStats> queues_;
};

}  // namespace msgtap::stats
