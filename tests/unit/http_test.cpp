// SPDX-License-Identifier: GPL-2.0-only
// The /metrics HTTP server: address and request parsing, and whole exchanges
// with real loopback sockets driven through epoll as msgtapd drives them.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/http_server.h"
#include "export/prometheus.h"

namespace msgtap::daemon {
namespace {

constexpr uint64_t kListenerTag = 5;

TEST(ListenAddress, ParsesIpv4Ipv6AndNone) {
  auto a = parse_listen_address("127.0.0.1:9464", "--metrics-listen");
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->has_value());
  const auto* sin = reinterpret_cast<const sockaddr_in*>(&(*a)->addr);
  EXPECT_EQ(sin->sin_family, AF_INET);
  EXPECT_EQ(ntohs(sin->sin_port), 9464);
  EXPECT_EQ(ntohl(sin->sin_addr.s_addr), INADDR_LOOPBACK);

  auto b = parse_listen_address("[::1]:80", "--metrics-listen");
  ASSERT_TRUE(b);
  ASSERT_TRUE(b->has_value());
  EXPECT_EQ((*b)->addr.ss_family, AF_INET6);
  EXPECT_EQ((*b)->len, sizeof(sockaddr_in6));

  auto none = parse_listen_address("none", "--metrics-listen");
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
}

TEST(ListenAddress, RejectsWithTheOptionName) {
  for (const char* bad : {"", "9464", "localhost:9464", "127.0.0.1:", "127.0.0.1:65536",
                          "127.0.0.1:12x", "::1:9464", "[::1]9464", "[nope]:1", "1.2.3:4"}) {
    auto r = parse_listen_address(bad, "--metrics-listen");
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message.find("--metrics-listen"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find(std::string("'") + bad + "'"), std::string::npos);
  }
}

TEST(HttpRequestParse, Lines) {
  using P = HttpRequest::Parse;
  EXPECT_EQ(parse_http_request("GET /metrics HTTP/1.1\r\nHost: x\r\n").parse, P::incomplete);
  auto r = parse_http_request("GET /metrics?x=1 HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(r.parse, P::ok);
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.path, "/metrics");
  EXPECT_EQ(parse_http_request("HEAD /metrics HTTP/1.0\n\n").method, "HEAD");
  EXPECT_EQ(parse_http_request("GET /metrics\r\n\r\n").parse, P::bad);
  EXPECT_EQ(parse_http_request("GET /metrics SPDY/3\r\n\r\n").parse, P::bad);
  EXPECT_EQ(parse_http_request("get /metrics HTTP/1.1\r\n\r\n").parse, P::bad);
  EXPECT_EQ(parse_http_request("GET metrics HTTP/1.1\r\n\r\n").parse, P::bad);
}

TEST(HttpResponse, HeadKeepsTheLength) {
  EXPECT_EQ(http_response(200, "text/plain", "abc"),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n"
            "Connection: close\r\n\r\nabc");
  EXPECT_EQ(http_response(200, "text/plain", "abc", true),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n"
            "Connection: close\r\n\r\n");
}

// The head every 200 answer to /metrics has: chunked for HTTP/1.1
// requests, ended by the connection's end for HTTP/1.0 ones.
constexpr std::string_view kMetricsHead =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
    "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
constexpr std::string_view kMetricsHead10 =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
    "Connection: close\r\n\r\n";

// The body a chunked @response (head included) carries, as an HTTP client
// decodes it; nothing if it is not a whole chunked body (no last chunk).
std::optional<std::string> dechunk(std::string_view response) {
  const size_t head_end = response.find("\r\n\r\n");
  if (head_end == std::string_view::npos) return std::nullopt;
  std::string_view rest = response.substr(head_end + 4);
  std::string body;
  for (;;) {
    const size_t eol = rest.find("\r\n");
    if (eol == std::string_view::npos || eol == 0) return std::nullopt;
    size_t size = 0;
    for (char c : rest.substr(0, eol)) {
      if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
      size = size * 16 + static_cast<size_t>(std::isdigit(static_cast<unsigned char>(c))
                                                 ? c - '0'
                                                 : std::tolower(c) - 'a' + 10);
    }
    rest.remove_prefix(eol + 2);
    if (size == 0) return rest == "\r\n" ? std::optional<std::string>(body) : std::nullopt;
    if (rest.size() < size + 2 || rest.substr(size, 2) != "\r\n") return std::nullopt;
    body += rest.substr(0, size);
    rest.remove_prefix(size + 2);
  }
}

TEST(Dechunk, NeedsTheLastChunk) {
  EXPECT_EQ(dechunk("H\r\n\r\n3\r\nabc\r\n0a\r\n0123456789\r\n0\r\n\r\n"), "abc0123456789");
  EXPECT_FALSE(dechunk("H\r\n\r\n3\r\nabc\r\n"));
  EXPECT_FALSE(dechunk("H\r\n\r\n3\r\nab"));
  EXPECT_FALSE(dechunk("H\r\n\r\nx\r\n0\r\n\r\n"));
}

// A body of one piece: @text, shared by every answer made from this source.
BodySource whole(std::shared_ptr<const std::string> text) {
  auto given = std::make_shared<bool>(false);
  return [text = std::move(text), given](std::string& out) {
    if (*given) return false;
    *given = true;
    out += *text;
    return true;
  };
}
BodySource whole(const std::string& text) {
  return whole(std::make_shared<const std::string>(text));
}

// A server on an ephemeral loopback port, and the loop that drives it.
class Server : public ::testing::Test {
 protected:
  void SetUp() override {
    epoll_.reset(epoll_create1(EPOLL_CLOEXEC));
    ASSERT_TRUE(epoll_.valid());
    server_.emplace(epoll_.get(), kListenerTag);
    auto a = parse_listen_address("127.0.0.1:0", "--metrics-listen");
    ASSERT_TRUE(a && a->has_value());
    auto r = server_->listen(**a);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_NE(server_->port(), 0);
  }

