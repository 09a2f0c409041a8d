// SPDX-License-Identifier: GPL-2.0-only
// Parsing of msgtap netlink messages into plain structs (event batches,
// GET_STATS and GET_FILTER answers, acks) and building of SET_FILTER's
// attributes. Only tool/genl/ touches nla_*.
#include "genl/parse.h"

#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include <algorithm>
#include <cstring>
#include <optional>

namespace msgtap::genl {

namespace {

// Netlink aligns attributes to 4 bytes: copy 64-bit values out.
bool get_u64(const nlattr* a, uint64_t* out) {
  if (nla_len(a) < static_cast<int>(sizeof(*out))) return false;
  std::memcpy(out, nla_data(a), sizeof(*out));
  return true;
}

bool get_u32(const nlattr* a, uint32_t* out) {
  if (nla_len(a) < static_cast<int>(sizeof(*out))) return false;
  std::memcpy(out, nla_data(a), sizeof(*out));
  return true;
}

std::string get_string(const nlattr* a) {
  const auto* p = static_cast<const char*>(nla_data(a));
  return std::string(p, strnlen(p, static_cast<size_t>(nla_len(a))));
}

// Hands each send record of an EVENTS message's attributes to @on_send and
// each namespace record to @on_ns_gone, copied out of the 4-byte-aligned
// attribute; a record shorter than today's (an older kernel's) reads as zero
// beyond its end.
//
// The walk is nla_for_each_attr()'s, written out: libnl's nla_ok, nla_next,
// nla_type, nla_len and nla_data are five calls into a shared library per
// record, a sixth of this path's instructions (BENCHMARKS.md).
BatchDefects visit_events(const nlattr* head, int len, const SendVisitor& on_send,
                          const NsGoneVisitor& on_ns_gone) {
  BatchDefects d;
  const auto* pos = reinterpret_cast<const uint8_t*>(head);
  auto rem = static_cast<size_t>(std::max(len, 0));
  while (rem >= sizeof(nlattr)) {
    nlattr a;
    std::memcpy(&a, pos, sizeof(a));
    if (a.nla_len < sizeof(nlattr) || a.nla_len > rem) break;  // !nla_ok()
    const uint8_t* data = pos + NLA_HDRLEN;
    const size_t n = a.nla_len - NLA_HDRLEN;
    switch (a.nla_type & NLA_TYPE_MASK) {
      case MSGTAP_A_EVENT_SEND: {
        if (n < kMinSendRecord) {
          ++d.malformed;
          break;
        }
        // A fixed-size copy for today's (or a newer, longer) record: a
        // variable length makes the compiler zero and copy with rep movs/stos,
        // slow for 120 bytes (and slower still under emulation).
        msgtap_send_event ev;
        if (n >= sizeof(ev)) {
          std::memcpy(&ev, data, sizeof(ev));
        } else {
          ev = msgtap_send_event{};
          std::memcpy(&ev, data, n);
        }
        on_send(ev);
        break;
      }
      case MSGTAP_A_EVENT_IPCNS_GONE: {
        // Rare (one per freed namespace): the plain copy is good enough.
        if (n < kMinNsGoneRecord) {
          ++d.malformed;
          break;
        }
        msgtap_ipcns_event ev{};
        std::memcpy(&ev, data, std::min(n, sizeof(ev)));
        on_ns_gone(ev);
        break;
      }
      case MSGTAP_A_PAD:
        break;
      default:
        ++d.unknown_attributes;
        break;
    }
    const size_t step = NLA_ALIGN(a.nla_len);
    if (step >= rem) {
      rem = 0;
      break;
    }
    pos += step;
    rem -= step;
  }
  // Bytes left that do not form a whole attribute: one cut-off attribute.
  if (rem > 0) ++d.malformed;
  return d;
}

EventBatch parse_events(const nlattr* head, int len) {
  EventBatch batch;
  batch.sends.reserve(static_cast<size_t>(len) / (NLA_HDRLEN + sizeof(msgtap_send_event)) + 1);
  const BatchDefects d = visit_events(
      head, len, [&](const msgtap_send_event& ev) { batch.sends.push_back(ev); },
      [&](const msgtap_ipcns_event& ev) { batch.ns_gone.push_back(ev); });
  batch.malformed = d.malformed;
  batch.unknown_attributes = d.unknown_attributes;
  return batch;
}

ProbeInfo parse_probe(const nlattr* nest) {
  ProbeInfo p;
  const nlattr* pos = nullptr;
  int rem = 0;
  nla_for_each_nested(pos, nest, rem) {
    switch (nla_type(pos)) {
      case MSGTAP_PROBE_A_SYMBOL:
        p.symbol = get_string(pos);
        break;
      case MSGTAP_PROBE_A_KIND:
        get_u32(pos, &p.kind);
        break;
      case MSGTAP_PROBE_A_NMISSED:
        get_u64(pos, &p.nmissed);
        break;
      case MSGTAP_PROBE_A_MAXACTIVE:
        get_u32(pos, &p.maxactive);
        break;
      default:  // padding and attributes newer than this tool
        break;
    }
  }
  return p;
}

KernelStats parse_stats(const nlattr* head, int len) {
  KernelStats s;
  const nlattr* pos = nullptr;
  int rem = 0;
  nla_for_each_attr(pos, head, len, rem) {
    switch (nla_type(pos)) {
      case MSGTAP_A_STATS: {
        const nlattr* c = nullptr;
        int crem = 0;
        nla_for_each_nested(c, pos, crem) {
          uint64_t v = 0;
          if (nla_type(c) == MSGTAP_STAT_PAD || !get_u64(c, &v)) continue;
          s.counters.emplace_back(stat_name(nla_type(c)), v);
        }
        break;
      }
      case MSGTAP_A_LISTENER_PORTID:
        get_u32(pos, &s.listener_portid);
        break;
      case MSGTAP_A_RING_SIZE:
        get_u32(pos, &s.ring_size);
        break;
      case MSGTAP_A_NS_RING_SIZE:
        get_u32(pos, &s.ns_ring_size);
        break;
      case MSGTAP_A_NR_CPUS:
        get_u32(pos, &s.nr_cpus);
        break;
      case MSGTAP_A_FLUSH_MS:
        get_u32(pos, &s.flush_ms);
        break;
      case MSGTAP_A_PROBE:
        s.probes.push_back(parse_probe(pos));
        break;
      case MSGTAP_A_ENABLED:
        if (nla_len(pos) >= 1) s.enabled = *static_cast<const uint8_t*>(nla_data(pos)) != 0;
        break;
      case MSGTAP_A_LOAD_ID:
        if (uint64_t v = 0; get_u64(pos, &v)) s.load_id = v;
        break;
      default:
        break;
    }
  }
  return s;
}

FilterRule parse_rule(const nlattr* nest) {
  FilterRule r;
  const nlattr* pos = nullptr;
  int rem = 0;
  nla_for_each_nested(pos, nest, rem) {
    switch (nla_type(pos)) {
      case MSGTAP_RULE_A_FIELD:
        get_u32(pos, &r.field);
        break;
      case MSGTAP_RULE_A_EXCLUDE:
        r.exclude = true;
        break;
      case MSGTAP_RULE_A_VALUE: {
        uint64_t v = 0;
        if (get_u64(pos, &v)) r.values.push_back(v);
        break;
      }
      default:  // padding and attributes newer than this tool
        break;
    }
  }
  return r;
}

Filter parse_filter(const nlattr* head, int len) {
  Filter f;
  const nlattr* pos = nullptr;
  int rem = 0;
  nla_for_each_attr(pos, head, len, rem) {
    if (nla_type(pos) != MSGTAP_A_FILTER) continue;
    const nlattr* c = nullptr;
    int crem = 0;
    nla_for_each_nested(c, pos, crem) {
      switch (nla_type(c)) {
        case MSGTAP_FILTER_A_FLAGS:
          get_u32(c, &f.flags);
          break;
        case MSGTAP_FILTER_A_RULE:
          f.rules.push_back(parse_rule(c));
          break;
        default:
          break;
      }
    }
  }
  return f;
}

Ack parse_error(const nlmsghdr* nlh) {
  Ack ack;
  ack.seq = nlh->nlmsg_seq;
  const auto payload = static_cast<size_t>(nlmsg_datalen(nlh));
  if (payload < sizeof(nlmsgerr)) {
    ack.error = EBADMSG;
    ack.extack = "truncated netlink error message";
    return ack;
  }
  const auto* e = static_cast<const nlmsgerr*>(nlmsg_data(nlh));
  ack.error = -e->error;
  if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS)) return ack;

