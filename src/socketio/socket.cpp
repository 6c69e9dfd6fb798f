#include "socketio/socket.hpp"

#include <algorithm>
#include <limits>

#include <spdlog/spdlog.h>
#include <boost/asio/steady_timer.hpp>

#include "socketio/namespace.hpp"
#include "socketio/server.hpp"
#include "util/ids.hpp"

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
    : session_(std::move(session)), ns_(ns), id_(std::move(id)), auth_(std::move(auth)) {
  if (ns_.recovery_enabled()) {
    auto secret = util::random_id(secret_.size());
    std::copy(secret.begin(), secret.end(), secret_.begin());
  }
}

const std::string& socket::nsp() const {
  return ns_.name();
}

const std::string& socket::remote_address() const {
  static const std::string none;
  return session_ ? session_->remote_address() : none;
}

std::string socket::pid() const {
  if (!ns_.recovery_enabled()) return {};
  return id_ + std::string(secret_.begin(), secret_.end());
}

bool socket::pid_matches(std::string_view pid) const {
  if (!ns_.recovery_enabled() || pid.size() != id_.size() + secret_.size()) return false;
  if (pid.substr(0, id_.size()) != id_) return false;
  // Constant time: the secret is what makes a pid unguessable.
  unsigned diff = 0;
  for (size_t i = 0; i < secret_.size(); ++i)
    diff |= static_cast<unsigned char>(pid[id_.size() + i] ^ secret_[i]);
  return diff == 0;
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
  if (!connected()) return;
  for (const auto& f : p.frames)
    if (session_->send(f) != engineio::send_status::ok) return;
}

void socket::prefetch_transport() const {
  if (session_) session_->prefetch();
}

void socket::send_frame(const engineio::frame& f) {
  // A room's tick: one frame per connection per turn, written at once (a
  // handler's burst of events to one socket goes through send_encoded and
  // the turn's flush, in one write).
  if (connected()) session_->send(f, engineio::send_mode::now);
}

void socket::deliver(const stored_packet& p) {
  if (state_ == state::closed) return;
  const auto& r = ns_.opts().recovery;
  // A number this socket forgets is a packet it will never ask for again.
  if (delivered_.push(p.seq, r.max_packets_per_socket,
                      [this](uint64_t seq) { ns_.confirm_stored(seq); })) {
    ns_.hold_stored(p.seq);
  }
  send_encoded(p.packet);
  // The pong to a ping queued after the packet confirms it (recovery.hpp).
  if (connected() && r.confirm_delay.count() > 0) session_->ping_soon(r.confirm_delay);
}

void socket::on_ping() {
  if (connected()) ack_point_ = delivered_.back();
}

void socket::on_pong() {
  if (!connected() || ack_point_ == 0) return;
  delivered_.confirm_through(ack_point_, [this](uint64_t seq) { ns_.confirm_stored(seq); });
  ack_point_ = 0;
  // Packets sent while the pong was awaited: the next ping confirms them.
  const auto delay = ns_.opts().recovery.confirm_delay;
  if (delivered_.size() > 0 && delay.count() > 0) session_->ping_soon(delay);
}

void socket::forget_delivered() {
  delivered_.confirm_through(std::numeric_limits<uint64_t>::max(),
                             [this](uint64_t seq) { ns_.confirm_stored(seq); });
  delivered_.clear();
  ack_point_ = 0;
}

void socket::emit(std::string_view event, message m) {
  if (state_ == state::closed) return;
  auto self = shared_from_this();  // a send may close the session
  if (auto stored = ns_.store(event, m, false)) {
    uint64_t seq = stored->seq;
    deliver(*stored);
    ns_.stored_sent(seq, 1);
    return;
  }
  send_encoded(encode_event(nsp(), event, m));
}

void socket::emit_volatile(std::string_view event, message m) {
  send_encoded(encode_event(nsp(), event, m));
}

void socket::emit_with_ack(std::string_view event, message m, std::chrono::milliseconds timeout,
                           ack_callback cb) {
  if (!connected()) return cb(make_error_code(ack_errc::disconnected), {});
  if (pending_acks_.size() >= ns_.opts().max_pending_acks)
    return cb(make_error_code(ack_errc::too_many_pending), {});
  uint64_t id = next_ack_id_++;
  auto pending = std::make_shared<pending_ack>(std::move(cb), session_->executor());
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
  if (state_ == state::closed) return false;
  if (std::find(rooms_.begin(), rooms_.end(), room) != rooms_.end()) return true;
  if (rooms_.size() >= ns_.opts().max_rooms_per_socket) {
    spdlog::warn("socketio: socket {} refused room {}: {} rooms already", id_, room, rooms_.size());
    return false;
  }
  rooms_.push_back(room);
  return ns_.add_to_room(*this, room);
}

