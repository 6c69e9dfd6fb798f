#include "socketio/namespace.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "socketio/server.hpp"
#include "util/ids.hpp"

namespace bandsync::socketio {

namespace {

using steady = std::chrono::steady_clock;

// socket.io's RECOVERABLE_DISCONNECT_REASONS, in this server's words, plus
// "taken over" (a socket whose new connection took over another namespace's
// socket on the same old transport may come back too).
constexpr std::string_view recoverable_reasons[] = {
    "transport error", "transport close",      "forced close",
    "ping timeout",    "server shutting down", "taken over",
};

}  // namespace

broadcast& broadcast::to(std::string room) {
  rooms_.push_back(std::move(room));
  return *this;
}

broadcast& broadcast::except(std::string socket_id) {
  except_.insert(std::move(socket_id));
  return *this;
}

template <class F>
size_t broadcast::for_each_target(F&& f) const {
  // Raw pointers, no reference count touched per recipient: the loop is
  // single-threaded, and while a broadcast runs the namespace keeps alive
  // every socket it removes (a send can close a session, whose socket leaves
  // its rooms and the namespace), until the outermost broadcast ends.
  // Collect first: that same close changes the rooms.
  socket_namespace& ns = *ns_;
  struct guard {
    socket_namespace& ns;
    explicit guard(socket_namespace& n) : ns(n) { ++ns.broadcasting_; }
    ~guard() {
      if (--ns.broadcasting_ == 0) ns.removed_while_broadcasting_.clear();
    }
  } g(ns);
  std::vector<socket*> targets;
  if (rooms_.empty()) {
    targets.reserve(ns.sockets_.size());
    for (const auto& [id, s] : ns.sockets_)
      if (except_.empty() || !except_.count(id)) targets.push_back(s.get());
  } else {
    std::unordered_set<const socket*> seen;
    for (const auto& room : rooms_) {
      auto it = ns.rooms_.find(room);
      if (it == ns.rooms_.end()) continue;
      for (socket* s : it->second) {
        if (!except_.empty() && except_.count(s->id())) continue;
        if (rooms_.size() > 1 && !seen.insert(s).second) continue;
        targets.push_back(s);
      }
    }
  }
  for (socket* s : targets) f(*s);
  return targets.size();
}

size_t broadcast::emit(std::string_view event, const message& m) const {
  const stored_packet* stored = ns_->store(event, m, volatile_);
  if (!stored) return send_encoded(encode_event(ns_->name(), event, m));
  uint64_t seq = stored->seq;
  size_t n = for_each_target([stored](socket& s) { s.deliver(*stored); });
  ns_->stored_sent(seq, n);
  return n;
}

size_t broadcast::emit_value(std::string_view event, const boost::json::value& payload) const {
  if (ns_->stores(event, volatile_)) return emit(event, boost::json::array{payload});
  return send_encoded(encode_event(ns_->name(), event, payload));
}

size_t broadcast::send_encoded(const encoded_packet& p) const {
  return for_each_target([&p](socket& s) { s.send_encoded(p); });
}

size_t socket_namespace::send_to_room(const std::string& room, const engineio::frame& f) {
  auto it = rooms_.find(room);
  if (it == rooms_.end()) return 0;
  // As broadcast::for_each_target: raw pointers kept alive by the guard,
  // collected first (a send can close a session, which changes the room);
  // on the stack for a band-sized room.
  struct guard {
    socket_namespace& ns;
    explicit guard(socket_namespace& n) : ns(n) { ++ns.broadcasting_; }
    ~guard() {
      if (--ns.broadcasting_ == 0) ns.removed_while_broadcasting_.clear();
    }
  } g(*this);
  constexpr size_t inline_targets = 32;
  socket* small[inline_targets];
  std::vector<socket*> large;
  const auto& members = it->second;
  socket** targets = small;
  if (members.size() > inline_targets) {
    large.assign(members.begin(), members.end());
    targets = large.data();
  } else {
    std::copy(members.begin(), members.end(), small);
  }
  const size_t n = members.size();
  // Every member's socket, session and WebSocket is cold (the last tick was
  // 100 ms and thousands of writes ago): fetched in two parallel rounds
  // instead of three misses in a row per member, between writes.
  for (size_t i = 0; i < n; ++i) __builtin_prefetch(targets[i]);
  for (size_t i = 0; i < n; ++i) targets[i]->prefetch_transport();
  for (size_t i = 0; i < n; ++i) targets[i]->send_frame(f);
  return n;
}

socket_namespace::socket_namespace(std::string name, const options& opts,
                                   boost::asio::any_io_executor ex)
    : name_(std::move(name)), opts_(opts), timer_(std::move(ex)) {}

bool socket_namespace::recovery_enabled() const {
  return opts_.recovery.window.count() > 0;
}

socket_ptr socket_namespace::find(const std::string& socket_id) const {
  auto it = sockets_.find(socket_id);
  return it == sockets_.end() ? nullptr : it->second;
}

size_t socket_namespace::room_size(const std::string& room) const {
  auto it = rooms_.find(room);
  return it == rooms_.end() ? 0 : it->second.size();
}

socket_ptr socket_namespace::add(engineio::session_ptr session, boost::json::value auth) {
  std::string id;
  do id = util::random_id(20);
  while (sockets_.count(id));
  auto s = std::make_shared<socket>(*this, std::move(session), id, std::move(auth));
  sockets_.emplace(std::move(id), s);
  return s;
}

void socket_namespace::connected(const socket_ptr& s) {
  if (on_connection_) on_connection_(s);
}

void socket_namespace::remove(const socket& s) {
  auto it = sockets_.find(s.id());
  if (it == sockets_.end()) return;
  // A broadcast holds raw pointers to its recipients (send_encoded).
  if (broadcasting_ > 0) removed_while_broadcasting_.push_back(std::move(it->second));
  sockets_.erase(it);
}

bool socket_namespace::add_to_room(socket& s, const std::string& room) {
  rooms_[room].push_back(&s);
  return true;
}

void socket_namespace::remove_from_room(socket& s, const std::string& room) {
  auto it = rooms_.find(room);
  if (it == rooms_.end()) return;
  auto& members = it->second;
  auto at = std::find(members.begin(), members.end(), &s);
  if (at != members.end()) {
    // Order within a room is no promise (it was a hash map's): swap and pop.
    *at = members.back();
    members.pop_back();
  }
  if (members.empty()) rooms_.erase(it);
}

// ---- connection state recovery ----

bool socket_namespace::recoverable(std::string_view reason) const {
  if (!recovery_enabled()) return false;
  for (auto r : recoverable_reasons)
    if (r == reason) return true;
  return false;
}

void socket_namespace::hold(const socket_ptr& s) {
  uint64_t key = next_hold_++;
  held_.emplace(key, held_socket{steady::now(), s});
  held_key_[s.get()] = key;
  // Over the bound, the socket held longest goes first (never `s`: the
  // bound is at least one).
  while (held_.size() > std::max<size_t>(1, opts_.recovery.max_held)) {
    auto oldest = held_.begin()->second.socket;
    spdlog::debug("socketio: {} held sockets: releasing {}", held_.size(), oldest->id());
    oldest->release("too many held sockets");
  }
  arm_timer();
}

void socket_namespace::unhold(const socket& s) {
  auto it = held_key_.find(&s);
  if (it == held_key_.end()) return;
  held_.erase(it->second);
  held_key_.erase(it);
}

void socket_namespace::notify_disconnect(const socket_ptr& s, std::string_view reason, bool held) {
  if (on_disconnect_) on_disconnect_(s, reason, held);
}

void socket_namespace::notify_expire(const socket_ptr& s, std::string_view reason) {
  if (on_expire_) on_expire_(s, reason);
}

void socket_namespace::notify_recover(const socket_ptr& s) {
  if (on_recover_) on_recover_(s);
}

socket_ptr socket_namespace::find_recoverable(const boost::json::value& auth,
                                              std::vector<const stored_packet*>& replay) {
  replay.clear();
  if (!recovery_enabled() || !auth.is_object()) return nullptr;
  const auto& o = auth.get_object();
  auto pid = o.if_contains("pid");
  if (!pid || !pid->is_string()) return nullptr;
  std::string_view pid_text = pid->get_string();
  constexpr size_t sid_length = 20;
  if (pid_text.size() <= sid_length) return nullptr;
  auto s = find(std::string(pid_text.substr(0, sid_length)));
  if (!s || !s->pid_matches(pid_text)) return nullptr;

  // A held socket past its window (the timer has not run yet) is gone.
  if (auto it = held_key_.find(s.get()); it != held_key_.end()) {
    if (steady::now() - held_.at(it->second).since >= opts_.recovery.window) {
      s->release("recovery window expired");
      return nullptr;
    }
  }
  // socket.io requires a string offset. A client that was sent no stored
  // packet yet has none: it missed nothing before its first one, so every
  // packet this socket was sent is replayed.
  uint64_t after = 0;
  if (auto off = o.if_contains("offset")) {
    if (!off->is_string()) return nullptr;
    auto seq = log_.parse_offset(off->get_string());
    if (!seq) return nullptr;
    after = *seq;
  }
  s->delivered().trim(log_.first_seq());
  if (!s->replay_after(after, replay)) return nullptr;
  return s;
}

bool socket_namespace::stores(std::string_view event, bool is_volatile) const {
  if (!recovery_enabled() || is_volatile) return false;
  return !volatile_event(event);
}

bool socket_namespace::volatile_event(std::string_view event) const {
  for (const auto& e : volatile_events_)
    if (e == event) return true;
  return false;
}

const stored_packet* socket_namespace::store(std::string_view event, const message& m,
                                             bool is_volatile) {
  if (!stores(event, is_volatile)) return nullptr;
  auto now = steady::now();
  auto& e = log_.append(encode_event(name_, event, m, std::nullopt, log_.next_offset()), now);
  arm_timer();
  return &e;
}

void socket_namespace::stored_sent(uint64_t seq, size_t recipients) {
  // Each recipient's list holds the packet's number (8 bytes).
  log_.add_bytes(seq, recipients * sizeof(uint64_t));
  log_.sent(seq);
  const auto& r = opts_.recovery;
  log_.prune(r.max_packets, r.max_bytes, steady::now() - r.window);
}

void socket_namespace::arm_timer() {
  // Both queues are in time order and every deadline is `window` after its
  // start, so an armed timer is never later than a newly added deadline.
  if (timer_armed_) return;
  std::optional<steady::time_point> first;
  if (!log_.empty()) first = log_.oldest();
  if (!held_.empty()) {
    auto since = held_.begin()->second.since;
    if (!first || since < *first) first = since;
  }
  if (!first) return;
  timer_armed_ = true;
  timer_.expires_at(*first + opts_.recovery.window);
  timer_.async_wait([this, alive = std::weak_ptr<int>(alive_)](boost::system::error_code ec) {
    if (ec || alive.expired()) return;
    timer_armed_ = false;
    on_timer();
  });
}

void socket_namespace::on_timer() {
  auto now = steady::now();
  const auto& r = opts_.recovery;
  log_.prune(r.max_packets, r.max_bytes, now - r.window);
  expire_held(now);
  arm_timer();
}

void socket_namespace::expire_held(steady::time_point now) {
  while (!held_.empty() && now - held_.begin()->second.since >= opts_.recovery.window) {
    auto s = held_.begin()->second.socket;
    s->release("recovery window expired");
  }
}

}  // namespace bandsync::socketio
