// SPDX-License-Identifier: GPL-2.0-only
// Writes msgtapd's files (the JSON snapshot, the Prometheus textfile, the
// json-lines history) on a thread of their own.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "export/prometheus.h"
#include "stats/snapshot.h"

namespace msgtap::daemon {

// Rendering a snapshot of 10,000 queues takes tens of milliseconds and each
// file is fsync()ed: on a slow or busy disk that is seconds. Done in the
// event loop, it kept msgtapd from reading the module's batches meanwhile,
// and a module whose rings fill up drops records. The event loop only hands
// over the snapshot, which shares its queues' statistics (copied only when
// an event changes them meanwhile), and goes on.
//
// At most kMaxPending jobs wait behind the one being written. A disk slower
// than that loses the oldest waiting job, which is counted (skipped); the
// files then show the newer snapshot, and the json-lines history misses that
// interval's line. The first skip is logged, then one line once the writer
// has caught up, with how many it skipped meanwhile: a disk that stays slow
// does not log a line every interval.
class FileWriter {
 public:
  static constexpr size_t kMaxPending = 4;

  struct Job {
    std::string json_path;   // "" for none
    std::string textfile;    // "" for none
    std::string json_lines;  // "" for none
    std::shared_ptr<const stats::Snapshot> snap;
    // The JSON document, if the event loop rendered it already (for a
    // client in the same round); rendered here otherwise.
    std::shared_ptr<const std::string> json_doc;
    exporter::PrometheusOptions prometheus;
  };

  struct Status {
    uint64_t json_writes = 0;
    uint64_t json_errors = 0;
    std::string last_json_error;  // of the last JSON write; "" if it worked
    uint64_t skipped = 0;         // jobs dropped unwritten (the disk was too slow)
    size_t pending = 0;           // jobs waiting, the one being written included
  };

  // @before_job runs on the writer thread before each job (tests: a slow disk).
  explicit FileWriter(std::function<void()> before_job = {});
  ~FileWriter();  // finish()
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;

  // Queues @job; never waits for the disk.
  void submit(Job job);
  // Writes every job queued so far, then stops the thread. Later submits are
  // written at once, on the caller's thread.
  void finish();
  Status status() const;

 private:
  void run();
  void write(const Job& job);

  std::function<void()> before_job_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Job> queue_;
  bool busy_ = false;
  bool stop_ = false;
  Status status_;
  uint64_t skipped_behind_ = 0;    // since the writer fell behind; logged once caught up
  std::string last_export_error_;  // logged once until it changes
  std::thread thread_;
};

}  // namespace msgtap::daemon
