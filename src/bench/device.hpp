#pragma once
// One simulated band device: a Socket.IO v5 client over an Engine.IO v4
// WebSocket (ws://HOST:PORT/socket.io/?EIO=4&transport=websocket, no polling),
// as the band app connects. It does the handshakes (Engine.IO OPEN, then
// Socket.IO CONNECT "40" answered by "40{sid}"), answers every Engine.IO PING
// "2" with a PONG "3", and reports events upward; what to send and when is
// the scenario's business.
//
// Two implementations (`device_io`): `wire` (wire_device.cpp, the default)
// reads every socket of the fleet with one hand-written epoll loop, its own
// frame reader and a tick scanner that builds no JSON value (bench/README.md,
// "Fourth pass: generator"); `beast` (device.cpp) is the Beast WebSocket
// client it replaced, kept to measure the generator's own cost against.
// Beast stays in device.cpp: this header only declares the interface.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>

#include "bench/options.hpp"
#include "bench/wire.hpp"

namespace bandsync::bench {

class device;

// What devices report to the scenario that drives them, on the io_context
// thread. The observer must outlive every device it observes.
class device_observer {
 public:
  virtual ~device_observer() = default;
  // Socket.IO CONNECT accepted on "/": d.sid() is the socket id.
  virtual void on_open(device& d) = 0;
  // An EVENT on "/" (`payload` is its first argument, null when absent),
  // `recv_ms` the wall-clock time the frame was read.
  virtual void on_event(device& d, std::string_view name, const boost::json::value& payload,
                        double recv_ms) = 0;
  // A `scroll_tick` the wire device scanned without building its JSON (any
  // other tick arrives through on_event). By default it is handed to
  // on_event as the object {serverTimestamp, positionMs, tempoBpm}.
  virtual void on_tick(device& d, const wire::tick_fields& tick, double recv_ms);
  // The connection failed or ended (drop() included): called once per device.
  // `phase` names the step that failed ("connect", "handshake", "open", ...).
  virtual void on_close(device& d, boost::system::error_code ec, std::string_view phase) = 0;
};

struct connect_target {
  boost::asio::ip::tcp::endpoint server;
  // Local address to bind before connecting (spreads the source ports of many
  // connections over several loopback addresses); none = the kernel's choice.
  std::optional<boost::asio::ip::address> source;
  std::string host_header;
  // For all the handshakes, TCP connect to Socket.IO CONNECT.
  std::chrono::milliseconds timeout{10000};
};

class device {
 public:
  // Most frames a device queues for sending; emit() refuses more.
  static constexpr size_t max_queued_frames = 256;

  static std::shared_ptr<device> create(boost::asio::io_context& ioc, device_observer& observer,
                                        size_t index, device_io io = device_io::wire);
  virtual ~device() = default;
  device(const device&) = delete;
  device& operator=(const device&) = delete;

  virtual void connect(const connect_target& target) = 0;
  // Queues EVENT [event, payload]. False (and nothing sent) when the device
  // is not open or its queue is full.
  virtual bool emit(std::string_view event, const boost::json::value& payload) = 0;
  // Ends the connection at once: TCP close, no WebSocket close frame, no
  // Socket.IO DISCONNECT, as a phone that loses its network. The observer's
  // on_close follows (synchronously) unless the device was already closed.
  virtual void drop() = 0;

  size_t index() const { return index_; }
  const std::string& sid() const { return sid_; }
  bool is_open() const { return open_; }
  bool is_closed() const { return closed_; }
  uint64_t messages_in() const { return messages_in_; }
  uint64_t pings_answered() const { return pings_answered_; }
  uint64_t send_refused() const { return send_refused_; }
  // Wall-clock time (Unix ms) connect() was called.
  double connect_started_ms() const { return connect_started_ms_; }
  // When the last frame reported to on_event reached this device's socket
  // (the kernel's receive time, Unix ms; the read time when not stamped).
  // on_event's `recv_ms` is when the generator read it, later under load.
  double arrival_ms() const { return arrival_ms_; }

 protected:
  explicit device(size_t index) : index_(index) {}

  size_t index_;
  std::string sid_;
  bool open_ = false;
  bool closed_ = false;
  uint64_t messages_in_ = 0;
  uint64_t pings_answered_ = 0;
  uint64_t send_refused_ = 0;
  double connect_started_ms_ = 0;
  double arrival_ms_ = 0;
};

// Wire devices of `ioc` read their sockets every `interval` instead of as
// soon as one is readable (0, the default). Before the first device connects.
void set_wire_poll_interval(boost::asio::io_context& ioc, std::chrono::microseconds interval);

namespace detail {
// The two implementations behind device::create.
std::shared_ptr<device> make_beast_device(boost::asio::io_context& ioc, device_observer& observer,
                                          size_t index);
std::shared_ptr<device> make_wire_device(boost::asio::io_context& ioc, device_observer& observer,
                                         size_t index);
}  // namespace detail

}  // namespace bandsync::bench