  // Extended ack attributes follow the nlmsgerr and, unless the kernel capped
  // it (NETLINK_CAP_ACK), a copy of the request.
  size_t offset = sizeof(nlmsgerr);
  if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
    if (e->msg.nlmsg_len < NLMSG_HDRLEN) return ack;
    offset += NLMSG_ALIGN(e->msg.nlmsg_len - NLMSG_HDRLEN);
  }
  if (offset >= payload) return ack;
  const auto* head =
      reinterpret_cast<const nlattr*>(static_cast<const char*>(nlmsg_data(nlh)) + offset);
  const nlattr* pos = nullptr;
  int rem = 0;
  nla_for_each_attr(pos, head, static_cast<int>(payload - offset), rem) {
    if (nla_type(pos) == NLMSGERR_ATTR_MSG) {
      ack.extack = get_string(pos);
      while (!ack.extack.empty() && ack.extack.back() == '\n') ack.extack.pop_back();
    }
  }
  return ack;
}

}  // namespace

std::optional<BatchDefects> visit_if_events(const nlmsghdr* nlh, int family_id,
                                            const SendVisitor& on_send,
                                            const NsGoneVisitor& on_ns_gone) {
  if (nlh->nlmsg_type != family_id) return std::nullopt;
  if (nlh->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN) return std::nullopt;
  const auto* gnlh = static_cast<const genlmsghdr*>(nlmsg_data(nlh));
  if (gnlh->cmd != MSGTAP_CMD_EVENTS) return std::nullopt;
  return visit_events(genlmsg_attrdata(gnlh, 0), genlmsg_attrlen(gnlh, 0), on_send, on_ns_gone);
}

