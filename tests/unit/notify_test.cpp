// SPDX-License-Identifier: GPL-2.0-only
// sd_notify without libsystemd: the datagram systemd would receive.
#include "common/notify.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "common/fd.h"

namespace msgtap {
namespace {

class Notify : public ::testing::Test {
 protected:
  // Binds a datagram socket at @name ("@..." abstract) and points
  // NOTIFY_SOCKET at it.
  void listen_at(const std::string& name) {
    fd_.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ASSERT_TRUE(fd_.valid());
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, name.data(), name.size());
    if (name[0] == '@') addr.sun_path[0] = '\0';
    const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
    ASSERT_EQ(::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), len), 0) << strerror(errno);
    ::setenv("NOTIFY_SOCKET", name.c_str(), 1);
  }
  std::string receive() {
    char buf[512];
    const ssize_t n = ::recv(fd_.get(), buf, sizeof(buf), MSG_DONTWAIT);
    return n < 0 ? std::string("<nothing>") : std::string(buf, static_cast<size_t>(n));
  }
  void TearDown() override {
    ::unsetenv("NOTIFY_SOCKET");
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  UniqueFd fd_;
  std::string path_;
};

TEST_F(Notify, NothingWithoutNotifySocket) {
  ::unsetenv("NOTIFY_SOCKET");
  EXPECT_TRUE(sd_notify_state("READY=1").ok());
}

TEST_F(Notify, SendsToAnAbstractSocket) {
  listen_at("@msgtap-notify-test-" + std::to_string(::getpid()));
  ASSERT_TRUE(sd_notify_state("READY=1\nSTATUS=registered").ok());
  EXPECT_EQ(receive(), "READY=1\nSTATUS=registered");
}

TEST_F(Notify, SendsToAPathSocket) {
  path_ = ::testing::TempDir() + "msgtap-notify-" + std::to_string(::getpid());
  ::unlink(path_.c_str());
  listen_at(path_);
  ASSERT_TRUE(sd_notify_state("STOPPING=1").ok());
  EXPECT_EQ(receive(), "STOPPING=1");
}

TEST_F(Notify, ABrokenNotifySocketIsAnError) {
  ::setenv("NOTIFY_SOCKET", "relative/path", 1);
  EXPECT_FALSE(sd_notify_state("READY=1").ok());
  ::setenv("NOTIFY_SOCKET", "@msgtap-nobody-listens-here", 1);
  auto r = sd_notify_state("READY=1");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("msgtap-nobody-listens-here"), std::string::npos);
}

}  // namespace
}  // namespace msgtap
