#pragma once
// A Socket.IO socket: one client connected to one namespace (spec
// "Connection to a namespace"). Handlers, emits, acks both ways and rooms.
//
// Threading: touched only on the server's event-loop thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>

#include "engineio/session.hpp"
#include "socketio/message.hpp"

namespace bandsync::socketio {

class socket_namespace;
class socket;
using socket_ptr = std::shared_ptr<socket>;

class socket : public std::enable_shared_from_this<socket> {
 public:
  using event_handler = std::function<void(const socket_ptr&, message&, ack_fn)>;
  using any_handler = std::function<void(const socket_ptr&, std::string_view, message&, ack_fn)>;
  using disconnect_handler = std::function<void(const socket_ptr&, std::string_view reason)>;
  // Called with no error and the ack's arguments, or with an error
  // (timed_out, or too many acks pending) and an empty message.
  using ack_callback = std::function<void(boost::system::error_code, message)>;

  socket(socket_namespace& ns, engineio::session_ptr session, std::string id,
         boost::json::value auth);
  socket(const socket&) = delete;
  socket& operator=(const socket&) = delete;

  const std::string& id() const { return id_; }
  const std::string& nsp() const;
  const boost::json::value& auth() const { return auth_; }
  const std::string& remote_address() const { return session_->remote_address(); }
  const engineio::session_ptr& session() const { return session_; }
  bool connected() const { return connected_; }

  void on(std::string event, event_handler h);
  // Receives every event that has no handler of its own.
  void on_any(any_handler h);
  void on_disconnect(disconnect_handler h);

  void emit(std::string_view event, message m = {});
  void emit(std::string_view event, boost::json::array args) {
    emit(event, message{std::move(args), {}});
  }
  void emit_with_ack(std::string_view event, message m, std::chrono::milliseconds timeout,
                     ack_callback cb);
  // Sends frames encoded elsewhere (a broadcast).
  void send_encoded(const encoded_packet& p);

  // Rooms (at most max_rooms_per_socket; a join over the limit is refused).
  bool join(const std::string& room);
  void leave(const std::string& room);
  const std::unordered_set<std::string>& rooms() const { return rooms_; }

  // Leaves the namespace ("server namespace disconnect"); with `close`, the
  // whole connection closes.
  void disconnect(bool close = false);

  // ---- called by the client/namespace ----
  void dispatch_event(std::string_view event, message& m, std::optional<uint64_t> ack_id);
  void dispatch_ack(uint64_t id, message& m);
  // Leaves rooms and the namespace, fails pending acks, calls the disconnect
  // handlers. Idempotent.
  void on_closed(std::string_view reason);

 private:
  struct pending_ack;

  socket_namespace& ns_;
  engineio::session_ptr session_;
  std::string id_;
  boost::json::value auth_;
  bool connected_ = true;
  std::unordered_map<std::string, event_handler> handlers_;
  any_handler any_handler_;
  std::vector<disconnect_handler> disconnect_handlers_;
  std::unordered_set<std::string> rooms_;
  uint64_t next_ack_id_ = 0;
  std::map<uint64_t, std::shared_ptr<pending_ack>> pending_acks_;
};

enum class ack_errc { timed_out = 1, too_many_pending, disconnected };
const boost::system::error_category& ack_category() noexcept;
boost::system::error_code make_error_code(ack_errc e) noexcept;

}  // namespace bandsync::socketio

namespace boost::system {
template <>
struct is_error_code_enum<bandsync::socketio::ack_errc> : std::true_type {};
}  // namespace boost::system
