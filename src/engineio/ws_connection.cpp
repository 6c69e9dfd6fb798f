#include "engineio/ws_connection.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include <spdlog/spdlog.h>

namespace bandsync::engineio {

namespace net = boost::asio;
using boost::system::error_code;

namespace {

// Full reads taken per wake-up before the connection waits again: a client
// that sends faster than it is read must not hold the loop (a short read
// ends the round sooner).
constexpr int max_reads_per_wake = 4;

frame control_frame(ws_opcode op, std::string_view payload) {
  frame f(false, std::make_shared<const std::string>(payload));
  f.control = static_cast<uint8_t>(op);
  return f;
}

frame close_frame(uint16_t code) {
  const char payload[2] = {static_cast<char>(code >> 8), static_cast<char>(code & 0xff)};
  return control_frame(ws_opcode::close, std::string_view(payload, 2));
}

}  // namespace

ws_connection::ws_connection(net::ip::tcp::socket&& socket, std::shared_ptr<ws_context> context,
                             std::unique_ptr<connection_slot> slot, size_t max_message)
    : socket_(std::move(socket)),
      context_(std::move(context)),
      slot_(std::move(slot)),
      reader_(ws_role::server, max_message) {
  ++context_->open;
}

ws_connection::~ws_connection() {
  if (pending_index_ != not_pending) context_->pending[pending_index_] = nullptr;
  if (session_) session_->unbind_websocket(this);
  --context_->open;
}

void ws_connection::run(session_ptr s, bool probing, std::chrono::milliseconds upgrade_timeout,
                        std::string early) {
  session_ = std::move(s);
  probing_ = probing;
  if (probing_) {
    arm_timer(upgrade_timeout).async_wait([weak = weak_from_this()](error_code ec) {
      if (ec) return;
      if (auto self = weak.lock(); self && self->probing_) self->finish("upgrade timeout");
    });
  }
  if (!early.empty()) {
    auto self = shared_from_this();
    consume(early.data(), early.size());
  }
  do_read();
}

net::steady_timer& ws_connection::arm_timer(std::chrono::steady_clock::duration d) {
  if (!timer_) timer_ = std::make_unique<net::steady_timer>(socket_.get_executor());
  timer_->expires_after(d);  // cancels a pending wait
  return *timer_;
}

void ws_connection::refuse() {
  finished_ = true;
  shutdown();
}

void ws_connection::wake() {
  if (pending_index_ != not_pending || closed_) return;
  pending_index_ = context_->pending.size();
  context_->pending.push_back(this);
  if (!context_->flush_posted) {
    context_->flush_posted = true;
    net::post(socket_.get_executor(), [ctx = context_] { run_pending(*ctx); });
  }
}

ws_link::write_result ws_connection::try_write(const frame& f) {
  // Anything in progress on the socket (a partly written frame, a wait for
  // writability, one of our own frames waiting, the close) orders this frame
  // behind it: the queue and the turn's flush keep that order.
  if (closed_ || closing_ || close_sent_ || peer_closed_ || waiting_writable_ || own_head_ ||
      probe_answer_.data || pong_.data || close_frame_.data || pending_index_ != not_pending ||
      writer_.offset() != 0)
    return write_result::queue;
  const frame* one = &f;
  auto r = writer_.write(socket_.native_handle(), std::span<const frame* const>(&one, 1));
  if (r.frames_done == 1) return write_result::written;
  if (r.error) {
    // The turn's flush meets the same error on this socket and takes the
    // one failure path (write_failed), outside the caller's broadcast loop.
    wake();
    return write_result::queue;
  }
  // The socket is full: the session queues the frame as its head (writer_
  // remembers how much of it went) and the rest goes once it is writable.
  wait_writable();
  return write_result::waiting;
}

void ws_connection::shutdown() {
  if (closing_) return wake();
  closing_ = true;
  // Reset already (a failed read or write): nothing is left to write or to
  // wait for, and nothing would release keep_alive_.
  if (closed_) return;
  // Until the close handshake ends or the connection is reset: the flush that
  // writes the last frames and the close frame runs later in this turn, and
  // may find no other owner (a refused WebSocket, whose handshake coroutine
  // has ended).
  keep_alive_ = shared_from_this();
  // Whatever is pending (the last frames, the close handshake), the TCP
  // connection is gone after close_grace.
  arm_timer(close_grace).async_wait([weak = weak_from_this()](error_code ec) {
    if (ec) return;
    if (auto self = weak.lock(); self && !self->torn_down()) {
      spdlog::debug("engineio: websocket not closed within {} s: connection reset",
                    close_grace.count());
      self->abort();
    }
  });
  do_read();  // for the peer's close frame (a refused WebSocket was never read)
  wake();
}

void ws_connection::abort() {
  error_code ec;
  socket_.set_option(net::socket_base::linger(true, 0), ec);
  socket_.close(ec);
  closed_ = true;
  // The caller holds its own reference (a handler's), or this ends here.
  auto keep = std::move(keep_alive_);
}

void ws_connection::close_socket() {
  error_code ec;
  socket_.close(ec);
  closed_ = true;
  timer_.reset();  // cancels the close deadline
  auto keep = std::move(keep_alive_);
}

// ---- reading ----

void ws_connection::do_read() {
  // A wait, not a read: an idle connection holds no buffer and no read
  // operation, only this small wait (Asio re-arms the descriptor with one
  // epoll_ctl per wait; reads are client messages, a few per minute).
  if (reading_ || closed_ || eof_) return;
  reading_ = true;
  socket_.async_wait(net::socket_base::wait_read, [self = shared_from_this()](error_code ec) {
    self->reading_ = false;
    self->on_readable(ec);
  });
}

void ws_connection::on_readable(error_code ec) {
  if (closed_) return;
  if (ec) return read_failed();
  auto& ctx = *context_;
  if (!ctx.read_buffer) ctx.read_buffer = std::make_unique<char[]>(ws_context::read_buffer_size);
  char* buf = ctx.read_buffer.get();
  const int fd = socket_.native_handle();
  for (int round = 0; round < max_reads_per_wake; ++round) {
    ssize_t n;
    do n = ::recv(fd, buf, ws_context::read_buffer_size, MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      return read_failed();
    }
    if (n == 0) return on_eof();
    // Once the peer's frames are done (its close frame, a protocol error),
    // what it still sends is read and dropped until its end of stream.
    if (!peer_closed_) consume(buf, static_cast<size_t>(n));
    if (closed_) return;
    // A short read emptied the socket (as Asio's own reads assume).
    if (static_cast<size_t>(n) < ws_context::read_buffer_size) break;
  }
  do_read();
}

void ws_connection::consume(char* data, size_t n) {
  auto s = reader_.feed(data, n, [this](const ws_message& m) { return on_message(m); });
  if (s == ws_reader::status::error) on_protocol_error(reader_.error());
}

bool ws_connection::on_message(const ws_message& m) {
  switch (m.op) {
    case ws_opcode::text:
    case ws_opcode::binary:
      on_data(m);
      return !closed_;
    case ws_opcode::ping:
      // Only the latest ping is answered when several wait (§5.5.3); none
      // once our close frame is due (nothing may follow it).
      // A pong the kernel took in part stays as it is (its bytes must not
      // change under the writer's offset): this ping then goes unanswered,
      // which only a client that does not read can cause.
      if (!closing_ && !(own_head_ && !probe_answer_.data)) {
        pong_ = control_frame(ws_opcode::pong, m.payload);
        wake();
      }
      return true;
    case ws_opcode::close:
      on_close_frame(m.close_code);
      return false;
    default:
      return true;  // an unsolicited pong: Engine.IO's own ping finds dead peers
  }
}

void ws_connection::on_data(const ws_message& m) {
  if (finished_) return;  // closing: only the peer's close frame matters now
  packet p;
  if (m.op == ws_opcode::binary) {
    p = packet{packet_type::message, true, std::string(m.payload)};
  } else {
    auto decoded = decode_packet(m.payload);
    if (!decoded) {
      spdlog::info("engineio: session {} closed: bad packet ({})", session_->id(),
                   decoded.error().message());
      return finish("parse error");
    }
    // Decoded (copied): the payload lies in the shared read buffer.
    p = std::move(*decoded);
  }

  if (probing_) {
    if (p.type == packet_type::ping && p.data == "probe") {
      probe_answer_ = make_text_frame(packet_type::pong, "probe");
      session_->probe_received();
      wake();
      return;
    }
    if (p.type == packet_type::upgrade && session_->is_open()) {
      timer_.reset();  // cancels the upgrade deadline
      probing_ = false;
      session_->complete_upgrade(shared_from_this());
      return;
    }
    // Anything else during the probe: this WebSocket fails; the polling
    // session goes on as before.
    return finish("bad upgrade");
  }
  session_->on_packet(std::move(p));
}

void ws_connection::on_close_frame(uint16_t code) {
  peer_closed_ = true;
  // Our answer echoes the peer's code (§5.5.1), 1000 when it gave none.
  if (!closing_) close_code_ = code != 0 ? code : 1000;
  if (!finished_) return finish("transport close");
  if (close_sent_) teardown();
}

void ws_connection::on_protocol_error(ws_error e) {
  const std::string_view id = session_ ? std::string_view(session_->id()) : "-";
  if (e == ws_error::message_too_big)
    spdlog::info("engineio: session {}: websocket message over the size limit", id);
  else
    spdlog::debug("engineio: session {}: websocket protocol error ({}): closed with {}", id,
                  to_string(e), close_code(e));
  // Failing the connection (§7.1.7): our close frame carries the reason, and
  // nothing more of the peer's is read.
  peer_closed_ = true;
  if (!closing_) close_code_ = close_code(e);
  if (!finished_)
    return finish(e == ws_error::message_too_big ? "payload too large" : "transport error");
  if (close_sent_) teardown();
}

void ws_connection::on_eof() {
  // The peer is gone (or half-closed without a close frame, §7.1.5's
  // abnormal closure): nothing can be sent that it would read.
  eof_ = true;
  peer_closed_ = true;
  close_socket();
  if (!finished_) finish("transport error");
}

void ws_connection::read_failed() {
  // A reset connection: nothing can be written either.
  if (!closed_) abort();
  if (!finished_) finish("transport error");
}

// The one close path of the connection.
void ws_connection::finish(std::string_view reason) {
  if (finished_) return;
  finished_ = true;
  if (probing_) {
    probing_ = false;
    session_->abort_upgrade();
    session_.reset();  // never write the polling session's frames here
  } else if (session_ && session_->is_open()) {
    session_->on_transport_error(reason);
  }
  shutdown();
}

// ---- writing ----

// Called from the one handler posted per loop turn: every connection woken
// during the turn writes its frames here, after the broadcasts that queued them.
void run_pending(ws_context& ctx) {
  // Indexes, not iterators: a flush can wake connections (appended here and
  // flushed in this same run) or destroy one (its entry is nulled).
  for (size_t i = 0; i < ctx.pending.size(); ++i) {
    ws_connection* c = ctx.pending[i];
    if (!c) continue;
    ctx.pending[i] = nullptr;
    c->pending_index_ = ws_connection::not_pending;
    c->flush();
  }
  ctx.pending.clear();
  ctx.flush_posted = false;
}

void ws_connection::flush() {
  if (closed_ || close_sent_ || waiting_writable_) return;
  const int fd = socket_.native_handle();
  const bool from_session = session_ && session_->transport() == transport_kind::websocket;
  for (;;) {
    const frame* batch[frame_writer::max_batch];
    frame* own[3];
    size_t n = 0;
    // Our own frames first, but never inside a session frame that the kernel
    // took only in part: they follow its last byte.
    if (writer_.offset() == 0 || own_head_)
      for (frame* f : {&probe_answer_, &pong_, &close_frame_}) {
        if (!f->data) continue;
        own[n] = f;
        batch[n++] = f;
      }
    const size_t owned = n;
    // Nothing of the session's after the close frame.
    if (from_session && !close_frame_.data)
      for (size_t i = 0, count = session_->frame_count(); i < count && n < frame_writer::max_batch;
           ++i)
        batch[n++] = &session_->frame_at(i);
    if (n == 0) {
      if (!closing_ || close_frame_.data) break;
      close_frame_ = close_frame(close_code_);  // after the session's last frame
      continue;
    }
    auto r = writer_.write(fd, std::span<const frame* const>(batch, n));
    const size_t done = r.frames_done;
    const size_t own_done = std::min(done, owned);
    for (size_t i = 0; i < own_done; ++i) {
      if (own[i] == &close_frame_) close_sent_ = true;
      *own[i] = frame{};
    }
    for (size_t i = own_done; i < done; ++i) session_->pop_frame();
    own_head_ = writer_.offset() > 0 && done < owned;
    if (r.error) {
      auto self = shared_from_this();  // abort() may drop the last other reference
      return write_failed();
    }
    if (close_sent_) {
      auto self = shared_from_this();  // the teardown may close: keep_alive_ goes
      return on_close_sent();
    }
    if (r.would_block) return wait_writable();
  }
}

void ws_connection::wait_writable() {
  waiting_writable_ = true;
  socket_.async_wait(net::socket_base::wait_write, [self = shared_from_this()](error_code ec) {
    self->waiting_writable_ = false;
    if (ec) {
      if (!self->closed_) self->write_failed();
      return;
    }
    self->flush();
  });
}

void ws_connection::write_failed() {
  // First the socket, so that the close path below writes nothing more.
  if (!closed_) abort();
  if (session_ && session_->transport() == transport_kind::websocket)
    session_->on_transport_error("transport error");
}

void ws_connection::on_close_sent() {
  // The peer's close frame came already (or the connection is failed): the
  // handshake is over; otherwise it is awaited, within close_grace.
  if (peer_closed_) return teardown();
  do_read();
}

void ws_connection::teardown() {
  if (closed_ || shut_send_) return;
  // The server closes first (§7.1.1): our FIN follows the close frame, and
  // the socket is closed at the peer's end of stream, so that the close
  // frame is not lost to a reset for bytes left unread.
  shut_send_ = true;
  error_code ec;
  socket_.shutdown(net::socket_base::shutdown_send, ec);
  do_read();
}

}  // namespace bandsync::engineio
