// SPDX-License-Identifier: GPL-2.0-only
// The JSON snapshot document: exact fields of schema 1, reading it back, and
// the atomic file write.
#include "export/json.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "test_events.h"

namespace msgtap::exporter {
namespace {

using nlohmann::ordered_json;
using testing::make_event;

genl::KernelStats sample_kernel() {
  genl::KernelStats k;
  k.counters = {{"probe_hits", 20},
                {"events_queued", 15},
                {"drop_ring_full", 2},
                {"drop_no_listener", 3},
                {"drop_undeliverable", 0},
                {"delivery_nomem", 0},
                {"events_delivered", 15},
                {"batches_delivered", 4},
                {"delivery_retries", 1},
                {"ipcns_gone_queued", 6},
                {"ipcns_gone_delivered", 6},
                {"ipcns_gone_lost", 2},
                {"stat12", 99}};
  k.ring_size = 4096;
  k.ns_ring_size = 256;
  k.nr_cpus = 2;
  k.flush_ms = 100;
  k.listener_portid = 777;
  k.enabled = true;
  k.load_id = 0x00c0ffee12345678ULL;
  k.probes = {{"do_msgsnd", MSGTAP_PROBE_KIND_KRETPROBE, 1, 64}};
  return k;
}

stats::Snapshot make_sample_snapshot(const stats::Aggregator& agg, const stats::RateBase* base);

stats::Snapshot sample_snapshot() {
  stats::Aggregator agg;
  agg.add_send(make_event({.msqid = 5, .msgsz = 10, .ts_ns = 100}));
  agg.add_send(make_event(
      {.msqid = 5, .result = -11, .flags = MSGTAP_EVF_SLEPT, .duration_ns = 1500, .ts_ns = 300}));
  agg.add_send(make_event({.msqid = 5, .result = -13, .flags = MSGTAP_EVF_COMPAT, .ts_ns = 200}));
  agg.add_send(make_event({.msqid = 5, .result = -13, .ts_ns = 250}));
  agg.add_send(make_event({.ipc_ns = 1, .msqid = 9, .msgsz = 3, .ts_ns = 50}));
  return make_sample_snapshot(agg, nullptr);
}

stats::Snapshot make_sample_snapshot(const stats::Aggregator& agg, const stats::RateBase* base) {
  stats::DaemonCounters d{.events_received = 5,
                          .batches_received = 2,
                          .seq_gaps = 1,
                          .socket_overruns = 1,
                          .socket_drops = 0,
                          .malformed = 0,
                          .unknown_attributes = 4,
                          .foreign_datagrams = 5,
                          .ipcns_gone_received = 6,
                          .ipcns_gone_seq_gaps = 2,
                          .drop_no_listener_at_register = 3,
                          .delivered_at_register = 9,
                          .restore_gap = 7};
  return stats::make_snapshot(1732700000.25, d, sample_kernel(), agg, base);
}

TEST(Loss, SumsTheLossesOnly) {
  const stats::Snapshot s = sample_snapshot();
  EXPECT_EQ(s.loss.kernel_ring_full, 2U);
  EXPECT_EQ(s.loss.kernel_undeliverable, 0U);
  EXPECT_EQ(s.loss.probe_missed, 1U);
  EXPECT_EQ(s.loss.seq_gaps, 1U);
  EXPECT_EQ(s.loss.restore_gap, 7U);
  // drop_no_listener (3) is not ours; the calls the restored counts miss are.
  EXPECT_EQ(s.loss.total(), 11U);
  EXPECT_FALSE(s.loss.nothing_lost());
  EXPECT_TRUE(stats::compute_loss({}, {}).nothing_lost());
}

TEST(Json, ExactSchemaOneDocument) {
  const ordered_json expected = ordered_json::parse(R"({
    "schema": 1,
    "timestamp": 1732700000.25,
    "stats_since": 0.0,
    "boot_id": "",
    "daemon": {"events_received": 5, "batches_received": 2, "seq_gaps": 1,
               "socket_overruns": 1, "socket_drops": 0, "malformed": 0,
               "unknown_attributes": 4, "foreign_datagrams": 5,
               "drop_no_listener_at_register": 3, "delivered_at_register": 9,
               "restore_gap": 7, "ipcns_gone_received": 6, "ipcns_gone_seq_gaps": 2},
    "kernel": {"probe_hits": 20, "events_queued": 15, "drop_ring_full": 2,
               "drop_no_listener": 3, "drop_undeliverable": 0, "delivery_nomem": 0,
               "events_delivered": 15, "batches_delivered": 4, "delivery_retries": 1,
               "ipcns_gone_queued": 6, "ipcns_gone_delivered": 6, "ipcns_gone_lost": 2,
               "ring_size": 4096, "ns_ring_size": 256, "nr_cpus": 2, "flush_ms": 100,
               "listener_portid": 777,
               "load_id": "00c0ffee12345678",
               "probes": [{"symbol": "do_msgsnd", "kind": "kretprobe", "nmissed": 1,
                           "maxactive": 64}]},
    "loss": {"nothing_lost": false, "total": 11, "kernel_ring_full": 2,
             "kernel_undeliverable": 0, "probe_missed": 1,
             "seq_gaps": 1, "restore_gap": 7},
    "queues": [
      {"ipc_ns": 1, "msqid": 9, "identity_known": false, "key": 0, "uid": 0, "gid": 0,
       "mode": 0, "sends_ok": 1, "bytes_ok": 3, "sends_failed": 0, "errors": {},
       "nowait_failures": 0, "sends_slept": 0, "slept_ns": 0, "compat_sends": 0,
       "first_seen_ns": 50, "last_seen_ns": 50, "last_tgid": 0, "removed_at": 0.0,
       "ns_gone_ns": 0, "live": {"state": "unknown", "qnum": 0, "cbytes": 0, "qbytes": 0, "fill": null,
                "checked_at": 0.0, "note": ""},
       "rates": {"interval_s": 0.0, "sends_per_s": 0.0, "bytes_per_s": 0.0,
                 "failures_per_s": 0.0},
       "size_bytes": {"count": 1, "sum": 3, "buckets": [[4, 1]]},
       "latency_ns": {"count": 1, "sum": 0, "buckets": [[1, 1]]},
       "mtypes": {"total": 1, "distinct": 1, "distinct_saturated": false, "seen": [1],
                  "top": [{"mtype": 1, "count": 1, "error": 0}]},
       "senders": {"total": 1, "distinct": 1, "distinct_saturated": false, "seen": [0],
                   "top": [{"tgid": 0, "comm": "", "uid": 0, "count": 1, "error": 0}]}},
      {"ipc_ns": 4026531839, "msqid": 5, "identity_known": false, "key": 0, "uid": 0,
       "gid": 0, "mode": 0, "sends_ok": 1, "bytes_ok": 10, "sends_failed": 3,
       "errors": {"EAGAIN": 1, "EACCES": 2}, "nowait_failures": 0, "sends_slept": 1,
       "slept_ns": 1500, "compat_sends": 1, "first_seen_ns": 100, "last_seen_ns": 300,
       "last_tgid": 0, "removed_at": 0.0,
       "ns_gone_ns": 0, "live": {"state": "unknown", "qnum": 0, "cbytes": 0, "qbytes": 0, "fill": null,
                "checked_at": 0.0, "note": ""},
       "rates": {"interval_s": 0.0, "sends_per_s": 0.0, "bytes_per_s": 0.0,
                 "failures_per_s": 0.0},
       "size_bytes": {"count": 1, "sum": 10, "buckets": [[16, 1]]},
       "latency_ns": {"count": 4, "sum": 1500, "buckets": [[1, 3], [2048, 1]]},
       "mtypes": {"total": 4, "distinct": 1, "distinct_saturated": false, "seen": [1],
                  "top": [{"mtype": 1, "count": 4, "error": 0}]},
       "senders": {"total": 4, "distinct": 1, "distinct_saturated": false, "seen": [0],
                   "top": [{"tgid": 0, "comm": "", "uid": 0, "count": 4, "error": 0}]}}
    ],
    "retired": {"queues": 0, "sends_ok": 0, "bytes_ok": 0, "sends_failed": 0},
    "folded": {"sends": 0, "max_queues": 32768, "max_stray_ids": 2048, "stray_rows": 0}
  })");
  const ordered_json got = snapshot_to_json(sample_snapshot());
  // ordered_json compares member order too: the document reads in schema order.
  EXPECT_EQ(got, expected) << got.dump(2);

