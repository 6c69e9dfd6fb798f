#pragma once
// A WebSocket bound (or being upgraded) to an Engine.IO session (spec
// "WebSocket", "Upgrade"), after its handshake: the bare TCP socket and the
// RFC 6455 framing done here. Internal to the listener: included by
// listener.cpp and ws_connection.cpp only (Beast accepts the upgrade in
// listener.cpp and is gone once the 101 answer is written).
//
// do_x/on_x pairs, no coroutine, so that an idle connection costs only this
// object, the socket's reactor state and one pending wait for readability:
// no buffer and no read operation chain.
//
// Reads: when the socket is readable, non-blocking recv into the one read
// buffer that every WebSocket of the listener shares (ws_context), until
// a short read; the frames in it are parsed there (ws_reader) and only an
// incomplete frame or a fragmented message is kept by the connection.
//
// Writes: a server frame is unmasked, so its header is fixed by the payload's
// length (frame_writer), and every frame queued for the connection during one
// loop turn goes out in one non-blocking sendmsg on the socket at the end of
// that turn (one posted handler flushes every connection woken in the turn:
// ws_context::pending). Only when the kernel takes part of it does the
// connection wait for writability (async_wait(wait_write)) and continue from
// the offset. The connection's own frames (the probe answer, a pong, the
// close frame) go through the same writer, at a frame boundary.
//
// A frame sent with send_mode::now (a tick) skips the turn's batch when
// nothing is queued or being written: one non-blocking write at once
// (ws_connection::try_write), so a tick costs its send and little else, and
// reaches the device without waiting for the rest of the turn's broadcasts.
//
// Closing (RFC 6455 §7): the close frame goes after the session's last
// frames; once both ends' close frames are through (or the connection is
// failed: a protocol error, the peer gone), the write side is shut and the
// socket closed at the peer's end of stream. All of it within `close_grace`:
// a peer that does not read (its receive window full, our write pending
// forever) or never closes is then reset (SO_LINGER 0), which frees the
// kernel's send queue at once instead of pinning it for as long as the peer
// likes.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "engineio/address_limits.hpp"
#include "engineio/frame_writer.hpp"
#include "engineio/session.hpp"
#include "engineio/ws_reader.hpp"

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

// What the WebSockets of one listener (one thread) share: their count, the
// connections to flush at the end of the current loop turn, and the buffer
// that every read fills.
struct ws_context {
  // One read takes this much at most; its frames are handed out before the
  // next read, so the buffer is free again once a read is consumed.
  static constexpr size_t read_buffer_size = 64 * 1024;

  size_t open = 0;
  std::vector<ws_connection*> pending;  // entries nulled by a destroyed connection
  bool flush_posted = false;
  std::unique_ptr<char[]> read_buffer;  // allocated at the first read
};

// Flushes the connections woken during this loop turn (ws_connection.cpp).
void run_pending(ws_context& ctx);

class ws_connection : public ws_link, public std::enable_shared_from_this<ws_connection> {
 public:
  // How long a closing WebSocket may take before its TCP connection is reset.
  static constexpr std::chrono::seconds close_grace{3};

  // `socket`: the TCP connection right after the 101 answer. `max_message`:
  // the largest client message accepted (Engine.IO's maxPayload); a larger
  // one closes the connection with 1009.
  ws_connection(boost::asio::ip::tcp::socket&& socket, std::shared_ptr<ws_context> context,
                std::unique_ptr<connection_slot> slot, size_t max_message);
  ~ws_connection() override;

  // The session whose queue this WebSocket writes (set before anything is sent).
  void bind(session_ptr s) { session_ = std::move(s); }

  // Reads packets for `s`. With `probing`, `s` is a polling session being
  // upgraded (spec "Upgrade"): only "2probe" and "5" are expected, within
  // `upgrade_timeout`. `early`: bytes the client sent right behind its
  // upgrade request (read with it), taken before anything else.
  void run(session_ptr s, bool probing, std::chrono::milliseconds upgrade_timeout,
           std::string early = {});

  // Closes a WebSocket that never got a session (refused after its
  // handshake), within close_grace.
  void refuse();

  void wake() override;
  void shutdown() override;
  write_result try_write(const frame& f) override;

 private:
  friend void run_pending(ws_context& ctx);
  void do_read();
  void on_readable(boost::system::error_code ec);
  // Parses `n` bytes just read at `data` (in the shared buffer).
  void consume(char* data, size_t n);
  // One message or control frame from the reader; false stops the reader.
  bool on_message(const ws_message& m);
  void on_data(const ws_message& m);
  void on_close_frame(uint16_t code);
  void on_protocol_error(ws_error e);
  void on_eof();
  void read_failed();
  void finish(std::string_view reason);
  // Writes every queued frame it can without blocking (see above).
  void flush();
  void wait_writable();
  void write_failed();
  // Our close frame is written: the rest of the close handshake.
  void on_close_sent();
  // Both close frames are through (or the connection failed): shut the write
  // side, then close at the peer's end of stream.
  void teardown();
  void close_socket();
  // Creates the timer if needed and sets it `d` from now.
  boost::asio::steady_timer& arm_timer(std::chrono::steady_clock::duration d);
  // Resets the TCP connection now: pending operations end with an error.
  void abort();
  bool torn_down() const { return closed_; }

  static constexpr size_t not_pending = static_cast<size_t>(-1);

  boost::asio::ip::tcp::socket socket_;
  std::shared_ptr<ws_context> context_;
  std::unique_ptr<connection_slot> slot_;
  // The upgrade deadline while probing, then the close deadline; none while
  // open (a timer is ~120 bytes every idle connection would keep).
  std::unique_ptr<boost::asio::steady_timer> timer_;
  session_ptr session_;
  ws_reader reader_;
  // Our own frames, written before the session's at the next frame boundary
  // (the close frame only after the session's last one).
  frame probe_answer_;
  frame pong_;
  frame close_frame_;
  frame_writer writer_;
  size_t pending_index_ = not_pending;         // our slot in context_->pending
  std::shared_ptr<ws_connection> keep_alive_;  // from shutdown() until closed
  uint16_t close_code_ = 1000;                 // of our close frame
  bool own_head_ = false;  // the frame partly written (writer_.offset()) is one of our own
  bool reading_ = false;   // a wait for readability is pending
  bool waiting_writable_ = false;
  bool probing_ = false;
  bool closing_ = false;
  bool close_sent_ = false;   // our close frame is written whole
  bool peer_closed_ = false;  // no more frames are read: the peer's close, a protocol error, EOF
  bool eof_ = false;          // the peer's end of stream
  bool shut_send_ = false;
  bool closed_ = false;  // the socket is closed
  bool finished_ = false;
};

}  // namespace bandsync::engineio
