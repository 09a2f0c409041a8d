// SPDX-License-Identifier: GPL-2.0-only
// The /metrics HTTP server: just enough HTTP/1.1 for Prometheus and curl.
// Every answer closes the connection, so there is no keep-alive state, no
// pipelining and no chunking; bounds on clients, request size and time keep
// a slow or hostile peer from holding the daemon's memory.
#include "daemon/http_server.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "export/prometheus.h"

namespace msgtap::daemon {

namespace {

std::string_view reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 431:
      return "Request Header Fields Too Large";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

constexpr std::string_view kTextPlain = "text/plain; charset=utf-8";

}  // namespace

Result<std::optional<ListenAddress>> parse_listen_address(std::string_view value,
                                                          std::string_view option) {
  if (value == "none") return std::optional<ListenAddress>{};
  auto bad = [&](std::string_view why) {
    return Error{EINVAL, fmt::format("{}: '{}' {}; give ADDRESS:PORT such as 127.0.0.1:9464, "
                                     "0.0.0.0:9464 or [::1]:9464, or none",
                                     option, value, why)};
  };
  std::string host;
  std::string_view port_text;
  bool v6 = false;
  if (value.starts_with('[')) {
    const size_t close = value.find("]:");
    if (close == std::string_view::npos) return bad("has no ]:PORT after the IPv6 address");
    host = value.substr(1, close - 1);
    port_text = value.substr(close + 2);
    v6 = true;
  } else {
    const size_t colon = value.rfind(':');
    if (colon == std::string_view::npos) return bad("has no :PORT");
    host = value.substr(0, colon);
    port_text = value.substr(colon + 1);
  }
  unsigned port = 0;
  auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || p != port_text.data() + port_text.size() ||
      port > 65535)
    return bad("has no port number from 0 to 65535");

  ListenAddress a;
  a.text = std::string(value);
  if (v6) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&a.addr);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET6, host.c_str(), &sin6->sin6_addr) != 1)
      return bad("is not an IPv6 address in brackets");
    a.len = sizeof(*sin6);
  } else {
    auto* sin = reinterpret_cast<sockaddr_in*>(&a.addr);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET, host.c_str(), &sin->sin_addr) != 1)
      return bad("is not an IPv4 address (host names are not resolved)");
    a.len = sizeof(*sin);
  }
  return std::optional<ListenAddress>{std::move(a)};
}

HttpRequest parse_http_request(std::string_view data) {
  HttpRequest r;
  size_t end = data.find("\r\n\r\n");
  if (end == std::string_view::npos) end = data.find("\n\n");
  if (end == std::string_view::npos) return r;

  std::string_view line = data.substr(0, data.find('\n'));
  if (line.ends_with('\r')) line.remove_suffix(1);
  r.parse = HttpRequest::Parse::bad;
  const size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0) return r;
  const size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 == sp1 + 1) return r;
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!version.starts_with("HTTP/1.") || version.size() != 8) return r;
  for (char c : method)
    if (c < 'A' || c > 'Z') return r;
  if (!target.starts_with('/')) return r;
  r.method = std::string(method);
  r.path = std::string(target.substr(0, target.find('?')));
  r.http11 = version != "HTTP/1.0";
  r.parse = HttpRequest::Parse::ok;
  return r;
}

std::string http_response(int status, std::string_view content_type, std::string_view body,
                          bool head, std::string_view extra_headers) {
  std::string out = fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n{}\r\n",
      status, reason(status), content_type, body.size(), extra_headers);
  if (!head) out += body;
  return out;
}

std::string http_stream_head(std::string_view content_type, bool chunked) {
  return fmt::format("HTTP/1.1 200 OK\r\nContent-Type: {}\r\n{}Connection: close\r\n\r\n",
                     content_type, chunked ? "Transfer-Encoding: chunked\r\n" : "");
}