  const std::string text = render_json(sample_snapshot());
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(ordered_json::parse(text), expected);
}

// A document written before --max-queues has no "folded" member: it still
// reads, as nothing folded; one that has it keeps its count.
TEST(Json, FoldedCountReadsBackAndMayBeAbsent) {
  stats::Snapshot s = sample_snapshot();
  s.folded = stats::Folded{12345, 64, 4, 3};
  auto j = ordered_json::parse(render_json(s));
  auto back = snapshot_from_json(j);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->folded, s.folded);
  j.erase("folded");
  back = snapshot_from_json(j);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->folded, stats::Folded{});
}

// So are the daemon's and the loss's restore_gap and the daemon's
// drop_no_listener_at_register and delivered_at_register, null while not
// known.
TEST(Json, RestoreGapReadsBackAndMayBeAbsent) {
  stats::Snapshot s = sample_snapshot();
  auto j = ordered_json::parse(render_json(s));
  auto back = snapshot_from_json(j);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->daemon.drop_no_listener_at_register, std::optional<uint64_t>(3));
  EXPECT_EQ(back->daemon.delivered_at_register, std::optional<uint64_t>(9));
  EXPECT_EQ(back->daemon.restore_gap, 7U);
  EXPECT_EQ(back->loss.restore_gap, 7U);
  j["daemon"]["drop_no_listener_at_register"] = nullptr;
  j["daemon"]["delivered_at_register"] = nullptr;
  back = snapshot_from_json(j);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_FALSE(back->daemon.drop_no_listener_at_register);
  EXPECT_FALSE(back->daemon.delivered_at_register);
  j["daemon"].erase("drop_no_listener_at_register");
  j["daemon"].erase("delivered_at_register");
  j["daemon"].erase("restore_gap");
  j["loss"].erase("restore_gap");
  back = snapshot_from_json(j);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_FALSE(back->daemon.drop_no_listener_at_register);
  EXPECT_FALSE(back->daemon.delivered_at_register);
  EXPECT_EQ(back->daemon.restore_gap, 0U);
  EXPECT_EQ(back->loss.restore_gap, 0U);
}

