// Joining, leaving, the session message and leadership (EVENTS.md
// "join_session", "leave_session", "update_message", "set_role" and "Leaving,
// disconnects and leader election").
//
// Logging: client-chosen free text (displayName, message) is never logged, so
// that a client cannot forge log lines; session ids are charset-checked and
// connection ids are server-made, so both are safe to print.

#include "bandsync/handlers.hpp"
#include "bandsync/payloads.hpp"
#include "util/log.hpp"

namespace bandsync::domain {
namespace {

std::string server_busy_message(const service_core& core) {
  return "Server at capacity (" + std::to_string(core.options.max_sessions) + " sessions)";
}

// A join for the session the connection is already in updates its member
// (displayName, a leader takeover) instead of adding it twice. Changes go to
// the whole session as a snapshot; otherwise only the sender gets one.
void rejoin(service_core& core, const event_call& call, session& s, const join_request& req) {
  const std::string& conn_id = call.conn_id;
  auto* member = s.find_member(conn_id);
  bool changed = false;
  if (req.display_name && *req.display_name != member->display_name) {
    member->display_name = *req.display_name;
    changed = true;
  }
  std::optional<std::string> previous_leader;
  if (req.role == store::member_role::leader) {
    previous_leader = s.take_lead(conn_id);
    changed |= previous_leader.has_value();
  }
  if (req.client_id) s.set_client_id(conn_id, *req.client_id);
  core.out.join_room(conn_id, s.id());
  if (!changed) {
    spdlog::debug("session {}: {} re-joined, nothing changed", s.id(), conn_id);
    core.out.emit_to(conn_id, "snapshot", payloads::snapshot(s, core.clk, call.now_us));
    return;
  }
  s.touch(call.now_wall_ms);
  save_member(core, s, conn_id);
  if (previous_leader) save_member(core, s, *previous_leader);
  save(core, s, call.now_us);
  spdlog::info("session {}: {} re-joined (updated{})", s.id(), conn_id,
               previous_leader ? ", now leading" : "");
  if (previous_leader) {
    core.out.emit_to_session(s.id(), "role_changed",
                             payloads::role_taken(conn_id, *previous_leader, call.now_wall_ms));
  }
  emit_snapshot(core, s, call.now_us, call.now_wall_ms);
}

}  // namespace

void on_join_session(service_core& core, const event_call& call, const join_request& req) {
  const std::string& conn_id = call.conn_id;
  const std::string& id = req.session_id;
  session* target = core.sessions.find(id);
  // A clientId that names another member's seat (held or not) takes it over.
  if (target && req.client_id) {
    const auto* seat = target->find_by_client(*req.client_id);
    if (seat && seat->socket_id != conn_id) {
      return reclaim_seat(core, call, *target, seat->socket_id, req);
    }
  }
  if (call.conn.session_id == id && target) return rejoin(core, call, *target, req);

  // A seat held for a dropped connection never blocks a new device.
  if (target && target->full()) release_held_seat(core, *target);

  // Refusals come before leaving the current session, so that a refused join
  // changes nothing ("and nothing else").
  if (target && target->full()) {
    send_error(core, conn_id, call.event, reply_error::session_full,
               "Session at capacity (" + std::to_string(target->max_members()) + " members)");
    return;
  }
  if (!target && !core.sessions.can_insert()) {
    send_error(core, conn_id, call.event, reply_error::server_busy, server_busy_message(core));
    return;
  }
  if (!target && core.loading) {
    send_error(core, conn_id, call.event, reply_error::server_busy,
               "Sessions are still being restored from the store; retry shortly");
    return;
  }
  if (!target && !core.creations.try_create(conn_id, call.conn.address, call.now_us)) {
    send_error(core, conn_id, call.event, reply_error::rate_limited,
               "Too many new sessions from this connection or address; retry later");
    return;
  }

  if (call.conn.session_id) leave_current(core, conn_id, call.conn, "left to join another session");

  int64_t now_us = call.now_us;
  int64_t now_wall = call.now_wall_ms;
  target = core.sessions.find(id);  // leaving removes only a pristine session, never this one
  if (!target) {
    std::optional<std::string> evicted;
    target = core.sessions.insert(session(id, now_wall, core.options.max_members), &evicted);
    if (!target) {
      send_error(core, conn_id, call.event, reply_error::server_busy, server_busy_message(core));
      return;
    }
    if (evicted) {
      core.store.remove_session(*evicted);
      spdlog::info("session {} evicted (empty, least recently active) to make room", *evicted);
    }
    spdlog::info("session {} created ({} sessions)", id, core.sessions.size());
  }

  std::string name = req.display_name.value_or(
      "User " + (conn_id.size() > 4 ? conn_id.substr(conn_id.size() - 4) : conn_id));
  if (!target->add_member(store::member_record{conn_id, std::move(name),
                                               store::member_role::follower, now_wall, now_wall})) {
    // Unreachable: capacity and membership were checked above.
    spdlog::error("session {}: could not add {}", id, conn_id);
    return;
  }
  std::optional<std::string> previous_leader;
  if (req.role == store::member_role::leader) previous_leader = target->take_lead(conn_id);
  if (req.client_id) target->set_client_id(conn_id, *req.client_id);
  target->touch(now_wall);
  core.sessions.mark_occupied(id);
  call.conn.session_id = id;
  ++core.member_total;
  core.out.join_room(conn_id, id);

  save_member(core, *target, conn_id);
  if (previous_leader) save_member(core, *target, *previous_leader);
  save(core, *target, now_us);

  const auto* member = target->find_member(conn_id);
  spdlog::info("session {}: {} joined as {} ({} members)", id, conn_id,
               store::role_name(member->role), target->member_count());
  core.out.emit_to(conn_id, "snapshot", payloads::snapshot(*target, core.clk, now_us));
  if (previous_leader) {
    core.out.emit_to_session(id, "role_changed",
                             payloads::role_taken(conn_id, *previous_leader, now_wall));
  }
  emit_room_stats(core, *target, now_us, now_wall);
  core.out.emit_to_session(id, "user_joined",
                           payloads::user_joined(*member, target->member_count()));
}

void on_leave_session(service_core& core, const event_call& call, const session_request&,
                      session&) {
  leave_current(core, call.conn_id, call.conn, "left");
}

void leave_current(service_core& core, const std::string& conn_id, connection_state& conn,
                   std::string_view why) {
  std::string id = std::move(*conn.session_id);
  conn.session_id.reset();
  --core.member_total;
  core.out.leave_room(conn_id, id);
  core.store.remove_member(conn_id);
  session* s = core.sessions.find(id);
  if (!s) {
    spdlog::error("session {}: {} was recorded as a member of a missing session", id, conn_id);
    return;
  }
  int64_t now_us = core.clk.steady_us();
  int64_t now_wall = core.clk.wall_ms();
  auto departure = s->remove_member(conn_id, now_us);
  if (!departure) {
    spdlog::error("session {}: {} was recorded as a member but is not", id, conn_id);
    return;
  }
  s->touch(now_wall);
  if (!s->playing()) set_playing(core, *s, false);

  if (s->empty() && s->pristine()) {
    // Nothing a band would come back for: dropped at once rather than held
    // until the idle sweep (join/leave loops must not fill the table).
    core.ticks.stop(id);
    core.sessions.erase(id);
    core.store.remove_session(id);
    spdlog::info("session {}: {} {}; no members left, never used: removed", id, conn_id, why);
    return;
  }
  if (s->empty()) {
    core.sessions.mark_empty(*s);
    save(core, *s, now_us);
    spdlog::info("session {}: {} {}; no members left", id, conn_id, why);
    return;
  }

  if (departure->new_leader) {
    const std::string& leader = *departure->new_leader;
    save_member(core, *s, leader);
    save(core, *s, now_us);
    spdlog::info("session {}: leader {} {}; {} elected, playback paused ({} members)", id, conn_id,
                 why, leader, s->member_count());
    core.out.emit_to_session(id, "role_changed", payloads::role_elected(leader, now_wall));
    emit_snapshot(core, *s, now_us, now_wall);
  } else {
    save(core, *s, now_us);
    spdlog::info("session {}: {} {} ({} members)", id, conn_id, why, s->member_count());
  }
  emit_room_stats(core, *s, now_us, now_wall);
  core.out.emit_to_session(id, "user_left",
                           payloads::user_left(conn_id, s->member_count(), departure->new_leader));
}

void on_update_message(service_core& core, const event_call& call, const message_request& req,
                       session& s) {
  s.set_message(req.message);
  spdlog::info("session {}: message set by {} ({} bytes)", s.id(), call.conn_id,
               req.message.size());
  commit(core, call, s);
}

// set_role "leader": takeover (EVENTS.md). set_role "follower" (the contract
// is silent): from the leader, it steps down and the most senior other member
// leads, with `role_changed { ..., previousRole: "follower", previousLeader,
// reason: "leader_stepped_down" }` and playback untouched; a leader alone, or
// a follower, changes nothing. Either way the session then gets a snapshot.
void on_set_role(service_core& core, const event_call& call, const role_request& req, session& s) {
  const std::string& conn_id = call.conn_id;
  boost::json::object rc;
  if (req.role == store::member_role::leader) {
    if (auto previous = s.take_lead(conn_id)) {
      save_member(core, s, *previous);
      save_member(core, s, conn_id);
      rc = payloads::role_taken(conn_id, *previous, call.now_wall_ms);
      spdlog::info("session {}: {} took the lead from {}", s.id(), conn_id, *previous);
    }
  } else if (s.is_leader(conn_id)) {
    if (auto next = s.hand_over_lead()) {
      save_member(core, s, conn_id);
      save_member(core, s, *next);
      rc = payloads::role_handed_over(*next, conn_id, call.now_wall_ms);
      spdlog::info("session {}: leader {} stepped down; {} leads", s.id(), conn_id, *next);
    }
  }
  if (!rc.empty()) {
    s.touch(call.now_wall_ms);
    save(core, s, call.now_us);
    core.out.emit_to_session(s.id(), "role_changed", rc);
  }
  emit_snapshot(core, s, call.now_us, call.now_wall_ms);
}

}  // namespace bandsync::domain
