#include "engineio/ws_connection.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/buffer.hpp>
#include <boost/beast/websocket.hpp>

namespace bandsync::engineio {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using boost::system::error_code;

ws_connection::ws_connection(net::ip::tcp::socket&& socket, std::shared_ptr<ws_context> context,
                             std::unique_ptr<connection_slot> slot)
    : ws_(std::move(socket)), context_(std::move(context)), slot_(std::move(slot)) {
  ws_.next_layer().set_owner(this);
  ++context_->open;
}

ws_connection::~ws_connection() {
  if (pending_index_ != not_pending) context_->pending[pending_index_] = nullptr;
  if (session_) session_->unbind_websocket(this);
  --context_->open;
}

void ws_connection::run(session_ptr s, bool probing, std::chrono::milliseconds upgrade_timeout) {
  session_ = std::move(s);
  probing_ = probing;
  if (probing_) {
    arm_timer(upgrade_timeout).async_wait([weak = weak_from_this()](error_code ec) {
      if (ec) return;
      if (auto self = weak.lock(); self && self->probing_) self->finish("upgrade timeout");
    });
  }
  do_read();
}

net::steady_timer& ws_connection::arm_timer(std::chrono::steady_clock::duration d) {
  if (!timer_) timer_ = std::make_unique<net::steady_timer>(ws_.get_executor());
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
    net::post(ws_.get_executor(), [ctx = context_] { run_pending(*ctx); });
  }
}

ws_link::write_result ws_connection::try_write(const frame& f) {
  // Anything in progress on the socket (a partly written frame, a wait for
  // writability, a Beast control frame, the probe answer, the close) orders
  // this frame behind it: the queue and the turn's flush keep that order.
  if (closed_ || closing_ || close_sent_ || waiting_writable_ || beast_writing_ || held_handler_ ||
      probe_answer_.data || pending_index_ != not_pending || writer_.offset() != 0)
    return write_result::queue;
  const frame* one = &f;
  auto r = writer_.write(ws_.next_layer().socket().native_handle(),
                         std::span<const frame* const>(&one, 1));
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
  // Until the close handshake ends or the connection is reset: the flush that
  // writes the last frames and starts the close runs later in this turn, and
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
  wake();
}

void ws_connection::abort() {
  auto& sock = ws_.next_layer().socket();
  error_code ec;
  sock.set_option(net::socket_base::linger(true, 0), ec);
  sock.close(ec);
  closed_ = true;
  // The caller holds its own reference (a handler's), or this ends here.
  auto keep = std::move(keep_alive_);
  if (held_handler_) {
    // Beast's held-back write fails as a write on the closed socket would
    // (its operation holds this connection: it must complete).
    net::post(ws_.get_executor(), [h = std::move(held_handler_)]() mutable {
      std::move(h)(net::error::operation_aborted, 0);
    });
    held_handler_ = {};
    held_buffers_.clear();
  }
}

void ws_connection::do_read() {
  // Small reads: a pending read reserves only read_chunk bytes, which every
  // idle connection pays; larger messages take a few reads.
  // Into a fixed chunk, not a dynamic buffer: Beast's dynamic-buffer read
  // wraps the pending operation in one more composed layer, which every idle
  // connection's pending read would carry (idle memory, issue 12).
  ws_.async_read_some(net::buffer(chunk_), [self = shared_from_this()](error_code ec, size_t n) {
    self->on_read(ec, n);
  });
}

