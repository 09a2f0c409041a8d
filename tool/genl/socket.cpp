// SPDX-License-Identifier: GPL-2.0-only
// The msgtap generic netlink socket, tuned for the event hot path as
// KERNEL-NOTES describes: big receive buffer, no message peeking, one large
// read buffer, no libnl sequence checking (events carry sequence 0; replies
// are matched to requests here).
#include "genl/socket.h"

#include <fmt/format.h>
#include <linux/sock_diag.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "genl/parse.h"

namespace msgtap::genl {

namespace {

// One recvmsg() reads one datagram into the socket's buffer, this big.
// Kernel messages are at most MSGTAP_BATCH_MAX (events) or a page (answers).
constexpr size_t kRecvBuffer = 64 << 10;
static_assert(kRecvBuffer >= MSGTAP_BATCH_MAX);

struct MsgDeleter {
  void operator()(nl_msg* m) const { nlmsg_free(m); }
};

std::string nl_error(int err) { return nl_geterror(err < 0 ? -err : err); }

}  // namespace

void Socket::Deleter::operator()(nl_sock* sk) const { nl_socket_free(sk); }

Socket::Socket(nl_sock* sk, int family) : sk_(sk), family_(family) {}
Socket::Socket(Socket&&) noexcept = default;
Socket& Socket::operator=(Socket&&) noexcept = default;
Socket::~Socket() = default;

Result<Socket> Socket::open(const SocketOptions& options) {
  nl_sock* raw = nl_socket_alloc();
  if (!raw) return Error{ENOMEM, "out of memory allocating a netlink socket"};
  Socket s(raw, 0);

  int err = genl_connect(raw);
  if (err < 0)
    return Error{EIO, fmt::format("cannot open a generic netlink socket: {}", nl_error(err))};

  int id = genl_ctrl_resolve(raw, MSGTAP_GENL_NAME);
  if (id == -NLE_OBJ_NOTFOUND) return Error{ENOENT, std::string(kModuleNotLoaded)};
  if (id < 0)
    return Error{EIO, fmt::format("cannot ask the generic netlink controller for family \"{}\": {}",
                                  MSGTAP_GENL_NAME, nl_error(id))};
  s.family_ = id;

  nl_socket_disable_seq_check(raw);
  nl_socket_disable_auto_ack(raw);  // requests set NLM_F_ACK themselves
  // Reading is Socket::receive()'s own recvmsg() into a buffer kept
  // between reads; libnl only sends.

  const int fd = nl_socket_get_fd(raw);
  const int one = 1;
  // Best effort: without them errors still arrive, just without the kernel's
  // message, and with the request echoed.
  setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));

  // After genl_connect(): connecting resets the buffer size.
  if (options.rcvbuf > 0 &&
      setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &options.rcvbuf, sizeof(options.rcvbuf)) < 0 &&
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &options.rcvbuf, sizeof(options.rcvbuf)) < 0)
    return Error{errno, fmt::format("cannot set the netlink receive buffer to {} bytes: {}",
                                    options.rcvbuf, std::strerror(errno))};

  if ((err = nl_socket_set_nonblocking(raw)) < 0)
    return Error{EIO,
                 fmt::format("cannot make the netlink socket non-blocking: {}", nl_error(err))};
  return s;
}

int Socket::fd() const { return nl_socket_get_fd(sk_.get()); }

uint32_t Socket::portid() const { return nl_socket_get_local_port(sk_.get()); }

int Socket::rcvbuf() const {
  int size = 0;
  socklen_t len = sizeof(size);
  if (getsockopt(fd(), SOL_SOCKET, SO_RCVBUF, &size, &len) < 0) return 0;
  return size;
}

Result<uint32_t> Socket::send(uint8_t cmd, bool ack) { return send_with(cmd, ack, {}); }

