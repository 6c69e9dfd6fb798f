#include "engineio/listener.hpp"

#include <chrono>
#include <optional>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "engineio/http_io.hpp"
#include "engineio/polling.hpp"
#include "engineio/server.hpp"
#include "engineio/ws_connection.hpp"
#include "util/cors.hpp"

namespace bandsync::engineio {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using boost::system::error_code;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
using steady = std::chrono::steady_clock;

struct listener::impl : std::enable_shared_from_this<listener::impl> {
  impl(net::io_context& ioc, server& eio, listener_options o)
      : ioc(ioc),
        eio(eio),
        opts(std::move(o)),
        acceptor(ioc),
        cors(eio.opts().cors_origins),
        limits(std::make_shared<address_limits>(opts.limits)),
        poll(eio, *limits),
        fds(opts.fd_reserve) {}

  net::io_context& ioc;
  server& eio;
  listener_options opts;
  tcp::acceptor acceptor;
  util::cors_policy cors;
  std::shared_ptr<address_limits> limits;
  polling poll;
  http_handler fallback;
  std::vector<std::pair<std::string, std::string>> common_headers;
  size_t connections = 0;
  size_t busy = 0;  // connections inside a request
  std::shared_ptr<ws_context> ws_busy = std::make_shared<ws_context>();  // open WebSockets
  bool stopped = false;
  bool draining = false;  // drain(): no new Engine.IO sessions
  descriptor_gauge fds;

  // Counts a connection as busy for its lifetime.
  struct busy_guard {
    impl* i;
    explicit busy_guard(impl* p) : i(p) { ++i->busy; }
    ~busy_guard() { --i->busy; }
    busy_guard(const busy_guard&) = delete;
    busy_guard& operator=(const busy_guard&) = delete;
  };

  // ---- responses ----

  http::response<http::string_body> make_response(const http_response& r, unsigned version,
                                                  bool keep_alive) const {
    return to_beast(r, version, keep_alive, common_headers);
  }

  // An Engine.IO answer, with its CORS headers.
  http_response with_cors(http_response r, const http_request& req) const {
    cors.apply(req, r.headers);
    return r;
  }

  // ---- accept ----

  error_code start() {
    if (auto ec = open_acceptor(acceptor, opts.host, opts.port)) return ec;
    fds = descriptor_gauge(opts.fd_reserve);  // the limit as raised at start
    net::co_spawn(ioc, accept_loop(shared_from_this()), net::detached);
    return {};
  }

  static net::awaitable<void> accept_loop(std::shared_ptr<impl> self) {
    while (!self->stopped) {
      auto [ec, sock] = co_await self->acceptor.async_accept(use_tuple);
      if (ec) {
        if (ec == net::error::operation_aborted || self->stopped) co_return;
        // EMFILE and friends: back off briefly instead of spinning.
        if (ec == net::error::no_descriptors)
          self->fds.log_pressure(static_cast<int>(self->fds.limit()), "accept failed");
        else
          spdlog::warn("listener: accept failed: {}", ec.message());
        net::steady_timer t(self->ioc, std::chrono::milliseconds(50));
        co_await t.async_wait(use_tuple);
        continue;
      }
      int fd = sock.native_handle();
      if (self->fds.within(fd, self->opts.fd_reserve / 4)) {
        self->fds.log_pressure(fd, "new connections closed at accept");
        sock.close(ec);
        continue;
      }
      if (self->connections + self->ws_busy->open >= self->opts.max_connections) {
        spdlog::warn("listener: connection limit {} reached, refusing", self->opts.max_connections);
        sock.close(ec);
        continue;
      }
      auto remote_ep = sock.remote_endpoint(ec);
      std::string remote = ec ? std::string("unknown") : address_text(remote_ep);
      if (!self->limits->connection_opened(remote, steady::now())) {
        spdlog::debug("listener: {} holds {} connections (the per-address cap): refused", remote,
                      self->limits->connections_of(remote));
        net::co_spawn(self->ioc, refuse(self, std::move(sock), http_error::too_many_connections),
                      net::detached);
        continue;
      }
      auto slot = std::make_unique<connection_slot>(self->limits, std::move(remote));
      sock.set_option(tcp::no_delay(true), ec);
      net::co_spawn(self->ioc, connection(self, std::move(sock), std::move(slot)), net::detached);
    }
  }

