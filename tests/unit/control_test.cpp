// SPDX-License-Identifier: GPL-2.0-only
// The control protocol between msgtapctl and msgtapd.
#include "common/control.h"

#include <gtest/gtest.h>

namespace msgtap::control {
namespace {

TEST(Control, RequestsRoundTrip) {
  EXPECT_EQ(encode_request(Command::stats), "{\"cmd\":\"stats\"}\n");
  EXPECT_EQ(encode_request(Command::status), "{\"cmd\":\"status\"}\n");
  EXPECT_EQ(encode_request(Command::reset), "{\"cmd\":\"reset\"}\n");
  for (Command c : {Command::stats, Command::status, Command::reset}) {
    std::string line = encode_request(c);
    line.pop_back();
    auto d = decode_request(line);
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(*d, c);
  }
}

TEST(Control, UnknownMembersAreIgnored) {
  auto d = decode_request(R"({"cmd": "stats", "from": "a later msgtapctl"})");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, Command::stats);
}

TEST(Control, BadRequests) {
  for (const char* line :
       {"", "stats", "[]", "{}", R"({"cmd": 1})", R"({"cmd": "reboot"})", R"({"cmd": "stats")"}) {
    auto d = decode_request(line);
    EXPECT_FALSE(d.ok()) << line;
  }
  auto d = decode_request(R"({"cmd": "reboot"})");
  EXPECT_NE(d.error().message.find("reboot"), std::string::npos);
}

TEST(Control, Responses) {
  auto ok = decode_response("{\"schema\": 1}\n");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)["schema"], 1);

  const std::string err = encode_error("permission denied: \"x\"");
  EXPECT_EQ(err, "{\"error\":\"permission denied: \\\"x\\\"\"}\n");
  auto e = decode_response(err);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().message, "permission denied: \"x\"");

  EXPECT_FALSE(decode_response("").ok());
  EXPECT_FALSE(decode_response("{\"schema\": 1").ok());  // cut off
}

}  // namespace
}  // namespace msgtap::control
