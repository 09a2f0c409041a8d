// SPDX-License-Identifier: GPL-2.0-only
// msgtapctl filter: LIST parsing, the SET_FILTER attributes built from it
// (read back with libnl in memory, as the kernel would), GET_FILTER answers,
// and the text and JSON output.
#include <gtest/gtest.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include <cerrno>
#include <climits>
#include <memory>
#include <string>

#include "ctl/filter_options.h"
#include "genl/parse.h"
#include "test_netlink.h"

namespace msgtap {
namespace {

using ctl::build_filter;
using ctl::FilterArgs;
using ctl::parse_rule;
using genl::Filter;
using genl::FilterRule;

using testing::genl_message;
using testing::kFamily;
using testing::MsgPtr;

TEST(FilterOptions, Lists) {
  auto r = parse_rule(MSGTAP_FIELD_TGID, "123,456");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, (FilterRule{MSGTAP_FIELD_TGID, false, {123, 456}}));

  r = parse_rule(MSGTAP_FIELD_UID, "!0");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, (FilterRule{MSGTAP_FIELD_UID, true, {0}}));

  // "!" once for the list or on every value.
  r = parse_rule(MSGTAP_FIELD_MSQID, "!3,4");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, (FilterRule{MSGTAP_FIELD_MSQID, true, {3, 4}}));
  r = parse_rule(MSGTAP_FIELD_MSQID, "!3,!4");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, (FilterRule{MSGTAP_FIELD_MSQID, true, {3, 4}}));

  r = parse_rule(MSGTAP_FIELD_MSQID, std::to_string(INT_MAX));
  EXPECT_TRUE(r);
  r = parse_rule(MSGTAP_FIELD_CGROUP, "18446744073709551615");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->values, std::vector<uint64_t>{UINT64_MAX});
}

TEST(FilterOptions, Garbage) {
  for (const char* bad : {"abc", "", ",", "1,", ",1", "1,,2", "12a", "-1", "+1", " 1", "1 ", "0x10",
                          "!", "!,1", "1,!2", "1.5"}) {
    auto r = parse_rule(MSGTAP_FIELD_TGID, bad);
    EXPECT_FALSE(r) << '"' << bad << '"';
    if (!r) {
      EXPECT_NE(r.error().message.find("--tgid"), std::string::npos) << r.error().message;
    }
  }
  auto r = parse_rule(MSGTAP_FIELD_TGID, "abc");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("\"abc\" is not a number"), std::string::npos);

  // Out of range for the field.
  EXPECT_FALSE(parse_rule(MSGTAP_FIELD_UID, "4294967296"));
  EXPECT_TRUE(parse_rule(MSGTAP_FIELD_UID, "4294967295"));
  EXPECT_FALSE(parse_rule(MSGTAP_FIELD_MSQID, std::to_string(uint64_t{INT_MAX} + 1)));
  EXPECT_FALSE(parse_rule(MSGTAP_FIELD_CGROUP, "18446744073709551616"));
  r = parse_rule(MSGTAP_FIELD_IPC_NS, "99999999999");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("--ipc-ns"), std::string::npos);

  // At most MSGTAP_FILTER_MAX_VALUES values.
  std::string list = "1";
  for (int i = 2; i <= MSGTAP_FILTER_MAX_VALUES; ++i) list += "," + std::to_string(i);
  EXPECT_TRUE(parse_rule(MSGTAP_FIELD_TGID, list));
  EXPECT_FALSE(parse_rule(MSGTAP_FIELD_TGID, list + ",99"));
}

TEST(FilterOptions, BuildFilter) {
  FilterArgs args;
  args.failures_only = true;
  args.lists = {{MSGTAP_FIELD_TGID, "1,2"}, {MSGTAP_FIELD_UID, "!0"}};
  auto f = build_filter(args);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->flags, uint32_t{MSGTAP_FILTER_F_FAILURES_ONLY});
  ASSERT_EQ(f->rules.size(), 2U);

  args.lists.emplace_back(MSGTAP_FIELD_MSQID, "x");
  auto bad = build_filter(args);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("--msqid"), std::string::npos);

  EXPECT_TRUE(build_filter(FilterArgs{})->empty());
}