  // Answers a connection refused at accept: its request header is read (so
  // that closing does not reset the connection under the answer), never
  // served.
  static net::awaitable<void> refuse(std::shared_ptr<impl> self, tcp::socket sock, http_error e) {
    beast::tcp_stream stream(std::move(sock));
    stream.expires_after(std::chrono::seconds(2));
    beast::flat_buffer buffer;
    http::request_parser<http::empty_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(self->opts.max_header_bytes));
    co_await http::async_read_header(stream, buffer, parser, use_tuple);
    auto res = self->make_response(error_response(e), 11, false);
    co_await http::async_write(stream, res, use_tuple);
    error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  // ---- one HTTP connection ----

  static net::awaitable<void> connection(std::shared_ptr<impl> self, tcp::socket sock,
                                         std::unique_ptr<connection_slot> slot) {
    ++self->connections;
    struct counter_guard {
      impl* i;
      ~counter_guard() { --i->connections; }
    } guard{self.get()};

    const std::string remote = slot->address;
    const int fd = sock.native_handle();
    beast::tcp_stream stream(std::move(sock));
    beast::flat_buffer buffer;
    // A WebSocket upgrade leaves the HTTP loop first, so that the parser and
    // the HTTP read buffer are freed before the long-lived WebSocket session.
    std::optional<http::request<http::string_body>> upgrade_req;
    http_request upgrade_plain;
    const auto& eio_path = self->eio.opts().path;
    const auto eio_path_bare = eio_path.substr(0, eio_path.size() - 1);

    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(self->opts.max_header_bytes));
      parser.body_limit(self->eio.opts().max_payload);
      // The header (and the wait for it on a keep-alive connection) is
      // bounded tightly; a body gets longer.
      stream.expires_after(self->opts.header_timeout);
      auto [rec, hn] = co_await http::async_read_header(stream, buffer, parser, use_tuple);
      if (!rec && !parser.is_done()) {
        stream.expires_after(std::chrono::seconds(60));
        auto [bec, bn] = co_await http::async_read(stream, buffer, parser, use_tuple);
        rec = bec;
      }
      if (rec == http::error::body_limit) {
        // Spec: a payload over maxPayload is refused and the session closed.
        auto& req = parser.get();
        auto target = std::string(req.target());
        auto q = target.find('?');
        auto query = parse_eio_query(q == std::string::npos ? "" : target.substr(q + 1));
        if (!query.sid.empty())
          if (auto s = self->eio.find(query.sid)) s->on_transport_error("payload too large");
        spdlog::info("http: {} sent a body over the {} byte limit", remote,
                     self->eio.opts().max_payload);
        auto res = self->make_response(error_response(http_error::payload_too_large), req.version(),
                                       false);
        co_await http::async_write(stream, res, use_tuple);
        break;
      }
      if (rec) {
        if (rec == beast::error::timeout && buffer.size() > 0)
          spdlog::debug("http: {}: request header not complete within {} ms, closed", remote,
                        self->opts.header_timeout.count());
        if (rec != http::error::end_of_stream && rec != net::error::eof &&
            rec != beast::error::timeout && rec != net::error::connection_reset &&
            rec != net::error::operation_aborted) {
          http_response bad{400, "application/json", R"({"error":"Bad Request"})", {}};
          auto res = self->make_response(bad, 11, false);
          co_await http::async_write(stream, res, use_tuple);
          spdlog::debug("http: bad request from {}: {}", remote, rec.message());
        }
        break;
      }
      busy_guard working(self.get());
      auto req = parser.release();
      auto plain = to_plain(req, remote);
      bool on_eio_path = plain.path == eio_path || plain.path == eio_path_bare;

