#include "engineio/ws_connection.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/buffer.hpp>
#include <boost/beast/websocket.hpp>

namespace bandsync::engineio {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using boost::system::error_code;

ws_connection::ws_connection(net::ip::tcp::socket&& socket, std::shared_ptr<size_t> open_count,
                             std::unique_ptr<connection_slot> slot)
    : ws_(std::move(socket)),
      open_count_(std::move(open_count)),
      slot_(std::move(slot)),
      timer_(ws_.get_executor()) {
  ++*open_count_;
}

ws_connection::~ws_connection() {
  --*open_count_;
}

void ws_connection::run(session_ptr s, bool probing, std::chrono::milliseconds upgrade_timeout) {
  session_ = std::move(s);
  probing_ = probing;
  if (probing_) {
    timer_.expires_after(upgrade_timeout);
    timer_.async_wait([weak = weak_from_this()](error_code ec) {
      if (ec) return;
      if (auto self = weak.lock(); self && self->probing_) self->finish("upgrade timeout");
    });
  }
  do_read();
}

void ws_connection::refuse() {
  finished_ = true;
  shutdown();
}

void ws_connection::wake() {
  if (!writing_) do_write();
}

void ws_connection::shutdown() {
  if (closing_) return wake();
  closing_ = true;
  // Whatever is pending (the last frames, the close handshake), the TCP
  // connection is gone after close_grace.
  timer_.expires_after(close_grace);
  timer_.async_wait([weak = weak_from_this()](error_code ec) {
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
  auto& sock = beast::get_lowest_layer(ws_);
  error_code ec;
  sock.set_option(net::socket_base::linger(true, 0), ec);
  sock.close(ec);
  closed_ = true;
}

void ws_connection::do_read() {
  // Small reads: a pending read reserves only read_chunk bytes, which every
  // idle connection pays; larger messages take a few reads.
  ws_.async_read_some(buf_, read_chunk,
                      [self = shared_from_this()](error_code ec, size_t) { self->on_read(ec); });
}

void ws_connection::on_read(error_code ec) {
  if (!ec && !ws_.is_message_done()) return do_read();  // the rest of the message
  if (ec) {
    if (ec == websocket::error::message_too_big) {
      spdlog::info("engineio: session {}: websocket message over the size limit", session_->id());
      return finish("payload too large");
    }
    return finish(ec == websocket::error::closed ? "transport close" : "transport error");
  }
  if (finished_) return;
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
      session_->probe_received();
      wake();
      return do_read();
    }
    if (p.type == packet_type::upgrade && session_->is_open()) {
      timer_.cancel();
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

const frame* ws_connection::next_frame() const {
  if (probe_answer_.data) return &probe_answer_;
  if (session_ && session_->transport() == transport_kind::websocket && session_->has_frames())
    return &session_->front_frame();
  return nullptr;
}

void ws_connection::do_write() {
  if (closed_) return;
  const frame* f = next_frame();
  if (!f) {
    if (closing_ && !close_sent_) {
      close_sent_ = true;
      writing_ = true;
      ws_.async_close(websocket::close_code::normal, [self = shared_from_this()](error_code) {
        self->writing_ = false;
        // Beast closed the socket (or failed to): nothing is left to bound.
        self->closed_ = true;
        self->timer_.cancel();
      });
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

void ws_connection::on_write(error_code ec) {
  writing_ = false;
  held_.reset();
  if (ec) {
    // First the socket, so that the close path below writes nothing more.
    if (!closed_) abort();
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

}  // namespace bandsync::engineio