  UniqueFd connect_client() {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(server_->port());
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&sin), sizeof(sin)), 0);
    timeval tv{.tv_sec = 5, .tv_usec = 0};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
  }

  // One turn of the loop; returns the ids that now wait for a round.
  std::vector<uint64_t> pump(int timeout_ms = 200) {
    std::vector<uint64_t> waiting;
    epoll_event ev[8];
    const int n = epoll_wait(epoll_.get(), ev, 8, timeout_ms);
    for (int i = 0; i < n; ++i) {
      if (ev[i].data.u64 == kListenerTag) {
        server_->on_listener();
      } else {
        EXPECT_TRUE(HttpServer::owns(ev[i].data.u64));
        if (auto id = server_->on_event(ev[i].data.u64, ev[i].events)) waiting.push_back(*id);
      }
    }
    return waiting;
  }

  // Pumps until a request waits (or a few turns passed).
  std::optional<uint64_t> pump_until_waiting() {
    for (int i = 0; i < 20; ++i)
      if (auto w = pump(); !w.empty()) return w.front();
    return std::nullopt;
  }

  // Reads until the server closes the connection, pumping meanwhile.
  std::string read_all(int fd) {
    std::string out;
    for (int i = 0; i < 50; ++i) {
      pump(20);
      char buf[4096];
      const ssize_t n = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
      if (n == 0) return out;
      if (n > 0) out.append(buf, static_cast<size_t>(n));
    }
    ADD_FAILURE() << "the server did not close the connection";
    return out;
  }

  static void send_all(int fd, const std::string& s) {
    ASSERT_EQ(::send(fd, s.data(), s.size(), MSG_NOSIGNAL), static_cast<ssize_t>(s.size()));
  }

  UniqueFd epoll_;
  std::optional<HttpServer> server_;
};

TEST_F(Server, MetricsWaitsForTheRoundThenAnswers) {
  UniqueFd c = connect_client();
  send_all(c.get(), "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n");
  const auto id = pump_until_waiting();
  ASSERT_TRUE(id);
  EXPECT_TRUE(HttpServer::owns(*id));
  // Nothing is sent before the round is done.
  char b;
  EXPECT_EQ(::recv(c.get(), &b, 1, MSG_DONTWAIT), -1);
  const std::string body = "msgtap_queues 3\n";
  server_->answer(*id, whole(body));
  const std::string got = read_all(c.get());
  EXPECT_TRUE(got.starts_with(kMetricsHead)) << got;
  EXPECT_EQ(dechunk(got), "msgtap_queues 3\n");
  EXPECT_EQ(server_->clients(), 0U);
  EXPECT_EQ(server_->requests(), 1U);
}

