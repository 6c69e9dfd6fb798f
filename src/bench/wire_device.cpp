// The generator's device on raw non-blocking sockets (device_io::wire): one
// epoll set for every device of the io_context, read until drained, frames
// parsed in place (wire.hpp), ticks scanned without a JSON value. What the
// device sends and when is the Beast device's (device.cpp), byte for byte in
// the Socket.IO layer, so the server does the same work for either.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <vector>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "bench/device.hpp"
#include "bench/device_packets.hpp"
#include "bench/time.hpp"
#include "bench/wire.hpp"
#include "engineio/packet.hpp"
#include "engineio/ws_reader.hpp"
#include "socketio/packet.hpp"

namespace bandsync::bench {
namespace {

namespace net = boost::asio;
using boost::system::error_code;

// Failures of the wire device that are not the kernel's (errno) or Asio's.
enum class wire_errc {
  upgrade_refused = 1,  // the HTTP answer to the upgrade was not 101
  upgrade_too_long,     // no end of the HTTP answer in max_upgrade_response bytes
  closed_by_server,     // a WebSocket close frame
  timeout,              // not open within connect_target::timeout
  protocol = 16,        // + engineio::ws_error: a frame the reader refused
};

class wire_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "bench.wire"; }
  std::string message(int ev) const override {
    switch (ev) {
      case static_cast<int>(wire_errc::upgrade_refused):
        return "WebSocket upgrade refused";
      case static_cast<int>(wire_errc::upgrade_too_long):
        return "WebSocket upgrade answer too long";
      case static_cast<int>(wire_errc::closed_by_server):
        return "WebSocket closed by the server";
      case static_cast<int>(wire_errc::timeout):
        return "timed out";
      default:
        if (ev > static_cast<int>(wire_errc::protocol))
          return "WebSocket protocol error: " +
                 std::string(engineio::to_string(
                     static_cast<engineio::ws_error>(ev - static_cast<int>(wire_errc::protocol))));
        return "bench.wire error";
    }
  }
};

error_code make_error(wire_errc e) {
  static const wire_category_impl category;
  return {static_cast<int>(e), category};
}
error_code make_error(engineio::ws_error e) {
  static const wire_category_impl category;
  return {static_cast<int>(wire_errc::protocol) + static_cast<int>(e), category};
}
error_code errno_error(int e) {
  return {e, boost::system::system_category()};
}

constexpr std::string_view handshake_target = "/socket.io/?EIO=4&transport=websocket";
// Larger than any snapshot of a full session; a bigger message is a server bug.
constexpr size_t max_message_bytes = 1 << 20;
constexpr size_t max_upgrade_response = 8192;
// One read takes this much at most; a device rarely has more than a tick
// waiting, but after a stall of the generator a socket can hold seconds of them.
constexpr size_t scratch_bytes = 64 * 1024;
// Ready descriptors taken per epoll_wait; more rounds than this per handler
// and the loop yields to the io_context's other handlers (timers, the scenario).
constexpr int max_events = 256;
constexpr int max_rounds = 16;

class wire_device;

// The epoll set of one io_context's wire devices, watched by the io_context's
// own reactor as one descriptor: the scenario's timers and coroutines run on
// the same thread as before, and a turn of the loop costs one epoll_wait for
// up to 256 ready sockets, not an Asio operation per socket.
class wire_loop final : public net::execution_context::service {
 public:
  static net::execution_context::id id;

  explicit wire_loop(net::io_context& ioc)
      : net::execution_context::service(ioc),
        ioc_(ioc),
        watch_(ioc),
        poll_timer_(ioc),
        scratch_(scratch_bytes) {
    ep_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (ep_ < 0) error_ = errno_error(errno);
  }

  ~wire_loop() override {
    // Once watched, the descriptor object owns (and closes) it.
    if (!watch_.is_open() && ep_ >= 0) ::close(ep_);
  }

  // 0: read as soon as a socket is readable. Otherwise every `interval`:
  // each wake-up of the generator is a context switch, which on this VM
  // costs as much as reading several messages (bench/README.md, "Fourth
  // pass"). Set before the first device connects.
  void set_poll_interval(std::chrono::microseconds interval) { poll_interval_ = interval; }

  net::io_context& context() { return ioc_; }
  char* scratch() { return scratch_.data(); }
  size_t scratch_size() const { return scratch_.size(); }

