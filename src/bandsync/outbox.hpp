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

// A payload the domain can write as JSON text itself, straight from its
// numbers (a scroll_tick: no JSON value built per tick, issue 12), or give as
// a value. append_text writes exactly util::to_json_text(value()).
class payload_writer {
 public:
  virtual void append_text(std::string& out) const = 0;
  virtual boost::json::value value() const = 0;

 protected:
  ~payload_writer() = default;
};

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
  // The same with the payload written by `p`: an outbox that encodes text
  // takes p.append_text; by default, p.value() through emit_to_session.
  virtual void emit_written_to_session(const std::string& session_id, std::string_view event,
                                       const payload_writer& p) {
    emit_to_session(session_id, event, p.value());
  }

  // socket.join(session_id) / socket.leave(session_id). Takes effect before
  // the next emit_to_session. leave_room is also called while handling
  // on_disconnect, so it must be a no-op for a connection that is gone.
  virtual void join_room(const std::string& conn_id, const std::string& session_id) = 0;
  virtual void leave_room(const std::string& conn_id, const std::string& session_id) = 0;
};

}  // namespace bandsync::domain