// An HTTP/1.0 client cannot take chunks: its body ends with the connection.
TEST_F(Server, Http10GetsThePlainBody) {
  UniqueFd c = connect_client();
  send_all(c.get(), "GET /metrics HTTP/1.0\r\n\r\n");
  const auto id = pump_until_waiting();
  ASSERT_TRUE(id);
  server_->answer(*id, whole("msgtap_queues 3\n"));
  EXPECT_EQ(read_all(c.get()), std::string(kMetricsHead10) + "msgtap_queues 3\n");
}

// msgtapd stopping mid-scrape (or dropping a stalled reader) closes the
// connection mid-body: without the last chunk the client sees an error,
// not a shorter page that parses.
TEST_F(Server, ABodyCutShortIsNotWhole) {
  UniqueFd c = connect_client();
  send_all(c.get(), "GET /metrics HTTP/1.1\r\n\r\n");
  const auto id = pump_until_waiting();
  ASSERT_TRUE(id);
  server_->answer(*id, [](std::string& out) {
    out += "msgtap_queues 3\n";
    return true;  // endless
  });
  for (int i = 0; i < 5; ++i) pump(0);
  server_.reset();
  std::string got;
  for (int i = 0; i < 1000; ++i) {
    char buf[65536];
    const ssize_t n = ::recv(c.get(), buf, sizeof(buf), 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  EXPECT_NE(got.find("msgtap_queues 3\n"), std::string::npos) << got;
  EXPECT_FALSE(dechunk(got));
}

TEST_F(Server, LargeBodyIsWrittenAsTheClientReads) {
  UniqueFd c = connect_client();
  send_all(c.get(), "GET /metrics HTTP/1.1\r\n\r\n");
  const auto id = pump_until_waiting();
  ASSERT_TRUE(id);
  std::string body;
  while (body.size() < (8 << 20)) body += "msgtap_queue_sends_total{ipc_ns=\"1\",msqid=\"2\"} 3\n";
  server_->answer(*id, whole(body));
  std::string got;
  for (int i = 0; i < 10000; ++i) {
    pump(0);
    char buf[65536];
    const ssize_t n = ::recv(c.get(), buf, sizeof(buf), MSG_DONTWAIT);
    if (n == 0) break;
    if (n > 0) got.append(buf, static_cast<size_t>(n));
  }
  const auto got_body = dechunk(got);
  ASSERT_TRUE(got_body);
  EXPECT_TRUE(*got_body == body);
}

// Scrapes of one round each get all of their body, and the server lets go
// of it once they are written.
TEST_F(Server, ScrapesOfOneRoundEachGetTheWholeBody) {
  UniqueFd a = connect_client();
  send_all(a.get(), "GET /metrics HTTP/1.1\r\n\r\n");
  const auto ida = pump_until_waiting();
  ASSERT_TRUE(ida);
  UniqueFd b = connect_client();
  send_all(b.get(), "GET /metrics HTTP/1.1\r\n\r\n");
  const auto idb = pump_until_waiting();
  ASSERT_TRUE(idb);
  ASSERT_NE(*ida, *idb);
  std::string text;
  while (text.size() < (1 << 20)) text += "msgtap_queue_sends_total{ipc_ns=\"1\",msqid=\"2\"} 3\n";
  const auto body = std::make_shared<const std::string>(text);
  server_->answer(*ida, whole(body));
  server_->answer(*idb, whole(body));
  const std::string head(kMetricsHead);
  // Read both to their end (the server closes each once written).
  std::string got[2];
  bool open[2] = {true, true};
  for (int i = 0; i < 100000 && (open[0] || open[1]); ++i) {
    pump(0);
    for (int k = 0; k < 2; ++k) {
      if (!open[k]) continue;
      char buf[65536];
      const ssize_t n = ::recv((k ? b : a).get(), buf, sizeof(buf), MSG_DONTWAIT);
      if (n == 0) open[k] = false;
      if (n > 0) got[k].append(buf, static_cast<size_t>(n));
    }
  }
  EXPECT_FALSE(open[0] || open[1]) << "the server did not close the connections";
  for (const std::string& g : got) {
    EXPECT_TRUE(g.starts_with(head));
    const auto body_got = dechunk(g);
    ASSERT_TRUE(body_got);
    EXPECT_TRUE(*body_got == text);
  }
  EXPECT_EQ(server_->clients(), 0U);
  EXPECT_EQ(body.use_count(), 1);
}

// A streamed body: the head without a Content-Length, then every piece in
// order as a chunk, one piece per writable event (the loop runs between
// them), then the last chunk, and the connection closes.
TEST_F(Server, StreamedBodyIsMadeOnePieceAtATime) {
  UniqueFd c = connect_client();
  send_all(c.get(), "GET /metrics HTTP/1.1\r\n\r\n");
  const auto id = pump_until_waiting();
  ASSERT_TRUE(id);
  constexpr int kPieces = 200;
  const std::string piece(size_t{64} * 1024, 'x');
  auto made = std::make_shared<int>(0);
  server_->answer(*id, [made, &piece](std::string& out) {
    if (*made == kPieces) return false;
    out += std::to_string((*made)++);
    out += piece;
    out += '\n';
    return true;
  });
  // The head and at most the first piece before the loop turns.
  EXPECT_LE(*made, 1);
  std::string got;
  int most_per_turn = 0;
  for (int i = 0; i < 100000; ++i) {
    const int before = *made;
    pump(0);
    most_per_turn = std::max(most_per_turn, *made - before);
    char buf[65536];
    const ssize_t n = ::recv(c.get(), buf, sizeof(buf), MSG_DONTWAIT);
    if (n == 0) break;
    if (n > 0) got.append(buf, static_cast<size_t>(n));
  }
  EXPECT_EQ(most_per_turn, 1);
  std::string want;
  for (int k = 0; k < kPieces; ++k) want += std::to_string(k) + piece + '\n';
  EXPECT_TRUE(got.starts_with(kMetricsHead));
  const auto body = dechunk(got);
  ASSERT_TRUE(body);
  EXPECT_EQ(body->size(), want.size());
  EXPECT_TRUE(*body == want);
  EXPECT_EQ(server_->clients(), 0U);
  EXPECT_EQ(made.use_count(), 1);  // the server let go of the source
}

// A client that goes away mid-stream is dropped, and no more is made.
TEST_F(Server, StreamStopsWhenTheClientGoes) {
  UniqueFd c = connect_client();
  send_all(c.get(), "GET /metrics HTTP/1.1\r\n\r\n");
  const auto id = pump_until_waiting();
  ASSERT_TRUE(id);
  auto made = std::make_shared<int>(0);
  server_->answer(*id, [made](std::string& out) {
    ++*made;
    out.append(size_t{256} * 1024, 'y');
    return true;  // endless
  });
  for (int i = 0; i < 10; ++i) pump(0);
  c.reset();
  for (int i = 0; i < 200 && server_->clients() != 0; ++i) pump(10);
  EXPECT_EQ(server_->clients(), 0U);
  const int at_close = *made;
  for (int i = 0; i < 10; ++i) pump(0);
  EXPECT_EQ(*made, at_close);
  EXPECT_EQ(made.use_count(), 1);
}

TEST_F(Server, HeadHasNoBody) {
  UniqueFd c = connect_client();
  send_all(c.get(), "HEAD /metrics HTTP/1.1\r\n\r\n");
  const auto id = pump_until_waiting();
  ASSERT_TRUE(id);
  bool made = false;
  server_->answer(*id, [&made](std::string& out) {
    made = true;
    out += "x 1\n";
    return true;
  });
  EXPECT_EQ(read_all(c.get()), kMetricsHead);
  EXPECT_FALSE(made);
}

TEST_F(Server, FailedRoundIs503) {
  UniqueFd c = connect_client();
  send_all(c.get(), "GET /metrics HTTP/1.1\r\n\r\n");
  const auto id = pump_until_waiting();
  ASSERT_TRUE(id);
  server_->answer_failure(*id, "msgtap module not loaded");
  const std::string got = read_all(c.get());
  EXPECT_TRUE(got.starts_with("HTTP/1.1 503 Service Unavailable\r\n")) << got;
  EXPECT_TRUE(got.ends_with("\r\n\r\nmsgtap module not loaded\n")) << got;
}

TEST_F(Server, OtherPathsMethodsAndGarbageAreRefusedWithoutARound) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 404 Not Found\r\n"},
      {"GET /metricsx HTTP/1.1\r\n\r\n", "HTTP/1.1 404 Not Found\r\n"},
      {"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
       "HTTP/1.1 405 Method Not Allowed\r\n"},
      {"hello\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n"},
      {"GET /metrics HTTP/1.1\r\nX: " + std::string(HttpServer::kMaxRequest, 'a'),
       "HTTP/1.1 431 Request Header Fields Too Large\r\n"},
  };
  for (const auto& [request, status] : cases) {
    UniqueFd c = connect_client();
    send_all(c.get(), request);
    std::string got;
    for (int i = 0; i < 50; ++i) {
      EXPECT_TRUE(pump(20).empty()) << request;
      char buf[4096];
      const ssize_t n = ::recv(c.get(), buf, sizeof(buf), MSG_DONTWAIT);
      if (n == 0) break;
      if (n > 0) got.append(buf, static_cast<size_t>(n));
    }
    EXPECT_TRUE(got.starts_with(status)) << request.substr(0, 40) << " -> " << got;
    if (status.find("405") != std::string::npos) {
      EXPECT_NE(got.find("Allow: GET, HEAD\r\n"), std::string::npos);
    }
  }
  EXPECT_EQ(server_->requests(), 0U);
}

