// SPDX-License-Identifier: GPL-2.0-only
// In-memory generic netlink messages for the unit tests that parse or build them.
#pragma once

#include <gtest/gtest.h>
#include <linux/msgtap.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include <cstdint>
#include <memory>

namespace msgtap::testing {

// The family id the tests pretend the kernel gave msgtap.
constexpr int kFamily = 0x1c;

struct MsgDeleter {
  void operator()(nl_msg* m) const { nlmsg_free(m); }
};
using MsgPtr = std::unique_ptr<nl_msg, MsgDeleter>;

// A msgtap message with command @cmd and sequence number @seq, no attributes.
inline MsgPtr genl_message(uint8_t cmd, uint32_t seq) {
  MsgPtr m(nlmsg_alloc());
  EXPECT_TRUE(m);
  EXPECT_NE(genlmsg_put(m.get(), 0, seq, kFamily, 0, 0, cmd, MSGTAP_GENL_VERSION), nullptr);
  return m;
}

}  // namespace msgtap::testing