  // Watches `fd` for `d` (edge-triggered: d reads until drained).
  error_code add(int fd, wire_device* d) {
    if (error_) return error_;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = d;
    if (::epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) != 0) return errno_error(errno);
    if (!armed_) {
      armed_ = true;
      next_poll_ = std::chrono::steady_clock::now();
      arm();
    }
    return {};
  }

 private:
  void shutdown() override {}

  void arm() {
    if (poll_interval_.count() > 0) {
      // The next multiple of the interval; after a late turn, not a burst of
      // turns to catch up.
      next_poll_ = std::max(next_poll_ + poll_interval_, std::chrono::steady_clock::now());
      poll_timer_.expires_at(next_poll_);
      poll_timer_.async_wait([this](error_code ec) {
        if (!ec) run_ready();
      });
      return;
    }
    // Registered with the reactor only in this mode: a registered descriptor
    // wakes the reactor on every edge, even with no wait pending.
    if (!watch_.is_open()) {
      error_code ec;
      watch_.assign(ep_, ec);
      if (ec) return;
    }
    watch_.async_wait(net::posix::descriptor_base::wait_read, [this](error_code ec) {
      if (!ec) run_ready();
    });
  }

  // Asio watches the epoll descriptor edge-triggered and only while a wait is
  // pending, so an edge that comes while this runs can be lost: every ready
  // descriptor is taken (until epoll_wait returns fewer than it could) before
  // the wait is armed again, and a descriptor that becomes ready after the
  // last epoll_wait makes a new edge, seen by the armed wait.
  void run_ready();

  net::io_context& ioc_;
  net::posix::stream_descriptor watch_;
  net::steady_timer poll_timer_;
  std::chrono::microseconds poll_interval_{0};
  std::chrono::steady_clock::time_point next_poll_;
  std::vector<char> scratch_;
  error_code error_;
  int ep_ = -1;
  bool armed_ = false;
};

net::execution_context::id wire_loop::id;

class wire_device final : public device, public std::enable_shared_from_this<wire_device> {
 public:
  wire_device(net::io_context& ioc, device_observer& observer, size_t index)
      : device(index),
        loop_(net::use_service<wire_loop>(ioc)),
        observer_(observer),
        deadline_(ioc),
        reader_(engineio::ws_role::client, max_message_bytes),
        mask_state_(0x9e3779b9u ^ static_cast<uint32_t>(index * 2654435761u)) {
    if (mask_state_ == 0) mask_state_ = 1;
  }

  ~wire_device() override {
    if (fd_ >= 0) ::close(fd_);
  }

  void connect(const connect_target& target) override {
    host_header_ = target.host_header;
    connect_started_ms_ = wall_ms();
    deadline_.expires_after(target.timeout);
    deadline_.async_wait([weak = weak_from_this()](error_code ec) {
      if (ec) return;
      if (auto self = weak.lock(); self && !self->open_)
        self->fail(make_error(wire_errc::timeout), self->phase_);
    });

    const auto& server = target.server;
    fd_ = ::socket(server.protocol().family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return fail(errno_error(errno), "bind");
    int one = 1;
    // The kernel's receive time of each read (see device.hpp, arrival_ms).
    stamps_ = ::setsockopt(fd_, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) == 0;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (target.source) {
      // Let connect() pick the port per destination, so each source address
      // offers its whole ephemeral range to this one server.
      ::setsockopt(fd_, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
      net::ip::tcp::endpoint local(*target.source, 0);
      if (::bind(fd_, local.data(), static_cast<socklen_t>(local.size())) != 0)
        return fail(errno_error(errno), "bind");
    }
    phase_ = "connect";
    bool connected = ::connect(fd_, server.data(), static_cast<socklen_t>(server.size())) == 0;
    if (!connected && errno != EINPROGRESS) return fail(errno_error(errno), "connect");
    // Added after connect(): an unconnected socket polls as hung up. The
    // socket's EPOLLOUT says when it is connected.
    if (auto ec = loop_.add(fd_, this)) return fail(ec, "connect");
    if (connected) on_connected();
  }

  bool emit(std::string_view event, const boost::json::value& payload) override {
    if (!open_ || closed_) return false;
    socketio::packet p;
    p.type = socketio::packet_type::event;
    p.data = boost::json::array{boost::json::string(event), payload};
    return send(engineio::ws_opcode::text,
                engineio::encode_packet(engineio::packet_type::message, socketio::encode(p)));
  }

  void drop() override { fail(net::error::operation_aborted, "dropped"); }

  // From the loop: `events` of this device's socket.
  void on_events(uint32_t events) {
    if (closed_) return;
    if (stage_ == stage::connecting) {
      if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
      int err = 0;
      socklen_t len = sizeof err;
      if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
      if (err) return fail(errno_error(err), "connect");
      on_connected();
      if (closed_) return;
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) read_all();
    if (closed_) return;
    if ((events & EPOLLOUT) && !queue_.empty()) flush();
  }

 private:
  enum class stage : uint8_t { connecting, upgrading, websocket };

  void on_connected() {
    stage_ = stage::upgrading;
    phase_ = "websocket";
    std::string request = "GET ";
    request += handshake_target;
    request += " HTTP/1.1\r\nHost: ";
    request += host_header_;
    request +=
        "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Key: ";
    request += websocket_key();
    request += "\r\n\r\n";
    write_bytes(std::move(request));
  }

  // 16 bytes in base64 (RFC 6455 4.1); the answer's Sec-WebSocket-Accept is
  // not checked (it needs SHA-1): the peer is a loopback server under test,
  // and a 101 followed by valid frames is what the measurement needs.
  std::string websocket_key() {
    static constexpr char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint8_t raw[18] = {};
    for (size_t i = 0; i < 16; i += 4) {
      uint32_t r = next_mask();
      std::memcpy(raw + i, &r, 4);
    }
    std::string key;
    for (size_t i = 0; i < 18; i += 3) {
      uint32_t v = (uint32_t{raw[i]} << 16) | (uint32_t{raw[i + 1]} << 8) | raw[i + 2];
      key += b64[(v >> 18) & 63];
      key += b64[(v >> 12) & 63];
      key += b64[(v >> 6) & 63];
      key += b64[v & 63];
    }
    key.resize(22);
    key += "==";
    return key;
  }

  uint32_t next_mask() {
    // xorshift32: masking keys need not be secret from a loopback server.
    mask_state_ ^= mask_state_ << 13;
    mask_state_ ^= mask_state_ >> 17;
    mask_state_ ^= mask_state_ << 5;
    return mask_state_;
  }

  // Reads until the socket is drained. Edge-triggered, so a read shorter than
  // the buffer ends it without the extra recvmsg that would say EAGAIN: data
  // that arrives after this read makes a new edge.
  void read_all() {
    char* buf = loop_.scratch();
    size_t cap = loop_.scratch_size();
    for (;;) {
      iovec iov{buf, cap};
      alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
      msghdr msg{};
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = stamps_ ? control : nullptr;
      msg.msg_controllen = stamps_ ? sizeof control : 0;
      ssize_t r = ::recvmsg(fd_, &msg, MSG_DONTWAIT);
      if (r < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        return fail(errno_error(errno), open_ ? "read" : phase_);
      }
      if (r == 0) return fail(net::error::eof, open_ ? "read" : phase_);
      double recv_ms = wall_ms();
      double stamp = 0;
      for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
          timespec ts;
          std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
          stamp = static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
        }
      }
      // As the Beast device: the kernel's time, unless there was none.
      read_arrival_ms_ = (stamp <= 0 || stamp > recv_ms) ? recv_ms : stamp;
      on_bytes(buf, static_cast<size_t>(r), recv_ms);
      if (closed_ || static_cast<size_t>(r) < cap) return;
    }
  }

