#include "engineio/listener.hpp"

#include <chrono>
#include <optional>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "engineio/server.hpp"

namespace bandsync::engineio {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using boost::system::error_code;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

namespace {

std::string address_text(const tcp::endpoint& ep) {
  auto a = ep.address();
  if (a.is_v6() && a.to_v6().is_v4_mapped())
    return net::ip::make_address_v4(net::ip::v4_mapped, a.to_v6()).to_string();
  return a.to_string();
}

http_request to_plain(const http::request<http::string_body>& req, const std::string& remote) {
  http_request r;
  r.method = std::string(req.method_string());
  r.target = std::string(req.target());
  auto q = r.target.find('?');
  r.path = r.target.substr(0, q);
  if (q != std::string::npos) r.query = r.target.substr(q + 1);
  for (const auto& f : req) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers.emplace_back(std::move(name), std::string(f.value()));
  }
  r.body = req.body();
  r.remote_address = remote;
  return r;
}

// A WebSocket bound (or being upgraded) to an Engine.IO session: Beast's
// do_x/on_x pairs, no coroutine, so that an idle connection costs only this
// object, the Beast stream and the pending read's buffer. Writes come from the
// session's queue one at a time; the probe answer goes first.
class ws_connection : public ws_link, public std::enable_shared_from_this<ws_connection> {
 public:
  // The WebSocket runs on the bare socket: its own timer covers the
  // handshake and idle timeouts, so tcp_stream's per-connection state is not
  // kept for the connection's life.
  ws_connection(tcp::socket&& socket, std::shared_ptr<size_t> busy)
      : ws_(std::move(socket)), busy_(std::move(busy)), upgrade_timer_(ws_.get_executor()) {
    ++*busy_;
  }
  ~ws_connection() override { --*busy_; }

  websocket::stream<tcp::socket>& ws() { return ws_; }

  // The session whose queue this WebSocket writes (set before anything is sent).
  void bind(session_ptr s) { session_ = std::move(s); }

  // Reads packets for `s`. With `probing`, `s` is a polling session being
  // upgraded (spec "Upgrade"): only "2probe" and "5" are expected, within
  // `upgrade_timeout`.
  void run(session_ptr s, bool probing, std::chrono::milliseconds upgrade_timeout) {
    session_ = std::move(s);
    probing_ = probing;
    if (probing_) {
      upgrade_timer_.expires_after(upgrade_timeout);
      upgrade_timer_.async_wait([weak = weak_from_this()](error_code ec) {
        if (ec) return;
        if (auto self = weak.lock()) self->finish("upgrade timeout");
      });
    }
    do_read();
  }

  void wake() override {
    if (!writing_) do_write();
  }

  void shutdown() override {
    closing_ = true;
    wake();
  }

 private:
  void do_read() {
    // Small reads: a pending read reserves only read_chunk bytes, which every
    // idle connection pays; larger messages take a few reads.
    ws_.async_read_some(buf_, read_chunk,
                        [self = shared_from_this()](error_code ec, size_t) { self->on_read(ec); });
  }

  void on_read(error_code ec) {
    if (!ec && !ws_.is_message_done()) return do_read();  // the rest of the message
    if (ec) {
      if (ec == websocket::error::message_too_big) {
        spdlog::info("engineio: session {}: websocket message over the size limit", session_->id());
        return finish("payload too large");
      }
      return finish(ec == websocket::error::closed ? "transport close" : "transport error");
    }
    std::string_view data(static_cast<const char*>(buf_.data().data()), buf_.size());
    packet p;
    if (ws_.got_binary()) {
      p = packet{packet_type::message, true, std::string(data)};
    } else {
      auto decoded = decode_packet(data);
      if (!decoded) {
        spdlog::info("engineio: session {} closed: bad packet ({})", session_->id(),
                     decoded.error().message());
        return finish("parse error");
      }
      p = std::move(*decoded);
    }
    // A large message must not pin its buffer for the life of the connection.
    if (buf_.capacity() > 4 * read_chunk)
      buf_ = beast::flat_buffer();
    else
      buf_.clear();

    if (probing_) {
      if (p.type == packet_type::ping && p.data == "probe") {
        probe_answer_ = make_text_frame(packet_type::pong, "probe");
        wake();
        return do_read();
      }
      if (p.type == packet_type::upgrade && session_->is_open()) {
        upgrade_timer_.cancel();
        probing_ = false;
        session_->complete_upgrade(shared_from_this());
        return do_read();
      }
      // Anything else during the probe: this WebSocket fails; the polling
      // session goes on as before.
      return finish("bad upgrade");
    }
    session_->on_packet(std::move(p));
    if (!session_->is_open()) return;  // closed: shutdown() was called
    do_read();
  }

