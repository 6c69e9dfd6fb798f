#pragma once
// The glue between the BandSync domain and Socket.IO (ARCHITECTURE.md
// "Layers"): the domain's outbox on a namespace, one room per session, and
// the namespace's connections, events and disconnects fed to the service.

#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "bandsync/outbox.hpp"
#include "bandsync/session_service.hpp"
#include "socketio/namespace.hpp"

namespace bandsync::glue {

class socketio_outbox : public domain::outbox {
 public:
  explicit socketio_outbox(socketio::socket_namespace& ns) : ns_(ns) {}

  void emit_to(const std::string& conn_id, std::string_view event,
               const boost::json::value& payload) override;
  void emit_to_session(const std::string& session_id, std::string_view event,
                       const boost::json::value& payload) override;
  // A volatile event's payload (a tick) is written as text into the frame
  // itself and sent to the room without a broadcast object.
  void emit_written_to_session(const std::string& session_id, std::string_view event,
                               const domain::payload_writer& p) override;
  void join_room(const std::string& conn_id, const std::string& session_id) override;
  void leave_room(const std::string& conn_id, const std::string& session_id) override;

 private:
  socketio::socket_namespace& ns_;
};

// Every connection of `ns` is reported to `service` (on_connect, each event
// with its arguments and its ack callback, if the client asked for one,
// on_disconnect; with connection state recovery, on_hold when a connection is
// lost but held, on_recover when it is back, and on_disconnect when its hold
// ends). Events of the old contract ignore the ack and answer with events
// (EVENTS.md); time_sync answers through it. Marks the events that must never
// be stored for a recovery volatile (scroll_tick, heartbeat, latency_response,
// time_sync_response, room_stats).
void attach(socketio::socket_namespace& ns, domain::session_service& service);

}  // namespace bandsync::glue