// A document of a msgtapd before namespace records reads as none seen.
TEST(Json, NamespaceRecordCountsReadBackAndMayBeAbsent) {
  auto j = ordered_json::parse(render_json(sample_snapshot()));
  auto back = snapshot_from_json(j);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->daemon.ipcns_gone_received, 6U);
  EXPECT_EQ(back->daemon.ipcns_gone_seq_gaps, 2U);
  j["daemon"].erase("ipcns_gone_received");
  j["daemon"].erase("ipcns_gone_seq_gaps");
  back = snapshot_from_json(j);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->daemon.ipcns_gone_received, 0U);
  EXPECT_EQ(back->daemon.ipcns_gone_seq_gaps, 0U);
}

TEST(Json, ReadsBackWhatItWrites) {
  const stats::Snapshot s = sample_snapshot();
  auto back = snapshot_from_json(ordered_json::parse(render_json(s)));
  ASSERT_TRUE(back.ok()) << back.error().message;
  stats::Snapshot expected = s;
  // The snapshot document keeps to schema 1's kernel members.
  expected.kernel.counters.pop_back();
  expected.kernel.enabled.reset();
  EXPECT_EQ(*back, expected);
}

// A round that read a queue's live values and found them unchanged leaves
// the row alone (queue_probe.cpp); the snapshot dates them by that read,
// and the document keeps that date.
TEST(Json, ReadsBackTheDateOfAReadThatChangedNothing) {
  constexpr uint32_t kNs = 4026531839U;
  stats::Aggregator agg;
  agg.add_send(make_event({.ipc_ns = kNs, .msqid = 5, .msgsz = 8}));
  agg.edit({kNs, 5}).live = {stats::QueueLive::State::present, 1, 8, 16384, 1000.0, ""};
  const stats::ReadTimes reads{{kNs, 1010.0}};
  const stats::Snapshot s = stats::make_snapshot(1010.5, {}, {}, agg, nullptr, &reads);
  ASSERT_EQ(s.queues.size(), 1U);
  EXPECT_EQ(s.queues[0].checked_at, 1010.0);
  EXPECT_EQ(s.queues[0].stats->live.checked_at, 1000.0);  // shared, not copied
  const ordered_json j = snapshot_to_json(s);
  EXPECT_EQ(j["queues"][0]["live"]["checked_at"].get<double>(), 1010.0);
  auto back = snapshot_from_json(ordered_json::parse(j.dump()));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->queues[0].checked_at, 1010.0);
  EXPECT_EQ(back->queues[0].stats->live.checked_at, 1010.0);
  EXPECT_EQ(back->queues, s.queues);
  // The row's date is part of what it says.
  stats::Snapshot later = *back;
  later.queues[0].checked_at = 1011.0;
  EXPECT_NE(later.queues, s.queues);
}