Result<uint32_t> Socket::send_with(uint8_t cmd, bool ack, const std::function<int(nl_msg*)>& fill) {
  std::unique_ptr<nl_msg, MsgDeleter> msg(nlmsg_alloc());
  if (!msg) return Error{ENOMEM, "out of memory building a netlink message"};
  uint32_t seq = nl_socket_use_seq(sk_.get());
  if (seq == 0) seq = nl_socket_use_seq(sk_.get());
  if (!genlmsg_put(msg.get(), NL_AUTO_PORT, seq, family_, 0, ack ? NLM_F_ACK : 0, cmd,
                   MSGTAP_GENL_VERSION))
    return Error{ENOMEM, "cannot build a netlink message"};
  if (fill) {
    if (int err = fill(msg.get()); err < 0)
      return Error{EMSGSIZE,
                   fmt::format("cannot build msgtap {}: {}", command_name(cmd), nl_error(err))};
  }
  nl_complete_msg(sk_.get(), msg.get());
  int err = nl_send(sk_.get(), msg.get());
  if (err < 0)
    return Error{EIO, fmt::format("cannot send msgtap {}: {}", command_name(cmd), nl_error(err))};
  return seq;
}

Result<std::optional<Socket::Datagram>> Socket::read_datagram() {
  if (buf_.empty()) buf_.resize(kRecvBuffer);
  sockaddr_nl peer{};
  iovec iov{buf_.data(), buf_.size()};
  msghdr mh{};
  mh.msg_name = &peer;
  mh.msg_namelen = sizeof(peer);
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  ssize_t got;
  while ((got = ::recvmsg(fd(), &mh, 0)) < 0 && errno == EINTR) {
  }
  if (got < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return std::optional<Datagram>{};
    if (errno == ENOBUFS) return Error{ENOBUFS, "netlink receive buffer overrun"};
    return Error{errno, fmt::format("cannot read from netlink: {}", std::strerror(errno))};
  }
  // Only the kernel (port 0) speaks for msgtap. A privileged local process
  // can send a datagram to this port too: it is ignored whole, and a long one
  // is not the kernel's truncated batch either. They are counted.
  if (peer.nl_pid != 0) {
    ++foreign_;
    return std::optional<Datagram>{Datagram{}};
  }
  return std::optional<Datagram>{
      Datagram{.len = static_cast<int>(got), .truncated = (mh.msg_flags & MSG_TRUNC) != 0}};
}

Result<bool> Socket::receive(const Reader& reader) {
  auto got = read_datagram();
  if (!got) return got.error();
  if (!*got) return false;
  static const SendVisitor kDropSend = [](const msgtap_send_event&) {};
  static const NsGoneVisitor kDropNsGone = [](const msgtap_ipcns_event&) {};
  const SendVisitor& send = reader.send ? reader.send : kDropSend;
  const NsGoneVisitor& ns_gone = reader.ns_gone ? reader.ns_gone : kDropNsGone;
  int len = (*got)->len;
  for (auto* h = reinterpret_cast<nlmsghdr*>(buf_.data()); nlmsg_ok(h, len);
       h = nlmsg_next(h, &len)) {
    if (auto defects = visit_if_events(h, family_, send, ns_gone)) {
      if (reader.batch) reader.batch(*defects);
    } else if (reader.message) {
      Message m = parse_message(h, family_);
      reader.message(m);
    }
  }
  // The protocol's datagrams fit the buffer; a longer one lost its end (and
  // the records in it show as sequence gaps).
  if ((*got)->truncated && reader.batch) reader.batch(BatchDefects{1, 0});
  return true;
}

Result<std::vector<Message>> Socket::receive() {
  auto got = read_datagram();
  if (!got) return got.error();
  std::vector<Message> out;
  if (!*got) return out;
  int len = (*got)->len;
  for (auto* h = reinterpret_cast<nlmsghdr*>(buf_.data()); nlmsg_ok(h, len);
       h = nlmsg_next(h, &len))
    out.push_back(parse_message(h, family_));
  if ((*got)->truncated) out.emplace_back(EventBatch{.sends = {}, .ns_gone = {}, .malformed = 1});
  return out;
}

