#include "socketio/namespace.hpp"

#include "socketio/server.hpp"
#include "util/ids.hpp"

namespace bandsync::socketio {

broadcast& broadcast::to(std::string room) {
  rooms_.push_back(std::move(room));
  return *this;
}

broadcast& broadcast::except(std::string socket_id) {
  except_.insert(std::move(socket_id));
  return *this;
}

size_t broadcast::emit(std::string_view event, const message& m) const {
  return send_encoded(encode_event(ns_->name(), event, m));
}

size_t broadcast::send_encoded(const encoded_packet& p) const {
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
      if (!except_.count(id)) targets.push_back(s.get());
  } else {
    std::unordered_set<const socket*> seen;
    for (const auto& room : rooms_) {
      auto it = ns.rooms_.find(room);
      if (it == ns.rooms_.end()) continue;
      for (const auto& [id, s] : it->second) {
        if (except_.count(id)) continue;
        if (rooms_.size() > 1 && !seen.insert(s).second) continue;
        targets.push_back(s);
      }
    }
  }
  for (socket* s : targets) s->send_encoded(p);
  return targets.size();
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
  rooms_[room].emplace(s.id(), &s);
  return true;
}

void socket_namespace::remove_from_room(socket& s, const std::string& room) {
  auto it = rooms_.find(room);
  if (it == rooms_.end()) return;
  it->second.erase(s.id());
  if (it->second.empty()) rooms_.erase(it);
}

}  // namespace bandsync::socketio
