// SPDX-License-Identifier: GPL-2.0-only
// msgtapctl's pure parts: the QUEUE argument, msgtapctl top's rates,
// order and frames, and the exchange with msgtapd (its failures).
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <vector>

#include "common/fd.h"
#include "ctl/daemon_client.h"
#include "ctl/queue_select.h"
#include "ctl/top_format.h"
#include "test_events.h"

namespace msgtap::ctl {
namespace {

using testing::make_event;

constexpr uint32_t kInitNs = 4026531839U;

TEST(QueueSelector, Parses) {
  auto a = parse_queue_selector("5");
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->ipc_ns.has_value());
  EXPECT_EQ(a->msqid, 5);
  auto b = parse_queue_selector("4026531839:32768");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->ipc_ns, kInitNs);
  EXPECT_EQ(b->msqid, 32768);
  auto c = parse_queue_selector("7:-1");  // what an EINVAL on msqid -1 is recorded under
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->msqid, -1);
}

TEST(QueueSelector, RejectsWhatIsNotAQueue) {
  for (const char* bad : {"", ":", "5:", ":5", "x", "5x", " 5", "1:2:3", "-1:5", "4294967296:1",
                          "2147483648", "0x10", "1.5"}) {
    auto r = parse_queue_selector(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.error().code, EINVAL);
      EXPECT_NE(r.error().message.find("MSQID or IPCNS:MSQID"), std::string::npos);
    }
  }
}

stats::Snapshot two_namespaces() {
  stats::Aggregator agg;
  agg.add_send(make_event({.msqid = 0}));
  agg.add_send(make_event({.ipc_ns = 9, .msqid = 0}));
  agg.add_send(make_event({.msqid = 4}));
  return stats::make_snapshot(100, {}, {}, agg);
}

TEST(QueueSelector, Selects) {
  const auto s = two_namespaces();  // sorted: 9:0, init:0, init:4
  auto four = select_queue(s, *parse_queue_selector("4"));
  ASSERT_TRUE(four.ok());
  EXPECT_EQ(s.queues[*four].key, (stats::QueueKey{kInitNs, 4}));
  auto nine = select_queue(s, *parse_queue_selector("9:0"));
  ASSERT_TRUE(nine.ok());
  EXPECT_EQ(s.queues[*nine].key, (stats::QueueKey{9, 0}));
}

TEST(QueueSelector, AmbiguousAndMissing) {
  const auto s = two_namespaces();
  auto amb = select_queue(s, *parse_queue_selector("0"));
  ASSERT_FALSE(amb.ok());
  EXPECT_EQ(amb.error().code, EEXIST);
  EXPECT_NE(amb.error().message.find("9:0, 4026531839:0"), std::string::npos)
      << amb.error().message;
  auto none = select_queue(s, *parse_queue_selector("9:4"));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ENOENT);
  EXPECT_NE(none.error().message.find("queue 9:4"), std::string::npos);
  EXPECT_NE(none.error().message.find("msgtapctl queues"), std::string::npos);
}

// Snapshot at @t with queue msqid i having sends[i] successful 10-byte sends.
stats::Snapshot with_sends(double t, const std::vector<int>& sends, double since = 0) {
  stats::Aggregator agg;
  for (size_t q = 0; q < sends.size(); ++q)
    for (int i = 0; i < sends[q]; ++i)
      agg.add_send(make_event({.msqid = static_cast<int32_t>(q), .msgsz = 10}));
  auto s = stats::make_snapshot(t, {}, {}, agg);
  s.stats_since = since;
  return s;
}

std::vector<int32_t> order(const std::vector<TopEntry>& entries) {
  std::vector<int32_t> ids;
  for (const auto& e : entries) ids.push_back(e.row->key.msqid);
  return ids;
}

TEST(Top, SortedByRateBetweenFramesNotByTotals) {
  const auto prev = with_sends(100, {50, 1, 10});
  const auto cur = with_sends(102, {52, 9, 10, 4});  // +2, +8, +0, new +4
  const auto entries = top_entries(&prev, cur);
  EXPECT_EQ(order(entries), (std::vector<int32_t>{1, 3, 0, 2}));
  ASSERT_TRUE(entries[0].rates.has_value());
  EXPECT_DOUBLE_EQ(entries[0].rates->sends_per_s, 4);
  EXPECT_DOUBLE_EQ(entries[0].rates->bytes_per_s, 40);
  EXPECT_DOUBLE_EQ(entries[0].rates->interval_s, 2);
  EXPECT_DOUBLE_EQ(entries[1].rates->sends_per_s, 2);  // a new queue counts from zero
  EXPECT_DOUBLE_EQ(entries[3].rates->sends_per_s, 0);
}

TEST(Top, FirstFrameUsesMsgtapdRatesOrNone) {
  auto cur = with_sends(100, {5, 1});
  auto entries = top_entries(nullptr, cur);
  EXPECT_FALSE(entries[0].rates.has_value());
  EXPECT_EQ(order(entries), (std::vector<int32_t>{0, 1}));  // by total sends
  cur.queues[1].rates = {10, 0.5, 5, 0};
  entries = top_entries(nullptr, cur);
  EXPECT_EQ(order(entries), (std::vector<int32_t>{1, 0}));  // known rates first
  EXPECT_DOUBLE_EQ(entries[0].rates->sends_per_s, 0.5);
}

