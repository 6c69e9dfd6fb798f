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
  // Collect first: a send may close a session and so change the rooms.
  std::vector<socket_ptr> targets;
  if (rooms_.empty()) {
    targets.reserve(ns_->sockets_.size());
    for (const auto& [id, s] : ns_->sockets_)
      if (!except_.count(id)) targets.push_back(s);
  } else {
    std::unordered_set<const socket*> seen;
    for (const auto& room : rooms_) {
      auto it = ns_->rooms_.find(room);
      if (it == ns_->rooms_.end()) continue;
      for (const auto& [id, s] : it->second) {
        if (except_.count(id)) continue;
        if (rooms_.size() > 1 && !seen.insert(s).second) continue;
        targets.push_back(s->shared_from_this());
      }
    }
  }
  for (const auto& s : targets) s->send_encoded(p);
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
  sockets_.erase(s.id());
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