Result<uint64_t> Socket::drops() const {
  uint32_t mem[SK_MEMINFO_VARS] = {};
  socklen_t len = sizeof(mem);
  if (getsockopt(fd(), SOL_SOCKET, SO_MEMINFO, mem, &len) < 0)
    return Error{errno,
                 fmt::format("cannot read socket drops (SO_MEMINFO): {}", std::strerror(errno))};
  if (len <= SK_MEMINFO_DROPS * sizeof(uint32_t))
    return Error{EINVAL, "SO_MEMINFO has no drop counter on this kernel"};
  return uint64_t{mem[SK_MEMINFO_DROPS]};
}

Result<void> Socket::await(uint8_t cmd, std::chrono::milliseconds timeout, const Sink& sink,
                           const std::function<bool(Message&)>& match) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    auto got = receive();
    if (!got) {
      if (got.error().code != ENOBUFS) return got.error();
      if (sink.overrun) sink.overrun();
      continue;
    }
    if (got->empty()) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0)
        return Error{ETIMEDOUT, fmt::format("msgtap {} got no answer within {} ms",
                                            command_name(cmd), timeout.count())};
      pollfd p{fd(), POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count()) + 1) < 0 && errno != EINTR)
        return Error{errno, fmt::format("poll: {}", std::strerror(errno))};
      continue;
    }
    bool done = false;
    for (auto& m : *got) {
      if (!done && match(m))
        done = true;
      else if (sink.message)
        sink.message(m);
    }
    if (done) return {};
  }
}

Result<void> Socket::call(uint8_t cmd, std::chrono::milliseconds timeout, const Sink& sink) {
  return call_with(cmd, timeout, sink, {});
}

Result<void> Socket::call_with(uint8_t cmd, std::chrono::milliseconds timeout, const Sink& sink,
                               const std::function<int(nl_msg*)>& fill) {
  auto seq = send_with(cmd, true, fill);
  if (!seq) return seq.error();
  Ack ack;
  auto r = await(cmd, timeout, sink, [&](Message& m) {
    auto* a = std::get_if<Ack>(&m);
    if (!a || a->seq != *seq) return false;
    ack = std::move(*a);
    return true;
  });
  if (!r) return r.error();
  if (ack.error) return command_error(cmd, ack.error, ack.extack);
  return {};
}

template <typename Reply, typename Value>
Result<Value> Socket::request(uint8_t cmd, std::chrono::milliseconds timeout, const Sink& sink,
                              Value Reply::*value) {
  auto seq = send(cmd, false);
  if (!seq) return seq.error();
  std::optional<Value> answer;
  Ack ack;
  auto r = await(cmd, timeout, sink, [&](Message& m) {
    if (auto* reply = std::get_if<Reply>(&m); reply && reply->seq == *seq) {
      answer = std::move(reply->*value);
      return true;
    }
    if (auto* a = std::get_if<Ack>(&m); a && a->seq == *seq) {
      ack = std::move(*a);
      return true;
    }
    return false;
  });
  if (!r) return r.error();
  if (!answer) return command_error(cmd, ack.error ? ack.error : EPROTO, ack.extack);
  return std::move(*answer);
}

Result<KernelStats> Socket::get_stats(std::chrono::milliseconds timeout, const Sink& sink) {
  return request(MSGTAP_CMD_GET_STATS, timeout, sink, &StatsReply::stats);
}

Result<void> Socket::set_filter(const Filter& filter, std::chrono::milliseconds timeout) {
  return call_with(MSGTAP_CMD_SET_FILTER, timeout, {},
                   [&filter](nl_msg* m) { return put_filter(m, filter); });
}

Result<Filter> Socket::get_filter(std::chrono::milliseconds timeout) {
  return request(MSGTAP_CMD_GET_FILTER, timeout, {}, &FilterReply::filter);
}

}  // namespace msgtap::genl