// What put_filter() appends, read the way the kernel's policy would.
TEST(SetFilterMessage, Attributes) {
  FilterArgs args;
  args.failures_only = true;
  args.lists = {{MSGTAP_FIELD_TGID, "123,456"},
                {MSGTAP_FIELD_UID, "!0"},
                {MSGTAP_FIELD_CGROUP, "18446744073709551615"}};
  auto f = build_filter(args);
  ASSERT_TRUE(f);

  MsgPtr m = genl_message(MSGTAP_CMD_SET_FILTER, 9);
  ASSERT_EQ(genl::put_filter(m.get(), *f), 0);

  nlmsghdr* nlh = nlmsg_hdr(m.get());
  nlattr* tb[MSGTAP_A_MAX + 1] = {};
  ASSERT_EQ(genlmsg_parse(nlh, 0, tb, MSGTAP_A_MAX, nullptr), 0);
  ASSERT_NE(tb[MSGTAP_A_FILTER], nullptr);
  // Exactly one top-level attribute.
  EXPECT_EQ(genlmsg_attrlen(static_cast<genlmsghdr*>(nlmsg_data(nlh)), 0),
            nla_total_size(nla_len(tb[MSGTAP_A_FILTER])));

  uint32_t flags = 0;
  std::vector<FilterRule> rules;
  nlattr* pos = nullptr;
  int rem = 0;
  nla_for_each_nested(pos, tb[MSGTAP_A_FILTER], rem) {
    if (nla_type(pos) == MSGTAP_FILTER_A_FLAGS) {
      ASSERT_EQ(nla_len(pos), 4);
      flags = nla_get_u32(pos);
      continue;
    }
    ASSERT_EQ(nla_type(pos), MSGTAP_FILTER_A_RULE);
    FilterRule r;
    nlattr* a = nullptr;
    int arem = 0;
    nla_for_each_nested(a, pos, arem) {
      switch (nla_type(a)) {
        case MSGTAP_RULE_A_FIELD:
          ASSERT_EQ(nla_len(a), 4);
          r.field = nla_get_u32(a);
          break;
        case MSGTAP_RULE_A_EXCLUDE:
          EXPECT_EQ(nla_len(a), 0);  // NLA_FLAG
          r.exclude = true;
          break;
        case MSGTAP_RULE_A_VALUE:
          ASSERT_EQ(nla_len(a), 8);
          r.values.push_back(nla_get_u64(a));
          break;
        default:
          ADD_FAILURE() << "unexpected rule attribute " << nla_type(a);
      }
    }
    EXPECT_EQ(arem, 0);
    rules.push_back(r);
  }
  EXPECT_EQ(rem, 0);
  EXPECT_EQ(flags, uint32_t{MSGTAP_FILTER_F_FAILURES_ONLY});
  EXPECT_EQ(rules, (std::vector<FilterRule>{{MSGTAP_FIELD_TGID, false, {123, 456}},
                                            {MSGTAP_FIELD_UID, true, {0}},
                                            {MSGTAP_FIELD_CGROUP, false, {UINT64_MAX}}}));
}

TEST(SetFilterMessage, ClearHasNoAttributes) {
  MsgPtr m = genl_message(MSGTAP_CMD_SET_FILTER, 9);
  ASSERT_EQ(genl::put_filter(m.get(), Filter{}), 0);
  EXPECT_EQ(genlmsg_attrlen(static_cast<genlmsghdr*>(nlmsg_data(nlmsg_hdr(m.get()))), 0), 0);
}

TEST(SetFilterMessage, FlagsOnlyHasNoRules) {
  MsgPtr m = genl_message(MSGTAP_CMD_SET_FILTER, 9);
  ASSERT_EQ(genl::put_filter(m.get(), Filter{MSGTAP_FILTER_F_FAILURES_ONLY, {}}), 0);
  // Read back through the GET_FILTER parser: the same layout.
  nlmsghdr* nlh = nlmsg_hdr(m.get());
  auto* g = static_cast<genlmsghdr*>(nlmsg_data(nlh));
  g->cmd = MSGTAP_CMD_GET_FILTER;
  auto msg = genl::parse_message(nlh, kFamily);
  ASSERT_TRUE(std::holds_alternative<genl::FilterReply>(msg));
  EXPECT_EQ(std::get<genl::FilterReply>(msg).filter, (Filter{MSGTAP_FILTER_F_FAILURES_ONLY, {}}));
}