  void on_bytes(char* bytes, size_t size, double recv_ms) {
    std::string_view data(bytes, size);
    if (stage_ == stage::upgrading) {
      // Frames may follow the answer in the same read: only the answer is bounded.
      http_.append(data);
      auto end = http_.find("\r\n\r\n");
      if (end == std::string::npos || end + 4 > max_upgrade_response) {
        if (http_.size() > max_upgrade_response)
          return fail(make_error(wire_errc::upgrade_too_long), phase_);
        if (end == std::string::npos) return;
      }
      if (!http_.starts_with("HTTP/1.1 101 "))
        return fail(make_error(wire_errc::upgrade_refused), phase_);
      std::string rest = http_.substr(end + 4);
      std::string().swap(http_);
      stage_ = stage::websocket;
      phase_ = "engineio open";
      if (!rest.empty()) on_frames(rest.data(), rest.size(), recv_ms);
      return;
    }
    on_frames(bytes, size, recv_ms);
  }

  void on_frames(char* data, size_t size, double recv_ms) {
    auto s = reader_.feed(data, size, [&](const engineio::ws_message& m) {
      on_message(m, recv_ms);
      return !closed_;
    });
    if (s == engineio::ws_reader::status::error)
      fail(make_error(reader_.error()), open_ ? "read" : phase_);
  }

  void on_message(const engineio::ws_message& m, double recv_ms) {
    switch (m.op) {
      case engineio::ws_opcode::text:
        arrival_ms_ = read_arrival_ms_;
        return on_text(m.payload, recv_ms);
      case engineio::ws_opcode::ping:
        // The server's WebSocket ping (Engine.IO pings are text "2").
        send(engineio::ws_opcode::pong, m.payload);
        return;
      case engineio::ws_opcode::close:
        return fail(make_error(wire_errc::closed_by_server), open_ ? "read" : phase_);
      default:
        return;  // pong, binary: nothing of Engine.IO's over WebSocket here
    }
  }

  void on_text(std::string_view text, double recv_ms) {
    if (open_) {
      wire::tick_fields tick;
      if (wire::scan_tick(text, tick)) {
        ++messages_in_;
        observer_.on_tick(*this, tick, recv_ms);
        return;
      }
    }
    // Everything else: what both device kinds do (device_packets.hpp).
    handle_engineio_text(*this, text, recv_ms);
  }