Result<void> HttpServer::listen(const ListenAddress& address) {
  const int family = address.addr.ss_family;
  UniqueFd fd(::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  auto fail = [&](std::string_view what) {
    return Error{errno, fmt::format("cannot serve /metrics on {}: {}: {} (--metrics-listen none "
                                    "turns the endpoint off)",
                                    address.text, what, std::strerror(errno))};
  };
  if (!fd.valid()) return fail("socket");
  const int one = 1;
  // A restarted daemon must get its port back while old connections linger.
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address.addr), address.len) < 0)
    return fail("bind");
  if (::listen(fd.get(), static_cast<int>(kMaxClients)) < 0) return fail("listen");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = listener_tag_;
  if (epoll_ctl(epoll_, EPOLL_CTL_ADD, fd.get(), &ev) < 0) return fail("epoll_ctl");
  listener_ = std::move(fd);
  return {};
}

uint16_t HttpServer::port() const {
  if (!listener_.valid()) return 0;
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&ss), &len) < 0) return 0;
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}

void HttpServer::stop_accepting() {
  if (!listener_.valid()) return;
  epoll_ctl(epoll_, EPOLL_CTL_DEL, listener_.get(), nullptr);
  listener_.reset();
}

void HttpServer::watch(int fd, uint64_t tag, uint32_t events, int op) const {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = tag;
  epoll_ctl(epoll_, op, fd, &ev);
}

void HttpServer::on_listener() {
  while (listener_.valid()) {
    UniqueFd fd(::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd.valid()) return;  // EAGAIN, or an error the next accept sees again
    if (clients_.size() >= kMaxClients) {
      // Best effort: a fresh socket's send buffer takes this at once.
      const std::string busy = http_response(503, kTextPlain, "too many clients\n");
      [[maybe_unused]] ssize_t n = ::send(fd.get(), busy.data(), busy.size(), MSG_NOSIGNAL);
      continue;
    }
    const uint64_t id = kTagBit | next_id_++;
    watch(fd.get(), id, EPOLLIN, EPOLL_CTL_ADD);
    Client& c = clients_[id];
    c.fd = std::move(fd);
    c.deadline = Clock::now() + kIoTimeout;
  }
}

std::optional<uint64_t> HttpServer::on_event(uint64_t id, uint32_t events) {
  auto it = clients_.find(id);
  if (it == clients_.end()) return std::nullopt;
  Client& c = it->second;
  switch (c.state) {
    case Client::State::reading: {
      // Read what is there even past the limit (up to a bound per wake-up):
      // closing a socket with unread input resets the connection, and the
      // peer would lose the error answer.
      char buf[2048];
      bool eof = false;
      for (size_t drained = 0; drained < 16 * kMaxRequest;) {
        const ssize_t n = ::recv(c.fd.get(), buf, sizeof(buf), 0);
        if (n > 0) {
          drained += static_cast<size_t>(n);
          if (c.in.size() <= kMaxRequest)
            c.in.append(buf, std::min(static_cast<size_t>(n), kMaxRequest + 1 - c.in.size()));
          continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
          drop(id);
          return std::nullopt;
        }
        eof = true;  // a client may shut down its side after the request
        break;
      }
      const HttpRequest r = parse_http_request(c.in);
      if (r.parse == HttpRequest::Parse::incomplete && eof) {
        drop(id);
        return std::nullopt;
      }
      if (r.parse == HttpRequest::Parse::incomplete) {
        if (c.in.size() > kMaxRequest)
          respond(id, http_response(431, kTextPlain, "request too large\n"));
        return std::nullopt;
      }
      if (r.parse == HttpRequest::Parse::bad) {
        respond(id, http_response(400, kTextPlain, "not an HTTP/1.x request\n"));
        return std::nullopt;
      }
      const bool head = r.method == "HEAD";
      if (r.method != "GET" && !head) {
        respond(id, http_response(405, kTextPlain, "only GET and HEAD\n", false,
                                  "Allow: GET, HEAD\r\n"));
        return std::nullopt;
      }
      if (r.path != "/metrics") {
        respond(id, http_response(404, kTextPlain, "msgtapd serves /metrics only\n", head));
        return std::nullopt;
      }
      ++requests_;
      c.head = head;
      c.chunked = r.http11;
      c.state = Client::State::waiting;
      // Only hang-ups are of interest while the scrape waits for its round.
      watch(c.fd.get(), id, 0, EPOLL_CTL_MOD);
      return id;
    }
    case Client::State::waiting:
      if (events & (EPOLLHUP | EPOLLERR)) drop(id);  // its answer is skipped
      return std::nullopt;
    case Client::State::writing:
      if (flush(c) || (events & (EPOLLHUP | EPOLLERR))) drop(id);
      return std::nullopt;
  }
  return std::nullopt;
}

