// Connection health: latency_probe and heartbeat_response (EVENTS.md), which
// feed averageLatency and decide who gets the heartbeat rounds; link_report,
// a member's own measure of its link, shown to the band.

#include <algorithm>

#include "bandsync/handlers.hpp"
#include "bandsync/payloads.hpp"
#include "util/log.hpp"

namespace bandsync::domain {
namespace {

// Records a latency sample for the connection and its member's lastPingAt.
void record_latency(service_core& core, const event_call& call, double latency_ms) {
  connection_state& conn = call.conn;
  // Clock skew can make it negative; a bogus timestamp can make it huge. Both
  // are clamped so that one client cannot swing averageLatency without bound.
  latency_ms = std::clamp(latency_ms, 0.0, core.options.max_latency_ms);
  conn.latency_ms = latency_ms;
  if (latency_ms > core.options.latency_warn_ms) {
    if (!conn.last_warn_us ||
        call.now_us - *conn.last_warn_us >= core.options.latency_warn_interval_ms * 1000) {
      conn.last_warn_us = call.now_us;
      spdlog::warn("latency: {} at {} ms (warn above {} ms)", call.conn_id, latency_ms,
                   core.options.latency_warn_ms);
    }
  }
  if (!conn.session_id) return;
  if (session* s = core.sessions.find(*conn.session_id)) {
    if (auto* m = s->find_member(call.conn_id)) {
      m->last_ping_at = call.now_wall_ms;
      core.store.save_member(s->id(), *m);
    }
  }
}

}  // namespace

void on_latency_probe(service_core& core, const event_call& call,
                      const latency_probe_request& req) {
  // Answer first: the client measures the round trip, so nothing may delay it.
  core.out.emit_to(call.conn_id, "latency_response",
                   payloads::latency_response(req.timestamp, core.clk.server_ms_at(call.now_us)));
  record_latency(core, call, static_cast<double>(call.now_wall_ms) - req.timestamp_ms);
}

void on_heartbeat_response(service_core& core, const event_call& call,
                           const heartbeat_response_request& req) {
  record_latency(core, call, static_cast<double>(call.now_wall_ms) - req.timestamp_ms);
}

void on_link_report(service_core& core, const event_call& call, const link_report_request& req,
                    session& s) {
  member_link l{req.rtt_ms, req.jitter_ms, call.now_us};
  switch (s.set_link(call.conn_id, l)) {
    case session::link_result::stored:
      // Only the members see it: a link report says nothing to the session's
      // state, so no snapshot (which carries the whole setlist) is sent.
      core.out.emit_to_session(s.id(), "member_link",
                               payloads::member_link_changed(s, call.conn_id, core.clk));
      return;
    case session::link_result::too_soon:
      send_error(core, call.conn_id, call.event, reply_error::rate_limited,
                 "link_report at most once per second");
      return;
    case session::link_result::not_a_member:
      // authorize() has checked membership; kept for the type's sake.
      send_error(core, call.conn_id, call.event, reply_error::not_a_member,
                 "Not a member of session " + s.id());
      return;
  }
}

void on_time_sync(service_core& core, const event_call& call, const time_sync_request& req) {
  // t2 is when the event was seen (on_event's first clock read), t3 is read
  // last, just before the answer is encoded and sent.
  double t2 = core.clk.server_ms_at(call.now_us);
  if (call.ack) {
    call.ack(payloads::time_sync(req.t1, t2, core.clk.server_time_ms()));
  } else {
    core.out.emit_to(call.conn_id, "time_sync_response",
                     payloads::time_sync(req.t1, t2, core.clk.server_time_ms()));
  }
}

}  // namespace bandsync::domain
