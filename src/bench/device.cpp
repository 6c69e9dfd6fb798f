// The only translation unit of the benchmark that sees Beast.
#include "bench/device.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <deque>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/json/array.hpp>

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

    auto& sock = ws_.next_layer();
    error_code ec;
    sock.open(target.server.protocol(), ec);
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
    auto data = buffer_.cdata();
    std::string_view text(static_cast<const char*>(data.data()), data.size());
    if (ws_.got_text()) handle(text, recv_ms);
    buffer_.consume(buffer_.size());
    if (!closed_) do_read();
  }

  void handle(std::string_view text, double recv_ms) {
    auto eio = engineio::decode_packet(text);
    if (!eio) return fail(eio.error(), "engineio decode");
    switch (eio->type) {
      case engineio::packet_type::open:
        // The handshake answer: join the main namespace.
        phase_ = "socketio connect";
        send(engineio::encode_packet(engineio::packet_type::message, "0"));
        return;
      case engineio::packet_type::ping:
        ++pings_answered_;
        send(engineio::encode_packet(engineio::packet_type::pong, eio->data));
        return;
      case engineio::packet_type::close:
        return fail(beast::websocket::error::closed, "engineio close");
      case engineio::packet_type::message:
        break;
      default:
        return;
    }
    auto sio = socketio::decode(eio->data);
    if (!sio) return fail(sio.error(), "socketio decode");
    if (sio->nsp != "/") return;
    switch (sio->type) {
      case socketio::packet_type::connect: {
        const auto* obj = sio->data.if_object();
        const auto* sid = obj ? obj->if_contains("sid") : nullptr;
        if (!sid || !sid->is_string())
          return fail(net::error::invalid_argument, "socketio connect");
        sid_ = std::string(sid->get_string());
        open_ = true;
        phase_ = "open";
        deadline_.cancel();
        observer_.on_open(*this);
        return;
      }
      case socketio::packet_type::connect_error:
        return fail(net::error::connection_refused, "socketio connect_error");
      case socketio::packet_type::disconnect:
        return fail(net::error::connection_reset, "socketio disconnect");
      case socketio::packet_type::event: {
        ++messages_in_;
        const auto& args = sio->data.get_array();  // the codec checked the shape
        if (!args[0].is_string()) return;
        static const boost::json::value none;
        observer_.on_event(*this, args[0].get_string(), args.size() > 1 ? args[1] : none, recv_ms);
        return;
      }
      default:
        return;
    }
  }

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
    ws_.next_layer().close(ignored);
    observer_.on_close(*this, ec, phase);
  }

  device_observer& observer_;
  websocket::stream<socket_type> ws_;
  net::steady_timer deadline_;
  beast::flat_buffer buffer_;
  std::deque<std::string> queue_;
  std::string host_header_;
  std::string_view phase_ = "bind";
};

}  // namespace

std::shared_ptr<device> device::create(net::io_context& ioc, device_observer& observer,
                                       size_t index) {
  return std::make_shared<ws_device>(ioc, observer, index);
}

}  // namespace bandsync::bench
