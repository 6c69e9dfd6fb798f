// The only translation unit of the benchmark that sees Beast.
#include "bench/device.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

#include <cerrno>
#include <cstring>

#include <deque>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/json/array.hpp>

#include "bench/device_packets.hpp"
#include "bench/time.hpp"
#include "engineio/packet.hpp"
#include "socketio/packet.hpp"

namespace bandsync::bench {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
// A plain socket bound to the io_context's own executor type: Beast's
// tcp_stream and the type-erased any_io_executor cost a few percent of the
// generator's CPU per message, and the generator shares the cores with the
// server it measures. The handshake deadline is our own timer.
using socket_type = net::basic_stream_socket<tcp, net::io_context::executor_type>;
using boost::system::error_code;

// The WebSocket's next layer: the TCP socket, read with recvmsg to get the
// kernel's receive time of the data (SO_TIMESTAMPNS: the wall-clock time the
// last segment read reached this socket). A tick's latency is measured to
// that time, not to when this one-threaded generator got round to reading it:
// under load the generator's own backlog (its loop lag) was part of every
// latency it reported (issue 12). A read is tried at once and waits for
// readability only when nothing is there, as Asio's own speculative read does.
class stamping_socket {
 public:
  using executor_type = socket_type::executor_type;

  explicit stamping_socket(executor_type ex) : sock_(std::move(ex)) {}

  executor_type get_executor() noexcept { return sock_.get_executor(); }
  socket_type& socket() { return sock_; }
  // Asks the kernel to stamp what this socket receives (after open()).
  void enable_stamps() {
    int one = 1;
    stamps_ =
        ::setsockopt(sock_.native_handle(), SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) == 0;
  }
  // The receive time (Unix ms) of the last data read, 0 when none was stamped.
  double arrival_ms() const { return arrival_ms_; }

  template <class MutableBuffers, class Handler>
  auto async_read_some(const MutableBuffers& b, Handler&& h) {
    return net::async_initiate<Handler, void(error_code, size_t)>(
        [this](auto handler, const MutableBuffers& buffers) {
          error_code ec;
          size_t n = 0;
          if (try_read(buffers, ec, n)) {
            net::post(sock_.get_executor(), [handler = std::move(handler), ec, n]() mutable {
              std::move(handler)(ec, n);
            });
            return;
          }
          wait_then_read(std::move(handler), buffers);
        },
        h, b);
  }

  template <class ConstBuffers, class Handler>
  auto async_write_some(const ConstBuffers& b, Handler&& h) {
    return sock_.async_write_some(b, std::forward<Handler>(h));
  }

 private:
  template <class Handler, class MutableBuffers>
  void wait_then_read(Handler&& handler, const MutableBuffers& buffers) {
    sock_.async_wait(net::socket_base::wait_read,
                     [this, handler = std::move(handler), buffers](error_code ec) mutable {
                       size_t n = 0;
                       if (ec || try_read(buffers, ec, n)) return std::move(handler)(ec, n);
                       wait_then_read(std::move(handler), buffers);  // nothing after all
                     });
  }

  // One non-blocking recvmsg: false when nothing was there (EAGAIN).
  template <class MutableBuffers>
  bool try_read(const MutableBuffers& buffers, error_code& ec, size_t& n) {
    constexpr size_t max_iov = 16;
    iovec iov[max_iov];
    size_t count = 0;
    for (auto it = net::buffer_sequence_begin(buffers);
         it != net::buffer_sequence_end(buffers) && count < max_iov; ++it) {
      net::mutable_buffer mb = *it;
      if (mb.size() > 0) iov[count++] = {mb.data(), mb.size()};
    }
    n = 0;
    if (count == 0) return true;  // an empty read completes at once, as Asio's
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = count;
    msg.msg_control = stamps_ ? control : nullptr;
    msg.msg_controllen = stamps_ ? sizeof control : 0;
    ssize_t r;
    do r = ::recvmsg(sock_.native_handle(), &msg, MSG_DONTWAIT);
    while (r < 0 && errno == EINTR);
    if (r < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
      ec = error_code(errno, boost::system::system_category());
      return true;
    }
    if (r == 0) {
      ec = net::error::eof;
      return true;
    }
    n = static_cast<size_t>(r);
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
        timespec ts;
        std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
        arrival_ms_ = static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
      }
    }
    return true;
  }

  socket_type sock_;
  double arrival_ms_ = 0;
  bool stamps_ = false;
};

// Beast's close handshake and timeouts act on the socket itself (found by ADL).
[[maybe_unused]] void teardown(beast::role_type role, stamping_socket& s, error_code& ec) {
  websocket::teardown(role, s.socket(), ec);
}
template <class Handler>
void async_teardown(beast::role_type role, stamping_socket& s, Handler&& h) {
  websocket::async_teardown(role, s.socket(), std::forward<Handler>(h));
}
[[maybe_unused]] void beast_close_socket(stamping_socket& s) {
  beast::close_socket(s.socket());
}

constexpr std::string_view handshake_target = "/socket.io/?EIO=4&transport=websocket";
// Larger than any snapshot of a full session; a bigger frame is a server bug.
constexpr size_t max_message_bytes = 1 << 20;