      if (websocket::is_upgrade(req)) {
        if (on_eio_path) {
          upgrade_req = std::move(req);
          upgrade_plain = std::move(plain);
          break;
        }
        http_response nf{404, "application/json", R"({"error":"Not Found"})", {}};
        auto res = self->make_response(nf, req.version(), false);
        co_await http::async_write(stream, res, use_tuple);
        break;
      }

      session_ptr poll_owner;
      http_response answer;
      if (on_eio_path) {
        stream.expires_never();  // a long-poll may wait up to pingInterval
        answer = co_await self->polling_request(plain, fd, poll_owner);
      } else if (self->fallback) {
        answer = self->fallback(plain);
      } else {
        answer = {404, "application/json", R"({"error":"Not Found"})", {}};
      }
      auto res = self->make_response(answer, req.version(), req.keep_alive());
      stream.expires_after(std::chrono::seconds(30));
      auto [wec, wn] = co_await http::async_write(stream, res, use_tuple);
      if (wec) {
        // The payload of a poll did not reach the client: the session cannot
        // continue without loss, so it closes (the client reconnects).
        if (poll_owner) poll_owner->on_transport_error("transport error");
        break;
      }
      if (!res.keep_alive()) break;
    }
    if (upgrade_req) {
      // Frames the client sent right behind its request are the WebSocket's.
      std::string early = beast::buffers_to_string(buffer.data());
      buffer = beast::flat_buffer();
      co_await self->websocket_session(std::move(stream), std::move(*upgrade_req),
                                       std::move(upgrade_plain), fd, std::move(slot),
                                       std::move(early));
      co_return;
    }
    error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  // ---- HTTP long-polling (the logic is in polling.cpp) ----

  net::awaitable<http_response> polling_request(const http_request& req, int fd,
                                                session_ptr& poll_owner) {
    if (req.method == "OPTIONS") co_return cors.preflight(req);
    bool new_sessions = !draining && !fds.within(fd, opts.fd_reserve);
    auto step = poll.start(req, steady::now(), new_sessions);
    if (!draining && !new_sessions && step.answer && step.answer->status == 503)
      fds.log_pressure(fd, "new Engine.IO sessions refused");
    if (step.answer) co_return with_cors(std::move(*step.answer), req);
    auto s = std::move(step.get);
    poll_owner = s;
    while (s->poll_should_wait()) {
      s->poll_timer().expires_at(net::steady_timer::time_point::max());
      co_await s->poll_timer().async_wait(use_tuple);
    }
    co_return with_cors(poll.finish_get(*s), req);
  }

  // ---- WebSocket transport and upgrade (spec "WebSocket", "Upgrade") ----

  // Why a WebSocket on the Engine.IO path is refused before its handshake.
  std::optional<http_error> websocket_refusal(const http_request& plain, const eio_query& q, int fd,
                                              int& retry_after) {
    if (!cors.allows(plain.header("origin"))) {
      spdlog::info("engineio: websocket from {} refused: origin {} not in CORS_ORIGIN",
                   plain.remote_address, plain.header("origin"));
      return http_error::origin_not_allowed;
    }
    if (auto err = eio.verify(q, "GET", true)) {
      spdlog::debug("engineio: websocket {} from {}: {}", plain.target, plain.remote_address,
                    http_error_message(*err));
      return err;
    }
    if (!q.sid.empty()) return std::nullopt;
    if (draining) return http_error::server_at_capacity;
    if (fds.within(fd, opts.fd_reserve)) {
      fds.log_pressure(fd, "new Engine.IO sessions refused");
      return http_error::server_at_capacity;
    }
    if (!limits->take_handshake(plain.remote_address, steady::now(), retry_after)) {
      spdlog::debug("engineio: websocket from {} refused: over {} handshakes per second",
                    plain.remote_address, limits->opts().handshake_rate);
      return http_error::too_many_handshakes;
    }
    return std::nullopt;
  }

