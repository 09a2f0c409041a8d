// SPDX-License-Identifier: GPL-2.0-only
#include "daemon/writer.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <string_view>

#include "export/json.h"
#include "test_events.h"

namespace msgtap::daemon {
namespace {

using testing::make_event;

std::shared_ptr<const stats::Snapshot> snapshot_at(double timestamp) {
  stats::Aggregator agg;
  agg.add_send(make_event({.msqid = 7, .msgsz = 10, .ts_ns = 100}));
  return std::make_shared<const stats::Snapshot>(
      stats::make_snapshot(timestamp, stats::DaemonCounters{}, genl::KernelStats{}, agg, nullptr));
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

size_t lines(const std::string& s) {
  return static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
}

size_t count_of(const std::string& s, std::string_view what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + what.size())) ++n;
  return n;
}

class Writer : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("msgtap-writer-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  FileWriter::Job job(double timestamp) const {
    FileWriter::Job j;
    j.json_path = (dir_ / "stats.json").string();
    j.textfile = (dir_ / "msgtap.prom").string();
    j.json_lines = (dir_ / "history.jsonl").string();
    j.snap = snapshot_at(timestamp);
    j.prometheus.version = "test";
    return j;
  }
  std::filesystem::path dir_;
};

TEST_F(Writer, WritesEveryFileOfAJob) {
  FileWriter w;
  const FileWriter::Job j = job(1732700000.5);
  w.submit(j);
  w.finish();
  EXPECT_EQ(slurp(dir_ / "stats.json"), exporter::render_json(*j.snap));
  EXPECT_NE(slurp(dir_ / "msgtap.prom").find("msgtap_queue_sends_total"), std::string::npos);
  EXPECT_EQ(lines(slurp(dir_ / "history.jsonl")), 1U);
  const FileWriter::Status s = w.status();
  EXPECT_EQ(s.json_writes, 1U);
  EXPECT_EQ(s.json_errors, 0U);
  EXPECT_EQ(s.pending, 0U);
  // Once finished, a job is written at once by the caller.
  w.submit(job(1732700001.5));
  EXPECT_EQ(w.status().json_writes, 2U);
  EXPECT_EQ(lines(slurp(dir_ / "history.jsonl")), 2U);
}

// A disk that does not answer holds the writer thread, not the caller: jobs
// queue up to the bound, then the oldest waiting one is skipped and counted.
TEST_F(Writer, ASlowDiskHoldsNeitherTheCallerNorUnboundedMemory) {
  std::promise<void> entered, release;
  std::shared_future<void> gate = release.get_future().share();
  bool first = true;
  FileWriter w([&] {
    if (!first) return;
    first = false;
    entered.set_value();
    gate.wait();
  });
  ::testing::internal::CaptureStderr();
  w.submit(job(1.0));
  entered.get_future().wait();                    // the thread holds job 1 and waits for the "disk"
  for (int i = 2; i <= 7; ++i) w.submit(job(i));  // returns with the disk still stuck
  FileWriter::Status s = w.status();
  EXPECT_EQ(s.pending, FileWriter::kMaxPending + 1);
  EXPECT_EQ(s.skipped, 6 - FileWriter::kMaxPending);
  EXPECT_EQ(s.json_writes, 0U);
  release.set_value();
  w.finish();
  // The first skip is logged, the second only in the line once caught up.
  const std::string logged = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(count_of(logged, "snapshots behind (a slow disk?)"), 1U) << logged;
  EXPECT_EQ(count_of(logged, "caught up: 2 snapshot(s) skipped while it was behind (2 in all)"), 1U)
      << logged;
  s = w.status();
  EXPECT_EQ(s.json_writes, FileWriter::kMaxPending + 1);
  EXPECT_EQ(s.pending, 0U);
  // The file shows the newest snapshot; the history has a line per written job.
  EXPECT_EQ(slurp(dir_ / "stats.json"), exporter::render_json(*snapshot_at(7)));
  EXPECT_EQ(lines(slurp(dir_ / "history.jsonl")), FileWriter::kMaxPending + 1);
}

// The writer renders a snapshot while the event loop goes on counting into
// the same queues: the snapshot's statistics stay as they were (the
// aggregator copies a queue's before changing it), and the file shows them.
TEST_F(Writer, RendersASnapshotWhileEventsChangeItsQueues) {
  stats::Aggregator agg;
  for (int i = 0; i < 100; ++i) agg.add_send(make_event({.msqid = i % 10, .msgsz = 10}));
  auto snap = std::make_shared<const stats::Snapshot>(
      stats::make_snapshot(5.0, stats::DaemonCounters{}, genl::KernelStats{}, agg, nullptr));
  const std::string expected = exporter::render_json(*snap);
  std::promise<void> entered;
  FileWriter w([&] { entered.set_value(); });
  FileWriter::Job j = job(5.0);
  j.snap = std::move(snap);
  w.submit(std::move(j));
  entered.get_future().wait();
  for (int i = 0; i < 20000; ++i) agg.add_send(make_event({.msqid = i % 10, .msgsz = 20}));
  w.finish();
  EXPECT_EQ(slurp(dir_ / "stats.json"), expected);
  EXPECT_EQ(agg.queues().at({4026531839U, 3})->send.sends_ok, 2010U);
}

TEST_F(Writer, JsonErrorsAreCountedAndClearedByTheNextWrite) {
  FileWriter w;
  FileWriter::Job bad = job(1.0);
  bad.json_path = (dir_ / "missing" / "stats.json").string();
  w.submit(bad);
  w.finish();
  FileWriter::Status s = w.status();
  EXPECT_EQ(s.json_errors, 1U);
  EXPECT_NE(s.last_json_error.find("missing"), std::string::npos) << s.last_json_error;
  w.submit(job(2.0));
  s = w.status();
  EXPECT_EQ(s.json_writes, 1U);
  EXPECT_TRUE(s.last_json_error.empty());
}

// A full disk cuts a json-lines write short: the piece must not take the
// next line with it. RLIMIT_FSIZE makes the write short as a full disk does.
TEST_F(Writer, AShortJsonLineIsCutOffNotGluedToTheNext) {
  FileWriter w;
  w.finish();  // jobs are written at once, on this thread
  const auto lines_only = [&](double timestamp) {
    FileWriter::Job j = job(timestamp);
    j.json_path.clear();
    j.textfile.clear();
    return j;
  };
  const auto path = dir_ / "history.jsonl";
  w.submit(lines_only(1.0));
  const auto one_line = std::filesystem::file_size(path);
  ASSERT_GT(one_line, 2U);

  rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  const auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
  rlimit low = old;
  low.rlim_cur = one_line + one_line / 2;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &low), 0);
  w.submit(lines_only(2.0));  // half of it fits
  ::setrlimit(RLIMIT_FSIZE, &old);
  ::signal(SIGXFSZ, old_handler);
  EXPECT_EQ(std::filesystem::file_size(path), one_line);

  w.submit(lines_only(3.0));
  const std::string text = slurp(path);
  ASSERT_EQ(lines(text), 2U);
  std::istringstream in(text);
  std::vector<double> stamps;
  for (std::string line; std::getline(in, line);) {
    const auto doc = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    ASSERT_FALSE(doc.is_discarded()) << line;
    stamps.push_back(doc.at("timestamp").get<double>());
  }
  EXPECT_EQ(stamps, (std::vector<double>{1.0, 3.0}));
}

}  // namespace
}  // namespace msgtap::daemon
