// SPDX-License-Identifier: GPL-2.0-only
// Parsing of netlink messages built in memory with libnl, as the kernel
// would send them (and as newer or older kernels might).
#include <gtest/gtest.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "genl/parse.h"
#include "test_events.h"
#include "test_netlink.h"

namespace msgtap::genl {
namespace {

using testing::make_event;
using testing::make_ns_gone;

using testing::genl_message;
using testing::kFamily;
using testing::MsgPtr;

// By value: the message is a temporary.
template <typename T>
T as(Message m) {
  EXPECT_TRUE(std::holds_alternative<T>(m));
  return std::holds_alternative<T>(m) ? std::get<T>(std::move(m)) : T{};
}

TEST(ParseEvents, OldNewUnknownShortAndTruncated) {
  MsgPtr m = genl_message(MSGTAP_CMD_EVENTS, 0);

  // 1: today's record.
  msgtap_send_event full =
      make_event({.msqid = 3, .result = -EAGAIN, .msgsz = 512, .cpu = 1, .seq = 77});
  std::memcpy(full.comm, "sender", 7);
  full.uid = 1000;
  ASSERT_EQ(nla_put(m.get(), MSGTAP_A_EVENT_SEND, sizeof(full), &full), 0);

  // 2: an older kernel's shorter record (no gid/flags/comm yet): the rest reads as zero.
  msgtap_send_event older =
      make_event({.msqid = 4, .msgsz = 8, .flags = MSGTAP_EVF_SLEPT, .cpu = 2, .seq = 5});
  older.uid = 33;
  std::memcpy(older.comm, "old", 4);
  const size_t older_len = offsetof(msgtap_send_event, gid);
  ASSERT_EQ(nla_put(m.get(), MSGTAP_A_EVENT_SEND, older_len, &older), 0);

  // 3: a newer kernel's longer record: the tail is ignored.
  struct {
    msgtap_send_event ev;
    uint64_t added[3];
  } newer{};
  newer.ev = make_event({.msqid = 5, .msgsz = 9, .ts_ns = 123456789012345ULL, .seq = 6});
  newer.added[0] = ~0ULL;
  ASSERT_EQ(nla_put(m.get(), MSGTAP_A_EVENT_SEND, sizeof(newer), &newer), 0);

  // An event kind this tool does not know yet, and padding.
  const uint32_t something = 1;
  ASSERT_EQ(nla_put(m.get(), MSGTAP_A_MAX + 20, sizeof(something), &something), 0);
  ASSERT_EQ(nla_put(m.get(), MSGTAP_A_PAD, 0, nullptr), 0);

  // A record too short to hold the fields up to @cpu: malformed.
  ASSERT_EQ(nla_put(m.get(), MSGTAP_A_EVENT_SEND, kMinSendRecord - 4, &full), 0);

  // Last, an attribute cut off by the end of the message: malformed.
  ASSERT_EQ(nla_put(m.get(), MSGTAP_A_EVENT_SEND, sizeof(full), &full), 0);
  nlmsg_hdr(m.get())->nlmsg_len -= 40;

  const auto b = as<EventBatch>(parse_message(nlmsg_hdr(m.get()), kFamily));
  ASSERT_EQ(b.sends.size(), 3U);
  EXPECT_EQ(b.unknown_attributes, 1U);
  EXPECT_EQ(b.malformed, 2U);

  EXPECT_EQ(std::memcmp(&b.sends[0], &full, sizeof(full)), 0);

  const msgtap_send_event& o = b.sends[1];
  EXPECT_EQ(o.msqid, 4);
  EXPECT_EQ(o.seq, 5U);
  EXPECT_EQ(o.cpu, 2U);
  EXPECT_EQ(o.uid, 33U);
  EXPECT_EQ(o.gid, 0U);
  EXPECT_EQ(o.flags, 0U);  // beyond the old record: zero, not SLEPT
  EXPECT_EQ(o.comm[0], '\0');

  const msgtap_send_event& n = b.sends[2];
  EXPECT_EQ(std::memcmp(&n, &newer.ev, sizeof(n)), 0);
  EXPECT_EQ(n.ts_ns, 123456789012345ULL);
}

TEST(VisitEvents, SameRecordsAndDefectsAsParseMessage) {
  MsgPtr m = genl_message(MSGTAP_CMD_EVENTS, 0);
  for (uint64_t seq = 1; seq <= 3; ++seq) {
    const msgtap_send_event ev = make_event({.msqid = static_cast<int32_t>(seq), .seq = seq});
    ASSERT_EQ(nla_put(m.get(), MSGTAP_A_EVENT_SEND, sizeof(ev), &ev), 0);
  }
  const uint32_t something = 1;
  ASSERT_EQ(nla_put(m.get(), MSGTAP_A_MAX + 20, sizeof(something), &something), 0);
  const msgtap_send_event short_one = make_event({.seq = 9});
  ASSERT_EQ(nla_put(m.get(), MSGTAP_A_EVENT_SEND, kMinSendRecord - 4, &short_one), 0);

  std::vector<msgtap_send_event> seen;
  const auto d = visit_if_events(
      nlmsg_hdr(m.get()), kFamily, [&](const msgtap_send_event& ev) { seen.push_back(ev); },
      [](const msgtap_ipcns_event&) { ADD_FAILURE() << "no namespace record in this batch"; });
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->malformed, 1U);
  EXPECT_EQ(d->unknown_attributes, 1U);

