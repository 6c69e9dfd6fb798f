#include "socketio/socket.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/steady_timer.hpp>

#include "socketio/namespace.hpp"
#include "socketio/server.hpp"

namespace bandsync::socketio {
namespace {

class ack_category_impl : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "socketio.ack"; }
  std::string message(int ev) const override {
    switch (static_cast<ack_errc>(ev)) {
      case ack_errc::timed_out:
        return "operation has timed out";
      case ack_errc::too_many_pending:
        return "too many acks pending";
      case ack_errc::disconnected:
        return "socket has been disconnected";
    }
    return "unknown ack error";
  }
};

}  // namespace

const boost::system::error_category& ack_category() noexcept {
  static const ack_category_impl instance;
  return instance;
}

boost::system::error_code make_error_code(ack_errc e) noexcept {
  return {static_cast<int>(e), ack_category()};
}

struct socket::pending_ack {
  ack_callback callback;
  boost::asio::steady_timer timer;
  pending_ack(ack_callback cb, boost::asio::any_io_executor ex)
      : callback(std::move(cb)), timer(std::move(ex)) {}
};

socket::socket(socket_namespace& ns, engineio::session_ptr session, std::string id,
               boost::json::value auth)
    : ns_(ns), session_(std::move(session)), id_(std::move(id)), auth_(std::move(auth)) {}

const std::string& socket::nsp() const {
  return ns_.name();
}

void socket::on(std::string event, event_handler h) {
  handlers_[std::move(event)] = std::move(h);
}
void socket::on_any(any_handler h) {
  any_handler_ = std::move(h);
}
void socket::on_disconnect(disconnect_handler h) {
  disconnect_handlers_.push_back(std::move(h));
}

void socket::send_encoded(const encoded_packet& p) {
  if (!connected_) return;
  for (const auto& f : p.frames)
    if (session_->send(f) != engineio::send_status::ok) return;
}

void socket::emit(std::string_view event, message m) {
  if (!connected_) return;
  send_encoded(encode_event(nsp(), event, m));
}

void socket::emit_with_ack(std::string_view event, message m, std::chrono::milliseconds timeout,
                           ack_callback cb) {
  if (!connected_) return cb(make_error_code(ack_errc::disconnected), {});
  if (pending_acks_.size() >= ns_.opts().max_pending_acks)
    return cb(make_error_code(ack_errc::too_many_pending), {});
  uint64_t id = next_ack_id_++;
  auto pending =
      std::make_shared<pending_ack>(std::move(cb), session_->poll_timer().get_executor());
  pending->timer.expires_after(timeout);
  pending->timer.async_wait([weak = weak_from_this(), id](boost::system::error_code ec) {
    if (ec) return;
    auto self = weak.lock();
    if (!self) return;
    auto it = self->pending_acks_.find(id);
    if (it == self->pending_acks_.end()) return;
    auto p = it->second;
    self->pending_acks_.erase(it);
    p->callback(make_error_code(ack_errc::timed_out), {});
  });
  pending_acks_.emplace(id, std::move(pending));
  send_encoded(encode_event(nsp(), event, m, id));
}

bool socket::join(const std::string& room) {
  if (!connected_) return false;
  if (rooms_.count(room)) return true;
  if (rooms_.size() >= ns_.opts().max_rooms_per_socket) {
    spdlog::warn("socketio: socket {} refused room {}: {} rooms already", id_, room, rooms_.size());
    return false;
  }
  rooms_.insert(room);
  return ns_.add_to_room(*this, room);
}

void socket::leave(const std::string& room) {
  if (rooms_.erase(room)) ns_.remove_from_room(*this, room);
}

void socket::disconnect(bool close) {
  if (!connected_) return;
  packet p;
  p.type = packet_type::disconnect;
  p.nsp = nsp();
  send_encoded(encode_plain(p));
  auto self = shared_from_this();
  on_closed("server namespace disconnect");
  if (close) session_->close("forced close");
}

void socket::dispatch_event(std::string_view event, message& m, std::optional<uint64_t> ack_id) {
  ack_fn ack;
  if (ack_id) {
    auto sent = std::make_shared<bool>(false);
    ack = [weak = weak_from_this(), id = *ack_id, sent](message reply) {
      auto self = weak.lock();
      if (!self || *sent || !self->connected_) return;
      *sent = true;
      self->send_encoded(encode_ack(self->nsp(), id, reply));
    };
  }
  auto self = shared_from_this();
  auto it = handlers_.find(std::string(event));
  if (it != handlers_.end()) {
    auto h = it->second;  // the handler may replace itself
    h(self, m, std::move(ack));
  } else if (any_handler_) {
    auto h = any_handler_;
    h(self, event, m, std::move(ack));
  }
}

void socket::dispatch_ack(uint64_t id, message& m) {
  auto it = pending_acks_.find(id);
  if (it == pending_acks_.end()) {
    spdlog::debug("socketio: socket {} sent an ack for unknown id {}", id_, id);
    return;
  }
  auto p = it->second;
  pending_acks_.erase(it);
  p->timer.cancel();
  p->callback({}, std::move(m));
}

void socket::on_closed(std::string_view reason) {
  if (!connected_) return;
  auto self = shared_from_this();
  connected_ = false;
  for (const auto& room : rooms_) ns_.remove_from_room(*this, room);
  rooms_.clear();
  ns_.remove(*this);
  auto acks = std::move(pending_acks_);
  pending_acks_.clear();
  for (auto& [id, p] : acks) {
    p->timer.cancel();
    p->callback(make_error_code(ack_errc::disconnected), {});
  }
  auto handlers = std::move(disconnect_handlers_);
  disconnect_handlers_.clear();
  for (auto& h : handlers) h(self, reason);
  handlers_.clear();
  any_handler_ = nullptr;
}

}  // namespace bandsync::socketio