  // What handle_engineio_text (device_packets.hpp) needs of a device.
  template <class D>
  friend void ::bandsync::bench::handle_engineio_text(D& d, std::string_view text, double recv_ms);
  void send_text(std::string packet) { send(engineio::ws_opcode::text, std::move(packet)); }
  error_code closed_by_server() const { return make_error(wire_errc::closed_by_server); }

  // One frame: refused when max_queued_frames wait already (as the Beast
  // device's queue, whose front was the frame being written).
  bool send(engineio::ws_opcode op, std::string_view payload) {
    if (closed_) return false;
    if (queue_.size() >= max_queued_frames) {
      ++send_refused_;
      return false;
    }
    std::string frame;
    frame.reserve(payload.size() + 14);
    engineio::append_client_frame(frame, op, payload, next_mask());
    write_bytes(std::move(frame));
    return true;
  }

  // Written at once when nothing waits before it; what the kernel does not
  // take waits for EPOLLOUT. A write error closes the device from a later
  // handler: the caller (an observer callback) must not see it close inside.
  void write_bytes(std::string bytes) {
    if (queue_.empty() && stage_ != stage::connecting) {
      ssize_t n;
      do n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      while (n < 0 && errno == EINTR);
      if (n == static_cast<ssize_t>(bytes.size())) return;
      if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK) return fail_later(errno_error(errno));
        n = 0;
      }
      bytes.erase(0, static_cast<size_t>(n));
    }
    queue_.push_back(std::move(bytes));
  }

  void flush() {
    while (!queue_.empty()) {
      auto& front = queue_.front();
      ssize_t n = ::send(fd_, front.data(), front.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        return fail(errno_error(errno), "write");
      }
      if (static_cast<size_t>(n) < front.size()) {
        front.erase(0, static_cast<size_t>(n));
        return;  // the kernel's buffer is full: the next EPOLLOUT edge goes on
      }
      queue_.erase(queue_.begin());
    }
  }

  void fail_later(error_code ec) {
    net::post(loop_.context(), [weak = weak_from_this(), ec] {
      if (auto self = weak.lock()) self->fail(ec, "write");
    });
  }

  // The one close path: every failure, timeout and drop() ends here.
  void fail(error_code ec, std::string_view phase) {
    if (closed_) return;
    closed_ = true;
    open_ = false;
    deadline_.cancel();
    if (fd_ >= 0) {
      ::close(fd_);  // also leaves the epoll set
      fd_ = -1;
    }
    queue_.clear();
    observer_.on_close(*this, ec, phase);
  }

  wire_loop& loop_;
  device_observer& observer_;
  net::steady_timer deadline_;
  engineio::ws_reader reader_;
  std::vector<std::string> queue_;  // unsent bytes, oldest first (rarely any)
  std::string http_;                // the upgrade answer so far
  std::string host_header_;
  std::string_view phase_ = "bind";
  double read_arrival_ms_ = 0;
  int fd_ = -1;
  uint32_t mask_state_;
  stage stage_ = stage::connecting;
  bool stamps_ = false;
};

void wire_loop::run_ready() {
  epoll_event events[max_events];
  for (int round = 0; round < max_rounds; ++round) {
    int n = ::epoll_wait(ep_, events, max_events, 0);
    for (int i = 0; i < n; ++i)
      static_cast<wire_device*>(events[i].data.ptr)->on_events(events[i].events);
    if (n < max_events) return arm();
  }
  // Still more: let the timers and the scenario run, then go on.
  net::post(ioc_, [this] { run_ready(); });
}

}  // namespace

void device_observer::on_tick(device& d, const wire::tick_fields& tick, double recv_ms) {
  boost::json::object o;
  if (!std::isnan(tick.server_timestamp)) o["serverTimestamp"] = tick.server_timestamp;
  if (!std::isnan(tick.position_ms)) o["positionMs"] = tick.position_ms;
  if (!std::isnan(tick.tempo_bpm)) o["tempoBpm"] = tick.tempo_bpm;
  on_event(d, "scroll_tick", boost::json::value(std::move(o)), recv_ms);
}

void set_wire_poll_interval(net::io_context& ioc, std::chrono::microseconds interval) {
  net::use_service<wire_loop>(ioc).set_poll_interval(interval);
}

std::shared_ptr<device> detail::make_wire_device(net::io_context& ioc, device_observer& observer,
                                                 size_t index) {
  return std::make_shared<wire_device>(ioc, observer, index);
}

std::shared_ptr<device> device::create(net::io_context& ioc, device_observer& observer,
                                       size_t index, device_io io) {
  if (io == device_io::beast) return detail::make_beast_device(ioc, observer, index);
  return detail::make_wire_device(ioc, observer, index);
}

}  // namespace bandsync::bench