  const auto b = as<EventBatch>(parse_message(nlmsg_hdr(m.get()), kFamily));
  ASSERT_EQ(seen.size(), 3U);
  ASSERT_EQ(b.sends.size(), 3U);
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].seq, i + 1);
    EXPECT_EQ(std::memcmp(&seen[i], &b.sends[i], sizeof(seen[i])), 0);
  }
}

TEST(VisitEvents, LeavesEverythingElseToParseMessage) {
  int calls = 0;
  const SendVisitor count = [&](const msgtap_send_event&) { ++calls; };
  const NsGoneVisitor count_ns = [&](const msgtap_ipcns_event&) { ++calls; };
  MsgPtr stats = genl_message(MSGTAP_CMD_GET_STATS, 5);
  EXPECT_FALSE(visit_if_events(nlmsg_hdr(stats.get()), kFamily, count, count_ns).has_value());
  MsgPtr other(nlmsg_alloc());
  ASSERT_NE(genlmsg_put(other.get(), 0, 0, kFamily + 1, 0, 0, MSGTAP_CMD_EVENTS, 1), nullptr);
  EXPECT_FALSE(visit_if_events(nlmsg_hdr(other.get()), kFamily, count, count_ns).has_value());
  // Too short for a generic netlink header: parse_message counts it malformed.
  MsgPtr bare(nlmsg_alloc_simple(kFamily, 0));
  EXPECT_FALSE(visit_if_events(nlmsg_hdr(bare.get()), kFamily, count, count_ns).has_value());
  EXPECT_EQ(calls, 0);
}

