// SPDX-License-Identifier: GPL-2.0-only
// The sync protocol that makes msgtapd's answers exact: FLUSH (acked) on the
// listener socket, read events until that ack, then GET_STATS, then answer.
// Pure state machine: the event loop does the I/O it asks for.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "genl/types.h"

namespace msgtap::daemon {

using Clock = std::chrono::steady_clock;
using WaiterId = uint64_t;

// What the event loop must do next.
enum class SyncStep {
  none,
  send_flush,      // send MSGTAP_CMD_FLUSH with NLM_F_ACK, then call sent()
  send_get_stats,  // send MSGTAP_CMD_GET_STATS, then call sent()
  done,            // the round is complete: snapshot, answer take_waiters()
  failed,          // the round gave up: tell take_waiters() failure()
};

struct SyncTimeouts {
  // An answer may be dropped by a full socket, so a request unanswered this
  // long is sent again.
  std::chrono::milliseconds answer{2000};
  // A round that has not completed in this time fails.
  std::chrono::milliseconds round{30000};
};

// One round serves every waiter queued before it started. A waiter queued
// during a round waits for the next one: the running round's FLUSH may have
// been sent before that waiter's request, so it would not cover events
// recorded just before the request.
//
// Lost answers: the kernel answers a request synchronously, before send()
// returns, so once the loop has read the socket empty after sending, an
// answer that has not shown up was dropped (socket overrun) and the request
// is sent again at once. The answer timeout is only a backstop.
class Syncer {
 public:
  explicit Syncer(SyncTimeouts timeouts = {}) : timeouts_(timeouts) {}

  void enqueue(WaiterId id) { queued_.push_back(id); }
  // Starts a round when idle and someone waits.
  SyncStep start(Clock::time_point now);
  // The loop sent the requested message; @seq is its sequence number.
  void sent(uint32_t seq, Clock::time_point now);
  // The loop could not send it.
  SyncStep send_failed(const Error& error);

  // Inputs from the netlink socket.
  SyncStep on_ack(const genl::Ack& ack);
  SyncStep on_stats(uint32_t seq);
  // The loop read the socket until it was empty.
  SyncStep on_drained();
  SyncStep on_tick(Clock::time_point now);

  bool busy() const { return phase_ != Phase::idle; }
  bool has_queued() const { return !queued_.empty(); }
  std::optional<Clock::time_point> deadline() const;

  // After done or failed: the round's waiters; the syncer is idle again.
  std::vector<WaiterId> take_waiters();
  // Why the last round failed, and the errno behind it (ETIMEDOUT when the
  // kernel did not answer).
  const std::string& failure() const { return failure_; }
  int failure_code() const { return failure_code_; }

  uint64_t resends() const { return resends_; }              // lost answers
  uint64_t flush_retries() const { return flush_retries_; }  // FLUSH said EAGAIN

 private:
  enum class Phase { idle, flush, get_stats, finished };

  SyncStep fail(int code, std::string why);
  SyncStep resend();

  SyncTimeouts timeouts_;
  Phase phase_ = Phase::idle;
  std::vector<WaiterId> queued_;
  std::vector<WaiterId> round_;
  uint32_t outstanding_ = 0;        // sequence number awaiting an answer, 0: none
  bool flush_after_drain_ = false;  // FLUSH said EAGAIN: read, then flush again
  Clock::time_point round_started_{};
  Clock::time_point sent_at_{};
  std::string failure_;
  int failure_code_ = 0;
  uint64_t resends_ = 0;
  uint64_t flush_retries_ = 0;
};

}  // namespace msgtap::daemon
