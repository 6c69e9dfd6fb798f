#pragma once
// A WebSocket bound (or being upgraded) to an Engine.IO session (spec
// "WebSocket", "Upgrade"). Internal to the listener: this header brings Beast
// and is included by listener.cpp and ws_connection.cpp only.
//
// Beast's do_x/on_x pairs, no coroutine, so that an idle connection costs only
// this object, the Beast stream and the pending read's buffer.
//
// Writes bypass Beast: a server frame is unmasked, so its header is fixed by
// the payload's length (frame_writer), and every frame queued for the
// connection during one loop turn goes out in one non-blocking sendmsg on the
// bare socket at the end of that turn (one posted handler flushes every
// connection woken in the turn: ws_context::pending). Only when the kernel
// takes part of it does the connection wait for writability
// (async_wait(wait_write)) and continue from the offset. The probe answer
// goes first.
//
// A frame sent with send_mode::now (a tick, a reply) skips the turn's batch
// when nothing is queued or being written: one non-blocking write at once
// (ws_connection::try_write), so a tick costs its sendmsg and little else, and
// reaches the device without waiting for the rest of the turn's broadcasts.
//
// Beast still writes its own frames (the handshake response, pong, close) on
// the same socket: its next layer, gated_socket, holds such a write back
// while a data frame is partly written, and the raw writes wait while a
// Beast write is in flight, so frames never interleave on the wire.
//
// Teardown is bounded: once the session is closed, the close frame gets
// `close_grace` to be written and answered; a peer that does not read (its
// receive window full, our write pending forever) is then reset (SO_LINGER 0),
// which frees the kernel's send queue at once instead of pinning it for as
// long as the peer likes.

#include <array>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "engineio/address_limits.hpp"
#include "engineio/frame_writer.hpp"
#include "engineio/session.hpp"

namespace bandsync::engineio {

// Keeps one open connection counted against its address until destroyed.
struct connection_slot {
  std::shared_ptr<address_limits> limits;
  std::string address;
  connection_slot(std::shared_ptr<address_limits> l, std::string a)
      : limits(std::move(l)), address(std::move(a)) {}
  ~connection_slot() {
    if (limits) limits->connection_closed(address);
  }
  connection_slot(const connection_slot&) = delete;
  connection_slot& operator=(const connection_slot&) = delete;
};

class ws_connection;

// What the WebSockets of one listener share: their count and the connections
// to flush at the end of the current loop turn.
struct ws_context {
  size_t open = 0;
  std::vector<ws_connection*> pending;  // entries nulled by a destroyed connection
  bool flush_posted = false;
};

// The WebSocket's next layer: the TCP socket, with Beast's writes held back
// while a raw data frame is partly written (see ws_connection).
class gated_socket {
 public:
  using executor_type = boost::asio::ip::tcp::socket::executor_type;
  using write_handler =
      boost::asio::any_completion_handler<void(boost::system::error_code, size_t)>;

  explicit gated_socket(boost::asio::ip::tcp::socket&& s) : sock_(std::move(s)) {}

  executor_type get_executor() noexcept { return sock_.get_executor(); }
  boost::asio::ip::tcp::socket& socket() { return sock_; }
  void set_owner(ws_connection* owner) { owner_ = owner; }

  template <class MutableBuffers, class Handler>
  auto async_read_some(const MutableBuffers& b, Handler&& h) {
    return sock_.async_read_some(b, std::forward<Handler>(h));
  }

  template <class ConstBuffers, class Handler>
  auto async_write_some(const ConstBuffers& b, Handler&& h) {
    return boost::asio::async_initiate<Handler, void(boost::system::error_code, size_t)>(
        [this](auto handler, const ConstBuffers& buffers) {
          start_write(
              std::vector<boost::asio::const_buffer>(boost::asio::buffer_sequence_begin(buffers),
                                                     boost::asio::buffer_sequence_end(buffers)),
              write_handler(std::move(handler)));
        },
        h, b);
  }

  // Runs or holds back one of Beast's writes (defined in ws_connection.cpp).
  void start_write(std::vector<boost::asio::const_buffer> buffers, write_handler h);

