// SPDX-License-Identifier: GPL-2.0-only
// A minimal non-blocking HTTP/1.1 server for Prometheus scrapes of /metrics,
// driven by msgtapd's epoll loop: no threads, one request per connection.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/fd.h"
#include "common/result.h"

namespace msgtap::daemon {

// "127.0.0.1:9464", "0.0.0.0:9464", "[::1]:9464", "[::]:9464"; nullopt for
// "none". Addresses only, no host names: resolving would block the loop and
// make the listening address depend on DNS. Errors name @option.
struct ListenAddress {
  sockaddr_storage addr{};
  socklen_t len = 0;
  std::string text;  // as given, for messages
};
Result<std::optional<ListenAddress>> parse_listen_address(std::string_view value,
                                                          std::string_view option);

// What a request's head says. Pure, so the unit tests feed it bytes.
struct HttpRequest {
  enum class Parse {
    incomplete,  // no blank line yet
    ok,
    bad,  // not HTTP: answer 400
  };
  Parse parse = Parse::incomplete;
  std::string method;
  std::string path;     // without the query string
  bool http11 = false;  // HTTP/1.1 (or later 1.x): takes a chunked body
};
HttpRequest parse_http_request(std::string_view data);

// A whole response with Connection: close. @head leaves the body out but
// keeps its Content-Length.
std::string http_response(int status, std::string_view content_type, std::string_view body,
                          bool head = false, std::string_view extra_headers = {});
// The head of a 200 response whose length is not known before the last
// piece. @chunked (HTTP/1.1 clients): Transfer-Encoding: chunked, so that a
// body cut short (msgtapd stopped mid-scrape, a stalled reader dropped) is
// an error for the client, not a shorter page. Otherwise (HTTP/1.0) the
// body ends where the connection does.
std::string http_stream_head(std::string_view content_type, bool chunked);

// A body made as the socket drains: appends its next piece to the string
// and returns true, or returns false once there is no more.
using BodySource = std::function<bool(std::string&)>;

// The server. Its epoll tags and waiter ids are the same number and carry
// kTagBit, so the loop tells them from its own with owns(). A scrape waits
// for a sync round like a msgtapctl request: on_event() returns the id that
// must wait, and the loop calls answer() with the round's rendering.
class HttpServer {
 public:
  static constexpr uint64_t kTagBit = uint64_t{1} << 62;
  static constexpr size_t kMaxClients = 16;
  static constexpr size_t kMaxRequest = 8192;
  static constexpr std::chrono::seconds kIoTimeout{10};
  using Clock = std::chrono::steady_clock;

  // @listener_tag: the epoll tag for the listening socket (without kTagBit).
  HttpServer(int epoll_fd, uint64_t listener_tag) : epoll_(epoll_fd), listener_tag_(listener_tag) {}

  Result<void> listen(const ListenAddress& address);
  // The bound port (for port 0), 0 when not listening.
  uint16_t port() const;
  // No new connections (shutdown); those open are still answered.
  void stop_accepting();

  static bool owns(uint64_t tag) { return (tag & kTagBit) != 0; }
  void on_listener();
  // A client socket is ready. Returns the id of a /metrics request that now
  // waits for a sync round.
  std::optional<uint64_t> on_event(uint64_t tag, uint32_t events);
  // The round for @id is done: @body makes the exposition text piece by
  // piece as the client takes it, one piece per writable event, so that the
  // loop reads events in between and the page (70 MB with 10,000 queues) is
  // never whole in memory.
  void answer(uint64_t id, BodySource body);
  // The round for @id failed: a 503 that says @why.
  void answer_failure(uint64_t id, const std::string& why);

  // Drops clients that stalled while reading or writing.
  void expire(Clock::time_point now);
  std::optional<Clock::time_point> next_deadline() const;

  uint64_t requests() const { return requests_; }
  size_t clients() const { return clients_.size(); }

 private:
  struct Client {
    enum class State { reading, waiting, writing };
    UniqueFd fd;
    State state = State::reading;
    bool head = false;
    bool chunked = false;  // the body goes out in chunks (HTTP/1.1)
    std::string in;
    std::string out;  // the response, its head, or the piece being written
    size_t out_done = 0;
    BodySource source;  // the pieces after `out`
    Clock::time_point deadline{};
  };

  void respond(uint64_t id, std::string response);
  // Writes what it can, making the next piece once `out` is written; true
  // when done (or the peer is gone): then drop.
  static bool flush(Client& c);
  void drop(uint64_t id);
  void watch(int fd, uint64_t tag, uint32_t events, int op) const;

  int epoll_;
  uint64_t listener_tag_;
  UniqueFd listener_;
  std::map<uint64_t, Client> clients_;
  uint64_t next_id_ = 1;
  uint64_t requests_ = 0;
};

}  // namespace msgtap::daemon