TEST(GetFilterAnswer, Parsed) {
  MsgPtr m = genl_message(MSGTAP_CMD_GET_FILTER, 41);
  nlattr* nest = nla_nest_start(m.get(), MSGTAP_A_FILTER);
  ASSERT_NE(nest, nullptr);
  ASSERT_EQ(nla_put_u32(m.get(), MSGTAP_FILTER_A_FLAGS, MSGTAP_FILTER_F_FAILURES_ONLY), 0);
  nlattr* rule = nla_nest_start(m.get(), MSGTAP_FILTER_A_RULE);
  ASSERT_EQ(nla_put_u32(m.get(), MSGTAP_RULE_A_FIELD, MSGTAP_FIELD_MSQID), 0);
  ASSERT_EQ(nla_put_u64(m.get(), MSGTAP_RULE_A_VALUE, 3), 0);
  ASSERT_EQ(nla_put_u64(m.get(), MSGTAP_RULE_A_VALUE, 4), 0);
  ASSERT_EQ(nla_put_u32(m.get(), MSGTAP_RULE_A_MAX + 5, 7), 0);  // newer: ignored
  nla_nest_end(m.get(), rule);
  rule = nla_nest_start(m.get(), MSGTAP_FILTER_A_RULE);
  ASSERT_EQ(nla_put_u32(m.get(), MSGTAP_RULE_A_FIELD, MSGTAP_FIELD_UID), 0);
  ASSERT_EQ(nla_put_flag(m.get(), MSGTAP_RULE_A_EXCLUDE), 0);
  ASSERT_EQ(nla_put_u64(m.get(), MSGTAP_RULE_A_VALUE, 0), 0);
  nla_nest_end(m.get(), rule);
  nla_nest_end(m.get(), nest);

  auto msg = genl::parse_message(nlmsg_hdr(m.get()), kFamily);
  ASSERT_TRUE(std::holds_alternative<genl::FilterReply>(msg));
  const auto& reply = std::get<genl::FilterReply>(msg);
  EXPECT_EQ(reply.seq, 41U);
  const Filter expected{MSGTAP_FILTER_F_FAILURES_ONLY,
                        {{MSGTAP_FIELD_MSQID, false, {3, 4}}, {MSGTAP_FIELD_UID, true, {0}}}};
  EXPECT_EQ(reply.filter, expected);
  EXPECT_EQ(ctl::filter_to_text(reply.filter), "include msqid 3,4\nexclude uid 0\nfailures-only\n");
  const auto j = ctl::filter_to_json(reply.filter);
  EXPECT_EQ(j["failures_only"], true);
  EXPECT_EQ(j["rules"][0]["field"], "msqid");
  EXPECT_EQ(j["rules"][1]["exclude"], true);
  EXPECT_EQ(j["rules"][0]["values"], nlohmann::json::array({3, 4}));
}

TEST(GetFilterAnswer, EmptyNestIsNoFilter) {
  MsgPtr m = genl_message(MSGTAP_CMD_GET_FILTER, 42);
  nlattr* nest = nla_nest_start(m.get(), MSGTAP_A_FILTER);
  nla_nest_end(m.get(), nest);
  auto msg = genl::parse_message(nlmsg_hdr(m.get()), kFamily);
  ASSERT_TRUE(std::holds_alternative<genl::FilterReply>(msg));
  EXPECT_TRUE(std::get<genl::FilterReply>(msg).filter.empty());
  EXPECT_EQ(ctl::filter_to_text(Filter{}), "no filter\n");
  EXPECT_EQ(ctl::filter_to_text(Filter{1U << 7, {}}), "flags 0x80\n");
}

TEST(CommandError, NamesErrnoAndKeepsExtack) {
  auto e = genl::command_error(MSGTAP_CMD_SET_FILTER, EINVAL, "two rules on one field");
  EXPECT_EQ(e.code, EINVAL);
  EXPECT_NE(e.message.find("SET_FILTER"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("EINVAL"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("(kernel: two rules on one field)"), std::string::npos) << e.message;

  e = genl::command_error(MSGTAP_CMD_DISABLE, EPERM, "");
  EXPECT_NE(e.message.find("EPERM"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("CAP_NET_ADMIN"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("root"), std::string::npos) << e.message;

  e = genl::command_error(MSGTAP_CMD_ENABLE, ENOENT, "");
  EXPECT_NE(e.message.find("modprobe msgtap"), std::string::npos) << e.message;
  EXPECT_EQ(genl::errno_name(ERANGE), "ERANGE");
  EXPECT_EQ(genl::errno_name(4095), "errno 4095");
}

}  // namespace
}  // namespace msgtap
