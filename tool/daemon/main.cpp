// SPDX-License-Identifier: GPL-2.0-only
// msgtapd: the msgtap listener. Registers with msgtap.ko, turns its msgsnd()
// events into per-queue statistics, writes them as JSON and answers msgtapctl.
//
// One thread, one event loop:
//
//               epoll_wait(timeout = nearest sync or client deadline)
//                                    |
//     +-------------+----------------+------------+---------------+
//     |             |                |            |               |
//  netlink       signalfd         timerfd      listener       client sockets
//  read until    TERM/INT: last   interval:    accept         read one request line,
//  empty         round, exit      JSON round                  wait for a round,
//     |          HUP: JSON round                              write the answer, close
//     |
//     +-- EVENTS ------------------> Receiver (per-CPU seq check) --> Aggregator
//     +-- ack / GET_STATS answer --> Syncer --> send FLUSH / GET_STATS
//                                      |
//                                      +--> round done: Snapshot --> JSON file, clients
//
// The Prometheus /metrics endpoint (http_server.h) is one more listener
// whose clients wait for a round the same way. Their page is rendered from
// the round's snapshot one piece per writable event, so the loop goes on
// reading events while a large page is sent (the snapshot shares the
// queues' statistics; the aggregator copies the ones it changes meanwhile).
//
// Why one loop: an answer is exact only because the code that reads the
// netlink socket in order is the code that decides when to take the snapshot
// (after the FLUSH ack, every earlier event has been read). A single owner of
// the aggregator also needs no locks. Nothing blocks the loop: requests wait
// in the Syncer's list, netlink answers are matched by sequence number, and
// client sockets are non-blocking.
#include <fcntl.h>
#include <malloc.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include "common/cli_checks.h"
#include "common/control.h"
#include "common/fd.h"
#include "common/log.h"
#include "common/notify.h"
#include "daemon/control_server.h"
#include "daemon/http_server.h"
#include "daemon/queue_probe.h"
#include "daemon/receive.h"
#include "daemon/sync.h"
#include "daemon/writer.h"
#include "export/json.h"
#include "export/prometheus.h"
#include "export/text.h"
#include "genl/socket.h"
#include "stats/aggregate.h"
#include "stats/snapshot.h"

namespace msgtap::daemon {
namespace {

using namespace std::chrono_literals;

constexpr int kExitOk = 0;
constexpr int kExitRuntime = 1;
constexpr int kExitUsage = 2;

// Bounded work per wake-up so a flood of events cannot starve clients and
// timers (epoll is level-triggered: the rest is read on the next turn).
constexpr int kMaxDatagramsPerWake = 512;
constexpr size_t kMaxClients = 64;
constexpr auto kClientIoTimeout = 10s;
constexpr auto kBlockingCallTimeout = 5s;

constexpr const char* kDefaultConfig = "/etc/msgtap/msgtapd.conf";

// Every option is also a key of the config file (CLI11 INI: `interval = 5`);
// the command line wins over the file.
struct Options {
  std::string socket_path{control::kDefaultSocketPath};
  std::string json_path = "/var/lib/msgtap/stats.json";
  double interval_s = 10;
  int rcvbuf = genl::kDefaultRcvbuf;
  double retire_after_s = 300;
  uint64_t max_queues = stats::QueueLimits{}.max_queues;
  bool restore = true;
  std::string metrics_listen = "127.0.0.1:9464";
  std::optional<ListenAddress> metrics_address;  // parsed metrics_listen; none: no server
  std::string textfile;                          // Prometheus text for node_exporter, "" for none
  std::string json_lines;  // a compact JSON line appended per interval, "" for none
};

// What parsing the command line and the config file gave: options, or an
// exit status (help, version, or an error already printed).
struct Parsed {
  Options options;
  std::optional<int> exit_code;
  std::string config_path;
  std::string error;  // for a reload, which must not print help or exit
};
Parsed parse_options(int argc, char** argv, bool reload);

// epoll tags; clients use their id, from kFirstClient on.
// HTTP clients carry HttpServer::kTagBit.
enum : uint64_t {
  kTagNetlink = 1,
  kTagSignal,
  kTagTimer,
  kTagListener,
  kTagHttpListener,
  kFirstClient = 16
};
// Waiters that are not clients.
enum : WaiterId { kWaiterJson = 1, kWaiterShutdown = 2 };

std::string read_boot_id() {
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(in, id);
  return id;
}

double unix_now() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

// The clock of the events' timestamps.
uint64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000 + static_cast<uint64_t>(ts.tv_nsec);
}

class Daemon {
 public:
  Daemon(Options options, genl::Socket sock, int argc, char** argv)
      : opt_(std::move(options)),
        sock_(std::move(sock)),
        receiver_(aggregator_),
        argc_(argc),
        argv_(argv) {}

  Result<void> start();
  int run();

 private:
  void read_netlink();
  void handle(genl::Message& m);
  void drive(SyncStep step);
  void request_round(WaiterId id);
  void finish_round(bool ok);
  stats::Snapshot snapshot();
  std::string status_document(const stats::Snapshot& snap) const;
  std::string reset_statistics();
  // Hands @snap to the writer thread for the JSON file (@doc if it is
  // rendered already) and, with @exports, the textfile and json-lines.
  void write_files(std::shared_ptr<const stats::Snapshot> snap,
                   std::shared_ptr<const std::string> doc, bool exports);
  void restore_state();
  void note_registered(const genl::KernelStats& k);
  void retire_queues(double now);
  void reload();
  Result<void> arm_timer();
  void notify(const std::string& state);

  void read_signals();
  void accept_clients();
  void client_event(uint64_t id, uint32_t events);
  // Answers a control client; @doc may be shared with the round's other
  // answers (the JSON document: megabytes with 10,000 queues).
  void answer(uint64_t id, std::shared_ptr<const std::string> doc);
  void answer(uint64_t id, std::string doc) {
    answer(id, std::make_shared<const std::string>(std::move(doc)));
  }
  void drop_client(uint64_t id);
  void expire_clients(Clock::time_point now);
  int epoll_timeout(Clock::time_point now) const;
  void begin_shutdown();
  bool unregister();
  Result<void> add_fd(int fd, uint64_t tag, uint32_t events);

