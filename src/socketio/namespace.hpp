#pragma once
// A Socket.IO namespace: its connection handler, its sockets and its rooms,
// and broadcasts that encode a packet once for every recipient.

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "socketio/socket.hpp"

namespace bandsync::socketio {

struct options;

class socket_namespace;

// `ns.to("room").except(id).emit(...)`: a value; nothing is sent until emit.
class broadcast {
 public:
  explicit broadcast(socket_namespace& ns) : ns_(&ns) {}
  broadcast& to(std::string room);
  broadcast& except(std::string socket_id);
  // Returns how many sockets the packet was sent to.
  size_t emit(std::string_view event, const message& m = {}) const;
  size_t emit(std::string_view event, boost::json::array args) const {
    return emit(event, message{std::move(args), {}});
  }
  size_t send_encoded(const encoded_packet& p) const;

 private:
  socket_namespace* ns_;
  std::vector<std::string> rooms_;
  std::unordered_set<std::string> except_;
};

class socket_namespace {
 public:
  using connection_handler = std::function<void(const socket_ptr&)>;

  socket_namespace(std::string name, const options& opts) : name_(std::move(name)), opts_(opts) {}
  socket_namespace(const socket_namespace&) = delete;
  socket_namespace& operator=(const socket_namespace&) = delete;

  const std::string& name() const { return name_; }
  const options& opts() const { return opts_; }
  void on_connection(connection_handler h) { on_connection_ = std::move(h); }

  broadcast to(std::string room) { return broadcast(*this).to(std::move(room)); }
  size_t emit(std::string_view event, const message& m = {}) {
    return broadcast(*this).emit(event, m);
  }

  socket_ptr find(const std::string& socket_id) const;
  size_t size() const { return sockets_.size(); }
  size_t room_size(const std::string& room) const;

  // ---- called by the client and sockets ----
  socket_ptr add(engineio::session_ptr session, boost::json::value auth);
  void connected(const socket_ptr& s);  // runs the connection handler
  void remove(const socket& s);
  bool add_to_room(socket& s, const std::string& room);
  void remove_from_room(socket& s, const std::string& room);

 private:
  friend class broadcast;
  std::string name_;
  const options& opts_;
  connection_handler on_connection_;
  std::unordered_map<std::string, socket_ptr> sockets_;
  std::unordered_map<std::string, std::unordered_map<std::string, socket*>> rooms_;
  // Nested broadcasts running (an emit from a close handler during a send),
  // and the sockets removed meanwhile, kept alive until the outermost ends.
  size_t broadcasting_ = 0;
  std::vector<socket_ptr> removed_while_broadcasting_;
};

}  // namespace bandsync::socketio