// Namespace records share batches with send records: each kind goes to its
// own visitor in batch order, a short one is malformed, and a newer kernel's
// longer one is read up to today's fields.
TEST(VisitEvents, NamespaceRecordsBesideSendRecords) {
  MsgPtr m = genl_message(MSGTAP_CMD_EVENTS, 0);
  const msgtap_send_event s1 = make_event({.msqid = 1, .cpu = 0, .seq = 7});
  const msgtap_ipcns_event n1 =
      make_ns_gone({.ipc_ns = 4026532200U, .ts_ns = 5000, .cpu = 1, .seq = 1});
  const msgtap_send_event s2 = make_event({.msqid = 2, .cpu = 0, .seq = 8});
  struct {
    msgtap_ipcns_event ev;
    uint64_t added[2];
  } newer{};
  newer.ev = make_ns_gone({.ipc_ns = 4026532201U, .ts_ns = 6000, .cpu = 3, .seq = 2});
  newer.added[0] = ~0ULL;
  ASSERT_EQ(nla_put(m.get(), MSGTAP_A_EVENT_SEND, sizeof(s1), &s1), 0);
  ASSERT_EQ(nla_put(m.get(), MSGTAP_A_EVENT_IPCNS_GONE, sizeof(n1), &n1), 0);
  ASSERT_EQ(nla_put(m.get(), MSGTAP_A_EVENT_SEND, sizeof(s2), &s2), 0);
  ASSERT_EQ(nla_put(m.get(), MSGTAP_A_EVENT_IPCNS_GONE, kMinNsGoneRecord - 4, &n1), 0);
  ASSERT_EQ(nla_put(m.get(), MSGTAP_A_EVENT_IPCNS_GONE, sizeof(newer), &newer), 0);

  std::string order;
  std::vector<msgtap_ipcns_event> gone;
  const auto d = visit_if_events(
      nlmsg_hdr(m.get()), kFamily, [&](const msgtap_send_event&) { order += 's'; },
      [&](const msgtap_ipcns_event& ev) {
        order += 'n';
        gone.push_back(ev);
      });
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(order, "snsn");
  EXPECT_EQ(d->malformed, 1U);
  EXPECT_EQ(d->unknown_attributes, 0U);
  ASSERT_EQ(gone.size(), 2U);
  EXPECT_EQ(std::memcmp(&gone[0], &n1, sizeof(n1)), 0);
  EXPECT_EQ(std::memcmp(&gone[1], &newer.ev, sizeof(newer.ev)), 0);

  const auto b = as<EventBatch>(parse_message(nlmsg_hdr(m.get()), kFamily));
  ASSERT_EQ(b.sends.size(), 2U);
  EXPECT_EQ(b.sends[0].seq, 7U);
  EXPECT_EQ(b.sends[1].seq, 8U);
  ASSERT_EQ(b.ns_gone.size(), 2U);
  EXPECT_EQ(b.ns_gone[0].ipc_ns, 4026532200U);
  EXPECT_EQ(b.ns_gone[0].ts_ns, 5000U);
  EXPECT_EQ(b.ns_gone[0].cpu, 1U);
  EXPECT_EQ(b.ns_gone[0].seq, 1U);
  EXPECT_EQ(b.ns_gone[1].ipc_ns, 4026532201U);
  EXPECT_EQ(b.ns_gone[1].seq, 2U);
  EXPECT_EQ(b.malformed, 1U);
  EXPECT_EQ(b.unknown_attributes, 0U);
}

TEST(ParseStats, OlderModuleWithoutEnabled) {
  MsgPtr m = genl_message(MSGTAP_CMD_GET_STATS, 1);
  const auto r = as<StatsReply>(parse_message(nlmsg_hdr(m.get()), kFamily));
  EXPECT_FALSE(r.stats.enabled.has_value());
  EXPECT_FALSE(r.stats.load_id.has_value());
  EXPECT_TRUE(r.stats.counters.empty());
}

TEST(ParseEvents, HeaderOnlyBatchIsEmpty) {
  MsgPtr m = genl_message(MSGTAP_CMD_EVENTS, 0);
  const auto b = as<EventBatch>(parse_message(nlmsg_hdr(m.get()), kFamily));
  EXPECT_TRUE(b.sends.empty());
  EXPECT_TRUE(b.ns_gone.empty());
  EXPECT_EQ(b.malformed, 0U);
  EXPECT_EQ(b.unknown_attributes, 0U);
}