void ws_connection::on_read(error_code ec, size_t n) {
  if (!ec && !ws_.is_message_done()) {
    // Part of a longer message: kept until its end (Beast bounds the
    // message at read_message_max).
    message_.append(chunk_.data(), n);
    return do_read();
  }
  if (ec) {
    if (ec == websocket::error::message_too_big) {
      spdlog::info("engineio: session {}: websocket message over the size limit", session_->id());
      return finish("payload too large");
    }
    return finish(ec == websocket::error::closed ? "transport close" : "transport error");
  }
  if (finished_) return;
  std::string_view data(chunk_.data(), n);
  if (!message_.empty()) {
    message_.append(chunk_.data(), n);
    data = message_;
  }
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
  // Decoded (copied): a large message must not pin its buffer for the life
  // of the connection.
  message_ = std::string();

  if (probing_) {
    if (p.type == packet_type::ping && p.data == "probe") {
      probe_answer_ = make_text_frame(packet_type::pong, "probe");
      session_->probe_received();
      wake();
      return do_read();
    }
    if (p.type == packet_type::upgrade && session_->is_open()) {
      timer_.reset();  // cancels the upgrade deadline
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
  if (closed_ || close_sent_ || waiting_writable_ || beast_writing_) return;
  const int fd = ws_.next_layer().socket().native_handle();
  const bool from_session = session_ && session_->transport() == transport_kind::websocket;
  for (;;) {
    const frame* batch[frame_writer::max_batch];
    size_t n = 0;
    const bool probe = probe_answer_.data != nullptr;
    if (probe) batch[n++] = &probe_answer_;
    if (from_session)
      for (size_t i = 0, count = session_->frame_count(); i < count && n < frame_writer::max_batch;
           ++i)
        batch[n++] = &session_->frame_at(i);
    if (n == 0) break;
    auto r = writer_.write(fd, std::span<const frame* const>(batch, n));
    size_t done = r.frames_done;
    if (probe && done > 0) {
      probe_answer_ = frame{};
      --done;
    }
    while (done-- > 0) session_->pop_frame();
    if (r.error) {
      auto self = shared_from_this();  // abort() may drop the last other reference
      return write_failed();
    }
    if (writer_.offset() == 0 && start_held_write()) return;  // Beast's frame goes now
    if (r.would_block) return wait_writable();
  }
  if (start_held_write()) return;
  close_when_flushed();
}

void ws_connection::wait_writable() {
  waiting_writable_ = true;
  ws_.next_layer().socket().async_wait(net::socket_base::wait_write,
                                       [self = shared_from_this()](error_code ec) {
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

void ws_connection::close_when_flushed() {
  if (!closing_ || close_sent_ || closed_) return;
  close_sent_ = true;
  ws_.async_close(websocket::close_code::normal, [self = shared_from_this()](error_code) {
    // Beast closed the socket (or failed to): nothing is left to bound.
    self->closed_ = true;
    self->timer_.reset();  // cancels the close deadline
    self->keep_alive_.reset();
  });
}

bool ws_connection::start_held_write() {
  if (!held_handler_) return false;
  ws_.next_layer().start_write(std::move(held_buffers_), std::move(held_handler_));
  held_buffers_.clear();
  held_handler_ = {};
  return true;
}

void gated_socket::start_write(std::vector<net::const_buffer> buffers, write_handler h) {
  ws_connection* c = owner_;
  if (c && c->writer_.offset() > 0) {
    // A data frame is partly on the wire: this frame follows it.
    c->held_buffers_ = std::move(buffers);
    c->held_handler_ = std::move(h);
    return;
  }
  std::weak_ptr<ws_connection> weak;
  if (c) {
    c->beast_writing_ = true;
    weak = c->weak_from_this();
  }
  sock_.async_write_some(buffers, [weak, h = std::move(h)](error_code ec, size_t n) mutable {
    auto c = weak.lock();
    if (c) c->beast_writing_ = false;
    std::move(h)(ec, n);
    // Beast may have started its next write from the handler; otherwise the
    // data frames that waited go at the end of this turn.
    if (c && !c->beast_writing_) c->wake();
  });
}

void teardown(beast::role_type role, gated_socket& s, error_code& ec) {
  websocket::teardown(role, s.socket(), ec);
}

void beast_close_socket(gated_socket& s) {
  beast::close_socket(s.socket());
}

}  // namespace bandsync::engineio