void socket::leave(const std::string& room) {
  auto it = std::find(rooms_.begin(), rooms_.end(), room);
  if (it == rooms_.end()) return;
  ns_.remove_from_room(*this, room);  // before the erase: `room` may be the element
  rooms_.erase(it);
}

void socket::leave_all() {
  for (const auto& room : rooms_) ns_.remove_from_room(*this, room);
  rooms_ = {};
}

void socket::disconnect(bool close) {
  if (state_ == state::held) return release("server namespace disconnect");
  if (!connected()) return;
  packet p;
  p.type = packet_type::disconnect;
  p.nsp = nsp();
  send_encoded(encode_plain(p));
  auto self = shared_from_this();
  auto session = session_;
  close_for_good("server namespace disconnect");
  if (close) session->close("forced close");
}

void socket::dispatch_event(std::string_view event, message& m, std::optional<uint64_t> ack_id) {
  ack_fn ack;
  if (ack_id) {
    auto sent = std::make_shared<bool>(false);
    ack = [weak = weak_from_this(), id = *ack_id, sent, epoch = transport_epoch_](message reply) {
      auto self = weak.lock();
      if (!self || *sent || !self->connected() || self->transport_epoch_ != epoch) return;
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

void socket::fail_pending_acks() {
  auto acks = std::move(pending_acks_);
  pending_acks_.clear();
  for (auto& [id, p] : acks) {
    p->timer.cancel();
    p->callback(make_error_code(ack_errc::disconnected), {});
  }
}

void socket::on_closed(std::string_view reason) {
  if (!connected()) return;
  if (ns_.recoverable(reason))
    hold(reason);
  else
    close_for_good(reason);
}

void socket::hold(std::string_view reason) {
  auto self = shared_from_this();
  state_ = state::held;
  ++transport_epoch_;
  ack_point_ = 0;  // the ping it recorded is never answered now
  // The closed transport's queue may hold megabytes for a client that
  // stopped reading: let it go now, not at the end of the window.
  session_.reset();
  fail_pending_acks();
  ns_.hold(self);
  if (state_ != state::held) return;     // released at once (bounds)
  auto handlers = disconnect_handlers_;  // kept: the socket may come back
  for (auto& h : handlers) h(self, reason);
  ns_.notify_disconnect(self, reason, true);
}

void socket::close_for_good(std::string_view reason) {
  auto self = shared_from_this();
  state_ = state::closed;
  ++transport_epoch_;
  leave_all();
  ns_.remove(*this);
  forget_delivered();
  fail_pending_acks();
  auto handlers = std::move(disconnect_handlers_);
  disconnect_handlers_.clear();
  for (auto& h : handlers) h(self, reason);
  handlers_.clear();
  any_handler_ = nullptr;
  ns_.notify_disconnect(self, reason, false);
}

void socket::release(std::string_view reason) {
  if (state_ != state::held) return;
  auto self = shared_from_this();
  state_ = state::closed;
  ns_.unhold(*this);
  leave_all();
  ns_.remove(*this);
  forget_delivered();
  disconnect_handlers_.clear();
  handlers_.clear();
  any_handler_ = nullptr;
  spdlog::debug("socketio: held socket {} released: {}", id_, reason);
  ns_.notify_expire(self, reason);
}

bool socket::replay_after(uint64_t after, std::vector<const stored_packet*>& out) {
  out.clear();
  if (delivered_.forgotten() > after) return false;
  const auto& r = ns_.opts().recovery;
  size_t bytes = 0, frames = 0;
  bool ok = true;
  delivered_.for_each_after(after, [&](uint64_t seq) {
    if (!ok) return;
    const auto* p = ns_.find_stored(seq);
    if (!p) {
      ok = false;
      return;
    }
    for (const auto& f : p->packet.frames) bytes += f.size();
    frames += p->packet.frames.size();
    if (bytes > r.max_replay_bytes || frames > r.max_replay_frames) ok = false;
    out.push_back(p);
  });
  if (!ok) out.clear();
  return ok;
}

void socket::resume(engineio::session_ptr session, boost::json::value auth) {
  auto self = shared_from_this();
  if (state_ == state::connected) {
    // Takeover: the old transport is closed by the caller; this socket is
    // already detached from it and fires no disconnect.
    ++transport_epoch_;
    fail_pending_acks();
  }
  ns_.unhold(*this);
  state_ = state::connected;
  ack_point_ = 0;  // a pong on the new transport answers only its own pings
  session_ = std::move(session);
  auth_ = std::move(auth);
  recovered_ = true;
}

}  // namespace bandsync::socketio
