// SPDX-License-Identifier: GPL-2.0-only
// Turns one received netlink message into a plain struct (genl/types.h), and
// puts plain structs into messages to send.
#pragma once

#include <linux/netlink.h>

#include <functional>
#include <optional>

#include "genl/types.h"

struct nl_msg;

namespace msgtap::genl {

// @nlh must be a complete message (nlmsg_ok() holds); @family_id is the
// resolved id of the msgtap family. Never fails: what cannot be read is
// counted (EventBatch::malformed) or reported as an error Ack.
Message parse_message(const nlmsghdr* nlh, int family_id);

// The event hot path: if @nlh is an EVENTS batch, hands its records one at a
// time, in batch order, to @on_send (send records) and @on_ns_gone
// (namespace records), both callable; no EventBatch is built. Returns what
// could not be read; otherwise returns nothing and leaves @nlh to
// parse_message().
using SendVisitor = std::function<void(const msgtap_send_event&)>;
using NsGoneVisitor = std::function<void(const msgtap_ipcns_event&)>;
struct BatchDefects {
  uint32_t malformed = 0;           // as EventBatch::malformed
  uint32_t unknown_attributes = 0;  // as EventBatch::unknown_attributes
};
std::optional<BatchDefects> visit_if_events(const nlmsghdr* nlh, int family_id,
                                            const SendVisitor& on_send,
                                            const NsGoneVisitor& on_ns_gone);

// Appends @filter to @msg as a MSGTAP_A_FILTER nest, as SET_FILTER takes it;
// appends nothing for an empty filter (SET_FILTER without attributes clears).
// Returns 0 or a negative libnl error (the message is too small).
int put_filter(nl_msg* msg, const Filter& filter);

}  // namespace msgtap::genl