  net::awaitable<void> websocket_session(beast::tcp_stream stream,
                                         http::request<http::string_body> req, http_request plain,
                                         int fd, std::unique_ptr<connection_slot> slot,
                                         std::string early) {
    auto q = parse_eio_query(plain.query);
    int retry_after = 0;
    if (auto refusal = websocket_refusal(plain, q, fd, retry_after)) {
      auto answer = with_cors(error_response(*refusal), plain);
      if (retry_after > 0) answer.headers.emplace_back("Retry-After", std::to_string(retry_after));
      auto res = make_response(answer, req.version(), false);
      stream.expires_after(std::chrono::seconds(5));
      co_await http::async_write(stream, res, use_tuple);
      error_code ec;
      stream.socket().shutdown(tcp::socket::shutdown_send, ec);
      co_return;
    }

    stream.expires_never();
    // Beast answers the upgrade (the 101 with the listener's headers, within
    // its handshake timeout) and is gone after it: the connection reads and
    // writes the frames on the bare socket (ws_connection).
    std::optional<websocket::stream<tcp::socket>> ws(std::in_place, stream.release_socket());
    auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::server);
    timeouts.idle_timeout = websocket::stream_base::none();
    ws->set_option(timeouts);
    ws->set_option(websocket::stream_base::decorator([this](websocket::response_type& res) {
      res.set(http::field::server, "bandsync");
      for (const auto& [k, v] : common_headers) res.set(k, v);
    }));
    auto [aec] = co_await ws->async_accept(req, use_tuple);
    if (aec) co_return;
    auto conn = std::make_shared<ws_connection>(std::move(ws->next_layer()), ws_busy,
                                                std::move(slot), eio.opts().max_payload);
    ws.reset();  // Beast's stream state (~2.6 KB) goes with the handshake

    if (q.sid.empty()) {
      auto s = eio.create_session(transport_kind::websocket, plain.remote_address);
      if (!s) {
        conn->refuse();
        co_return;
      }
      conn->bind(s);
      s->bind_websocket(conn);
      s->send(frame{false, std::make_shared<const std::string>(eio.open_packet(*s))});
      s->start();
      eio.upper().on_open(s);
      if (s->is_open()) conn->run(s, false, eio.opts().upgrade_timeout, std::move(early));
      co_return;
    }
    auto s = eio.find(q.sid);
    if (!s || !s->is_open() || s->upgrading() || s->upgraded()) {
      // As the reference server: a second WebSocket for a session that is
      // upgrading or already on WebSocket is accepted, then closed at once;
      // the session goes on, untouched, on its own transport.
      conn->refuse();
      co_return;
    }
    s->begin_upgrade();
    conn->run(s, true, eio.opts().upgrade_timeout, std::move(early));
    // The coroutine ends here: the connection lives on in its own handlers.
  }
};

listener::listener(net::io_context& ioc, server& eio, listener_options opts)
    : impl_(std::make_shared<impl>(ioc, eio, std::move(opts))) {}

listener::~listener() {
  stop();
}

void listener::set_http_handler(http_handler h) {
  impl_->fallback = std::move(h);
}
void listener::set_common_headers(std::vector<std::pair<std::string, std::string>> headers) {
  impl_->common_headers = std::move(headers);
}

error_code listener::start() {
  return impl_->start();
}

uint16_t listener::port() const {
  error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void listener::drain() {
  impl_->draining = true;
}

void listener::stop() {
  impl_->stopped = true;
  error_code ec;
  impl_->acceptor.close(ec);
}

size_t listener::open_connections() const {
  return impl_->connections + impl_->ws_busy->open;
}

size_t listener::busy_connections() const {
  return impl_->busy;
}

}  // namespace bandsync::engineio