  // The one close path of the connection.
  void finish(std::string_view reason) {
    if (finished_) return;
    finished_ = true;
    upgrade_timer_.cancel();
    if (probing_) {
      session_->abort_upgrade();
      session_.reset();  // never write the polling session's frames here
    } else if (session_->is_open()) {
      session_->on_transport_error(reason);
    }
    shutdown();
  }

  const frame* next_frame() const {
    if (probe_answer_.data) return &probe_answer_;
    if (session_ && session_->transport() == transport_kind::websocket && session_->has_frames())
      return &session_->front_frame();
    return nullptr;
  }

  void do_write() {
    const frame* f = next_frame();
    if (!f) {
      if (closing_ && !closed_) {
        closed_ = true;
        writing_ = true;
        ws_.async_close(websocket::close_code::normal,
                        [self = shared_from_this()](error_code) { self->writing_ = false; });
      }
      return;
    }
    writing_ = true;
    from_probe_ = f == &probe_answer_;
    held_ = f->data;  // keeps the bytes alive while the write is in flight
    ws_.text(!f->binary);
    ws_.async_write(net::buffer(*held_),
                    [self = shared_from_this()](error_code ec, size_t) { self->on_write(ec); });
  }

  void on_write(error_code ec) {
    writing_ = false;
    held_.reset();
    if (ec) {
      closed_ = true;
      if (session_ && session_->transport() == transport_kind::websocket)
        session_->on_transport_error("transport error");
      return;
    }
    if (from_probe_)
      probe_answer_ = frame{};
    else if (session_ && session_->has_frames())
      session_->pop_frame();
    do_write();
  }

  static constexpr size_t read_chunk = 256;  // most client packets are smaller

  websocket::stream<tcp::socket> ws_;
  std::shared_ptr<size_t> busy_;
  net::steady_timer upgrade_timer_;
  beast::flat_buffer buf_;
  session_ptr session_;
  frame probe_answer_;
  std::shared_ptr<const std::string> held_;
  bool probing_ = false;
  bool writing_ = false;
  bool from_probe_ = false;
  bool closing_ = false;
  bool closed_ = false;
  bool finished_ = false;
};

}  // namespace

struct listener::impl : std::enable_shared_from_this<listener::impl> {
  impl(net::io_context& ioc, server& eio, listener_options o)
      : ioc(ioc), eio(eio), opts(std::move(o)), acceptor(ioc) {}

  net::io_context& ioc;
  server& eio;
  listener_options opts;
  tcp::acceptor acceptor;
  http_handler fallback;
  admission admit;
  std::vector<std::pair<std::string, std::string>> common_headers;
  size_t connections = 0;
  size_t busy = 0;                                                // connections inside a request
  std::shared_ptr<size_t> ws_busy = std::make_shared<size_t>(0);  // open WebSockets
  bool stopped = false;

  // Counts a connection as busy for its lifetime.
  struct busy_guard {
    impl* i;
    explicit busy_guard(impl* p) : i(p) { ++i->busy; }
    ~busy_guard() { --i->busy; }
    busy_guard(const busy_guard&) = delete;
    busy_guard& operator=(const busy_guard&) = delete;
  };

  // ---- responses ----

  void add_cors(http::response<http::string_body>& res, const http_request& req) const {
    auto origin = req.header("origin");
    const auto& allowed = eio.opts().cors_origins;
    bool any = std::find(allowed.begin(), allowed.end(), "*") != allowed.end();
    if (origin.empty()) {
      if (any) res.set(http::field::access_control_allow_origin, "*");
      return;
    }
    if (!any && std::find(allowed.begin(), allowed.end(), origin) == allowed.end()) return;
    res.set(http::field::access_control_allow_origin, origin);
    res.set(http::field::vary, "Origin");
    if (eio.opts().cors_credentials) res.set(http::field::access_control_allow_credentials, "true");
  }

  http::response<http::string_body> make_response(const http_response& r, unsigned version,
                                                  bool keep_alive) const {
    http::response<http::string_body> res{static_cast<http::status>(r.status), version};
    res.set(http::field::server, "bandsync");
    for (const auto& [k, v] : common_headers) res.set(k, v);
    if (!r.content_type.empty()) res.set(http::field::content_type, r.content_type);
    for (const auto& [k, v] : r.headers) res.set(k, v);
    res.body() = r.body;
    res.keep_alive(keep_alive);
    res.prepare_payload();
    return res;
  }

  static http_response eio_error(http_error e) {
    return {http_error_status(e), "application/json", http_error_body(e), {}};
  }

  // ---- accept ----