 private:
  boost::asio::ip::tcp::socket sock_;
  ws_connection* owner_ = nullptr;
};

// Beast's close handshake ends with a TCP teardown of the next layer, and its
// timeouts close it: both act on the socket itself (found by ADL).
void teardown(boost::beast::role_type role, gated_socket& s, boost::system::error_code& ec);
template <class Handler>
void async_teardown(boost::beast::role_type role, gated_socket& s, Handler&& h) {
  boost::beast::websocket::async_teardown(role, s.socket(), std::forward<Handler>(h));
}
void beast_close_socket(gated_socket& s);

// Flushes the connections woken during this loop turn (ws_connection.cpp).
void run_pending(ws_context& ctx);

class ws_connection : public ws_link, public std::enable_shared_from_this<ws_connection> {
 public:
  // How long a closing WebSocket may take before its TCP connection is reset.
  static constexpr std::chrono::seconds close_grace{3};

  // The WebSocket runs on the bare socket: its own timer covers the
  // handshake and idle timeouts, so tcp_stream's per-connection state is not
  // kept for the connection's life.
  ws_connection(boost::asio::ip::tcp::socket&& socket, std::shared_ptr<ws_context> context,
                std::unique_ptr<connection_slot> slot);
  ~ws_connection() override;

  boost::beast::websocket::stream<gated_socket>& ws() { return ws_; }

  // The session whose queue this WebSocket writes (set before anything is sent).
  void bind(session_ptr s) { session_ = std::move(s); }

  // Reads packets for `s`. With `probing`, `s` is a polling session being
  // upgraded (spec "Upgrade"): only "2probe" and "5" are expected, within
  // `upgrade_timeout`.
  void run(session_ptr s, bool probing, std::chrono::milliseconds upgrade_timeout);

  // Closes a WebSocket that never got a session (refused after its
  // handshake), within close_grace.
  void refuse();

  void wake() override;
  void shutdown() override;
  write_result try_write(const frame& f) override;

 private:
  friend class gated_socket;
  friend void run_pending(ws_context& ctx);
  void do_read();
  void on_read(boost::system::error_code ec, size_t n);
  void finish(std::string_view reason);
  // Writes every queued frame it can without blocking (see above).
  void flush();
  void wait_writable();
  void write_failed();
  // Starts Beast's held-back write, if any, now that no frame is partly written.
  bool start_held_write();
  void close_when_flushed();
  // Creates the timer if needed and sets it `d` from now.
  boost::asio::steady_timer& arm_timer(std::chrono::steady_clock::duration d);
  // Resets the TCP connection now: pending operations end with an error.
  void abort();
  bool torn_down() const { return closed_; }

  // Every idle connection's pending read reserves this much: client packets
  // are mostly a pong ("3") or a short event; longer ones take a few reads.
  static constexpr size_t read_chunk = 128;

  static constexpr size_t not_pending = static_cast<size_t>(-1);

  boost::beast::websocket::stream<gated_socket> ws_;
  std::shared_ptr<ws_context> context_;
  std::unique_ptr<connection_slot> slot_;
  // The upgrade deadline while probing, then the close deadline; none while
  // open (a timer is ~120 bytes every idle connection would keep).
  std::unique_ptr<boost::asio::steady_timer> timer_;
  std::array<char, read_chunk> chunk_;  // what the pending read fills
  std::string message_;                 // the start of a message longer than one read
  session_ptr session_;
  frame probe_answer_;
  frame_writer writer_;
  size_t pending_index_ = not_pending;  // our slot in context_->pending
  // One of Beast's writes, held back while a data frame is partly written
  // (Beast serializes its own writes: at most one at a time).
  std::vector<boost::asio::const_buffer> held_buffers_;
  gated_socket::write_handler held_handler_;
  std::shared_ptr<ws_connection> keep_alive_;  // from shutdown() until closed
  bool beast_writing_ = false;
  bool waiting_writable_ = false;
  bool probing_ = false;
  bool closing_ = false;
  bool close_sent_ = false;
  bool closed_ = false;  // the socket is closed (or Beast's close finished)
  bool finished_ = false;
};

}  // namespace bandsync::engineio
