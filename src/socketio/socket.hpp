#pragma once
// A Socket.IO socket: one client connected to one namespace (spec
// "Connection to a namespace"). Handlers, emits, acks both ways, rooms, and
// the held state of connection state recovery (socketio/recovery.hpp).
//
// Threading: touched only on the server's event-loop thread.

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>

#include "engineio/session.hpp"
#include "socketio/message.hpp"
#include "socketio/recovery.hpp"

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

  // connected → held (transport lost, recoverable) → connected (recovered)
  //                                                → closed (window passed)
  // connected → closed (not recoverable, or recovery off)
  enum class state : uint8_t { connected, held, closed };

  socket(socket_namespace& ns, engineio::session_ptr session, std::string id,
         boost::json::value auth);
  socket(const socket&) = delete;
  socket& operator=(const socket&) = delete;

  const std::string& id() const { return id_; }
  const std::string& nsp() const;
  const boost::json::value& auth() const { return auth_; }
  // Empty while held (no transport).
  const std::string& remote_address() const;
  // Null while held.
  const engineio::session_ptr& session() const { return session_; }
  bool connected() const { return state_ == state::connected; }
  // Lost its transport for a recoverable reason: it keeps its id, rooms and
  // handlers, and what is emitted to it is stored (not volatile) and replayed
  // if its client comes back within the window (socket_namespace::on_recover).
  bool held() const { return state_ == state::held; }
  // Came back through connection state recovery at least once.
  bool recovered() const { return recovered_; }
  // The private session id of connection state recovery (sid + secret);
  // empty when the namespace has recovery off. Never show it to others.
  std::string pid() const;

  void on(std::string event, event_handler h);
  // Receives every event that has no handler of its own.
  void on_any(any_handler h);
  // Called when the socket loses its connection: for good, or held (held()
  // is then true and the socket may come back). Not called when a new
  // connection takes the socket over (socket_namespace::on_recover).
  void on_disconnect(disconnect_handler h);

  // Stored for replay when the namespace has recovery on and `event` is not
  // marked volatile; sent at once unless held.
  void emit(std::string_view event, message m = {});
  void emit(std::string_view event, boost::json::array args) {
    emit(event, message{std::move(args), {}});
  }
  // Never stored nor replayed (dropped while held).
  void emit_volatile(std::string_view event, message m = {});
  void emit_volatile(std::string_view event, boost::json::array args) {
    emit_volatile(event, message{std::move(args), {}});
  }
  void emit_with_ack(std::string_view event, message m, std::chrono::milliseconds timeout,
                     ack_callback cb);
  // Sends frames encoded elsewhere; never stored.
  void send_encoded(const encoded_packet& p);
  // One text frame encoded elsewhere (a tick's, shared by its room), written
  // at once when nothing is queued for the socket (engineio::send_mode::now).
  void send_frame(const engineio::frame& f);
  // Prefetches what send_frame reads of this socket's transport (its
  // Engine.IO session, whose address is read here), so that a room's
  // members are fetched in parallel instead of one miss after another.
  void prefetch_transport() const;

  // Rooms (at most max_rooms_per_socket; a join over the limit is refused).
  // A held socket stays in its rooms and may join or leave.
  bool join(const std::string& room);
  void leave(const std::string& room);
  const std::vector<std::string>& rooms() const { return rooms_; }

  // Leaves the namespace ("server namespace disconnect"); with `close`, the
  // whole connection closes. A held socket is released at once.
  void disconnect(bool close = false);

  // ---- called by the client/namespace ----
  void dispatch_event(std::string_view event, message& m, std::optional<uint64_t> ack_id);
  void dispatch_ack(uint64_t id, message& m);
  // The connection closed or the client left the namespace: the socket is
  // held when the namespace can recover it after `reason`, closed otherwise.
  void on_closed(std::string_view reason);
  // A stored packet for this socket: remembered, and sent unless held.
  void deliver(const stored_packet& p);
  // Its Engine.IO connection queued a ping / got the pong: the stored
  // packets sent before that ping are confirmed (recovery.hpp).
  void on_ping();
  void on_pong();
  bool pid_matches(std::string_view pid) const;
  // Can the client come back from `after` (0: from the start)? Fills the
  // packets to replay, oldest first; false when some were forgotten or the
  // replay is over the bounds.
  bool replay_after(uint64_t after, std::vector<const stored_packet*>& out);
  // Binds a held socket to the transport its client came back on (the
  // caller has sent the replay). A connected socket is first detached from
  // its old transport, silently (takeover).
  void resume(engineio::session_ptr session, boost::json::value auth);
  // Ends a held socket (window passed, bounds, disconnect()).
  void release(std::string_view reason);
  delivered_list& delivered() { return delivered_; }

 private:
  struct pending_ack;

  void hold(std::string_view reason);
  void close_for_good(std::string_view reason);
  // Gives up every stored packet it was sent (it will never ask again).
  void forget_delivered();
  void fail_pending_acks();
  void leave_all();

  // What a room's tick reads of every member (send_frame) first, together
  // in one cache line: a tick touches thousands of sockets per second, each
  // cold since the last (issue 12).
  engineio::session_ptr session_;
  state state_ = state::connected;
  socket_namespace& ns_;
  std::string id_;
  boost::json::value auth_;
  bool recovered_ = false;
  // Changes with every transport, so an ack for an event that came on an
  // earlier one is not sent on the next.
  uint32_t transport_epoch_ = 0;
  std::array<char, 16> secret_{};  // the private half of the pid
  std::unordered_map<std::string, event_handler> handlers_;
  any_handler any_handler_;
  std::vector<disconnect_handler> disconnect_handlers_;
  // A vector, not a hash set: a socket is in one or two rooms (at most
  // max_rooms_per_socket), and a set's bucket array and nodes cost every
  // connection ~150 bytes more (idle memory, issue 12).
  std::vector<std::string> rooms_;
  uint64_t next_ack_id_ = 0;
  std::map<uint64_t, std::shared_ptr<pending_ack>> pending_acks_;
  delivered_list delivered_;
  // The newest stored packet sent before the ping awaiting its pong (0: none).
  uint64_t ack_point_ = 0;
};

enum class ack_errc { timed_out = 1, too_many_pending, disconnected };
const boost::system::error_category& ack_category() noexcept;
boost::system::error_code make_error_code(ack_errc e) noexcept;

}  // namespace bandsync::socketio

namespace boost::system {
template <>
struct is_error_code_enum<bandsync::socketio::ack_errc> : std::true_type {};
}  // namespace boost::system