  Options opt_;
  genl::Socket sock_;
  stats::Aggregator aggregator_;
  Receiver receiver_;
  // How read_netlink() reads: records straight into the receiver.
  const genl::Socket::Reader reader_{
      .send = [this](const msgtap_send_event& ev) { receiver_.on_send(ev); },
      .ns_gone = [this](const msgtap_ipcns_event& ev) { receiver_.on_ns_gone(ev); },
      .batch = [this](const genl::BatchDefects& d) { receiver_.on_batch_end(d); },
      .message = [this](genl::Message& m) { handle(m); },
  };
  QueueProber prober_;
  stats::RateBase rate_base_;
  bool have_rate_base_ = false;
  double stats_since_ = 0;
  std::string boot_id_;
  int argc_;
  char** argv_;
  Syncer syncer_;
  genl::KernelStats kernel_;  // from the last completed round
  uint64_t socket_drops_ = 0;
  uint64_t logged_loss_ = 0;
  uint64_t logged_folded_ = 0;
  uint64_t logged_ns_missed_ = 0;  // ipcns_gone_lost + ipcns_gone_seq_gaps logged
  // The document --restore continued: where its counts end, and what it had
  // lost that the kernel's counters will not show again.
  struct Restored {
    std::string path;
    std::optional<uint64_t> no_listener_at_register;
    std::optional<uint64_t> delivered_at_register;
    uint64_t events_received = 0;
    genl::KernelStats kernel;
    stats::Loss loss;
  };
  std::optional<Restored> restored_;
  std::optional<uint64_t> no_listener_at_register_;
  std::optional<uint64_t> delivered_at_register_;
  uint64_t restore_gap_ = 0;

  UniqueFd epoll_, signal_, timer_, listener_;
  std::optional<HttpServer> http_;  // /metrics, unless --metrics-listen none
  std::map<uint64_t, ControlClient> clients_;
  uint64_t next_client_ = kFirstClient;
  bool json_queued_ = false;

  bool registered_ = true;
  bool stopping_ = false;
  bool quit_ = false;
  bool final_ok_ = false;
  // SIGTERM's last round: its snapshot, and whether it synced with the kernel.
  std::shared_ptr<const stats::Snapshot> final_snap_;
  bool final_round_ok_ = false;
  Clock::time_point started_ = Clock::now();
  FileWriter writer_;
};

Result<void> Daemon::add_fd(int fd, uint64_t tag, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = tag;
  if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) < 0)
    return Error{errno, fmt::format("epoll_ctl: {}", std::strerror(errno))};
  return {};
}

Result<void> Daemon::start() {
  boot_id_ = read_boot_id();
  aggregator_.set_limits(stats::QueueLimits::with_max(opt_.max_queues));
  restore_state();
  genl::Sink sink{[this](genl::Message& m) { handle(m); }, [this] { receiver_.on_overrun(); }};
  // Nothing is delivered while no listener is registered: every record
  // delivered from here on is this msgtapd's (note_registered()).
  if (auto k = sock_.get_stats(kBlockingCallTimeout); k && k->listener_portid == 0)
    delivered_at_register_ = k->counter("events_delivered");
  auto reg = sock_.call(MSGTAP_CMD_REGISTER, kBlockingCallTimeout, sink);
  if (!reg) {
    if (reg.error().code != EBUSY) return reg.error();
    auto k = sock_.get_stats(kBlockingCallTimeout);
    if (!k) return reg.error();
    return Error{EBUSY, fmt::format("another msgtapd (netlink port {}) is already registered",
                                    k->listener_portid)};
  }
  log(Priority::info, "registered as listener (netlink port {})", sock_.portid());
  // The kernel reports twice the size asked for (it counts its overhead);
  // less means SO_RCVBUFFORCE was refused and net.core.rmem_max capped it.
  if (sock_.rcvbuf() < 2 * opt_.rcvbuf)
    log(Priority::warning,
        "netlink receive buffer is {} bytes, not the {} asked for: raise net.core.rmem_max or "
        "run with CAP_NET_ADMIN",
        sock_.rcvbuf() / 2, opt_.rcvbuf);

  std::error_code ec;
  const auto json_dir = std::filesystem::path(opt_.json_path).parent_path();
  if (!json_dir.empty()) std::filesystem::create_directories(json_dir, ec);
  if (ec)
    return Error{ec.value(),
                 fmt::format("cannot create directory {}: {}", json_dir.string(), ec.message())};

  auto listener = listen_control_socket(opt_.socket_path);
  if (!listener) return listener.error();
  listener_ = std::move(*listener);
  // A start that fails from here on leaves no socket file behind.
  struct UnlinkUnlessStarted {
    const std::string& path;
    bool started = false;
    explicit UnlinkUnlessStarted(const std::string& p) : path(p) {}
    UnlinkUnlessStarted(const UnlinkUnlessStarted&) = delete;
    UnlinkUnlessStarted& operator=(const UnlinkUnlessStarted&) = delete;
    ~UnlinkUnlessStarted() {
      if (!started) ::unlink(path.c_str());
    }
  } socket_file{opt_.socket_path};

  epoll_.reset(epoll_create1(EPOLL_CLOEXEC));
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGHUP);
  signal_.reset(signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC));
  timer_.reset(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
  if (!epoll_.valid() || !signal_.valid() || !timer_.valid())
    return Error{errno, fmt::format("cannot set up the event loop: {}", std::strerror(errno))};

  if (auto r = arm_timer(); !r) return r;

  for (auto [fd, tag] : {std::pair{sock_.fd(), uint64_t{kTagNetlink}},
                         std::pair{signal_.get(), uint64_t{kTagSignal}},
                         std::pair{timer_.get(), uint64_t{kTagTimer}},
                         std::pair{listener_.get(), uint64_t{kTagListener}}}) {
    if (auto r = add_fd(fd, tag, EPOLLIN); !r) return r;
  }
  if (opt_.metrics_address) {
    http_.emplace(epoll_.get(), kTagHttpListener);
    if (auto r = http_->listen(*opt_.metrics_address); !r) return r;
    log(Priority::info, "serving Prometheus metrics on http://{}/metrics", opt_.metrics_listen);
  }
  log(Priority::info, "control socket {}; writing {} every {} s", opt_.socket_path, opt_.json_path,
      opt_.interval_s);
  request_round(kWaiterJson);  // a first document right away; shows a bad --json path early
  notify(fmt::format("READY=1\nSTATUS=registered as listener (netlink port {})", sock_.portid()));
  socket_file.started = true;
  return {};
}

