// SPDX-License-Identifier: GPL-2.0-only
// The msgtap generic netlink socket: RAII over libnl's nl_sock, family
// resolution, commands, and reading messages as plain structs.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "genl/parse.h"
#include "genl/types.h"

struct nl_sock;
struct nl_msg;

namespace msgtap::genl {

// Default receive buffer of the listener socket: room for ~300k records, so
// a burst is absorbed while the daemon is busy (answering a client, writing
// JSON) instead of making the kernel hold batches back.
inline constexpr int kDefaultRcvbuf = 32 << 20;

// What msgtapd and msgtapctl print when the family does not resolve.
inline constexpr std::string_view kModuleNotLoaded =
    "msgtap module not loaded: run `modprobe msgtap` (or insmod msgtap.ko)";

struct SocketOptions {
  // Receive buffer in bytes (SO_RCVBUFFORCE, else SO_RCVBUF capped by
  // net.core.rmem_max); 0 keeps the system default.
  int rcvbuf = 0;
};

// Where a blocking call puts the messages that arrive while it waits for its
// answer (a listener receives events at any time). Empty members drop them.
struct Sink {
  std::function<void(Message&)> message;
  std::function<void()> overrun;
};

class Socket {
 public:
  // Opens a non-blocking generic netlink socket and resolves the family.
  static Result<Socket> open(const SocketOptions& options = {});

  Socket(Socket&&) noexcept;
  Socket& operator=(Socket&&) noexcept;
  ~Socket();

  int fd() const;
  uint32_t portid() const;
  int family_id() const { return family_; }
  // Receive buffer size the kernel reports (twice what was asked for).
  int rcvbuf() const;

  // Sends command @cmd, asking for an ack when @ack. Returns the request's
  // sequence number (never 0: the kernel's events carry 0).
  Result<uint32_t> send(uint8_t cmd, bool ack);

  // Where receive(const Reader&) puts what one datagram holds. Event
  // batches are not collected: each send record goes to @send and each
  // namespace record to @ns_gone as it is read (the hot path), then @batch
  // gets what could not be read in that batch (also once, {1, 0}, for a
  // datagram too long for the buffer). Every other message goes to
  // @message. Empty members drop what they would get.
  struct Reader {
    SendVisitor send;
    NsGoneVisitor ns_gone;
    std::function<void(const BatchDefects&)> batch;
    std::function<void(Message&)> message;
  };
  // Reads one datagram without blocking into the socket's own buffer.
  // Returns false when nothing was waiting. Error ENOBUFS means the socket
  // overran (the kernel dropped datagrams); the socket stays usable.
  Result<bool> receive(const Reader& reader);
  // The same, collected: the datagram's messages, event batches as
  // EventBatch; an empty vector when nothing was waiting.
  Result<std::vector<Message>> receive();

  // Datagrams dropped on this socket so far (SO_MEMINFO, SK_MEMINFO_DROPS).
  Result<uint64_t> drops() const;
  // Datagrams read so far that another process, not the kernel, sent to
  // this socket's port: ignored whole, and counted here.
  uint64_t foreign_datagrams() const { return foreign_; }

  // Blocking round trips for start-up, shutdown and msgtapctl: send, then
  // read until the answer with the same sequence number, at most @timeout.
  Result<void> call(uint8_t cmd, std::chrono::milliseconds timeout, const Sink& sink = {});
  Result<KernelStats> get_stats(std::chrono::milliseconds timeout, const Sink& sink = {});
  // SET_FILTER with @filter (an empty one clears the filter), then the ack.
  Result<void> set_filter(const Filter& filter, std::chrono::milliseconds timeout);
  Result<Filter> get_filter(std::chrono::milliseconds timeout);

 private:
  struct Deleter {
    void operator()(nl_sock* sk) const;
  };
  Socket(nl_sock* sk, int family);
  // send() with attributes: @fill appends them and returns 0 or a negative
  // libnl error.
  Result<uint32_t> send_with(uint8_t cmd, bool ack, const std::function<int(nl_msg*)>& fill);
  // Sends @cmd with @fill's attributes and waits for its ack.
  Result<void> call_with(uint8_t cmd, std::chrono::milliseconds timeout, const Sink& sink,
                         const std::function<int(nl_msg*)>& fill);
  // Sends @cmd without attributes and waits for its @Reply answer (returning
  // its @value) or an error ack.
  template <typename Reply, typename Value>
  Result<Value> request(uint8_t cmd, std::chrono::milliseconds timeout, const Sink& sink,
                        Value Reply::*value);
  // Reads until @match accepts a message; others go to @sink.
  Result<void> await(uint8_t cmd, std::chrono::milliseconds timeout, const Sink& sink,
                     const std::function<bool(Message&)>& match);

  // One datagram read into buf_: how many bytes of it to parse (0 for a
  // datagram that is not the kernel's), and whether it was longer than buf_.
  struct Datagram {
    int len = 0;
    bool truncated = false;
  };
  // recvmsg() of one datagram into buf_, without blocking: nothing when
  // none was waiting.
  Result<std::optional<Datagram>> read_datagram();

  std::unique_ptr<nl_sock, Deleter> sk_;
  int family_ = 0;
  std::vector<unsigned char> buf_;  // receive()'s datagram buffer
  uint64_t foreign_ = 0;            // foreign_datagrams()
};

}  // namespace msgtap::genl
