#pragma once
// How the domain talks back to clients, without knowing about sockets. The
// glue maps it onto socket.io on the main namespace (EVENTS.md): rooms are
// named by session id.

#include <functional>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

namespace bandsync::domain {

// The reply to one client event that asked for an acknowledgement (a
// Socket.IO ack callback): called at most once, with the ack's single
// argument, which the glue encodes and sends at once. Empty when the client
// asked for none; the service then answers with an event instead.
using ack_reply = std::function<void(const boost::json::value& payload)>;

class outbox {
 public:
  virtual ~outbox() = default;

  // socket.emit(event, payload) on connection `conn_id`. Must be a no-op for a
  // connection that is gone.
  virtual void emit_to(const std::string& conn_id, std::string_view event,
                       const boost::json::value& payload) = 0;

  // io.to(session_id).emit(event, payload): every connection in the room,
  // with the payload encoded once for all of them.
  virtual void emit_to_session(const std::string& session_id, std::string_view event,
                               const boost::json::value& payload) = 0;

  // socket.join(session_id) / socket.leave(session_id). Takes effect before
  // the next emit_to_session. leave_room is also called while handling
  // on_disconnect, so it must be a no-op for a connection that is gone.
  virtual void join_room(const std::string& conn_id, const std::string& session_id) = 0;
  virtual void leave_room(const std::string& conn_id, const std::string& session_id) = 0;
};

}  // namespace bandsync::domain