Result<void> Daemon::arm_timer() {
  const auto period = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double>(opt_.interval_s));
  itimerspec its{};
  its.it_interval.tv_sec = static_cast<time_t>(period.count() / 1'000'000'000);
  its.it_interval.tv_nsec = static_cast<long>(period.count() % 1'000'000'000);
  its.it_value = its.it_interval;
  if (timerfd_settime(timer_.get(), 0, &its, nullptr) < 0)
    return Error{errno, fmt::format("timerfd_settime: {}", std::strerror(errno))};
  return {};
}

void Daemon::notify(const std::string& state) {
  if (auto r = sd_notify_state(state); !r) log(Priority::warning, "{}", r.error().message);
}

// A restarted msgtapd (an upgrade, systemctl restart) continues the
// per-queue numbers of the document its predecessor wrote last, if that was
// in this boot: the kernel still holds those queues. Sends made while no
// daemon ran are the kernel's drop_no_listener, not lost silently.
void Daemon::restore_state() {
  stats_since_ = unix_now();
  if (!opt_.restore) return;
  std::ifstream in(opt_.json_path);
  if (!in) return;  // a first start
  std::stringstream text;
  text << in.rdbuf();
  auto j = nlohmann::ordered_json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  auto snap = j.is_discarded() ? Result<stats::Snapshot>(Error{EPROTO, "not JSON"})
                               : exporter::snapshot_from_json(j);
  if (!snap) {
    log(Priority::warning, "not continuing from {}: {}; starting from zero", opt_.json_path,
        snap.error().message);
    return;
  }
  if (snap->boot_id.empty() || snap->boot_id != boot_id_) {
    log(Priority::info, "{} is from another boot: starting from zero", opt_.json_path);
    return;
  }
  std::map<stats::QueueKey, stats::QueueStats> queues;
  for (const auto& row : snap->queues) queues.emplace(row.key, *row.stats);
  log(Priority::info, "continuing from {} (written {:.0f} s ago): {} queues", opt_.json_path,
      unix_now() - snap->timestamp, queues.size());
  aggregator_.restore(std::move(queues), snap->retired, snap->folded.sends);
  restored_ = Restored{opt_.json_path,
                       snap->daemon.drop_no_listener_at_register,
                       snap->daemon.delivered_at_register,
                       snap->daemon.events_received,
                       std::move(snap->kernel),
                       snap->loss};
  logged_folded_ = snap->folded.sends;
  if (snap->stats_since > 0) stats_since_ = snap->stats_since;
}

// The first kernel counters while registered: drop_no_listener no longer
// grows, and the calls the restored counts miss are known.
void Daemon::note_registered(const genl::KernelStats& k) {
  const uint64_t no_listener = k.counter("drop_no_listener");
  no_listener_at_register_ = no_listener;
  if (!restored_) return;
  const Restored& r = *restored_;
  // The module's load id says whether it was reloaded. Without one (a
  // document or a module older than it), the counters say so when one went
  // back: without a reload they only grow.
  bool reloaded = false;
  if (r.kernel.load_id && k.load_id)
    reloaded = *r.kernel.load_id != *k.load_id;
  else
    for (const auto& [name, was] : r.kernel.counters) reloaded = reloaded || k.counter(name) < was;
  // The document's own drop_no_listener was read after its msgtapd had
  // unregistered; the one at its registration is exact (if it has one).
  const uint64_t since = r.no_listener_at_register.value_or(r.kernel.counter("drop_no_listener"));
  if (reloaded) {
    restore_gap_ = r.loss.total() + no_listener;
    log(Priority::warning,
        "the msgtap module was reloaded since {} was written: its losses ({}) and the {} calls "
        "made since the reload without a listener are in restore_gap; calls made while the "
        "module was not loaded are not counted anywhere",
        r.path, r.loss.total(), no_listener);
  } else {
    restore_gap_ = r.loss.seq_gaps + r.loss.restore_gap + (no_listener - since);
    if (no_listener != since)
      log(Priority::warning,
          "{} calls were made while no msgtapd was registered: the counts continued from {} miss "
          "them (restore_gap {})",
          no_listener - since, r.path, restore_gap_);
    // The document covers what its msgtapd had received when it was taken;
    // the kernel delivered more to it if it did not stop cleanly (killed,
    // or it failed), or to another listener since.
    if (r.delivered_at_register && delivered_at_register_) {
      const uint64_t covered = *r.delivered_at_register + r.events_received;
      if (*delivered_at_register_ > covered) {
        const uint64_t after = *delivered_at_register_ - covered;
        restore_gap_ += after;
        log(Priority::warning,
            "{} records were delivered after {} was written (its msgtapd did not stop cleanly, or "
            "another listener ran since): the counts continued from it miss them (restore_gap {})",
            after, r.path, restore_gap_);
      }
    }
  }
  restored_.reset();
}

void Daemon::retire_queues(double now) {
  timespec mono{};
  clock_gettime(CLOCK_MONOTONIC, &mono);
  const uint64_t mono_ns =
      static_cast<uint64_t>(mono.tv_sec) * 1'000'000'000ULL + static_cast<uint64_t>(mono.tv_nsec);
  const bool full = aggregator_.crowded();
  const RetireRule rule{
      now, mono_ns, opt_.retire_after_s, prober_.home_ns(), full, &prober_.orphaned()};
  const size_t n = aggregator_.retire_if(
      [&](const stats::QueueKey& k, const stats::QueueStats& q) { return retire_now(k, q, rule); });
  if (n != 0)
    log(Priority::info, "retired {} removed or unreachable queue(s){}, {} in all", n,
        full ? fmt::format(" without waiting --retire-after: {} of --max-queues {} rows in use",
                           aggregator_.queues().size() + n, opt_.max_queues)
             : "",
        aggregator_.retired().queues);
}

int Daemon::run() {
  epoll_event events[16];
  while (!quit_) {
    const int n = epoll_wait(epoll_.get(), events, 16, epoll_timeout(Clock::now()));
    if (n < 0 && errno != EINTR) {
      log(Priority::err, "epoll_wait: {}", std::strerror(errno));
      return kExitRuntime;
    }
    for (int i = 0; i < n && !quit_; ++i) {
      const uint64_t tag = events[i].data.u64;
      switch (tag) {
        case kTagNetlink:
          read_netlink();
          break;
        case kTagSignal:
          read_signals();
          break;
        case kTagTimer: {
          uint64_t expirations = 0;
          if (::read(timer_.get(), &expirations, sizeof(expirations)) > 0)
            request_round(kWaiterJson);
          break;
        }
        case kTagListener:
          accept_clients();
          break;
        case kTagHttpListener:
          http_->on_listener();
          break;
        default:
          if (!HttpServer::owns(tag))
            client_event(tag, events[i].events);
          else if (auto id = http_->on_event(tag, events[i].events))
            request_round(*id);
          break;
      }
    }
    const auto now = Clock::now();
    drive(syncer_.on_tick(now));
    expire_clients(now);
    if (http_) http_->expire(now);
  }

  // SIGTERM's last round is done. Batches the module delivered after its
  // flush are counted too: unregister first (reading them), then take the
  // last snapshot with the kernel's counters from after that.
  if (final_snap_) {
    auto last = final_snap_;
    if (final_round_ok_ && unregister()) {
      // What was still queued is now drop_undeliverable: with the counters
      // from after the unregister, the document accounts for every record.
      if (auto k = sock_.get_stats(2s); k)
        kernel_ = std::move(*k);
      else
        log(Priority::warning, "kernel counters after unregistering: {}", k.error().message);
      last = std::make_shared<const stats::Snapshot>(snapshot());
    }
    write_files(last, nullptr, /*exports=*/final_round_ok_);
    writer_.finish();
    final_ok_ = final_round_ok_ && writer_.status().last_json_error.empty();
  }
  unregister();      // the other ways out: a second signal, a failed last round
  writer_.finish();  // what they handed to the writer
  listener_.reset();
  ::unlink(opt_.socket_path.c_str());
  log(Priority::info, "exiting");
  return final_ok_ ? kExitOk : kExitRuntime;
}

void Daemon::read_netlink() {
  for (int i = 0; i < kMaxDatagramsPerWake; ++i) {
    auto got = sock_.receive(reader_);
    if (!got) {
      if (got.error().code == ENOBUFS) {
        receiver_.on_overrun();
        const auto c = receiver_.counters().socket_overruns;
        if ((c & (c - 1)) == 0)  // 1, 2, 4, ...: say it, but not every time
          log(Priority::warning,
              "netlink socket overrun #{} (receive buffer {} bytes): the kernel holds batches "
              "back and retries; a larger --rcvbuf avoids the stalls",
              c, sock_.rcvbuf());
        continue;
      }
      log(Priority::err, "{}", got.error().message);
      return;
    }
    if (!*got) {
      drive(syncer_.on_drained());
      return;
    }
  }
}

// Unregisters, once (closing the socket unregisters as well), counting
// every batch that arrives until the kernel's ack. False when this process
// was not registered or the call failed.
bool Daemon::unregister() {
  if (!registered_) return false;
  registered_ = false;
  genl::Sink sink;
  sink.message = [this](genl::Message& m) {
    if (auto* batch = std::get_if<genl::EventBatch>(&m)) receiver_.on_batch(*batch);
  };
  sink.overrun = [this] { receiver_.on_overrun(); };
  if (auto r = sock_.call(MSGTAP_CMD_UNREGISTER, 2s, sink); !r) {
    log(Priority::warning, "{}; closing the socket unregisters as well", r.error().message);
    return false;
  }
  log(Priority::info, "unregistered");
  return true;
}

void Daemon::handle(genl::Message& m) {
  if (auto* batch = std::get_if<genl::EventBatch>(&m)) {
    receiver_.on_batch(*batch);
  } else if (auto* ack = std::get_if<genl::Ack>(&m)) {
    drive(syncer_.on_ack(*ack));
  } else if (auto* reply = std::get_if<genl::StatsReply>(&m)) {
    const SyncStep step = syncer_.on_stats(reply->seq);
    if (step == SyncStep::done) {
      kernel_ = std::move(reply->stats);
      if (!no_listener_at_register_ && registered_ && !final_snap_) note_registered(kernel_);
    }
    drive(step);
  }
}

void Daemon::drive(SyncStep step) {
  while (step != SyncStep::none) {
    switch (step) {
      case SyncStep::send_flush:
      case SyncStep::send_get_stats: {
        const bool flush = step == SyncStep::send_flush;
        auto seq = sock_.send(flush ? MSGTAP_CMD_FLUSH : MSGTAP_CMD_GET_STATS, flush);
        if (seq) {
          syncer_.sent(*seq, Clock::now());
          step = SyncStep::none;
        } else {
          step = syncer_.send_failed(seq.error());
        }
        break;
      }
      case SyncStep::done:
      case SyncStep::failed:
        finish_round(step == SyncStep::done);
        step = syncer_.start(Clock::now());
        break;
      case SyncStep::none:
        break;
    }
  }
}

void Daemon::request_round(WaiterId id) {
  if (id == kWaiterJson) {
    if (json_queued_) return;  // one pending write covers every request
    json_queued_ = true;
  }
  syncer_.enqueue(id);
  drive(syncer_.start(Clock::now()));
}

stats::Snapshot Daemon::snapshot() {
  if (auto drops = sock_.drops())
    socket_drops_ = *drops;
  else
    log(Priority::warning, "{}", drops.error().message);
  stats::DaemonCounters counters = receiver_.counters();
  counters.socket_drops = socket_drops_;
  counters.foreign_datagrams = sock_.foreign_datagrams();
  counters.drop_no_listener_at_register = no_listener_at_register_;
  counters.delivered_at_register = delivered_at_register_;
  counters.restore_gap = restore_gap_;
  // Every record of a call that returned before this round's FLUSH is in.
  aggregator_.settle();
  const double now = unix_now();
  prober_.probe(aggregator_, now);
  stats::Snapshot snap =
      stats::make_snapshot(now, counters, kernel_, aggregator_,
                           have_rate_base_ ? &rate_base_ : nullptr, &prober_.read_at());
  snap.stats_since = stats_since_;
  snap.boot_id = boot_id_;
  return snap;
}

void Daemon::finish_round(bool ok) {
  const auto waiters = syncer_.take_waiters();
  if (!ok) log(Priority::err, "sync with the kernel failed: {}", syncer_.failure());

  // A failed round still produces a document for the file, with the kernel
  // counters of the last good round; clients get the error instead.
  // Shared with the scrapes that render it piece by piece after this round.
  // A reset replaces it for the waiters after it in this round.
  auto shared_snap = std::make_shared<const stats::Snapshot>(snapshot());
  // The JSON document: rendered at most once a round on this thread, and
  // only if a stats client takes it (with 10,000 queues it is megabytes);
  // the writer thread renders the file's if no client did.
  std::shared_ptr<const std::string> doc;
  const auto json_doc = [&]() -> const std::shared_ptr<const std::string>& {
    if (!doc) doc = std::make_shared<const std::string>(exporter::render_json(*shared_snap));
    return doc;
  };
  // Scrapes get the page in pieces as they take it (with 10,000 queues it
  // is 73 MB); the textfile gets it whole (write_interval_exports).
  const exporter::PrometheusOptions prometheus_options{MSGTAP_VERSION, monotonic_ns()};
  if (ok && shared_snap->loss.total() > logged_loss_) {
    logged_loss_ = shared_snap->loss.total();
    std::string line = exporter::render_loss(shared_snap->loss);
    line.pop_back();  // the newline
    log(Priority::warning, "{}", line);
  }
  // A namespace end msgtapd never heard of: its rows may take in the calls
  // of a later namespace with the same inode. Logged once at start for the
  // ends missed while no msgtapd ran, then as more are missed.
  const uint64_t ns_lost = shared_snap->kernel.counter("ipcns_gone_lost");
  const uint64_t ns_gaps = shared_snap->daemon.ipcns_gone_seq_gaps;
  if (ok && ns_lost + ns_gaps > logged_ns_missed_) {
    logged_ns_missed_ = ns_lost + ns_gaps;
    // Lost in the kernel: mostly ends that filled a CPU's ring while no
    // msgtapd read them, which a larger ring would have kept.
    const uint32_t ns_ring = shared_snap->kernel.ns_ring_size;
    log(Priority::warning,
        "ends of IPC namespaces not recorded: {} (kernel ipcns_gone_lost {}, "
        "ipcns_gone_seq_gaps {}); a freed namespace's queues may share rows with a later "
        "namespace's of the same inode{}",
        logged_ns_missed_, ns_lost, ns_gaps,
        ns_lost && ns_ring ? fmt::format("; the module keeps {} per CPU while msgtapd is not "
                                         "running (module parameter ns_ring_size)",
                                         ns_ring)
                           : "");
  }
  if (ok && shared_snap->folded.sends > logged_folded_) {
    const stats::Folded& f = shared_snap->folded;
    log(Priority::warning,
        "{} more calls counted under msqid {}: {} queues have rows ({} of them for ids that "
        "named no queue, of at most {}); raise --max-queues ({}) to keep more apart",
        f.sends - logged_folded_, stats::kFoldMsqid, shared_snap->queues.size(), f.stray_rows,
        f.max_stray, f.max_queues);
    logged_folded_ = f.sends;
  }

  // Without the family, or without our registration, this process can never
  // receive events again: exit so that a restart (systemd Restart=) finds the
  // module and registers anew.
  const bool hopeless =
      !ok && (syncer_.failure_code() == ENOENT || syncer_.failure_code() == ENOTCONN);

  // A stats client in this round renders the document here: the file takes
  // the same one instead of the writer thread rendering it again.
  if (ok && std::any_of(waiters.begin(), waiters.end(), [this](WaiterId id) {
        const auto c = clients_.find(id);
        return c != clients_.end() && c->second.cmd == control::Command::stats;
      }))
    json_doc();

  bool written = false;
  for (const WaiterId id : waiters) {
    const stats::Snapshot& snap = *shared_snap;
    if (id == kWaiterJson) {
      json_queued_ = false;
      // After a failed round only the document (the counts, for --restore):
      // the exports' losses would be a round old and look current. A
      // textfile that stops changing shows in node_textfile_mtime_seconds.
      write_files(shared_snap, doc, /*exports=*/ok);
      written = true;
      // Rates are per interval, and queues retire at interval ends, after a
      // document has shown them removed.
      rate_base_ = stats::make_rate_base(snap);
      have_rate_base_ = true;
      retire_queues(snap.timestamp);
      notify(fmt::format("STATUS={} queues, {} events received, {}", snap.queues.size(),
                         snap.daemon.events_received,
                         snap.loss.nothing_lost()
                             ? std::string("nothing lost")
                             : fmt::format("{} events lost", snap.loss.total())));
    } else if (id == kWaiterShutdown) {
      // The last document is written once the loop has ended (run()): this
      // may run inside a read of the netlink socket, which unregistering
      // reads as well.
      final_snap_ = shared_snap;
      final_round_ok_ = ok;
      written = true;
      quit_ = true;
    } else if (HttpServer::owns(id)) {
      if (ok) {
        auto stream = std::make_shared<exporter::PrometheusStream>(shared_snap, prometheus_options);
        http_->answer(id, [stream](std::string& out) { return stream->next(out); });
      } else {
        http_->answer_failure(id, syncer_.failure());
      }
    } else if (clients_.count(id)) {
      if (!ok)
        answer(id, control::encode_error(syncer_.failure()));
      else if (clients_.at(id).cmd == control::Command::stats)
        answer(id, json_doc());
      else if (clients_.at(id).cmd == control::Command::reset) {
        answer(id, reset_statistics());
        // Later waiters of this round (the interval's file and exports,
        // scrapes, stats clients), and the file right now, see the reset;
        // rates start from it, not from pre-reset counters.
        shared_snap = std::make_shared<const stats::Snapshot>(snapshot());
        doc = std::make_shared<const std::string>(exporter::render_json(*shared_snap));
        write_files(shared_snap, doc, /*exports=*/false);
        rate_base_ = stats::make_rate_base(*shared_snap);
        have_rate_base_ = true;
      } else
        answer(id, status_document(snap));
    }
  }
  if (hopeless) {
    if (!written) write_files(shared_snap, doc, /*exports=*/false);
    log(Priority::err, "no longer registered with msgtap: exiting");
    registered_ = false;
    final_ok_ = false;
    quit_ = true;
  }
}

std::string Daemon::status_document(const stats::Snapshot& snap) const {
  nlohmann::ordered_json d;
  d["pid"] = ::getpid();
  d["version"] = MSGTAP_VERSION;
  d["netlink_portid"] = sock_.portid();
  d["family_id"] = sock_.family_id();
  d["socket"] = opt_.socket_path;
  d["json"] = opt_.json_path;
  d["interval_s"] = opt_.interval_s;
  d["retire_after_s"] = opt_.retire_after_s;
  d["max_queues"] = opt_.max_queues;
  d["ipc_ns"] = prober_.home_ns();
  d["queue_probe_error"] = prober_.last_error();
  d["rcvbuf"] = sock_.rcvbuf();
  d["uptime_s"] = std::chrono::duration<double>(Clock::now() - started_).count();
  d["queues"] = aggregator_.queues().size();
  d["queues_retired"] = aggregator_.retired().queues;
  d["stats_since"] = stats_since_;
  d["seq_regressions"] = receiver_.seq_regressions();
  d["ipcns_gone_seq_regressions"] = receiver_.ns_gone_seq_regressions();
  d["sync_resends"] = syncer_.resends();
  d["flush_retries"] = syncer_.flush_retries();
  const FileWriter::Status files = writer_.status();
  d["json_writes"] = files.json_writes;
  d["json_write_errors"] = files.json_errors;
  d["last_json_error"] = files.last_json_error;
  d["file_writes_pending"] = files.pending;
  d["file_writes_skipped"] = files.skipped;

  nlohmann::ordered_json j;
  j["schema"] = exporter::kSchemaVersion;
  j["timestamp"] = snap.timestamp;
  j["msgtapd"] = std::move(d);
  j["daemon"] = exporter::daemon_to_json(snap.daemon);
  j["kernel"] = exporter::kernel_to_json(snap.kernel, /*extended=*/true);
  j["loss"] = exporter::loss_to_json(snap.loss);
  return j.dump(2) + "\n";
}

// Called when a round that began after the reset request is done: every
// event recorded before the request has been counted, and is now forgotten
// with the rest. Loss and kernel counters are not per-queue and stay.
std::string Daemon::reset_statistics() {
  const stats::RetiredTotals& retired = aggregator_.retired();
  uint64_t sends_ok = retired.sends_ok;
  uint64_t bytes_ok = retired.bytes_ok;
  uint64_t sends_failed = retired.sends_failed;
  for (const auto& [key, q] : aggregator_.queues()) {
    sends_ok += q->send.sends_ok;
    bytes_ok += q->send.bytes_ok;
    sends_failed += q->send.sends_failed;
  }
  nlohmann::ordered_json r;
  r["queues"] = aggregator_.queues().size();
  r["retired_queues"] = retired.queues;
  r["sends_ok"] = sends_ok;
  r["bytes_ok"] = bytes_ok;
  r["sends_failed"] = sends_failed;
  nlohmann::ordered_json j;
  j["reset"] = std::move(r);
  j["previous_stats_since"] = stats_since_;
  aggregator_.reset();
  logged_folded_ = 0;
  stats_since_ = unix_now();
  j["stats_since"] = stats_since_;
  log(Priority::info, "statistics reset: {} queues, {} sends and {} failures forgotten",
      j["reset"]["queues"].get<uint64_t>(), sends_ok, sends_failed);
  return j.dump(2) + "\n";
}

void Daemon::write_files(std::shared_ptr<const stats::Snapshot> snap,
                         std::shared_ptr<const std::string> doc, bool exports) {
  FileWriter::Job job;
  job.json_path = opt_.json_path;
  if (exports) {
    job.textfile = opt_.textfile;
    job.json_lines = opt_.json_lines;
  }
  job.snap = std::move(snap);
  job.json_doc = std::move(doc);
  job.prometheus = exporter::PrometheusOptions{MSGTAP_VERSION, monotonic_ns()};
  writer_.submit(std::move(job));
}

void Daemon::read_signals() {
  signalfd_siginfo si{};
  while (::read(signal_.get(), &si, sizeof(si)) == static_cast<ssize_t>(sizeof(si))) {
    if (si.ssi_signo == SIGHUP) {
      reload();
      request_round(kWaiterJson);
    } else if (!stopping_) {
      log(Priority::info, "{}: flushing, writing {} and unregistering",
          si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT", opt_.json_path);
      begin_shutdown();
    } else {
      log(Priority::warning, "second signal: exiting without the final snapshot");
      quit_ = true;
    }
  }
}

// Applies what can change in a running daemon; the socket paths and the
// receive buffer belong to sockets already open and need a restart.
void Daemon::reload() {
  notify("RELOADING=1");
  Parsed p = parse_options(argc_, argv_, /*reload=*/true);
  if (p.exit_code) {
    log(Priority::err, "SIGHUP: keeping the running configuration: {}", p.error);
    notify("READY=1");
    return;
  }
  Options& n = p.options;
  if (n.socket_path != opt_.socket_path || n.rcvbuf != opt_.rcvbuf ||
      n.metrics_listen != opt_.metrics_listen)
    log(Priority::warning,
        "SIGHUP: socket, rcvbuf and metrics-listen changes take effect at the next restart");
  n.socket_path = opt_.socket_path;
  n.rcvbuf = opt_.rcvbuf;
  n.metrics_listen = opt_.metrics_listen;
  n.metrics_address = opt_.metrics_address;
  const bool new_interval = n.interval_s != opt_.interval_s;
  opt_ = std::move(n);
  aggregator_.set_limits(stats::QueueLimits::with_max(opt_.max_queues));
  if (new_interval) {
    if (auto r = arm_timer(); !r) log(Priority::err, "{}", r.error().message);
    have_rate_base_ = false;  // the next interval starts the rates anew
  }
  log(Priority::info, "SIGHUP: reloaded {}; writing {} every {} s, retiring after {} s",
      p.config_path, opt_.json_path, opt_.interval_s, opt_.retire_after_s);
  notify("READY=1");
}

void Daemon::begin_shutdown() {
  notify("STOPPING=1");
  stopping_ = true;
  // No new clients; those already waiting are answered by the last round.
  epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, listener_.get(), nullptr);
  listener_.reset();
  ::unlink(opt_.socket_path.c_str());
  if (http_) http_->stop_accepting();
  syncer_.enqueue(kWaiterShutdown);
  drive(syncer_.start(Clock::now()));
}

void Daemon::accept_clients() {
  // A SIGTERM earlier in the same batch of events closed the listener.
  if (!listener_.valid()) return;
  for (;;) {
    UniqueFd fd(::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd.valid()) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        log(Priority::warning, "accept: {}", std::strerror(errno));
      return;
    }
    if (clients_.size() >= kMaxClients) continue;  // closed: the client sees EOF
    const uint64_t id = next_client_++;
    if (!add_fd(fd.get(), id, EPOLLIN)) continue;
    ControlClient& c = clients_[id];
    c.fd = std::move(fd);
    c.deadline = Clock::now() + kClientIoTimeout;
  }
}

