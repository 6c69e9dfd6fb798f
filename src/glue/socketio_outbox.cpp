#include "glue/socketio_outbox.hpp"

#include <boost/json/array.hpp>

#include "socketio/socket.hpp"

namespace bandsync::glue {

void socketio_outbox::emit_to(const std::string& conn_id, std::string_view event,
                              const boost::json::value& payload) {
  if (auto s = ns_.find(conn_id)) s->emit(event, boost::json::array{payload});
}

void socketio_outbox::emit_to_session(const std::string& session_id, std::string_view event,
                                      const boost::json::value& payload) {
  ns_.to(session_id).emit_value(event, payload);
}

void socketio_outbox::emit_written_to_session(const std::string& session_id, std::string_view event,
                                              const domain::payload_writer& p) {
  if (ns_.stores(event, false)) return emit_to_session(session_id, event, p.value());
  ns_.send_to_room(session_id,
                   socketio::encode_event_with(ns_.name(), event,
                                               [&p](std::string& out) { p.append_text(out); }));
}

void socketio_outbox::join_room(const std::string& conn_id, const std::string& session_id) {
  if (auto s = ns_.find(conn_id)) s->join(session_id);
}

void socketio_outbox::leave_room(const std::string& conn_id, const std::string& session_id) {
  if (auto s = ns_.find(conn_id)) s->leave(session_id);
}

void attach(socketio::socket_namespace& ns, domain::session_service& service) {
  // Never stored nor replayed. Ticks, heartbeats and clock answers are
  // worthless late and would fill the buffer; room_stats is superseded state
  // (the service sends a fresh one when a seat comes back), so the join burst
  // every member gets does not stay stored for the window. time_sync_response
  // is the clock sync's answer to a time_sync sent without an ack callback.
  for (const char* event :
       {"scroll_tick", "heartbeat", "latency_response", "time_sync_response", "room_stats"}) {
    ns.mark_volatile(event);
  }
  ns.on_connection([&service](const socketio::socket_ptr& s) {
    service.on_connect(s->id(), s->remote_address());
    s->on_any([&service](const socketio::socket_ptr& s, std::string_view event,
                         socketio::message& m, socketio::ack_fn ack) {
      domain::ack_reply reply;
      if (ack) {
        // Encoded and sent as soon as the domain calls it: time_sync's t3 is
        // read just before.
        reply = [ack = std::move(ack)](const boost::json::value& payload) {
          ack(socketio::message{boost::json::array{payload}, {}});
        };
      }
      service.on_event(s->id(), event, m.args, reply);
    });
  });
  // A held socket keeps its seat until it comes back or its window passes.
  ns.on_disconnect([&service](const socketio::socket_ptr& s, std::string_view, bool held) {
    if (held) {
      service.on_hold(s->id());
    } else {
      service.on_disconnect(s->id());
    }
  });
  ns.on_recover([&service](const socketio::socket_ptr& s) { service.on_recover(s->id()); });
  ns.on_expire([&service](const socketio::socket_ptr& s, std::string_view) {
    service.on_disconnect(s->id());
  });
}

}  // namespace bandsync::glue
