// Seats that survive drops (EVENTS.md "Seats"): a member whose connection is
// held by connection state recovery keeps its seat, marked disconnected; a
// held leader keeps the lead for the leader grace; a join with the seat's
// clientId takes the seat over; a held seat never blocks a new device.
//
// Held seats are process state: nothing here is written to the store but the
// members themselves (a reclaimed seat moves its member key), so the Redis
// layout is unchanged.

#include "bandsync/handlers.hpp"
#include "bandsync/payloads.hpp"
#include "bandsync/session_service.hpp"
#include "util/log.hpp"

namespace bandsync::domain {
namespace {

// `member_status` to the session: which member's seat is held or back, so
// that every device can show it (room_stats only counts). Sent after the
// room_stats of the same change; stored for recovery like any session event,
// so a device that was itself away learns of the others' changes in order.
void emit_member_status(service_core& core, const session& s, const std::string& conn_id) {
  core.out.emit_to_session(s.id(), "member_status", payloads::member_status(s, conn_id, core.clk));
}

}  // namespace

void reclaim_seat(service_core& core, const event_call& call, session& s,
                  const std::string& old_id_ref, const join_request& req) {
  const std::string old_id = old_id_ref;  // the reference lives in the member being moved
  const std::string& conn_id = call.conn_id;
  const std::string id = s.id();
  // The joiner's own seat (here or elsewhere) goes first, as for any join.
  if (call.conn.session_id) leave_current(core, conn_id, call.conn, "left to reclaim its seat");
  session* target = core.sessions.find(id);
  if (!target || !target->find_member(old_id)) return;  // cannot happen: leaving keeps sessions

  // The old connection, held or still open, stops being a member silently.
  if (auto* old_conn = core.connections.find(old_id)) old_conn->session_id.reset();
  core.out.leave_room(old_id, id);
  bool was_leader = target->is_leader(old_id);
  target->replace_member(old_id, conn_id);
  auto* member = target->find_member(conn_id);
  if (req.display_name) member->display_name = *req.display_name;
  if (was_leader) core.leader_grace.erase(id);
  std::optional<std::string> previous_leader;
  if (req.role == store::member_role::leader) previous_leader = target->take_lead(conn_id);
  target->touch(call.now_wall_ms);
  call.conn.session_id = id;
  core.out.join_room(conn_id, id);

  // One MULTI/EXEC (the store batches a handler's writes): the old member key
  // goes, the new one comes, the session lists the new socket id.
  core.store.remove_member(old_id);
  save_member(core, *target, conn_id);
  if (previous_leader) save_member(core, *target, *previous_leader);
  save(core, *target, call.now_us);

  spdlog::info("session {}: {} reclaimed the seat of {} ({})", id, conn_id, old_id,
               store::role_name(member->role));
  core.out.emit_to(conn_id, "snapshot", payloads::snapshot(*target, core.clk, call.now_us));
  core.out.emit_to_session(id, "member_replaced",
                           payloads::member_replaced(*target, old_id, *member));
  if (previous_leader) {
    core.out.emit_to_session(id, "role_changed",
                             payloads::role_taken(conn_id, *previous_leader, call.now_wall_ms));
  }
  emit_room_stats(core, *target, call.now_us, call.now_wall_ms);
}

bool release_held_seat(service_core& core, session& s) {
  auto victim = s.longest_dropped();
  if (!victim) return false;
  auto* conn = core.connections.find(*victim);
  if (!conn || conn->session_id != s.id()) {
    spdlog::error("session {}: held seat {} has no matching connection", s.id(), *victim);
    return false;
  }
  leave_current(core, *victim, *conn, "released its held seat for a new device");
  return true;
}

bool pass_held_lead(service_core& core, session& s, int64_t now_us, int64_t now_wall_ms) {
  std::optional<std::string> previous = s.leader();
  auto next = s.pass_lead(now_us);
  if (!next) return false;
  core.leader_grace.erase(s.id());
  if (!s.playing()) set_playing(core, s, false);
  s.touch(now_wall_ms);
  if (previous) save_member(core, s, *previous);
  save_member(core, s, *next);
  save(core, s, now_us);
  spdlog::info("session {}: leader {} not back; {} leads, playback paused", s.id(),
               previous.value_or("?"), *next);
  core.out.emit_to_session(s.id(), "role_changed", payloads::role_elected(*next, now_wall_ms));
  emit_snapshot(core, s, now_us, now_wall_ms);
  emit_room_stats(core, s, now_us, now_wall_ms);
  return true;
}

void session_service::on_hold(const std::string& conn_id) {
  auto* conn = core_.connections.find(conn_id);
  if (!conn || conn->held) return;
  conn->held = true;
  if (!conn->session_id || core_.stopping) return;
  session* s = core_.sessions.find(*conn->session_id);
  if (!s) return;
  int64_t now_us = core_.clk.steady_us();
  int64_t now_wall = core_.clk.wall_ms();
  s->mark_dropped(conn_id, now_us, now_us + core_.options.seat_hold_ms * 1000);
  spdlog::info("session {}: {} dropped; seat held", s->id(), conn_id);
  bool passed = false;
  if (s->is_leader(conn_id)) {
    if (core_.options.leader_grace_ms <= 0) {
      passed = pass_held_lead(core_, *s, now_us, now_wall);  // room_stats included
    } else {
      core_.leader_grace[s->id()] = now_us + core_.options.leader_grace_ms * 1000;
    }
  }
  if (!passed) emit_room_stats(core_, *s, now_us, now_wall);
  emit_member_status(core_, *s, conn_id);
}

void session_service::on_recover(const std::string& conn_id) {
  auto* conn = core_.connections.find(conn_id);
  if (!conn) {
    // Not expected (a held connection keeps its entry), but a socket that is
    // back must be able to send events.
    on_connect(conn_id);
    return;
  }
  bool was_held = conn->held;
  conn->held = false;
  if (!conn->session_id || core_.stopping) return;
  session* s = core_.sessions.find(*conn->session_id);
  if (!s) return;
  if (!was_held) {
    // Taken over before the server noticed the loss: the seat never showed
    // as disconnected. room_stats is volatile (never replayed), so the one
    // it may have missed on the dead link is made up here.
    core_.out.emit_to(conn_id, "room_stats",
                      payloads::room_stats(*s, core_.clk.steady_us(), core_.clk.wall_ms()));
    return;
  }
  s->mark_connected(conn_id);
  if (s->is_leader(conn_id)) core_.leader_grace.erase(s->id());
  spdlog::info("session {}: {} is back in its seat", s->id(), conn_id);
  emit_room_stats(core_, *s, core_.clk.steady_us(), core_.clk.wall_ms());
  emit_member_status(core_, *s, conn_id);
}

size_t session_service::expire_leader_grace() {
  if (core_.leader_grace.empty() || core_.stopping) return 0;
  int64_t now_us = core_.clk.steady_us();
  int64_t now_wall = core_.clk.wall_ms();
  std::vector<std::string> due;
  for (const auto& [id, until] : core_.leader_grace) {
    if (until <= now_us) due.push_back(id);
  }
  size_t changed = 0;
  for (const auto& id : due) {
    core_.leader_grace.erase(id);
    session* s = core_.sessions.find(id);
    // The leader may have come back, left, or been replaced meanwhile.
    if (!s || !s->leader() || s->connected(*s->leader())) continue;
    if (pass_held_lead(core_, *s, now_us, now_wall)) ++changed;
  }
  return changed;
}

}  // namespace bandsync::domain