TEST(ParseStats, CountersProbesAndUnknowns) {
  MsgPtr m = genl_message(MSGTAP_CMD_GET_STATS, 77);
  nlattr* nest = nla_nest_start(m.get(), MSGTAP_A_STATS);
  ASSERT_NE(nest, nullptr);
  ASSERT_EQ(nla_put_u64(m.get(), MSGTAP_STAT_PROBE_HITS, 1000), 0);
  ASSERT_EQ(nla_put(m.get(), MSGTAP_STAT_PAD, 0, nullptr), 0);
  ASSERT_EQ(nla_put_u64(m.get(), MSGTAP_STAT_EVENTS_QUEUED, 990), 0);
  ASSERT_EQ(nla_put_u64(m.get(), MSGTAP_STAT_DROP_RING_FULL, 10), 0);
  ASSERT_EQ(nla_put_u64(m.get(), MSGTAP_STAT_DELIVERY_RETRIES, 3), 0);
  ASSERT_EQ(nla_put_u64(m.get(), MSGTAP_STAT_IPCNS_GONE_QUEUED, 6), 0);
  ASSERT_EQ(nla_put_u64(m.get(), MSGTAP_STAT_IPCNS_GONE_DELIVERED, 5), 0);
  ASSERT_EQ(nla_put_u64(m.get(), MSGTAP_STAT_IPCNS_GONE_LOST, 1), 0);
  ASSERT_EQ(nla_put_u64(m.get(), MSGTAP_STAT_MAX + 5, 42), 0);        // newer kernel
  ASSERT_EQ(nla_put_u32(m.get(), MSGTAP_STAT_DELIVERY_NOMEM, 1), 0);  // too short: skipped
  nla_nest_end(m.get(), nest);
  ASSERT_EQ(nla_put_u32(m.get(), MSGTAP_A_LISTENER_PORTID, 4242), 0);
  ASSERT_EQ(nla_put_u32(m.get(), MSGTAP_A_RING_SIZE, 4096), 0);
  ASSERT_EQ(nla_put_u32(m.get(), MSGTAP_A_NS_RING_SIZE, 1024), 0);
  ASSERT_EQ(nla_put_u32(m.get(), MSGTAP_A_NR_CPUS, 4), 0);
  ASSERT_EQ(nla_put_u32(m.get(), MSGTAP_A_FLUSH_MS, 100), 0);
  ASSERT_EQ(nla_put_u8(m.get(), MSGTAP_A_ENABLED, 0), 0);
  ASSERT_EQ(nla_put_u64(m.get(), MSGTAP_A_LOAD_ID, 0xfedcba9876543210ULL), 0);
  ASSERT_EQ(nla_put_u32(m.get(), MSGTAP_A_MAX + 3, 9), 0);  // newer kernel
  for (auto [sym, missed] : {std::pair{"do_msgsnd", 5ULL}, std::pair{"ksys_msgsnd", 0ULL}}) {
    nlattr* p = nla_nest_start(m.get(), MSGTAP_A_PROBE);
    ASSERT_NE(p, nullptr);
    ASSERT_EQ(nla_put_string(m.get(), MSGTAP_PROBE_A_SYMBOL, sym), 0);
    ASSERT_EQ(nla_put_u32(m.get(), MSGTAP_PROBE_A_KIND, MSGTAP_PROBE_KIND_KRETPROBE), 0);
    ASSERT_EQ(nla_put_u64(m.get(), MSGTAP_PROBE_A_NMISSED, missed), 0);
    ASSERT_EQ(nla_put_u32(m.get(), MSGTAP_PROBE_A_MAXACTIVE, 64), 0);
    nla_nest_end(m.get(), p);
  }

  const auto r = as<StatsReply>(parse_message(nlmsg_hdr(m.get()), kFamily));
  EXPECT_EQ(r.seq, 77U);
  const KernelStats& k = r.stats;
  const std::vector<std::pair<std::string, uint64_t>> counters = {
      {"probe_hits", 1000},     {"events_queued", 990},
      {"drop_ring_full", 10},   {"delivery_retries", 3},
      {"ipcns_gone_queued", 6}, {"ipcns_gone_delivered", 5},
      {"ipcns_gone_lost", 1},   {"stat" + std::to_string(MSGTAP_STAT_MAX + 5), 42}};
  EXPECT_EQ(k.counters, counters);
  EXPECT_EQ(k.counter("drop_ring_full"), 10U);
  EXPECT_EQ(k.counter("delivery_nomem"), 0U);
  EXPECT_EQ(k.listener_portid, 4242U);
  EXPECT_EQ(k.ring_size, 4096U);
  EXPECT_EQ(k.ns_ring_size, 1024U);
  EXPECT_EQ(k.nr_cpus, 4U);
  EXPECT_EQ(k.flush_ms, 100U);
  EXPECT_EQ(k.enabled, std::optional<bool>(false));
  EXPECT_EQ(k.load_id, std::optional<uint64_t>(0xfedcba9876543210ULL));
  ASSERT_EQ(k.probes.size(), 2U);
  EXPECT_EQ(k.probes[0], (ProbeInfo{"do_msgsnd", MSGTAP_PROBE_KIND_KRETPROBE, 5, 64}));
  EXPECT_EQ(k.probes[1].symbol, "ksys_msgsnd");
  EXPECT_EQ(k.probes_nmissed(), 5U);
  // A namespace end the msg_exit_ns kprobe missed is not a lost call.
  KernelStats with_ns = k;
  with_ns.probes.push_back({"msg_exit_ns", MSGTAP_PROBE_KIND_KPROBE, 2, 0});
  EXPECT_EQ(with_ns.probes_nmissed(), 5U);
}

