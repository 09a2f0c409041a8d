// SPDX-License-Identifier: GPL-2.0-only
// Encoding of the msgtapd control protocol.
#include "common/control.h"

#include <cerrno>

namespace msgtap::control {

std::string_view command_name(Command cmd) {
  switch (cmd) {
    case Command::stats:
      return "stats";
    case Command::status:
      return "status";
    case Command::reset:
      return "reset";
  }
  return "?";
}

std::string encode_request(Command cmd) {
  nlohmann::ordered_json j;
  j["cmd"] = command_name(cmd);
  return j.dump() + "\n";
}

Result<Command> decode_request(std::string_view line) {
  auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Error{EINVAL, "request is not a JSON object"};
  auto it = j.find("cmd");
  if (it == j.end() || !it->is_string()) return Error{EINVAL, "request has no \"cmd\" string"};
  const auto& name = it->get_ref<const std::string&>();
  if (name == "stats") return Command::stats;
  if (name == "status") return Command::status;
  if (name == "reset") return Command::reset;
  return Error{EINVAL,
               "unknown command \"" + name + "\" (expected \"stats\", \"status\" or \"reset\")"};
}

std::string encode_error(std::string_view message) {
  nlohmann::ordered_json j;
  j["error"] = message;
  return j.dump() + "\n";
}

Result<nlohmann::ordered_json> decode_response(std::string_view text) {
  auto j = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return Error{EPROTO, "msgtapd sent an answer that is not a JSON object"};
  if (auto it = j.find("error"); it != j.end())
    return Error{EIO, it->is_string() ? it->get<std::string>() : it->dump()};
  return j;
}

}  // namespace msgtap::control