void HttpServer::answer(uint64_t id, BodySource body) {
  auto it = clients_.find(id);
  if (it == clients_.end() || it->second.state != Client::State::waiting) return;
  if (!it->second.head) it->second.source = std::move(body);
  respond(id, http_stream_head(exporter::kPrometheusContentType, it->second.chunked));
}

void HttpServer::answer_failure(uint64_t id, const std::string& why) {
  auto it = clients_.find(id);
  if (it == clients_.end() || it->second.state != Client::State::waiting) return;
  respond(id, http_response(503, kTextPlain, why + "\n", it->second.head));
}

void HttpServer::respond(uint64_t id, std::string response) {
  Client& c = clients_.at(id);
  c.state = Client::State::writing;
  c.out = std::move(response);
  c.out_done = 0;
  c.deadline = Clock::now() + kIoTimeout;
  if (flush(c)) {
    drop(id);
    return;
  }
  watch(c.fd.get(), id, EPOLLOUT, EPOLL_CTL_MOD);
}

bool HttpServer::flush(Client& c) {
  if (!send_rest(c.fd.get(), c.out, c.out_done)) return false;
  // All written, or the peer is gone.
  if (!c.source || c.out_done < c.out.size()) return true;
  // One piece per call: the loop reads events before the next.
  c.out.clear();
  c.out_done = 0;
  // A chunk's size line has a fixed width, filled in once the piece is made
  // (leading zeros are allowed), so the piece is made in place.
  constexpr std::string_view kSizeLine = "00000000\r\n";
  if (c.chunked) c.out = kSizeLine;
  if (!c.source(c.out) || c.out.size() == (c.chunked ? kSizeLine.size() : 0)) {
    if (!c.chunked) return true;
    // The last chunk: the body is whole.
    c.out = "0\r\n\r\n";
    c.source = nullptr;
  } else if (c.chunked) {
    const std::string size = fmt::format("{:08x}", c.out.size() - kSizeLine.size());
    c.out.replace(0, size.size(), size);
    c.out += "\r\n";
  }
  // A client that keeps taking pieces is not stalled, however long the
  // whole page takes.
  c.deadline = Clock::now() + kIoTimeout;
  const bool all = send_rest(c.fd.get(), c.out, c.out_done);
  return all && c.out_done < c.out.size();  // the peer is gone
}

void HttpServer::drop(uint64_t id) {
  auto it = clients_.find(id);
  if (it == clients_.end()) return;
  epoll_ctl(epoll_, EPOLL_CTL_DEL, it->second.fd.get(), nullptr);
  clients_.erase(it);
}

void HttpServer::expire(Clock::time_point now) {
  std::erase_if(clients_, [&](const auto& kv) {
    const Client& c = kv.second;
    if (c.state == Client::State::waiting || now < c.deadline) return false;
    epoll_ctl(epoll_, EPOLL_CTL_DEL, c.fd.get(), nullptr);
    return true;
  });
}

std::optional<HttpServer::Clock::time_point> HttpServer::next_deadline() const {
  std::optional<Clock::time_point> next;
  for (const auto& [id, c] : clients_)
    if (c.state != Client::State::waiting && (!next || c.deadline < *next)) next = c.deadline;
  return next;
}

}  // namespace msgtap::daemon