// An NLMSG_ERROR as the kernel sends it: nlmsgerr, the request (unless
// capped), then extended ack attributes.
MsgPtr error_message(uint32_t seq, int error, bool capped, const char* extack) {
  uint16_t flags = 0;
  if (extack) flags |= NLM_F_ACK_TLVS;
  if (capped) flags |= NLM_F_CAPPED;
  MsgPtr m(nlmsg_alloc_simple(NLMSG_ERROR, flags));
  nlmsg_hdr(m.get())->nlmsg_seq = seq;
  nlmsgerr e{};
  e.error = -error;
  e.msg.nlmsg_len = NLMSG_HDRLEN + GENL_HDRLEN;
  e.msg.nlmsg_type = kFamily;
  e.msg.nlmsg_seq = seq;
  EXPECT_EQ(nlmsg_append(m.get(), &e, sizeof(e), NLMSG_ALIGNTO), 0);
  if (!capped) {
    genlmsghdr request{MSGTAP_CMD_REGISTER, MSGTAP_GENL_VERSION, 0};
    EXPECT_EQ(nlmsg_append(m.get(), &request, sizeof(request), NLMSG_ALIGNTO), 0);
  }
  if (extack) {
    EXPECT_EQ(nla_put_string(m.get(), NLMSGERR_ATTR_MSG, extack), 0);
  }
  return m;
}

TEST(ParseAck, ErrorWithExtackCappedAndNot) {
  for (bool capped : {true, false}) {
    MsgPtr m = error_message(5, EBUSY, capped, "another listener (netlink port 9) is registered");
    const auto a = as<Ack>(parse_message(nlmsg_hdr(m.get()), kFamily));
    EXPECT_EQ(a.seq, 5U);
    EXPECT_EQ(a.error, EBUSY);
    EXPECT_EQ(a.extack, "another listener (netlink port 9) is registered") << capped;
  }
}

TEST(ParseAck, PlainAck) {
  MsgPtr m = error_message(6, 0, true, nullptr);
  const auto a = as<Ack>(parse_message(nlmsg_hdr(m.get()), kFamily));
  EXPECT_EQ(a.seq, 6U);
  EXPECT_EQ(a.error, 0);
  EXPECT_EQ(a.extack, "");
}

TEST(ParseAck, TruncatedErrorIsAnError) {
  MsgPtr m(nlmsg_alloc_simple(NLMSG_ERROR, 0));
  nlmsg_hdr(m.get())->nlmsg_seq = 8;
  const uint32_t half = 0;
  ASSERT_EQ(nlmsg_append(m.get(), const_cast<uint32_t*>(&half), sizeof(half), NLMSG_ALIGNTO), 0);
  const auto a = as<Ack>(parse_message(nlmsg_hdr(m.get()), kFamily));
  EXPECT_EQ(a.seq, 8U);
  EXPECT_EQ(a.error, EBADMSG);
}

TEST(ParseMessage, OtherFamiliesAndCommandsAreIgnored) {
  MsgPtr other(nlmsg_alloc());
  ASSERT_NE(genlmsg_put(other.get(), 0, 0, kFamily + 1, 0, 0, MSGTAP_CMD_EVENTS, 1), nullptr);
  EXPECT_TRUE(std::holds_alternative<Ignored>(parse_message(nlmsg_hdr(other.get()), kFamily)));

  MsgPtr reg = genl_message(MSGTAP_CMD_REGISTER, 1);
  EXPECT_TRUE(std::holds_alternative<Ignored>(parse_message(nlmsg_hdr(reg.get()), kFamily)));
}

TEST(ParseMessage, MissingGenlHeaderIsMalformed) {
  MsgPtr m(nlmsg_alloc_simple(kFamily, 0));
  const auto b = as<EventBatch>(parse_message(nlmsg_hdr(m.get()), kFamily));
  EXPECT_EQ(b.malformed, 1U);
}

}  // namespace
}  // namespace msgtap::genl
