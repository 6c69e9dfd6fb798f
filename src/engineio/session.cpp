#include "engineio/session.hpp"

#include <spdlog/spdlog.h>

#include "engineio/server.hpp"

namespace bandsync::engineio {

session::session(server& srv, boost::asio::any_io_executor ex, std::string id, transport_kind t,
                 std::string remote_address)
    : transport_(t),
      server_(srv),
      id_(std::move(id)),
      remote_address_(std::move(remote_address)),
      ping_timer_(std::move(ex)) {}

boost::asio::steady_timer& session::poll_timer() {
  if (!poll_timer_) poll_timer_ = std::make_unique<boost::asio::steady_timer>(executor());
  return *poll_timer_;
}

send_status session::send(const frame& f, send_mode mode) {
  if (!open_) return send_status::closed;
  // Nothing queued means nothing may go before this frame: the link writes
  // it now when its socket is free (ws_link::try_write).
  if (mode == send_mode::now && ws_ && queue_.empty() && transport_ == transport_kind::websocket) {
    switch (ws_->try_write(f)) {
      case ws_link::write_result::written:
        return send_status::ok;
      case ws_link::write_result::waiting:
        queue_.push_back(f);
        queued_bytes_ += f.size();
        return send_status::ok;
      case ws_link::write_result::queue:
        break;
    }
  }
  const auto& o = server_.opts();
  if (queued_bytes_ + f.size() > o.max_buffered_bytes || queue_.size() >= o.max_buffered_frames) {
    spdlog::warn("engineio: session {} closed: {} bytes queued for a client that does not read",
                 id_, queued_bytes_);
    do_close("transport buffer full", false);
    return send_status::buffer_full;
  }
  queue_.push_back(f);
  queued_bytes_ += f.size();
  if (transport_ == transport_kind::websocket) {
    if (ws_) ws_->wake();
  } else {
    wake_poll();
  }
  return send_status::ok;
}

void session::close(std::string_view reason) {
  do_close(reason, true);
}

void session::start() {
  if (started_) return;
  started_ = true;
  schedule_ping();
}

void session::schedule_ping() {
  awaiting_pong_ = false;
  ping_timer_.expires_after(server_.opts().ping_interval);
  ping_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->on_ping_timer();
  });
}

void session::ping_soon(std::chrono::milliseconds delay) {
  if (!open_ || !started_ || awaiting_pong_) return;
  auto due = std::chrono::steady_clock::now() + delay;
  if (ping_timer_.expiry() <= due) return;
  // Re-arming cancels the pending wait, whose handler then sees an error.
  ping_timer_.expires_at(due);
  ping_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->on_ping_timer();
  });
}

void session::on_ping_timer() {
  if (!open_) return;
  if (awaiting_pong_) {
    do_close("ping timeout", false);
    return;
  }
  static const frame ping = make_text_frame(packet_type::ping);
  awaiting_pong_ = true;
  if (send(ping) != send_status::ok) return;
  server_.upper().on_ping(shared_from_this());
  ping_timer_.expires_after(server_.opts().ping_timeout);
  ping_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->on_ping_timer();
  });
}

void session::on_packet(packet&& p) {
  if (!open_) return;
  switch (p.type) {
    case packet_type::message: {
      auto self = shared_from_this();  // the handler may close us
      if (p.binary)
        server_.upper().on_binary(self, p.data);
      else
        server_.upper().on_message(self, p.data);
      break;
    }
    case packet_type::pong:
      if (awaiting_pong_) {
        ping_timer_.cancel();
        schedule_ping();
        server_.upper().on_pong(shared_from_this());
      }
      break;
    case packet_type::ping:
      // v4 clients do not ping; answering keeps v3-style probes and tools working.
      send(make_text_frame(packet_type::pong, p.data));
      break;
    case packet_type::close:
      do_close("transport close", false);
      break;
    case packet_type::noop:
    case packet_type::upgrade:
      break;  // harmless outside an upgrade
    case packet_type::open:
      do_close("parse error", false);  // only the server sends open
      break;
  }
}

void session::on_transport_error(std::string_view reason) {
  do_close(reason, false);
}

bool session::poll_should_wait() const {
  return open_ && queue_.empty() && !poll_noop_ && !(upgrading_ && probed_);
}

std::string session::take_poll_payload() {
  std::string out;
  queue_.for_each([&](const frame& f) { append_to_payload(out, f); });
  queue_.clear();
  queued_bytes_ = 0;
  if (poll_noop_ || out.empty()) {
    // Released without data (upgrade, client close, shutdown): a noop ends the
    // request cleanly, as the spec's upgrade section prescribes.
    append_to_payload(out, make_text_frame(packet_type::noop));
    poll_noop_ = false;
  }
  return out;
}

void session::pop_frame() {
  queued_bytes_ -= queue_.front().size();
  queue_.pop_front();
}

void session::wake_poll() {
  if (poll_active_ && poll_timer_) poll_timer_->cancel();
}

void session::begin_upgrade() {
  upgrading_ = true;
  // Release a waiting GET so the client can pause polling and send "5".
  poll_noop_ = true;
  wake_poll();
}

void session::probe_received() {
  probed_ = true;
  wake_poll();
}

void session::complete_upgrade(const std::shared_ptr<ws_link>& link) {
  upgrading_ = false;
  probed_ = false;
  upgraded_ = true;
  poll_noop_ = true;
  wake_poll();
  transport_ = transport_kind::websocket;
  ws_ = link.get();
  if (!queue_.empty()) link->wake();
}

void session::abort_upgrade() {
  upgrading_ = false;
  probed_ = false;
}

void session::bind_websocket(const std::shared_ptr<ws_link>& link) {
  ws_ = link.get();
  upgraded_ = true;  // opened on WebSocket: nothing else may attach
}

void session::do_close(std::string_view reason, bool notify_client) {
  if (!open_) return;
  auto self = shared_from_this();
  open_ = false;
  ping_timer_.cancel();
  upgrading_ = false;
  if (notify_client) {
    // Queued past the bound on purpose: the close packet must reach the client.
    queue_.push_back(make_text_frame(packet_type::close));
    if (transport_ == transport_kind::polling && !poll_active_) {
      // No GET is waiting: keep the session findable until the client polls
      // the close packet, or for one ping timeout at most.
      server_.linger(self);
      ping_timer_.expires_after(server_.opts().ping_timeout);
      ping_timer_.async_wait([&srv = server_, id = id_](boost::system::error_code ec) {
        if (!ec) srv.forget_lingering(id);
      });
    }
  } else if (transport_ == transport_kind::polling) {
    poll_noop_ = true;
  }
  if (transport_ == transport_kind::websocket) {
    if (ws_) ws_->shutdown();
  } else {
    wake_poll();
  }
  spdlog::debug("engineio: session {} closed: {}", id_, reason);
  server_.remove(id_);
  server_.upper().on_close(self, reason);
}

}  // namespace bandsync::engineio
