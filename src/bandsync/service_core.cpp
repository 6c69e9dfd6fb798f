#include "bandsync/service_core.hpp"

#include "bandsync/payloads.hpp"
#include "util/log.hpp"

namespace bandsync::domain {

service_core::service_core(clock& c, outbox& o, store::session_store& st, service_options opts,
                           size_t event_kinds)
    : clk(c),
      out(o),
      store(st),
      options(opts),
      sessions(opts.max_sessions),
      messages(c.steady_us()),
      last_persist_us(c.steady_us()),
      ticks(opts.tick_interval_ms * 1000),
      creations(opts.creation),
      event_counts(event_kinds + 1, 0) {
  // The schedule holds a pointer to each ticking session (tick_due looks
  // nothing up by id): no session goes away with its ticker still running.
  sessions.on_erase([this](const std::string& id) { ticks.stop(id); });
}

void send_error(service_core& core, const std::string& conn_id, std::string_view event,
                reply_error code, std::string message) {
  ++core.error_counts[static_cast<size_t>(code)];
  spdlog::info("{} from {} rejected: {} ({})", event, conn_id, code_name(code), message);
  core.out.emit_to(conn_id, "error", payloads::error(code, std::move(message)));
}

session* authorize(service_core& core, const std::string& conn_id, const connection_state& conn,
                   std::string_view event, const std::string& session_id, bool leader_only) {
  session* s = core.sessions.find(session_id);
  if (!s) {
    send_error(core, conn_id, event, reply_error::no_such_session,
               "Session " + session_id + " does not exist");
    return nullptr;
  }
  if (conn.session_id != session_id) {
    send_error(core, conn_id, event, reply_error::not_a_member,
               "Not a member of session " + session_id);
    return nullptr;
  }
  if (leader_only && !s->is_leader(conn_id)) {
    send_error(core, conn_id, event, reply_error::not_leader,
               "Only the leader can " + std::string(event));
    return nullptr;
  }
  return s;
}

void save(service_core& core, const session& s, int64_t now_us) {
  store::session_record r = s.to_record(now_us);
  if (core.options.persist_clock_anchor) {
    r.anchor_server_ms = core.clk.server_ms_at(now_us);
    r.anchor_beat = s.beat(now_us);
  }
  core.store.save_session(r);
}

void save_member(service_core& core, const session& s, const std::string& socket_id) {
  if (const auto* m = s.find_member(socket_id)) core.store.save_member(s.id(), *m);
}

void set_playing(service_core& core, const session& s, bool playing) {
  bool was = core.sessions.playing().contains(s.id());
  if (was == playing) return;
  core.sessions.set_playing(s.id(), playing);
  core.store.set_ticking(s.id(), playing);
  if (!playing) {
    core.ticks.stop(s.id());
    return;
  }
  // The table's own object (stable until erased, which stops the ticker).
  int64_t due = core.ticks.start(s.id(), core.clk.steady_us(), 1, core.sessions.find(s.id()));
  if (core.tick_wakeup) core.tick_wakeup(due);
}

void emit_snapshot(service_core& core, const session& s, int64_t now_us,
                   int64_t /*now_wall_ms: a snapshot carries server time*/) {
  core.out.emit_to_session(s.id(), "snapshot", payloads::snapshot(s, core.clk, now_us));
}

void emit_room_stats(service_core& core, const session& s, int64_t now_us, int64_t now_wall_ms) {
  core.out.emit_to_session(s.id(), "room_stats", payloads::room_stats(s, now_us, now_wall_ms));
}

void commit(service_core& core, const event_call& call, session& s) {
  s.touch(call.now_wall_ms);
  save(core, s, call.now_us);
  emit_snapshot(core, s, call.now_us, call.now_wall_ms);
}

}  // namespace bandsync::domain
