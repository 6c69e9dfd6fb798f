#pragma once
// A WebSocket bound (or being upgraded) to an Engine.IO session (spec
// "WebSocket", "Upgrade"). Internal to the listener: this header brings Beast
// and is included by listener.cpp and ws_connection.cpp only.
//
// Beast's do_x/on_x pairs, no coroutine, so that an idle connection costs only
// this object, the Beast stream and the pending read's buffer. Writes come
// from the session's queue one at a time; the probe answer goes first.
//
// Teardown is bounded: once the session is closed, the close frame gets
// `close_grace` to be written and answered; a peer that does not read (its
// receive window full, our write pending forever) is then reset (SO_LINGER 0),
// which frees the kernel's send queue at once instead of pinning it for as
// long as the peer likes.

#include <chrono>
#include <memory>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "engineio/address_limits.hpp"
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

class ws_connection : public ws_link, public std::enable_shared_from_this<ws_connection> {
 public:
  // How long a closing WebSocket may take before its TCP connection is reset.
  static constexpr std::chrono::seconds close_grace{3};

  // The WebSocket runs on the bare socket: its own timer covers the
  // handshake and idle timeouts, so tcp_stream's per-connection state is not
  // kept for the connection's life.
  ws_connection(boost::asio::ip::tcp::socket&& socket, std::shared_ptr<size_t> open_count,
                std::unique_ptr<connection_slot> slot);
  ~ws_connection() override;

  boost::beast::websocket::stream<boost::asio::ip::tcp::socket>& ws() { return ws_; }

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

 private:
  void do_read();
  void on_read(boost::system::error_code ec);
  void finish(std::string_view reason);
  const frame* next_frame() const;
  void do_write();
  void on_write(boost::system::error_code ec);
  // Resets the TCP connection now: pending operations end with an error.
  void abort();
  bool torn_down() const { return closed_; }

  static constexpr size_t read_chunk = 256;  // most client packets are smaller

  boost::beast::websocket::stream<boost::asio::ip::tcp::socket> ws_;
  std::shared_ptr<size_t> open_count_;
  std::unique_ptr<connection_slot> slot_;
  // The upgrade deadline while probing, then the close deadline.
  boost::asio::steady_timer timer_;
  boost::beast::flat_buffer buf_;
  session_ptr session_;
  frame probe_answer_;
  std::shared_ptr<const std::string> held_;
  bool probing_ = false;
  bool writing_ = false;
  bool from_probe_ = false;
  bool closing_ = false;
  bool close_sent_ = false;
  bool closed_ = false;  // the socket is closed (or Beast's close finished)
  bool finished_ = false;
};

}  // namespace bandsync::engineio