Message parse_message(const nlmsghdr* nlh, int family_id) {
  if (nlh->nlmsg_type == NLMSG_ERROR) return parse_error(nlh);
  if (nlh->nlmsg_type != family_id) return Ignored{};

  if (nlh->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN) {
    EventBatch bad;
    bad.malformed = 1;
    return bad;
  }
  const auto* gnlh = static_cast<const genlmsghdr*>(nlmsg_data(nlh));
  const nlattr* head = genlmsg_attrdata(gnlh, 0);
  const int len = genlmsg_attrlen(gnlh, 0);
  switch (gnlh->cmd) {
    case MSGTAP_CMD_EVENTS:
      return parse_events(head, len);
    case MSGTAP_CMD_GET_STATS:
      return StatsReply{nlh->nlmsg_seq, parse_stats(head, len)};
    case MSGTAP_CMD_GET_FILTER:
      return FilterReply{nlh->nlmsg_seq, parse_filter(head, len)};
    default:
      return Ignored{};
  }
}

int put_filter(nl_msg* msg, const Filter& filter) {
  if (filter.empty()) return 0;
  nlattr* nest = nla_nest_start(msg, MSGTAP_A_FILTER);
  if (!nest) return -NLE_NOMEM;
  int err = 0;
  if (filter.flags && (err = nla_put_u32(msg, MSGTAP_FILTER_A_FLAGS, filter.flags)) < 0) return err;
  for (const FilterRule& r : filter.rules) {
    nlattr* rule = nla_nest_start(msg, MSGTAP_FILTER_A_RULE);
    if (!rule) return -NLE_NOMEM;
    if ((err = nla_put_u32(msg, MSGTAP_RULE_A_FIELD, r.field)) < 0) return err;
    if (r.exclude && (err = nla_put_flag(msg, MSGTAP_RULE_A_EXCLUDE)) < 0) return err;
    for (uint64_t v : r.values)
      if ((err = nla_put_u64(msg, MSGTAP_RULE_A_VALUE, v)) < 0) return err;
    nla_nest_end(msg, rule);
  }
  nla_nest_end(msg, nest);
  return 0;
}

}  // namespace msgtap::genl