void Daemon::client_event(uint64_t id, uint32_t events) {
  auto it = clients_.find(id);
  if (it == clients_.end()) return;
  ControlClient& c = it->second;
  switch (c.state) {
    case ControlClient::State::reading:
      switch (read_request(c)) {
        case ReadResult::more:
          return;
        case ReadResult::closed:
          drop_client(id);
          return;
        case ReadResult::invalid:
          answer(id, std::move(c.out));
          return;
        case ReadResult::request: {
          c.state = ControlClient::State::waiting;
          // Only hang-ups are of interest while the client waits.
          epoll_event ev{};
          ev.data.u64 = id;
          epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, c.fd.get(), &ev);
          request_round(id);
          return;
        }
      }
      return;
    case ControlClient::State::waiting:
      if (events & (EPOLLHUP | EPOLLERR)) drop_client(id);  // its answer is skipped
      return;
    case ControlClient::State::writing: {
      const size_t before = c.out_done;
      if (write_answer(c) || (events & (EPOLLHUP | EPOLLERR))) {
        drop_client(id);
        return;
      }
      // The deadline is for a client that takes nothing: one that reads a
      // large answer slowly (through a pager) keeps its connection.
      if (c.out_done != before) c.deadline = Clock::now() + kClientIoTimeout;
      return;
    }
  }
}

