// SPDX-License-Identifier: GPL-2.0-only
// The Prometheus rendering: exact sample lines, the format's grouping and
// escaping rules, histogram arithmetic, and the textfile's mode.
#include "export/prometheus.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "export/json.h"
#include "prometheus_sample.h"

namespace msgtap::exporter {
namespace {

using ::msgtap::testing::rich_snapshot;

std::string render(const stats::Snapshot& s, uint64_t mono = 0) {
  return render_prometheus(s, {.version = "1.2.3", .monotonic_now_ns = mono});
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

bool has_line(const std::string& text, const std::string& line) {
  for (const auto& l : lines(text))
    if (l == line) return true;
  return false;
}

// The family a sample line belongs to: its name, less a histogram suffix
// when the family is a histogram.
std::string family_of(const std::string& sample, const std::map<std::string, std::string>& types) {
  std::string name = sample.substr(0, sample.find_first_of("{ "));
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string s(suffix);
    if (name.size() > s.size() && name.ends_with(s)) {
      std::string base = name.substr(0, name.size() - s.size());
      auto it = types.find(base);
      if (it != types.end() && it->second == "histogram") return base;
    }
  }
  return name;
}

TEST(Prometheus, QueueCountersAreExactLines) {
  const std::string out = render(rich_snapshot());
  const std::string q5 = R"(ipc_ns="4026531839",msqid="5")";
  EXPECT_TRUE(has_line(out, "msgtap_queue_sends_total{" + q5 + "} 9")) << out;
  EXPECT_TRUE(has_line(
      out, "msgtap_queue_send_bytes_total{" + q5 + "} " +
               std::to_string(0 + 1 + 2 + 3 + 64 + 65 + 4096 + (1 << 24) + (1 << 24) + 1)));
  EXPECT_TRUE(has_line(out, "msgtap_queue_send_failures_total{" + q5 + R"(,errno="EAGAIN"} 1)"));
  // -512 (ERESTARTSYS) is what userspace sees as EINTR.
  EXPECT_TRUE(has_line(out, "msgtap_queue_send_failures_total{" + q5 + R"(,errno="EINTR"} 1)"));
  // An errno outside the usual set appears too; the usual ones are there at 0.
  EXPECT_TRUE(has_line(out, "msgtap_queue_send_failures_total{" + q5 + R"(,errno="E77"} 1)"));
  EXPECT_TRUE(has_line(out, "msgtap_queue_send_failures_total{" + q5 + R"(,errno="EACCES"} 0)"));
  EXPECT_TRUE(has_line(out, "msgtap_queue_sends_slept_total{" + q5 + "} 1"));
  EXPECT_TRUE(has_line(out, "msgtap_queue_slept_seconds_total{" + q5 + "} 2.5"));
  EXPECT_TRUE(has_line(out, "msgtap_queue_compat_sends_total{" + q5 + "} 1"));
  EXPECT_TRUE(has_line(
      out, "msgtap_queue_info{" + q5 + R"(,key="0x0000abcd",uid="1000",gid="100",mode="0640"} 1)"));
  EXPECT_TRUE(has_line(
      out,
      R"(msgtap_queue_info{ipc_ns="4026531839",msqid="7",key="0xffffffff",uid="0",gid="0",mode="0600"} 1)"));
  // Same msqid, another namespace: its own series.
  EXPECT_TRUE(has_line(out, R"(msgtap_queue_sends_total{ipc_ns="4026532177",msqid="5"} 40)"));
}

TEST(Prometheus, EveryFamilyHasHelpAndTypeOnceAndItsSamplesTogether) {
  const std::string out = render(rich_snapshot(), 1000);
  std::map<std::string, std::string> types;
  std::set<std::string> helps;
  std::set<std::string> finished;
  std::string current;
  size_t samples = 0;
  for (const auto& l : lines(out)) {
    ASSERT_FALSE(l.empty());
    if (l.starts_with("# HELP ")) {
      const std::string name = l.substr(7, l.find(' ', 7) - 7);
      EXPECT_TRUE(helps.insert(name).second) << "second HELP for " << name;
      EXPECT_TRUE(name.starts_with("msgtap_")) << name;
      continue;
    }
    if (l.starts_with("# TYPE ")) {
      std::istringstream in(l.substr(7));
      std::string name, type;
      in >> name >> type;
      EXPECT_TRUE(helps.count(name)) << "TYPE before HELP for " << name;
      EXPECT_TRUE(types.emplace(name, type).second) << "second TYPE for " << name;
      if (type == "counter") {
        EXPECT_TRUE(name.ends_with("_total")) << name;
      }
      if (!current.empty()) finished.insert(current);
      current = name;
      continue;
    }
    const std::string fam = family_of(l, types);
    EXPECT_EQ(fam, current) << "sample outside its family's group: " << l;
    EXPECT_FALSE(finished.count(fam)) << "family split in two groups: " << l;
    ++samples;
  }
  EXPECT_GT(samples, 200U);
  EXPECT_EQ(types.at("msgtap_queue_message_size_bytes"), "histogram");
  EXPECT_EQ(types.at("msgtap_queue_send_duration_seconds"), "histogram");
  EXPECT_EQ(types.at("msgtap_queue_top_mtype_calls"), "gauge");
}

TEST(Prometheus, SizeHistogramIsCumulativeWithFixedBuckets) {
  const std::string out = render(rich_snapshot());
  const std::string b = R"(msgtap_queue_message_size_bytes_bucket{ipc_ns="4026531839",msqid="5",)";
  // Sizes 0 1 2 3 64 65 4096 2^24 2^24+1: le bounds are inclusive.
  EXPECT_TRUE(has_line(out, b + R"(le="1"} 2)"));
  EXPECT_TRUE(has_line(out, b + R"(le="2"} 3)"));
  EXPECT_TRUE(has_line(out, b + R"(le="4"} 4)"));
  EXPECT_TRUE(has_line(out, b + R"(le="32"} 4)"));
  EXPECT_TRUE(has_line(out, b + R"(le="64"} 5)"));
  EXPECT_TRUE(has_line(out, b + R"(le="128"} 6)"));
  EXPECT_TRUE(has_line(out, b + R"(le="4096"} 7)"));
  EXPECT_TRUE(has_line(out, b + R"(le="16777216"} 8)"));
  EXPECT_TRUE(has_line(out, b + R"(le="+Inf"} 9)"));
  EXPECT_FALSE(has_line(out, b + R"(le="33554432"} 9)")) << "past the fixed top bucket";
  EXPECT_TRUE(
      has_line(out, R"(msgtap_queue_message_size_bytes_count{ipc_ns="4026531839",msqid="5"} 9)"));

  // The same 26 series for a queue that has seen nothing in most buckets.
  size_t n = 0;
  for (const auto& l : lines(out))
    if (l.starts_with(R"(msgtap_queue_message_size_bytes_bucket{ipc_ns="4026531839",msqid="7",)"))
      ++n;
  EXPECT_EQ(n, static_cast<size_t>(kSizeLastBucket - kSizeFirstBucket + 2));
}

TEST(Prometheus, DurationHistogramIsInSeconds) {
  const std::string out = render(rich_snapshot());
  const std::string b =
      R"(msgtap_queue_send_duration_seconds_bucket{ipc_ns="4026531839",msqid="7",)";
  // One call of 40 s: beyond 2^35 ns (34.4 s), so only in +Inf.
  EXPECT_TRUE(has_line(out, b + R"(le="2.56e-07"} 0)")) << out;
  EXPECT_TRUE(has_line(out, b + R"(le="34.359738368"} 0)"));
  EXPECT_TRUE(has_line(out, b + R"(le="+Inf"} 1)"));
  EXPECT_TRUE(
      has_line(out, R"(msgtap_queue_send_duration_seconds_sum{ipc_ns="4026531839",msqid="7"} 40)"));
  // Queue (init, 5): the lowest bucket also holds what is below it (100 ns).
  EXPECT_TRUE(has_line(
      out,
      R"(msgtap_queue_send_duration_seconds_bucket{ipc_ns="4026531839",msqid="5",le="2.56e-07"} 2)"));
}

TEST(Prometheus, LiveGaugesOnlyForQueuesSeenPresent) {
  const std::string out = render(rich_snapshot());
  const std::string q5 = R"({ipc_ns="4026531839",msqid="5"})";
  EXPECT_TRUE(has_line(out, "msgtap_queue_messages" + q5 + " 3"));
  EXPECT_TRUE(has_line(out, "msgtap_queue_bytes" + q5 + " 4096"));
  EXPECT_TRUE(has_line(out, "msgtap_queue_capacity_bytes" + q5 + " 16384"));
  EXPECT_TRUE(has_line(out, "msgtap_queue_fill_ratio" + q5 + " 0.25"));
  EXPECT_EQ(out.find(R"(msgtap_queue_messages{ipc_ns="4026531839",msqid="7"})"), std::string::npos);
  EXPECT_EQ(out.find(R"(msgtap_queue_messages{ipc_ns="4026532177")"), std::string::npos);
  EXPECT_TRUE(has_line(out, R"(msgtap_queue_removed{ipc_ns="4026531839",msqid="7"} 1)"));
  EXPECT_TRUE(has_line(out, "msgtap_queue_removed" + q5 + " 0"));
}

TEST(Prometheus, LastCallAgeNeedsTheMonotonicClock) {
  EXPECT_EQ(render(rich_snapshot()).find("msgtap_queue_last_call_age_seconds"), std::string::npos);
  const std::string out = render(rich_snapshot(), 2'000'001'000);
  EXPECT_TRUE(
      has_line(out, R"(msgtap_queue_last_call_age_seconds{ipc_ns="4026531839",msqid="5"} 2)"))
      << out;
  // A timestamp after "now" (state from before a reboot) has no age.
  const std::string early = render(rich_snapshot(), 60);
  EXPECT_TRUE(has_line(
      early, R"(msgtap_queue_last_call_age_seconds{ipc_ns="4026531839",msqid="7"} 1e-08)"));
  EXPECT_EQ(early.find(R"(msgtap_queue_last_call_age_seconds{ipc_ns="4026531839",msqid="5"})"),
            std::string::npos);
}

TEST(Prometheus, TopKAndDistinct) {
  const std::string out = render(rich_snapshot());
  const std::string q5 = R"(ipc_ns="4026531839",msqid="5")";
  EXPECT_TRUE(has_line(out, "msgtap_queue_top_mtype_calls{" + q5 + R"(,mtype="1"} 9)"));
  EXPECT_TRUE(has_line(out, "msgtap_queue_top_mtype_calls_overcount{" + q5 + R"(,mtype="1"} 0)"));
  EXPECT_TRUE(has_line(out, "msgtap_queue_top_sender_calls{" + q5 +
                                R"(,tgid="101",comm="q\"uo\\te\nnl",uid="1000"} 2)"));
  EXPECT_TRUE(has_line(out, "msgtap_queue_mtypes_distinct{" + q5 + "} 3"));
  EXPECT_TRUE(has_line(out, "msgtap_queue_senders_distinct{" + q5 + "} 3"));
  EXPECT_TRUE(has_line(out, "msgtap_queue_mtypes_distinct_saturated{" + q5 + "} 0"));
  // 40 mtypes in 16 counters: some counts are estimates with an error.
  const std::string ns2 =
      R"(msgtap_queue_top_mtype_calls_overcount{ipc_ns="4026532177",msqid="5",)";
  size_t tracked = 0, inexact = 0;
  for (const auto& l : lines(out)) {
    if (!l.starts_with(ns2)) continue;
    ++tracked;
    if (!l.ends_with(" 0")) ++inexact;
  }
  EXPECT_EQ(tracked, stats::TopK::kCapacity);
  EXPECT_GT(inexact, 0U);
}

TEST(Prometheus, GlobalFamilies) {
  const std::string out = render(rich_snapshot());
  EXPECT_TRUE(has_line(out, R"(msgtap_build_info{version="1.2.3"} 1)"));
  EXPECT_TRUE(has_line(out, "msgtap_queues 3"));
  EXPECT_TRUE(has_line(out, "msgtap_stats_since_timestamp_seconds 1732690000.5"));
  EXPECT_TRUE(has_line(out, "msgtap_kernel_probe_hits_total 60"));
  EXPECT_TRUE(has_line(out, "msgtap_kernel_drop_no_listener_total 3"));
  EXPECT_TRUE(has_line(out, "msgtap_kernel_ipcns_gone_lost_total 1"));
  EXPECT_TRUE(has_line(out, "msgtap_kernel_stat12_total 99"));
  EXPECT_TRUE(has_line(out, "msgtap_kernel_enabled 1"));
  EXPECT_TRUE(has_line(out, R"(msgtap_probe_missed_total{symbol="do_msgsnd",kind="kretprobe"} 1)"));
  EXPECT_TRUE(has_line(out, R"(msgtap_lost_events_total{stage="kernel_ring_full"} 2)"));
  EXPECT_TRUE(has_line(out, R"(msgtap_lost_events_total{stage="probe_missed"} 1)"));
  EXPECT_TRUE(has_line(out, "msgtap_daemon_events_received_total 53"));
  EXPECT_TRUE(has_line(out, "msgtap_daemon_socket_drops_total 2"));
  EXPECT_TRUE(has_line(out, "msgtap_daemon_foreign_datagrams_total 3"));
  EXPECT_TRUE(has_line(out, "# TYPE msgtap_daemon_ipcns_gone_received_total counter"));
  EXPECT_TRUE(has_line(out, "msgtap_daemon_ipcns_gone_received_total 5"));
  EXPECT_TRUE(has_line(out, "msgtap_daemon_ipcns_gone_seq_gaps_total 1"));
  EXPECT_TRUE(has_line(out, "msgtap_retired_sends_total 10"));
}

TEST(Prometheus, NothingLostSaysSoWithEveryStage) {
  const std::string out = render(stats::Snapshot{});
  for (const char* stage : {"kernel_ring_full", "kernel_undeliverable", "probe_missed", "seq_gaps"})
    EXPECT_TRUE(has_line(out, fmt::format(R"(msgtap_lost_events_total{{stage="{}"}} 0)", stage)))
        << stage;
  EXPECT_TRUE(has_line(out, "msgtap_queues 0"));
  // No queues: the per-queue families are declared, with no samples.
  EXPECT_TRUE(has_line(out, "# TYPE msgtap_queue_sends_total counter"));
  EXPECT_EQ(out.find("msgtap_queue_sends_total{"), std::string::npos);
  EXPECT_EQ(out.find("msgtap_stats_since_timestamp_seconds"), std::string::npos);
}

TEST(Prometheus, LabelValuesAreEscapedAndUtf8) {
  EXPECT_EQ(prometheus_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  EXPECT_EQ(prometheus_label_value("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(prometheus_label_value("x\xff"), "x\xEF\xBF\xBD");
  // A cut-off sequence, an overlong encoding, a surrogate.
  EXPECT_EQ(prometheus_label_value("\xc3"), "\xEF\xBF\xBD");
  EXPECT_EQ(prometheus_label_value("\xc0\xaf"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(prometheus_label_value("\xed\xa0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  const std::string out = render(rich_snapshot());
  EXPECT_NE(out.find(R"(comm="bad)"
                     "\xEF\xBF\xBD\xEF\xBF\xBD"
                     R"(utf8")"),
            std::string::npos);
}

TEST(Prometheus, NamesAreSanitized) {
  EXPECT_EQ(prometheus_name("drop_ring_full"), "drop_ring_full");
  EXPECT_EQ(prometheus_name("a-b.c"), "a_b_c");
  EXPECT_EQ(prometheus_name("9lives"), "_9lives");
}

// A snapshot of @n queues with a few senders and sizes each: enough to
// cross the stream's steps of queues and its pieces.
stats::Snapshot many_queues(int n) {
  stats::Aggregator agg;
  for (int q = 0; q < n; ++q)
    for (int k = 0; k < 3; ++k)
      agg.add_send(::msgtap::testing::sample_event({.msqid = q,
                                                    .msgsz = static_cast<uint64_t>(64 << k),
                                                    .duration_ns = 1000u << k,
                                                    .ts_ns = 100},
                                                   k, static_cast<uint32_t>(100 + q % 5 + k),
                                                   "sender", 0));
  return stats::make_snapshot(1732700000.25, {}, {}, agg);
}

// Put together, the stream's pieces are the whole page, whatever their size,
// and the stream says when it has no more.
TEST(PrometheusStream, PiecesMakeTheWholePage) {
  for (const auto& snap : {rich_snapshot(), many_queues(0), many_queues(300)}) {
    const PrometheusOptions opt{.version = "1.2.3", .monotonic_now_ns = 2'000'001'000};
    const std::string whole = render_prometheus(snap, opt);
    const auto shared = std::make_shared<const stats::Snapshot>(snap);
    for (const size_t piece :
         {size_t{0}, size_t{1}, size_t{100}, size_t{5000}, PrometheusStream::kPieceBytes}) {
      PrometheusStream stream(shared, opt);
      std::string joined;
      size_t pieces = 0;
      for (std::string out; stream.next(out, piece); out.clear()) {
        ASSERT_FALSE(out.empty());
        joined += out;
        ++pieces;
      }
      EXPECT_TRUE(joined == whole) << snap.queues.size() << " queues, pieces of " << piece;
      if (piece <= 1) {
        EXPECT_GT(pieces, snap.queues.size() / 64) << snap.queues.size();
      }
      std::string after;
      EXPECT_FALSE(stream.next(after));
      EXPECT_TRUE(after.empty());
    }
  }
}

// The stream keeps its snapshot, so the page is the one of its round even
// after the caller dropped it.
TEST(PrometheusStream, KeepsItsSnapshot) {
  auto shared = std::make_shared<const stats::Snapshot>(many_queues(100));
  const std::string whole = render(*shared);
  PrometheusStream stream(shared, {.version = "1.2.3"});
  shared.reset();
  std::string joined;
  for (std::string out; stream.next(out, 4096); out.clear()) joined += out;
  EXPECT_TRUE(joined == whole);
}

TEST(Prometheus, TextfileIsWrittenWithTheModeAsked) {
  const auto dir = std::filesystem::temp_directory_path() / "msgtap-prom-test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto prom = (dir / "msgtap.prom").string();
  const auto json = (dir / "stats.json").string();
  ASSERT_TRUE(write_file_atomically(prom, "x 1\n", 0644));
  ASSERT_TRUE(write_file_atomically(json, "{}\n"));
  struct stat st {};
  ASSERT_EQ(::stat(prom.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644U);
  ASSERT_EQ(::stat(json.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600U);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace msgtap::exporter