class ws_device final : public device, public std::enable_shared_from_this<ws_device> {
 public:
  ws_device(net::io_context& ioc, device_observer& observer, size_t index)
      : device(index), observer_(observer), ws_(ioc.get_executor()), deadline_(ioc) {}

  void connect(const connect_target& target) override {
    host_header_ = target.host_header;
    connect_started_ms_ = wall_ms();
    deadline_.expires_after(target.timeout);
    deadline_.async_wait([weak = weak_from_this()](error_code ec) {
      if (ec) return;
      if (auto self = weak.lock(); self && !self->open_)
        self->fail(beast::error::timeout, self->phase_);
    });

    auto& sock = ws_.next_layer().socket();
    error_code ec;
    sock.open(target.server.protocol(), ec);
    if (!ec) ws_.next_layer().enable_stamps();
    if (!ec && target.source) {
      // Let connect() pick the port per destination, so each source address
      // offers its whole ephemeral range to this one server.
      int one = 1;
      ::setsockopt(sock.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
      sock.bind(tcp::endpoint(*target.source, 0), ec);
    }
    if (ec) return fail(ec, "bind");
    sock.set_option(tcp::no_delay(true), ec);
    phase_ = "connect";
    sock.async_connect(target.server,
                       [self = shared_from_this()](error_code ec) { self->on_connect(ec); });
  }

  bool emit(std::string_view event, const boost::json::value& payload) override {
    if (!open_ || closed_) return false;
    socketio::packet p;
    p.type = socketio::packet_type::event;
    p.data = boost::json::array{boost::json::string(event), payload};
    return send(engineio::encode_packet(engineio::packet_type::message, socketio::encode(p)));
  }

  void drop() override { fail(net::error::operation_aborted, "dropped"); }

 private:
  void on_connect(error_code ec) {
    if (closed_) return;
    if (ec) return fail(ec, "connect");
    phase_ = "websocket";
    ws_.set_option(websocket::stream_base::timeout{std::chrono::seconds(30),
                                                   websocket::stream_base::none(), false});
    ws_.read_message_max(max_message_bytes);
    ws_.auto_fragment(false);
    ws_.async_handshake(host_header_, handshake_target,
                        [self = shared_from_this()](error_code ec) { self->on_handshake(ec); });
  }

  void on_handshake(error_code ec) {
    if (closed_) return;
    if (ec) return fail(ec, "websocket");
    ws_.text(true);
    phase_ = "engineio open";
    do_read();
  }

  void do_read() {
    ws_.async_read(buffer_,
                   [self = shared_from_this()](error_code ec, size_t) { self->on_read(ec); });
  }

  void on_read(error_code ec) {
    if (closed_) return;
    if (ec) return fail(ec, open_ ? "read" : phase_);
    double recv_ms = wall_ms();
    arrival_ms_ = ws_.next_layer().arrival_ms();
    if (arrival_ms_ <= 0 || arrival_ms_ > recv_ms) arrival_ms_ = recv_ms;  // not stamped
    auto data = buffer_.cdata();
    std::string_view text(static_cast<const char*>(data.data()), data.size());
    if (ws_.got_text()) handle_engineio_text(*this, text, recv_ms);
    buffer_.consume(buffer_.size());
    if (!closed_) do_read();
  }

  // What handle_engineio_text (device_packets.hpp) needs of a device.
  template <class D>
  friend void ::bandsync::bench::handle_engineio_text(D& d, std::string_view text, double recv_ms);
  void send_text(std::string packet) { send(std::move(packet)); }
  error_code closed_by_server() const { return beast::websocket::error::closed; }

  bool send(std::string frame) {
    if (closed_) return false;
    if (queue_.size() >= max_queued_frames) {
      ++send_refused_;
      return false;
    }
    queue_.push_back(std::move(frame));
    if (queue_.size() == 1) do_write();
    return true;
  }

  void do_write() {
    ws_.async_write(net::buffer(queue_.front()),
                    [self = shared_from_this()](error_code ec, size_t) { self->on_write(ec); });
  }

  void on_write(error_code ec) {
    if (closed_) return;
    if (ec) return fail(ec, "write");
    queue_.pop_front();
    if (!queue_.empty()) do_write();
  }

  // The one close path: every failure, timeout and drop() ends here.
  void fail(error_code ec, std::string_view phase) {
    if (closed_) return;
    closed_ = true;
    open_ = false;
    deadline_.cancel();
    error_code ignored;
    // The queue stays: a write in flight still refers to its front buffer.
    ws_.next_layer().socket().close(ignored);
    observer_.on_close(*this, ec, phase);
  }

  device_observer& observer_;
  websocket::stream<stamping_socket> ws_;
  net::steady_timer deadline_;
  beast::flat_buffer buffer_;
  std::deque<std::string> queue_;
  std::string host_header_;
  std::string_view phase_ = "bind";
};

}  // namespace

std::shared_ptr<device> detail::make_beast_device(net::io_context& ioc, device_observer& observer,
                                                  size_t index) {
  return std::make_shared<ws_device>(ioc, observer, index);
}

}  // namespace bandsync::bench