void Daemon::answer(uint64_t id, std::shared_ptr<const std::string> doc) {
  ControlClient& c = clients_.at(id);
  c.state = ControlClient::State::writing;
  c.out = std::move(doc);
  c.out_done = 0;
  c.deadline = Clock::now() + kClientIoTimeout;
  if (write_answer(c)) {
    drop_client(id);
    return;
  }
  epoll_event ev{};
  ev.events = EPOLLOUT;
  ev.data.u64 = id;
  epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, c.fd.get(), &ev);
}

void Daemon::drop_client(uint64_t id) {
  auto it = clients_.find(id);
  if (it == clients_.end()) return;
  epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, it->second.fd.get(), nullptr);
  clients_.erase(it);
}

void Daemon::expire_clients(Clock::time_point now) {
  std::erase_if(clients_, [&](const auto& kv) {
    const ControlClient& c = kv.second;
    if (c.state == ControlClient::State::waiting || now < c.deadline) return false;
    epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, c.fd.get(), nullptr);
    return true;
  });
}

int Daemon::epoll_timeout(Clock::time_point now) const {
  std::optional<Clock::time_point> next = syncer_.deadline();
  if (auto h = http_ ? http_->next_deadline() : std::nullopt; h && (!next || *h < *next)) next = h;
  for (const auto& [id, c] : clients_)
    if (c.state != ControlClient::State::waiting && (!next || c.deadline < *next))
      next = c.deadline;
  if (!next) return -1;
  if (*next <= now) return 0;
  // Round up so the deadline has passed when epoll_wait returns.
  return static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(*next - now).count() + 1);
}