  error_code start() {
    error_code ec;
    auto addr = net::ip::make_address(opts.host, ec);
    if (ec) return ec;
    tcp::endpoint ep(addr, opts.port);
    acceptor.open(ep.protocol(), ec);
    if (ec && addr.is_v6() && addr.to_v6().is_unspecified()) {
      // No IPv6 on this host: serve IPv4 on every interface instead.
      ep = tcp::endpoint(net::ip::address_v4::any(), opts.port);
      acceptor.open(ep.protocol(), ec);
    }
    if (ec) return ec;
    acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (ep.address().is_v6()) acceptor.set_option(net::ip::v6_only(false), ec);
    acceptor.bind(ep, ec);
    if (ec) return ec;
    acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (ec) return ec;
    net::co_spawn(ioc, accept_loop(shared_from_this()), net::detached);
    return {};
  }

  static net::awaitable<void> accept_loop(std::shared_ptr<impl> self) {
    while (!self->stopped) {
      auto [ec, sock] = co_await self->acceptor.async_accept(use_tuple);
      if (ec) {
        if (ec == net::error::operation_aborted || self->stopped) co_return;
        // EMFILE and friends: back off briefly instead of spinning.
        spdlog::warn("listener: accept failed: {}", ec.message());
        net::steady_timer t(self->ioc, std::chrono::milliseconds(50));
        co_await t.async_wait(use_tuple);
        continue;
      }
      if (self->connections + *self->ws_busy >= self->opts.max_connections) {
        spdlog::warn("listener: connection limit {} reached, refusing", self->opts.max_connections);
        sock.close(ec);
        continue;
      }
      sock.set_option(tcp::no_delay(true), ec);
      net::co_spawn(self->ioc, connection(self, std::move(sock)), net::detached);
    }
  }

  // ---- one HTTP connection ----

  static net::awaitable<void> connection(std::shared_ptr<impl> self, tcp::socket sock) {
    ++self->connections;
    struct counter_guard {
      impl* i;
      ~counter_guard() { --i->connections; }
    } guard{self.get()};

    error_code ec;
    auto remote_ep = sock.remote_endpoint(ec);
    std::string remote = ec ? std::string("unknown") : address_text(remote_ep);
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
      // Idle keep-alive connections and slow senders are dropped after a while.
      stream.expires_after(std::chrono::seconds(60));
      auto [rec, n] = co_await http::async_read(stream, buffer, parser, use_tuple);
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
        http_response too_large{
            413, "application/json", R"({"code":3,"message":"Payload too large"})", {}};
        auto res = self->make_response(too_large, req.version(), false);
        co_await http::async_write(stream, res, use_tuple);
        break;
      }
      if (rec) {
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
      bool engine_io = on_eio_path;
      if (engine_io) {
        stream.expires_never();  // a long-poll may wait up to pingInterval
        answer = co_await self->polling(plain, poll_owner);
      } else if (self->fallback) {
        answer = self->fallback(plain);
      } else {
        answer = {404, "application/json", R"({"error":"Not Found"})", {}};
      }
      auto res = self->make_response(answer, req.version(), req.keep_alive());
      if (engine_io) self->add_cors(res, plain);
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
      buffer = beast::flat_buffer();
      co_await self->websocket_session(std::move(stream), std::move(*upgrade_req),
                                       std::move(upgrade_plain));
      co_return;
    }
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  // ---- HTTP long-polling (spec "HTTP long-polling") ----

