#pragma once
// A Socket.IO namespace: its connection handler, its sockets and its rooms,
// broadcasts that encode a packet once for every recipient, and connection
// state recovery (stored packets, held sockets; socketio/recovery.hpp).

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

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
  // Never stored nor replayed (socket.io's `volatile` flag).
  broadcast& as_volatile() {
    volatile_ = true;
    return *this;
  }
  // Returns how many sockets the packet was sent to (held sockets count:
  // it is stored for them). A stored packet is encoded once, with one offset.
  size_t emit(std::string_view event, const message& m = {}) const;
  size_t emit(std::string_view event, boost::json::array args) const {
    return emit(event, message{std::move(args), {}});
  }
  // emit(event, [payload]) without the array: the payload is encoded where
  // it is, once (a tick). Stored events take the general path.
  size_t emit_value(std::string_view event, const boost::json::value& payload) const;
  // Frames encoded elsewhere: sent to connected sockets only, never stored.
  size_t send_encoded(const encoded_packet& p) const;

 private:
  // Calls `f(socket&)` for every recipient; returns how many (broadcast.cpp
  // explains the raw pointers).
  template <class F>
  size_t for_each_target(F&& f) const;

  socket_namespace* ns_;
  std::vector<std::string> rooms_;
  std::unordered_set<std::string> except_;
  bool volatile_ = false;
};

class socket_namespace {
 public:
  using connection_handler = std::function<void(const socket_ptr&)>;
  // `held`: the socket stays, with its id, rooms and handlers, for the
  // recovery window; on_recover or on_expire follows.
  using disconnect_handler =
      std::function<void(const socket_ptr&, std::string_view reason, bool held)>;
  using expire_handler = std::function<void(const socket_ptr&, std::string_view reason)>;

  socket_namespace(std::string name, const options& opts, boost::asio::any_io_executor ex);
  socket_namespace(const socket_namespace&) = delete;
  socket_namespace& operator=(const socket_namespace&) = delete;

  const std::string& name() const { return name_; }
  const options& opts() const { return opts_; }
  // A new socket (not a recovered one: see on_recover).
  void on_connection(connection_handler h) { on_connection_ = std::move(h); }
  // Every loss of a connection, after the socket's own disconnect handlers.
  void on_disconnect(disconnect_handler h) { on_disconnect_ = std::move(h); }
  // A socket is back through connection state recovery: a held one whose
  // client reconnected with its pid in time, or a connected one taken over by
  // a new connection with its pid (its old transport closed, without a
  // disconnect). Missed packets were replayed before the CONNECT answer.
  void on_recover(connection_handler h) { on_recover_ = std::move(h); }
  // A held socket ended without coming back: "recovery window expired",
  // "too many held sockets", or "server namespace disconnect".
  void on_expire(expire_handler h) { on_expire_ = std::move(h); }

  // Events with this name are never stored nor replayed.
  void mark_volatile(std::string event) {
    if (!volatile_event(event)) volatile_events_.push_back(std::move(event));
  }
  bool recovery_enabled() const;

  broadcast to(std::string room) { return broadcast(*this).to(std::move(room)); }
  // io.to(room) for one frame encoded elsewhere, sent to the room's connected
  // sockets only, never stored (a tick): what to(room).send_encoded does,
  // without a broadcast's copies of the room name and lists of targets.
  size_t send_to_room(const std::string& room, const engineio::frame& f);
  size_t emit(std::string_view event, const message& m = {}) {
    return broadcast(*this).emit(event, m);
  }

  // Connected and held sockets.
  socket_ptr find(const std::string& socket_id) const;
  size_t size() const { return sockets_.size(); }
  size_t held_count() const { return held_.size(); }
  size_t room_size(const std::string& room) const;
  size_t stored_packets() const { return log_.size(); }
  const stored_packet* find_stored(uint64_t seq) const { return log_.find(seq); }
  size_t stored_bytes() const { return log_.bytes(); }

  // ---- called by the client and sockets ----
  socket_ptr add(engineio::session_ptr session, boost::json::value auth);
  void connected(const socket_ptr& s);  // runs the connection handler
  void remove(const socket& s);
  bool add_to_room(socket& s, const std::string& room);
  void remove_from_room(socket& s, const std::string& room);
  // Can `reason` leave the socket held?
  bool recoverable(std::string_view reason) const;
  void hold(const socket_ptr& s);
  void unhold(const socket& s);
  void notify_disconnect(const socket_ptr& s, std::string_view reason, bool held);
  void notify_expire(const socket_ptr& s, std::string_view reason);
  void notify_recover(const socket_ptr& s);
  // The socket a CONNECT's auth {pid, offset} can recover, with the packets
  // to replay; null when it cannot be honoured (an ordinary connection).
  socket_ptr find_recoverable(const boost::json::value& auth,
                              std::vector<const stored_packet*>& replay);
  // Encodes and stores an event for replay; null when it is not stored
  // (recovery off, volatile, with an ack id).
  const stored_packet* store(std::string_view event, const message& m, bool is_volatile);
  // Whether store() would store `event`.
  bool stores(std::string_view event, bool is_volatile) const;
  // After a stored packet went to `recipients` sockets: accounts their
  // lists' bytes, releases it if nobody needs it, and applies the bounds.
  void stored_sent(uint64_t seq, size_t recipients);
  // A socket was sent the stored packet `seq` / confirmed or gave it up
  // (packet_log::hold, confirm).
  void hold_stored(uint64_t seq) { log_.hold(seq); }
  void confirm_stored(uint64_t seq) { log_.confirm(seq); }
  uint64_t released_packets() const { return log_.released_count(); }

 private:
  friend class broadcast;
  void arm_timer();
  void on_timer();
  void expire_held(std::chrono::steady_clock::time_point now);

  std::string name_;
  const options& opts_;
  connection_handler on_connection_;
  disconnect_handler on_disconnect_;
  connection_handler on_recover_;
  expire_handler on_expire_;
  std::unordered_map<std::string, socket_ptr> sockets_;
  // A room's sockets in a vector: a tick's broadcast walks 8 pointers in one
  // block instead of 8 hash nodes (a cache miss each: the profile's top
  // user-space entry at 4,000 devices, issue 12), and a member costs 8
  // bytes, not a node and a copy of its id. A socket joins a room once
  // (socket::join checks its own list), so no duplicate is ever pushed.
  std::unordered_map<std::string, std::vector<socket*>> rooms_;
  // Nested broadcasts running (an emit from a close handler during a send),
  // and the sockets removed meanwhile, kept alive until the outermost ends.
  size_t broadcasting_ = 0;
  std::vector<socket_ptr> removed_while_broadcasting_;

  // Recovery: the stored packets, the held sockets in the order they were
  // lost (key: hold serial), one timer for the earliest expiry of either.
  packet_log log_;
  // A handful of names, compared in place: stores() runs for every
  // broadcast, and hashed a copy of the event name each time.
  std::vector<std::string> volatile_events_;
  bool volatile_event(std::string_view event) const;
  struct held_socket {
    std::chrono::steady_clock::time_point since;
    socket_ptr socket;
  };
  std::map<uint64_t, held_socket> held_;
  std::unordered_map<const socket*, uint64_t> held_key_;
  uint64_t next_hold_ = 0;
  boost::asio::steady_timer timer_;
  bool timer_armed_ = false;
  // The timer's handler may already be queued when the namespace goes away.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace bandsync::socketio