Parsed parse_options(int argc, char** argv, bool reload) {
  Parsed p;
  Options& opt = p.options;
  CLI::App app{
      "msgtapd: keeps exact per-queue statistics of SysV msgsnd(2) calls, as recorded by "
      "the msgtap kernel module, writes them as JSON and answers msgtapctl.\n"
      "Needs CAP_NET_ADMIN, and CAP_SYS_ADMIN + CAP_SYS_PTRACE to read the depth of queues in "
      "other IPC namespaces. Every option is also a key of the config file (`interval = 5`); "
      "the command line wins.\n"
      "SIGTERM/SIGINT: flush, write the JSON a last time, unregister, exit. SIGHUP: reload the "
      "config file and write the JSON now.",
      "msgtapd"};
  app.set_version_flag("--version", MSGTAP_VERSION);
  // A missing default file is fine; a missing file named with --config is not.
  app.set_config("--config", kDefaultConfig, "config file (INI: key = value)", false);
  app.allow_config_extras(false);  // a misspelt key is an error that names it
  app.add_option("--socket", opt.socket_path, "control socket for msgtapctl (mode 0600)")
      ->capture_default_str();
  app.add_option("--json", opt.json_path, "snapshot written atomically every interval")
      ->capture_default_str();
  app.add_option("--interval", opt.interval_s, "seconds between JSON snapshots")
      ->capture_default_str()
      ->check(finite_number())
      ->check(CLI::Range(0.01, 86400.0));
  app.add_option("--rcvbuf", opt.rcvbuf, "netlink receive buffer in bytes")
      ->capture_default_str()
      ->check(CLI::Range(65536, 1 << 30));
  app.add_option("--retire-after", opt.retire_after_s,
                 "seconds a removed queue (or one in a namespace no process is known in, idle "
                 "that long) is still shown before it is forgotten")
      ->capture_default_str()
      ->check(finite_number())
      ->check(CLI::Range(0.0, 365.0 * 86400));
  app.add_option("--max-queues", opt.max_queues,
                 "queues kept apart, each with its own statistics (1 KB with one sender and "
                 "mtype, up to about 9 KB with many); a sixteenth "
                 "of them at most for ids that named no queue (made up, or stale). Calls of "
                 "further queues are counted under msqid -1 of their IPC namespace, and as "
                 "folded")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 24));
  // No captured default: CLI11 would print "{false}", the value --no-restore
  // gives, which reads as if restoring were off.
  app.add_flag("--restore,!--no-restore", opt.restore,
               "continue the per-queue numbers of the --json file if it is from this boot "
               "(default: on; config key: restore = false to turn it off)");
  app.add_option("--metrics-listen", opt.metrics_listen,
                 "ADDRESS:PORT of the Prometheus /metrics endpoint ([::1]:9464 for IPv6), or "
                 "none; every scrape is exact (it waits for a flush of the module)")
      ->capture_default_str();
  app.add_option("--textfile", opt.textfile,
                 "also write the Prometheus text to this file (mode 0644) every interval, for "
                 "node_exporter's textfile collector (name it *.prom)");
  app.add_option("--json-lines", opt.json_lines,
                 "append the snapshot as one compact JSON line to this file every interval");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 says "INI was not able to parse KEY" of a key it does not know.
    std::string_view what = e.what();
    constexpr std::string_view kUnknownKey = "INI was not able to parse ";
    if (what.starts_with(kUnknownKey)) {
      p.error =
          fmt::format("{}: unknown key '{}' (the keys are the long options of msgtapd --help)",
                      app.get_config_ptr()->as<std::string>(), what.substr(kUnknownKey.size()));
      if (!reload) log(Priority::err, "{}", p.error);
      p.exit_code = kExitUsage;
      return p;
    }
    if (reload) {
      p.error = e.what();
      p.exit_code = kExitUsage;
      return p;
    }
    const int rc = app.exit(e);
    p.exit_code = rc == 0 ? kExitOk : kExitUsage;
    return p;
  }
  p.config_path = app.get_config_ptr()->as<std::string>();
  auto metrics = parse_listen_address(opt.metrics_listen, "--metrics-listen");
  if (!metrics) {
    if (!reload) log(Priority::err, "{}", metrics.error().message);
    p.error = metrics.error().message;
    p.exit_code = kExitUsage;
    return p;
  }
  opt.metrics_address = std::move(*metrics);
  return p;
}