TEST_F(Server, ClientsAreBounded) {
  std::vector<UniqueFd> open;
  for (size_t i = 0; i < HttpServer::kMaxClients; ++i) open.push_back(connect_client());
  for (int i = 0; i < 5; ++i) pump(20);
  EXPECT_EQ(server_->clients(), HttpServer::kMaxClients);
  UniqueFd extra = connect_client();
  std::string got;
  for (int i = 0; i < 50; ++i) {
    pump(20);
    char buf[512];
    const ssize_t n = ::recv(extra.get(), buf, sizeof(buf), MSG_DONTWAIT);
    if (n == 0) break;
    if (n > 0) got.append(buf, static_cast<size_t>(n));
  }
  EXPECT_TRUE(got.starts_with("HTTP/1.1 503 ")) << got;
  EXPECT_EQ(server_->clients(), HttpServer::kMaxClients);
}

TEST_F(Server, StalledClientsExpireButWaitingOnesDoNot) {
  UniqueFd idle = connect_client();
  UniqueFd scrape = connect_client();
  send_all(scrape.get(), "GET /metrics HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(pump_until_waiting());
  for (int i = 0; i < 5; ++i) pump(20);
  ASSERT_EQ(server_->clients(), 2U);
  ASSERT_TRUE(server_->next_deadline());
  server_->expire(*server_->next_deadline() + std::chrono::seconds(1));
  EXPECT_EQ(server_->clients(), 1U);  // the one waiting for its round stays
  EXPECT_FALSE(server_->next_deadline());
}

TEST_F(Server, StopAcceptingKeepsOpenClients) {
  UniqueFd c = connect_client();
  send_all(c.get(), "GET /metrics HTTP/1.1\r\n\r\n");
  const auto id = pump_until_waiting();
  ASSERT_TRUE(id);
  server_->stop_accepting();
  EXPECT_EQ(server_->port(), 0);
  server_->answer(*id, whole("x 1\n"));
  EXPECT_EQ(dechunk(read_all(c.get())), "x 1\n");
}

TEST(HttpServerListen, BusyPortNamesTheOption) {
  UniqueFd ep(epoll_create1(EPOLL_CLOEXEC));
  HttpServer a(ep.get(), kListenerTag), b(ep.get(), kListenerTag + 1);
  auto addr = parse_listen_address("127.0.0.1:0", "--metrics-listen");
  ASSERT_TRUE(a.listen(**addr));
  auto taken = parse_listen_address("127.0.0.1:" + std::to_string(a.port()), "--metrics-listen");
  auto r = b.listen(**taken);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("--metrics-listen"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("in use"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace msgtap::daemon
