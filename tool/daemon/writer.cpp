// SPDX-License-Identifier: GPL-2.0-only
// msgtapd's files, written off the event loop.
#include "daemon/writer.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "common/fd.h"
#include "common/log.h"
#include "export/json.h"

namespace msgtap::daemon {

FileWriter::FileWriter(std::function<void()> before_job) : before_job_(std::move(before_job)) {
  // Signals are for the event loop (its signalfd): the thread starts with
  // all of them blocked, so none is delivered to it in the meantime.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  thread_ = std::thread([this] { run(); });
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

FileWriter::~FileWriter() { finish(); }

void FileWriter::submit(Job job) {
  std::unique_lock lock(mu_);
  if (stop_) {
    lock.unlock();
    write(job);
    return;
  }
  if (queue_.size() >= kMaxPending) {
    queue_.pop_front();
    const uint64_t skipped = ++status_.skipped;
    if (skipped_behind_++ == 0) {
      // Not yet written: those waiting, this one, and the one being written.
      const size_t behind = queue_.size() + 1 + (busy_ ? 1 : 0);
      lock.unlock();
      log(Priority::warning,
          "writing the files is {} snapshots behind (a slow disk?): skipped the oldest waiting "
          "one ({} skipped in all); the next are skipped without a line until it catches up",
          behind, skipped);
      lock.lock();
    }
  }
  queue_.push_back(std::move(job));
  wake_.notify_one();
}

void FileWriter::finish() {
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

FileWriter::Status FileWriter::status() const {
  std::lock_guard lock(mu_);
  Status s = status_;
  s.pending = queue_.size() + (busy_ ? 1 : 0);
  return s;
}

void FileWriter::run() {
  pthread_setname_np(pthread_self(), "msgtapd-writer");  // in ps -T, top -H
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and everything is written
    Job job = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    if (before_job_) before_job_();
    write(job);
    job = Job{};  // the snapshot's statistics, shared with the aggregator
    // The documents just rendered and freed are megabytes with many queues:
    // give their pages back, so that RSS follows the live queues.
    malloc_trim(0);
    lock.lock();
    busy_ = false;
    if (queue_.empty() && skipped_behind_ != 0) {
      const uint64_t skipped = std::exchange(skipped_behind_, 0);
      const uint64_t total = status_.skipped;
      lock.unlock();
      log(Priority::notice,
          "writing the files has caught up: {} snapshot(s) skipped while it was behind ({} in all)",
          skipped, total);
      lock.lock();
    }
  }
}

void FileWriter::write(const Job& job) {
  if (!job.json_path.empty()) {
    const std::string rendered = job.json_doc ? std::string() : exporter::render_json(*job.snap);
    auto r =
        exporter::write_file_atomically(job.json_path, job.json_doc ? *job.json_doc : rendered);
    std::unique_lock lock(mu_);
    if (r) {
      ++status_.json_writes;
      status_.last_json_error.clear();
    } else {
      ++status_.json_errors;
      const bool changed = r.error().message != status_.last_json_error;
      status_.last_json_error = r.error().message;
      lock.unlock();
      if (changed) log(Priority::err, "{}", r.error().message);
    }
  }

  std::string error;
  if (!job.textfile.empty()) {
    // node_exporter runs as another user and must read it.
    const std::string page = exporter::render_prometheus(*job.snap, job.prometheus);
    if (auto r = exporter::write_file_atomically(job.textfile, page, 0644); !r)
      error = r.error().message;
  }
  if (!job.json_lines.empty()) {
    // Opened per line, so a log rotation that renames the file is followed.
    // Never waited for: a FIFO without a reader (ENXIO) or with a full pipe
    // (EAGAIN) costs this line, not the later ones.
    const std::string line = exporter::render_json(*job.snap, exporter::JsonStyle::line);
    UniqueFd fd(::open(job.json_lines.c_str(),
                       O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK | O_CLOEXEC, 0600));
    // One write: with O_APPEND a line lands whole or, on a full disk, short.
    struct stat st {};
    const bool regular = fd.valid() && ::fstat(fd.get(), &st) == 0 && S_ISREG(st.st_mode);
    const ssize_t n = fd.valid() ? ::write(fd.get(), line.data(), line.size()) : -1;
    if (n < 0) {
      error = fmt::format("cannot append to {}: {}", job.json_lines, std::strerror(errno));
    } else if (static_cast<size_t>(n) != line.size()) {
      error =
          fmt::format("cannot append to {}: wrote {} of {} bytes", job.json_lines, n, line.size());
      // The next line must not be glued to the piece of this one: cut it
      // off a file (this process is its only writer), end it in a pipe.
      if (!(regular && ::ftruncate(fd.get(), st.st_size) == 0) && ::write(fd.get(), "\n", 1) < 0)
        error += fmt::format(" (and cannot end the line: {})", std::strerror(errno));
    }
  }
  if (!error.empty() && error != last_export_error_) log(Priority::err, "{}", error);
  last_export_error_ = error;
}

}  // namespace msgtap::daemon