int run_main(int argc, char** argv) {
  set_log_ident("msgtapd");
  // One malloc arena for both threads: the writer thread renders the
  // documents the event loop used to, and in an arena of its own the freed
  // buffers would stay in the process's memory beside the loop's.
  mallopt(M_ARENA_MAX, 1);
  Parsed parsed = parse_options(argc, argv, /*reload=*/false);
  if (parsed.exit_code) return *parsed.exit_code;
  Options opt = std::move(parsed.options);

  // Signals become signalfd reads; block them before anything can race.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGHUP);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  auto sock = genl::Socket::open({.rcvbuf = opt.rcvbuf});
  if (!sock) {
    log(Priority::err, "{}", sock.error().message);
    return kExitRuntime;
  }
  Daemon daemon(std::move(opt), std::move(*sock), argc, argv);
  if (auto r = daemon.start(); !r) {
    log(Priority::err, "{}", r.error().message);
    return kExitRuntime;
  }
  return daemon.run();
}

}  // namespace
}  // namespace msgtap::daemon

int main(int argc, char** argv) {
  try {
    return msgtap::daemon::run_main(argc, argv);
  } catch (const std::exception& e) {  // out of memory, or a bug
    msgtap::log(msgtap::Priority::err, "fatal: {}", e.what());
    return 1;
  }
}