// Every field of the model survives the document: msgtapctl renders from
// it, and a restarted msgtapd continues from it.
TEST(Json, ReadsBackEveryQueueField) {
  stats::Aggregator agg;
  for (int i = 0; i < 40; ++i)
    agg.add_send(make_event({.msqid = 3,
                             .msgsz = static_cast<uint64_t>(i * 100),
                             .duration_ns = static_cast<uint64_t>(i) << 10,
                             .ts_ns = static_cast<uint64_t>(1000 + i),
                             .mtype = i % 20 + 1,
                             .tgid = static_cast<uint32_t>(100 + i % 18),
                             .comm = "sender"}));
  agg.add_send(make_event({.msqid = 3, .result = -11, .mtype = -5, .msgflg = 04000}));
  for (int i = 0; i < 70; ++i)  // saturates the distinct counters
    agg.add_send(make_event({.msqid = 4, .mtype = 1000 + i, .tgid = static_cast<uint32_t>(i)}));
  auto& q = agg.edit({4026531839U, 3});
  q.identity = {true, 0x1234, 1000, 1001, 0640};
  q.live = {stats::QueueLive::State::present, 3, 300, 16384, 1732700000.5, ""};
  q.removed_at = 1732700001.5;
  q.ns_gone_ns = 1732;  // its namespace was freed
  agg.retire_if([](const stats::QueueKey& k, const stats::QueueStats&) { return k.msqid == 5; });
  stats::RateBase base;
  base.timestamp = 1732699990.25;
  base.queues[{4026531839U, 3}] = {10, 1000, 0};
  stats::Snapshot s = make_sample_snapshot(agg, &base);
  s.stats_since = 1732690000;
  s.boot_id = "0f4d3c1e-8a27-4e7b-9d0c-6b5a4f3e2d1c";
  ASSERT_EQ(s.queues.size(), 2U);
  EXPECT_DOUBLE_EQ(s.queues[0].rates.sends_per_s, 3.0);  // 40 ok, 10 of them before the base
  EXPECT_TRUE(s.queues[1].stats->send.mtypes_distinct.saturated());

  const ordered_json j = snapshot_to_json(s);
  EXPECT_EQ(j["queues"][0]["live"]["fill"].get<double>(), 300.0 / 16384);
  EXPECT_EQ(j["queues"][0]["mtypes"]["top"].size(), stats::TopK::kCapacity);
  auto back = snapshot_from_json(ordered_json::parse(j.dump()));
  ASSERT_TRUE(back.ok()) << back.error().message;
  stats::Snapshot expected = s;
  expected.kernel.counters.pop_back();
  expected.kernel.enabled.reset();
  for (auto& row : expected.queues) {
    auto pruned = std::make_shared<stats::QueueStats>(*row.stats);
    pruned->send.prune_sender_info();
    row.stats = std::move(pruned);
  }
  EXPECT_EQ(back->queues, expected.queues);
  EXPECT_EQ(*back, expected);
}

TEST(Json, StatusKernelObjectCarriesNewerCounters) {
  const ordered_json k = kernel_to_json(sample_kernel(), /*extended=*/true);
  EXPECT_EQ(k["stat12"], 99);
  EXPECT_EQ(k["enabled"], true);
  auto back = kernel_from_json(k);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, sample_kernel());
}

// A module older than MSGTAP_A_NS_RING_SIZE sends none: the key is left out,
// and a document without it reads as such, not as a counter.
TEST(Json, KernelNamespaceRingSizeOnlyWhenSent) {
  genl::KernelStats older = sample_kernel();
  older.ns_ring_size = 0;
  ordered_json k = kernel_to_json(older, /*extended=*/true);
  EXPECT_FALSE(k.contains("ns_ring_size"));
  auto back = kernel_from_json(k);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, older);
  k = kernel_to_json(sample_kernel(), /*extended=*/false);
  EXPECT_EQ(k["ns_ring_size"], 256);
  back = kernel_from_json(k);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->ns_ring_size, 256U);
  EXPECT_EQ(back->counter("ns_ring_size"), 0U);
}

TEST(Json, RejectsOtherSchemasAndMissingFields) {
  ordered_json j = snapshot_to_json(sample_snapshot());
  j["schema"] = 2;
  EXPECT_FALSE(snapshot_from_json(j).ok());
  j = snapshot_to_json(sample_snapshot());
  j["daemon"].erase("seq_gaps");
  auto r = snapshot_from_json(j);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("seq_gaps"), std::string::npos) << r.error().message;
}

