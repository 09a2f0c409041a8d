// SPDX-License-Identifier: GPL-2.0-only
// msgtapctl filter's option syntax and output, apart from any I/O so that
// unit tests reach them: LIST arguments to filter rules, filters to text and
// JSON.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "genl/types.h"

namespace msgtap::ctl {

// What `msgtapctl filter set` was given.
struct FilterArgs {
  bool failures_only = false;
  // (MSGTAP_FIELD_*, LIST as typed), in the order of the fields.
  std::vector<std::pair<uint32_t, std::string>> lists;
};

// One LIST: decimal values separated by commas, "!" in front of the list (or
// of every value) to exclude them: "123,456", "!0", "!3,!4". Values must fit
// the field (32 bits, msqid at most INT_MAX, cgroup 64 bits); at most
// MSGTAP_FILTER_MAX_VALUES of them. Errors name the option (--tgid ...).
Result<genl::FilterRule> parse_rule(uint32_t field, std::string_view list);

// The whole filter; an error for the first bad LIST.
Result<genl::Filter> build_filter(const FilterArgs& args);

// One line per rule ("include tgid 123,456", "exclude uid 0"), then
// "failures-only" when that flag is set, or "no filter".
std::string filter_to_text(const genl::Filter& filter);

// {"failures_only": bool, "flags": N, "rules": [{"field", "exclude", "values"}]}
nlohmann::ordered_json filter_to_json(const genl::Filter& filter);

}  // namespace msgtap::ctl
