// SPDX-License-Identifier: GPL-2.0-only
// The FLUSH -> GET_STATS round trip behind every exact answer of msgtapd.
#include "daemon/sync.h"

#include <fmt/format.h>

#include <cerrno>
#include <utility>

namespace msgtap::daemon {

SyncStep Syncer::start(Clock::time_point now) {
  if (phase_ != Phase::idle || queued_.empty()) return SyncStep::none;
  round_ = std::exchange(queued_, {});
  phase_ = Phase::flush;
  round_started_ = now;
  sent_at_ = now;
  outstanding_ = 0;
  flush_after_drain_ = false;
  failure_.clear();
  failure_code_ = 0;
  return SyncStep::send_flush;
}

void Syncer::sent(uint32_t seq, Clock::time_point now) {
  outstanding_ = seq;
  sent_at_ = now;
}

SyncStep Syncer::send_failed(const Error& error) { return fail(error.code, error.message); }

SyncStep Syncer::on_ack(const genl::Ack& ack) {
  if (outstanding_ == 0 || ack.seq != outstanding_) return SyncStep::none;  // stale
  outstanding_ = 0;
  if (phase_ == Phase::flush) {
    if (ack.error == 0) {
      phase_ = Phase::get_stats;
      return SyncStep::send_get_stats;
    }
    if (ack.error == EAGAIN) {
      ++flush_retries_;
      flush_after_drain_ = true;
      return SyncStep::none;
    }
    return fail(ack.error, genl::command_error(MSGTAP_CMD_FLUSH, ack.error, ack.extack).message);
  }
  if (phase_ == Phase::get_stats) {
    const int err = ack.error ? ack.error : EPROTO;
    return fail(err, genl::command_error(MSGTAP_CMD_GET_STATS, err, ack.extack).message);
  }
  return SyncStep::none;
}

SyncStep Syncer::on_stats(uint32_t seq) {
  if (phase_ != Phase::get_stats || outstanding_ == 0 || seq != outstanding_) return SyncStep::none;
  outstanding_ = 0;
  phase_ = Phase::finished;
  return SyncStep::done;
}

SyncStep Syncer::resend() {
  outstanding_ = 0;
  flush_after_drain_ = false;
  return phase_ == Phase::flush ? SyncStep::send_flush : SyncStep::send_get_stats;
}

SyncStep Syncer::on_drained() {
  if (phase_ != Phase::flush && phase_ != Phase::get_stats) return SyncStep::none;
  if (flush_after_drain_) return resend();
  if (outstanding_ != 0) {
    ++resends_;
    return resend();
  }
  return SyncStep::none;
}

SyncStep Syncer::on_tick(Clock::time_point now) {
  if (phase_ != Phase::flush && phase_ != Phase::get_stats) return SyncStep::none;
  if (now - round_started_ >= timeouts_.round)
    return fail(ETIMEDOUT,
                fmt::format("the kernel did not complete FLUSH and GET_STATS within {} s",
                            timeouts_.round.count() / 1000));
  if ((outstanding_ != 0 || flush_after_drain_) && now - sent_at_ >= timeouts_.answer) {
    ++resends_;
    return resend();
  }
  return SyncStep::none;
}

std::optional<Clock::time_point> Syncer::deadline() const {
  if (phase_ != Phase::flush && phase_ != Phase::get_stats) return std::nullopt;
  auto d = round_started_ + timeouts_.round;
  if (outstanding_ != 0 || flush_after_drain_) d = std::min(d, sent_at_ + timeouts_.answer);
  return d;
}

SyncStep Syncer::fail(int code, std::string why) {
  failure_code_ = code;
  failure_ = std::move(why);
  outstanding_ = 0;
  flush_after_drain_ = false;
  phase_ = Phase::finished;
  return SyncStep::failed;
}

std::vector<WaiterId> Syncer::take_waiters() {
  phase_ = Phase::idle;
  return std::exchange(round_, {});
}

}  // namespace msgtap::daemon