// The load id is a string of 16 hex digits (a u64 that readers with double
// numbers would round); documents without one read, malformed ones do not.
TEST(Json, KernelLoadId) {
  ordered_json j = snapshot_to_json(sample_snapshot());
  EXPECT_EQ(j["kernel"]["load_id"], "00c0ffee12345678");
  j["kernel"].erase("load_id");
  auto r = snapshot_from_json(j);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->kernel.load_id.has_value());
  for (const char* bad : {"c0ffee12345678", "00c0ffee1234567g", "0x00c0ffee123456"}) {
    j["kernel"]["load_id"] = bad;
    r = snapshot_from_json(j);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message.find("load_id"), std::string::npos) << r.error().message;
  }
  j["kernel"]["load_id"] = 12;
  EXPECT_FALSE(snapshot_from_json(j).ok());
}

class AtomicWrite : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("msgtap-json-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(AtomicWrite, ReplacesTheFileAndLeavesNoTemporaries) {
  const std::string path = (dir_ / "stats.json").string();
  ASSERT_TRUE(write_file_atomically(path, "first\n").ok());
  ASSERT_TRUE(write_file_atomically(path, "second\n").ok());

  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  EXPECT_EQ(content.str(), "second\n");

  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600U);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_),
                          std::filesystem::directory_iterator()),
            1);
}

TEST_F(AtomicWrite, MissingDirectoryIsAnError) {
  auto r = write_file_atomically((dir_ / "nope" / "stats.json").string(), "x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ENOENT);
  EXPECT_NE(r.error().message.find("nope"), std::string::npos);
}

}  // namespace
}  // namespace msgtap::exporter

namespace msgtap::exporter {
namespace {

// A reset between the rate base and now can leave a queue with more sends
// but fewer bytes than the base: that queue gets no rate, not a wrapped one.
TEST(Json, NoRateWhenBytesWentBack) {
  stats::Aggregator agg;
  for (int i = 0; i < 20; ++i) agg.add_send(testing::make_event({.msqid = 1, .msgsz = 8}));
  stats::RateBase base;
  base.timestamp = 1;
  base.queues[{4026531839U, 1}] = {10, 1000, 0};  // 10 sends of 100 bytes
  const stats::Snapshot s = stats::make_snapshot(11, {}, {}, agg, &base);
  ASSERT_EQ(s.queues.size(), 1U);
  EXPECT_EQ(s.queues[0].rates.interval_s, 0.0);
  EXPECT_EQ(s.queues[0].rates.bytes_per_s, 0.0);
}

// A comm is whatever bytes prctl(PR_SET_NAME) was given: the document must
// stay valid JSON, keeping valid UTF-8 and escaping the rest byte by byte.
TEST(Json, AnyCommBytesGiveValidJson) {
  stats::Aggregator agg;
  agg.add_send(testing::make_event({.msqid = 1, .tgid = 7, .comm = "a\"b\\c\x01\xff\xc3\xa9z"}));
  const stats::Snapshot s = stats::make_snapshot(1, {}, {}, agg);
  for (auto style : {JsonStyle::document, JsonStyle::line}) {
    const std::string text = render_json(s, style);
    auto j = ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
    ASSERT_FALSE(j.is_discarded()) << text;
    EXPECT_EQ(j["queues"][0]["senders"]["top"][0]["comm"], "a\"b\\c\x01\xc3\xbf\xc3\xa9z");
  }
  const std::string line = render_json(s, JsonStyle::line);
  EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1);
}

// Every byte that can lead, followed by continuation bytes (0xf5..0xff
// once went out raw as the start of a 3-byte sequence), and every
// truncated sequence at the end of the name.
TEST(Json, EveryLeadByteGivesValidJson) {
  for (int lead = 0x80; lead <= 0xff; ++lead) {
    for (const char* tail : {"\x80\x80\x80y", "\x80", ""}) {
      std::string comm = "x";
      comm += static_cast<char>(lead);
      comm += tail;
      stats::Aggregator agg;
      agg.add_send(testing::make_event({.msqid = 1, .tgid = 7, .comm = comm.c_str()}));
      const stats::Snapshot s = stats::make_snapshot(1, {}, {}, agg);
      const std::string text = render_json(s, JsonStyle::line);
      auto j = ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
      ASSERT_FALSE(j.is_discarded()) << "lead 0x" << std::hex << lead << ": " << text;
    }
  }
}

}  // namespace
}  // namespace msgtap::exporter
