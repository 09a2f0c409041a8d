// SPDX-License-Identifier: GPL-2.0-only
// msgtapctl filter's LIST syntax and its text and JSON output.
#include "ctl/filter_options.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <charconv>
#include <climits>

namespace msgtap::ctl {

namespace {

uint64_t field_max(uint32_t field) {
  switch (field) {
    case MSGTAP_FIELD_MSQID:
      return INT_MAX;  // the kernel refuses more: msqids are non-negative ints
    case MSGTAP_FIELD_CGROUP:
      return UINT64_MAX;
    default:  // tgid, uid, ipc-ns: 32-bit in every record
      return UINT32_MAX;
  }
}

}  // namespace

Result<genl::FilterRule> parse_rule(uint32_t field, std::string_view list) {
  const std::string option = "--" + genl::filter_field_name(field);
  auto bad = [&](const std::string& why) {
    return Error{EINVAL, fmt::format("{} \"{}\": {} (LIST is comma-separated numbers; a `!` in "
                                     "front excludes them)",
                                     option, list, why)};
  };
  genl::FilterRule rule;
  rule.field = field;
  rule.exclude = list.starts_with('!');
  const uint64_t max = field_max(field);
  size_t pos = 0;
  for (;;) {
    const size_t comma = list.find(',', pos);
    std::string_view item =
        list.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    // "!1,2" and "!1,!2" both exclude 1 and 2; "1,!2" is a mistake.
    if (item.starts_with('!')) {
      if (!rule.exclude) return bad("cannot mix included and excluded values");
      item.remove_prefix(1);
    }
    if (item.empty()) return bad("empty value");
    uint64_t v = 0;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (ec == std::errc::result_out_of_range || (ec == std::errc{} && v > max))
      return bad(fmt::format("{} is out of range (at most {})", item, max));
    if (ec != std::errc{} || end != item.data() + item.size())
      return bad(fmt::format("\"{}\" is not a number", item));
    rule.values.push_back(v);
    if (rule.values.size() > MSGTAP_FILTER_MAX_VALUES)
      return bad(fmt::format("more than {} values", MSGTAP_FILTER_MAX_VALUES));
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return rule;
}

Result<genl::Filter> build_filter(const FilterArgs& args) {
  genl::Filter f;
  if (args.failures_only) f.flags |= MSGTAP_FILTER_F_FAILURES_ONLY;
  for (const auto& [field, list] : args.lists) {
    auto rule = parse_rule(field, list);
    if (!rule) return rule.error();
    f.rules.push_back(std::move(*rule));
  }
  return f;
}

std::string filter_to_text(const genl::Filter& filter) {
  if (filter.empty()) return "no filter\n";
  std::string out;
  for (const auto& r : filter.rules)
    out += fmt::format("{} {} {}\n", r.exclude ? "exclude" : "include",
                       genl::filter_field_name(r.field), fmt::join(r.values, ","));
  if (filter.flags & MSGTAP_FILTER_F_FAILURES_ONLY) out += "failures-only\n";
  if (const uint32_t unknown = filter.flags & ~uint32_t{MSGTAP_FILTER_F_ALL})
    out += fmt::format("flags {:#x}\n", unknown);
  return out;
}

nlohmann::ordered_json filter_to_json(const genl::Filter& filter) {
  nlohmann::ordered_json j;
  j["failures_only"] = (filter.flags & MSGTAP_FILTER_F_FAILURES_ONLY) != 0;
  j["flags"] = filter.flags;
  auto rules = nlohmann::ordered_json::array();
  for (const auto& r : filter.rules) {
    nlohmann::ordered_json o;
    o["field"] = genl::filter_field_name(r.field);
    o["exclude"] = r.exclude;
    o["values"] = r.values;
    rules.push_back(std::move(o));
  }
  j["rules"] = std::move(rules);
  return j;
}

}  // namespace msgtap::ctl