TEST(Top, NoRatesAcrossAReset) {
  const auto prev = with_sends(100, {50}, 10);
  const auto cur = with_sends(102, {3}, 101);
  for (const auto& e : top_entries(&prev, cur)) EXPECT_FALSE(e.rates.has_value());
  const auto json = top_to_json(&prev, cur);
  EXPECT_TRUE(json["totals"]["sends_per_s"].is_null());
  EXPECT_TRUE(json["queues"][0]["sends_per_s"].is_null());
}

TEST(Top, TotalsIncludeRetiredQueues) {
  auto s = with_sends(100, {2, 3});
  s.retired = {1, 10, 100, 1};
  const Totals t = totals(s);
  EXPECT_EQ(t.sends_ok, 15U);
  EXPECT_EQ(t.bytes_ok, 150U);
  EXPECT_EQ(t.sends_failed, 1U);
}

TEST(Top, Frame) {
  ::setenv("TZ", "UTC", 1);
  ::tzset();
  const auto prev = with_sends(1795791600, {50, 1});
  auto cur = with_sends(1795791602, {52, 9});
  cur.loss.seq_gaps = 2;
  const exporter::Clocks clocks{1795791602, 1000};
  EXPECT_EQ(render_top(&prev, cur, clocks),
            "msgtapctl top - 2026-11-27 15:00:02, 2 queues (0 removed, 0 retired), counted "
            "since 1970-01-01 00:00:00\n"
            "sends: 61 ok 5.0/s, 610 bytes 50.0/s, 0 failed 0.0/s\n"
            "lost: 2 (kernel_ring_full 0, kernel_undeliverable 0, probe_missed 0, seq_gaps 2, "
            "restore_gap 0)\n"
            "\n"
            "SENDS/s  BYTES/s  FAILS/s       IPCNS  MSQID  SENT  FAILED  QNUM  FILL  LAST    "
            "STATE\n"
            "    4.0     40.0      0.0  4026531839      1     9       0     -     -  0s ago  "
            "unknown\n"
            "    1.0     10.0      0.0  4026531839      0    52       0     -     -  0s ago  "
            "unknown\n");
  // max_rows keeps the busiest, and says what it left out.
  const std::string one = render_top(&prev, cur, clocks, 1);
  EXPECT_NE(one.find("      1     9"), std::string::npos);
  EXPECT_EQ(one.find("     52"), std::string::npos);
  EXPECT_TRUE(one.ends_with("unknown\n(1 more queue not shown: a taller terminal shows more)\n"))
      << one;
  EXPECT_EQ(render_top(&prev, cur, clocks, 2), render_top(&prev, cur, clocks));
}

TEST(Top, Json) {
  const auto prev = with_sends(100, {50, 1});
  const auto cur = with_sends(102, {52, 9});
  const auto j = top_to_json(&prev, cur);
  EXPECT_DOUBLE_EQ(j["interval_s"].get<double>(), 2);
  EXPECT_EQ(j["totals"]["sends_ok"], 61);
  EXPECT_DOUBLE_EQ(j["totals"]["sends_per_s"].get<double>(), 5);
  ASSERT_EQ(j["queues"].size(), 2U);
  EXPECT_EQ(j["queues"][0]["msqid"], 1);
  EXPECT_DOUBLE_EQ(j["queues"][0]["sends_per_s"].get<double>(), 4);
  EXPECT_EQ(j["loss"]["nothing_lost"], true);
}

// A unix socket bound at a fresh path, listening with @backlog, that never
// accepts: a msgtapd stopped with SIGSTOP, as connect() sees it.
struct StoppedDaemon {
  explicit StoppedDaemon(int backlog) {
    path = ::testing::TempDir() + "msgtap-ctl-" + std::to_string(::getpid()) + ".sock";
    ::unlink(path.c_str());
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    fd = UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    EXPECT_EQ(::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::listen(fd.get(), backlog), 0);
  }
  ~StoppedDaemon() { ::unlink(path.c_str()); }
  std::string path;
  UniqueFd fd;
};

TEST(AskDaemon, ABacklogThatStaysFullTimesOut) {
  StoppedDaemon daemon(0);
  // Fill the backlog (one connection with backlog 0) without blocking.
  std::vector<UniqueFd> queued;
  for (int i = 0; i < 4; ++i) {
    UniqueFd c(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, daemon.path.c_str(), sizeof(addr.sun_path) - 1);
    if (::connect(c.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) < 0) {
      ASSERT_EQ(errno, EAGAIN);
      break;
    }
    queued.push_back(std::move(c));
  }
  ASSERT_FALSE(queued.empty());
  const auto start = std::chrono::steady_clock::now();
  auto r = ask_daemon(daemon.path, control::Command::status, std::chrono::milliseconds(300));
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ETIMEDOUT);
  EXPECT_NE(r.error().message.find("did not accept the connection"), std::string::npos)
      << r.error().message;
  EXPECT_LT(took, std::chrono::seconds(5));
}

TEST(AskDaemon, AnAcceptedButUnansweredRequestTimesOut) {
  StoppedDaemon daemon(4);
  auto r = ask_daemon(daemon.path, control::Command::status, std::chrono::milliseconds(200));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ETIMEDOUT);
  EXPECT_NE(r.error().message.find("did not answer"), std::string::npos) << r.error().message;
}

TEST(AskDaemon, NoSocketIsNotRunning) {
  const std::string path = ::testing::TempDir() + "msgtap-ctl-none.sock";
  ::unlink(path.c_str());
  auto r = ask_daemon(path, control::Command::status);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(daemon_not_running(r.error()));
  EXPECT_NE(r.error().message.find("msgtapd not running"), std::string::npos);
}

}  // namespace
}  // namespace msgtap::ctl
