// SPDX-License-Identifier: GPL-2.0-only
// Turns one received netlink message into a plain struct (genl/types.h).
#pragma once

#include <linux/netlink.h>

#include "genl/types.h"

namespace msgtap::genl {

// @nlh must be a complete message (nlmsg_ok() holds); @family_id is the
// resolved id of the msgtap family. Never fails: what cannot be read is
// counted (EventBatch::malformed) or reported as an error Ack.
Message parse_message(const nlmsghdr* nlh, int family_id);

}  // namespace msgtap::genl