  net::awaitable<http_response> polling(const http_request& req, session_ptr& poll_owner) {
    if (req.method == "OPTIONS") {
      http_response pre{204, "", "", {}};
      pre.headers.emplace_back("Access-Control-Allow-Methods", "GET,HEAD,PUT,PATCH,POST,DELETE");
      auto want = req.header("access-control-request-headers");
      if (!want.empty())
        pre.headers.emplace_back("Access-Control-Allow-Headers", std::string(want));
      pre.headers.emplace_back("Vary", "Access-Control-Request-Headers");
      co_return pre;
    }
    auto q = parse_eio_query(req.query);
    if (auto err = eio.verify(q, req.method, false)) {
      spdlog::debug("engineio: {} {} from {}: {}", req.method, req.target, req.remote_address,
                    http_error_message(*err));
      co_return eio_error(*err);
    }
    if (q.sid.empty()) {
      if (admit)
        if (auto rejected = admit(req)) co_return *rejected;
      auto s = eio.create_session(transport_kind::polling, req.remote_address);
      if (!s)
        co_return http_response{
            503, "application/json", R"({"code":4,"message":"Server at capacity"})", {}};
      std::string body = eio.open_packet(*s);
      s->start();
      eio.upper().on_open(s);
      co_return http_response{200, "text/plain; charset=UTF-8", std::move(body), {}};
    }
    auto s = eio.find(q.sid);
    if (!s) {
      // verify() let it through: the GET that collects a close packet.
      s = eio.find_lingering(q.sid);
      eio.forget_lingering(q.sid);
      co_return http_response{200, "text/plain; charset=UTF-8", s->take_poll_payload(), {}};
    }
    if (req.method == "GET") {
      if (s->poll_active()) {
        // Spec: a second concurrent GET is a protocol error; the session closes
        // (its waiting GET answers with the close packet).
        spdlog::info("engineio: session {} closed: overlapping polls", s->id());
        s->close("multiple polling requests");
        co_return eio_error(http_error::bad_request);
      }
      s->set_poll_active(true);
      poll_owner = s;
      while (s->poll_should_wait()) {
        s->poll_timer().expires_at(net::steady_timer::time_point::max());
        co_await s->poll_timer().async_wait(use_tuple);
      }
      std::string body;
      if (s->transport() == transport_kind::websocket)
        body =
            encode_packet(packet_type::noop);  // upgraded meanwhile: the queue is the WebSocket's
      else
        body = s->take_poll_payload();
      s->set_poll_active(false);
      co_return http_response{200, "text/plain; charset=UTF-8", std::move(body), {}};
    }
    // POST: a payload from the client.
    auto packets = decode_payload(req.body);
    if (!packets) {
      spdlog::info("engineio: session {} closed: bad payload ({})", s->id(),
                   packets.error().message());
      s->on_transport_error("parse error");
      co_return eio_error(http_error::bad_request);
    }
    for (auto& p : *packets) s->on_packet(std::move(p));
    co_return http_response{200, "text/html", "ok", {}};
  }

  // ---- WebSocket transport and upgrade (spec "WebSocket", "Upgrade") ----

  net::awaitable<void> websocket_session(beast::tcp_stream stream,
                                         http::request<http::string_body> req, http_request plain) {
    auto q = parse_eio_query(plain.query);
    std::optional<http_response> refusal;
    if (auto err = eio.verify(q, "GET", true)) {
      spdlog::debug("engineio: websocket {} from {}: {}", plain.target, plain.remote_address,
                    http_error_message(*err));
      refusal = eio_error(*err);
    } else if (q.sid.empty() && admit) {
      refusal = admit(plain);
    }
    if (refusal) {
      auto res = make_response(*refusal, req.version(), false);
      co_await http::async_write(stream, res, use_tuple);
      error_code ec;
      stream.socket().shutdown(tcp::socket::shutdown_send, ec);
      co_return;
    }

    stream.expires_never();
    auto conn = std::make_shared<ws_connection>(stream.release_socket(), ws_busy);
    auto& ws = conn->ws();
    ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws.set_option(websocket::stream_base::decorator([this](websocket::response_type& res) {
      res.set(http::field::server, "bandsync");
      for (const auto& [k, v] : common_headers) res.set(k, v);
    }));
    ws.read_message_max(eio.opts().max_payload);
    // Messages go out whole, straight from the shared frame buffer: no
    // fragmentation, so Beast's write buffer stays small.
    ws.auto_fragment(false);
    ws.write_buffer_bytes(64);
    auto [aec] = co_await ws.async_accept(req, use_tuple);
    if (aec) co_return;

    if (q.sid.empty()) {
      auto s = eio.create_session(transport_kind::websocket, plain.remote_address);
      if (!s) {
        co_await ws.async_close(websocket::close_code::try_again_later, use_tuple);
        co_return;
      }
      conn->bind(s);
      s->bind_websocket(conn);
      s->send(frame{false, std::make_shared<const std::string>(eio.open_packet(*s))});
      s->start();
      eio.upper().on_open(s);
      if (s->is_open()) conn->run(s, false, eio.opts().upgrade_timeout);
      co_return;
    }
    auto s = eio.find(q.sid);
    if (!s || !s->is_open() || s->upgrading()) {
      co_await ws.async_close(websocket::close_code::policy_error, use_tuple);
      co_return;
    }
    s->begin_upgrade();
    conn->run(s, true, eio.opts().upgrade_timeout);
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
void listener::set_admission(admission a) {
  impl_->admit = std::move(a);
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

void listener::stop() {
  impl_->stopped = true;
  error_code ec;
  impl_->acceptor.close(ec);
}

size_t listener::open_connections() const {
  return impl_->connections + *impl_->ws_busy;
}

size_t listener::busy_connections() const {
  return impl_->busy;
}

}  // namespace bandsync::engineio
