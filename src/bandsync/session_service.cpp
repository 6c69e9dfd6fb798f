#include "bandsync/session_service.hpp"

#include <algorithm>
#include <cmath>

#include "store/json_number.hpp"
#include "util/log.hpp"

// Logging: client-chosen free text (displayName, message) is never logged, so
// that a client cannot forge log lines; session ids are charset-checked and
// connection ids are server-made, so both are safe to print.

namespace bandsync::domain {
namespace {

constexpr std::array<std::string_view, 12> event_names = {
    "join_session", "leave_session", "update_message", "set_role",
    "set_tempo",    "play",          "pause",          "stop",
    "seek",         "sync_request",  "latency_probe",  "heartbeat_response",
};

boost::json::value nullable(const std::optional<std::string>& s) {
  if (s) return boost::json::value(*s);
  return nullptr;
}

}  // namespace

session_service::event_kind session_service::kind_of(std::string_view event) {
  for (size_t i = 0; i < event_names.size(); ++i) {
    if (event_names[i] == event) return static_cast<event_kind>(i);
  }
  return event_kind::unknown;
}

std::string_view session_service::name_of(event_kind kind) {
  auto i = static_cast<size_t>(kind);
  return i < event_names.size() ? event_names[i] : std::string_view("unknown");
}

session_service::session_service(clock& clk, outbox& out, store::session_store& store,
                                 service_options options)
    : clock_(clk),
      outbox_(out),
      store_(store),
      options_(options),
      sessions_(options.max_sessions),
      messages_(clk.steady_us()),
      creations_(options.creation),
      ticks_(options.tick_interval_ms * 1000) {
  last_persist_us_ = clock_.steady_us();
  size_t skipped = restore(store_.load_sessions());
  if (restored_sessions_ > 0 || skipped > 0) {
    spdlog::info("store: restored {} sessions (paused, without members), skipped {}",
                 restored_sessions_, skipped);
  }
  loading_ = !store_.load_complete();
  if (loading_) {
    spdlog::warn("store: start-up load incomplete; new sessions are refused until it completes");
  }
}

size_t session_service::restore(const std::vector<store::session_record>& records) {
  int64_t now_us = clock_.steady_us();
  size_t skipped = 0;
  for (const auto& record : records) {
    if (!valid_session_id(record.id) || sessions_.find(record.id) ||
        sessions_.size() >= options_.max_sessions) {
      ++skipped;
      continue;
    }
    session s = session::restore(record, options_.max_members);
    // The old server kept dead members on restore (EVENTS.md); clear them from
    // the store too, so that no reader sees a full session or a dead leader.
    for (const auto& m : record.members) store_.remove_member(m.socket_id);
    store_.set_ticking(record.id, false);
    store_.save_session(s.to_record(now_us));
    sessions_.insert(std::move(s), nullptr);
    ++restored_sessions_;
  }
  return skipped;
}

void session_service::finish_load(const std::vector<store::session_record>& records) {
  if (!loading_) return;
  size_t before = restored_sessions_;
  size_t present = 0;
  for (const auto& r : records) present += sessions_.find(r.id) != nullptr;
  size_t skipped = restore(records) - present;
  loading_ = false;
  spdlog::info("store: background load restored {} more sessions, skipped {}; new sessions allowed",
               restored_sessions_ - before, skipped);
}

// ---------------------------------------------------------------- connections

void session_service::on_connect(const std::string& conn_id, const std::string& address) {
  if (!connections_.add(conn_id)) {
    spdlog::warn("connect: {} is already connected; ignored", conn_id);
    return;
  }
  connections_.find(conn_id)->address = address;
  spdlog::debug("connect: {} ({} active)", conn_id, connections_.active());
}

void session_service::on_disconnect(const std::string& conn_id) {
  auto* conn = connections_.find(conn_id);
  if (!conn) return;
  if (conn->session_id && !stopping_) leave_current(conn_id, *conn, "disconnected");
  connections_.remove(conn_id);
  creations_.forget_connection(conn_id);
  spdlog::debug("disconnect: {} ({} active)", conn_id, connections_.active());
}

void session_service::on_event(const std::string& conn_id, std::string_view event,
                               const boost::json::array& args) {
  if (stopping_) return;
  messages_.record(clock_.steady_us());
  event_kind kind = kind_of(event);
  ++event_counts_[static_cast<size_t>(kind)];
  if (kind == event_kind::unknown) {
    spdlog::debug("event: unknown event from {} ignored", conn_id);
    return;
  }
  auto* conn = connections_.find(conn_id);
  if (!conn) {
    spdlog::warn("event: {} from unknown connection {} ignored", event, conn_id);
    return;
  }
  switch (kind) {
    case event_kind::join_session:
      return handle_join(conn_id, *conn, args);
    case event_kind::leave_session:
      return handle_leave(conn_id, *conn, args);
    case event_kind::update_message:
      return handle_update_message(conn_id, *conn, args);
    case event_kind::set_role:
      return handle_set_role(conn_id, *conn, args);
    case event_kind::set_tempo:
      return handle_set_tempo(conn_id, *conn, args);
    case event_kind::play:
    case event_kind::pause:
    case event_kind::stop:
      return handle_transport(conn_id, *conn, kind, args);
    case event_kind::seek:
      return handle_seek(conn_id, *conn, args);
    case event_kind::sync_request:
      return handle_sync_request(conn_id, *conn, args);
    case event_kind::latency_probe:
      return handle_latency_probe(conn_id, *conn, args);
    case event_kind::heartbeat_response:
      return handle_heartbeat_response(conn_id, *conn, args);
    case event_kind::unknown:
      return;
  }
}

// ------------------------------------------------------------------- helpers

template <class T>
const T* session_service::accept(conn_ref conn_id, event_kind kind, const parse_result<T>& parsed) {
  if (const auto* bad = std::get_if<invalid_payload>(&parsed)) {
    send_error(conn_id, kind, reply_error::invalid_payload, bad->message);
    return nullptr;
  }
  return &std::get<T>(parsed);
}

session* session_service::authorize(conn_ref conn_id, const connection_state& conn, event_kind kind,
                                    const std::string& session_id, bool leader_only) {
  session* s = sessions_.find(session_id);
  if (!s) {
    send_error(conn_id, kind, reply_error::no_such_session,
               "Session " + session_id + " does not exist");
    return nullptr;
  }
  if (conn.session_id != session_id) {
    send_error(conn_id, kind, reply_error::not_a_member, "Not a member of session " + session_id);
    return nullptr;
  }
  if (leader_only && !s->is_leader(conn_id)) {
    send_error(conn_id, kind, reply_error::not_leader,
               "Only the leader can " + std::string(name_of(kind)));
    return nullptr;
  }
  return s;
}

void session_service::send_error(conn_ref conn_id, event_kind kind, reply_error code,
                                 std::string message) {
  ++error_counts_[static_cast<size_t>(code)];
  spdlog::info("{} from {} rejected: {} ({})", name_of(kind), conn_id, code_name(code), message);
  boost::json::object payload;
  payload["message"] = std::move(message);
  payload["code"] = code_name(code);
  outbox_.emit_to(conn_id, "error", payload);
}

void session_service::save(const session& s, int64_t now_us) {
  store_.save_session(s.to_record(now_us));
}

void session_service::save_member(const session& s, const std::string& socket_id) {
  if (const auto* m = s.find_member(socket_id)) store_.save_member(s.id(), *m);
}

void session_service::set_playing(const session& s, bool playing) {
  bool was = sessions_.playing().contains(s.id());
  if (was == playing) return;
  sessions_.set_playing(s.id(), playing);
  store_.set_ticking(s.id(), playing);
  if (!playing) {
    ticks_.stop(s.id());
    return;
  }
  int64_t due = ticks_.start(s.id(), clock_.steady_us());
  if (tick_wakeup_) tick_wakeup_(due);
}

void session_service::emit_snapshot_to_session(const session& s, int64_t now_us,
                                               int64_t now_wall_ms) {
  outbox_.emit_to_session(s.id(), "snapshot", s.snapshot(now_us, now_wall_ms));
}

void session_service::emit_room_stats(const session& s, int64_t now_us, int64_t now_wall_ms) {
  outbox_.emit_to_session(s.id(), "room_stats", s.room_stats(now_us, now_wall_ms));
}

// --------------------------------------------------------------- membership

void session_service::handle_join(conn_ref conn_id, connection_state& conn,
                                  const boost::json::array& args) {
  auto parsed = parse_join_session(args);
  const auto* req = accept(conn_id, event_kind::join_session, parsed);
  if (!req) return;
  const std::string& id = req->session_id;

  if (conn.session_id == id) {
    if (session* s = sessions_.find(id)) return rejoin(conn_id, *s, *req);
  }

  // Refusals come before leaving the current session, so that a refused join
  // changes nothing ("and nothing else").
  session* target = sessions_.find(id);
  if (target && target->full()) {
    send_error(conn_id, event_kind::join_session, reply_error::session_full,
               "Session at capacity (" + std::to_string(target->max_members()) + " members)");
    return;
  }
  if (!target && !sessions_.can_insert()) {
    send_error(conn_id, event_kind::join_session, reply_error::server_busy,
               "Server at capacity (" + std::to_string(options_.max_sessions) + " sessions)");
    return;
  }
  if (!target && loading_) {
    send_error(conn_id, event_kind::join_session, reply_error::server_busy,
               "Sessions are still being restored from the store; retry shortly");
    return;
  }
  if (!target && !creations_.try_create(conn_id, conn.address, clock_.steady_us())) {
    send_error(conn_id, event_kind::join_session, reply_error::rate_limited,
               "Too many new sessions from this connection or address; retry later");
    return;
  }

  if (conn.session_id) leave_current(conn_id, conn, "left to join another session");

  int64_t now_us = clock_.steady_us();
  int64_t now_wall = clock_.wall_ms();
  target = sessions_.find(id);  // leaving removes only a pristine session, never this one
  if (!target) {
    std::optional<std::string> evicted;
    target = sessions_.insert(session(id, now_wall, options_.max_members), &evicted);
    if (!target) {
      send_error(conn_id, event_kind::join_session, reply_error::server_busy,
                 "Server at capacity (" + std::to_string(options_.max_sessions) + " sessions)");
      return;
    }
    if (evicted) {
      store_.remove_session(*evicted);
      spdlog::info("session {} evicted (empty, least recently active) to make room", *evicted);
    }
    spdlog::info("session {} created ({} sessions)", id, sessions_.size());
  }

  std::string name = req->display_name.value_or(
      "User " + (conn_id.size() > 4 ? conn_id.substr(conn_id.size() - 4) : conn_id));
  if (!target->add_member(store::member_record{conn_id, std::move(name),
                                               store::member_role::follower, now_wall, now_wall})) {
    // Unreachable: capacity and membership were checked above.
    spdlog::error("session {}: could not add {}", id, conn_id);
    return;
  }
  std::optional<std::string> previous_leader;
  if (req->role == store::member_role::leader) previous_leader = target->take_lead(conn_id);
  target->touch(now_wall);
  sessions_.mark_occupied(id);
  conn.session_id = id;
  ++member_total_;
  outbox_.join_room(conn_id, id);

  save_member(*target, conn_id);
  if (previous_leader) save_member(*target, *previous_leader);
  save(*target, now_us);

  const auto* member = target->find_member(conn_id);
  spdlog::info("session {}: {} joined as {} ({} members)", id, conn_id,
               store::role_name(member->role), target->member_count());
  outbox_.emit_to(conn_id, "snapshot", target->snapshot(now_us, now_wall));
  if (previous_leader) {
    boost::json::object rc;
    rc["socketId"] = conn_id;
    rc["role"] = "leader";
    rc["previousLeader"] = *previous_leader;
    rc["timestamp"] = now_wall;
    outbox_.emit_to_session(id, "role_changed", rc);
  }
  emit_room_stats(*target, now_us, now_wall);
  boost::json::object joined;
  joined["member"] = store::to_json(*member);
  joined["memberCount"] = target->member_count();
  outbox_.emit_to_session(id, "user_joined", joined);
}

// A join for the session the connection is already in updates its member
// (displayName, a leader takeover) instead of adding it twice. Changes go to
// the whole session as a snapshot; otherwise only the sender gets one.
void session_service::rejoin(conn_ref conn_id, session& s, const join_request& req) {
  int64_t now_us = clock_.steady_us();
  int64_t now_wall = clock_.wall_ms();
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
  outbox_.join_room(conn_id, s.id());
  if (!changed) {
    spdlog::debug("session {}: {} re-joined, nothing changed", s.id(), conn_id);
    outbox_.emit_to(conn_id, "snapshot", s.snapshot(now_us, now_wall));
    return;
  }
  s.touch(now_wall);
  save_member(s, conn_id);
  if (previous_leader) save_member(s, *previous_leader);
  save(s, now_us);
  spdlog::info("session {}: {} re-joined (updated{})", s.id(), conn_id,
               previous_leader ? ", now leading" : "");
  if (previous_leader) {
    boost::json::object rc;
    rc["socketId"] = conn_id;
    rc["role"] = "leader";
    rc["previousLeader"] = *previous_leader;
    rc["timestamp"] = now_wall;
    outbox_.emit_to_session(s.id(), "role_changed", rc);
  }
  emit_snapshot_to_session(s, now_us, now_wall);
}

void session_service::handle_leave(conn_ref conn_id, connection_state& conn,
                                   const boost::json::array& args) {
  auto parsed = parse_session_request(args);
  const auto* req = accept(conn_id, event_kind::leave_session, parsed);
  if (!req) return;
  if (!authorize(conn_id, conn, event_kind::leave_session, req->session_id, false)) return;
  leave_current(conn_id, conn, "left");
}

void session_service::leave_current(conn_ref conn_id, connection_state& conn,
                                    std::string_view why) {
  std::string id = std::move(*conn.session_id);
  conn.session_id.reset();
  --member_total_;
  outbox_.leave_room(conn_id, id);
  store_.remove_member(conn_id);
  session* s = sessions_.find(id);
  if (!s) {
    spdlog::error("session {}: {} was recorded as a member of a missing session", id, conn_id);
    return;
  }
  int64_t now_us = clock_.steady_us();
  int64_t now_wall = clock_.wall_ms();
  auto departure = s->remove_member(conn_id, now_us);
  if (!departure) {
    spdlog::error("session {}: {} was recorded as a member but is not", id, conn_id);
    return;
  }
  s->touch(now_wall);
  if (!s->playing()) set_playing(*s, false);

  if (s->empty() && s->pristine()) {
    // Nothing a band would come back for: dropped at once rather than held
    // until the idle sweep (join/leave loops must not fill the table).
    ticks_.stop(id);
    sessions_.erase(id);
    store_.remove_session(id);
    spdlog::info("session {}: {} {}; no members left, never used: removed", id, conn_id, why);
    return;
  }
  if (s->empty()) {
    sessions_.mark_empty(*s);
    save(*s, now_us);
    spdlog::info("session {}: {} {}; no members left", id, conn_id, why);
    return;
  }

  if (departure->new_leader) {
    const std::string& leader = *departure->new_leader;
    save_member(*s, leader);
    save(*s, now_us);
    spdlog::info("session {}: leader {} {}; {} elected, playback paused ({} members)", id, conn_id,
                 why, leader, s->member_count());
    boost::json::object rc;
    rc["socketId"] = leader;
    rc["role"] = "leader";
    rc["previousRole"] = "follower";
    rc["reason"] = "leader_disconnected";
    rc["timestamp"] = now_wall;
    outbox_.emit_to_session(id, "role_changed", rc);
    emit_snapshot_to_session(*s, now_us, now_wall);
  } else {
    save(*s, now_us);
    spdlog::info("session {}: {} {} ({} members)", id, conn_id, why, s->member_count());
  }
  emit_room_stats(*s, now_us, now_wall);
  boost::json::object left;
  left["socketId"] = conn_id;
  left["memberCount"] = s->member_count();
  left["newLeader"] = nullable(departure->new_leader);
  outbox_.emit_to_session(id, "user_left", left);
}

// ------------------------------------------------------------ member events

void session_service::handle_update_message(conn_ref conn_id, connection_state& conn,
                                            const boost::json::array& args) {
  auto parsed = parse_update_message(args);
  const auto* req = accept(conn_id, event_kind::update_message, parsed);
  if (!req) return;
  session* s = authorize(conn_id, conn, event_kind::update_message, req->session_id, false);
  if (!s) return;
  int64_t now_us = clock_.steady_us();
  int64_t now_wall = clock_.wall_ms();
  s->set_message(req->message);
  s->touch(now_wall);
  save(*s, now_us);
  spdlog::info("session {}: message set by {} ({} bytes)", s->id(), conn_id, req->message.size());
  emit_snapshot_to_session(*s, now_us, now_wall);
}

// set_role "leader": takeover (EVENTS.md). set_role "follower" (the contract
// is silent): from the leader, it steps down and the most senior other member
// leads, with `role_changed { ..., previousRole: "follower", previousLeader,
// reason: "leader_stepped_down" }` and playback untouched; a leader alone, or
// a follower, changes nothing. Either way the session then gets a snapshot.
void session_service::handle_set_role(conn_ref conn_id, connection_state& conn,
                                      const boost::json::array& args) {
  auto parsed = parse_set_role(args);
  const auto* req = accept(conn_id, event_kind::set_role, parsed);
  if (!req) return;
  session* s = authorize(conn_id, conn, event_kind::set_role, req->session_id, false);
  if (!s) return;
  int64_t now_us = clock_.steady_us();
  int64_t now_wall = clock_.wall_ms();
  boost::json::object rc;
  if (req->role == store::member_role::leader) {
    if (auto previous = s->take_lead(conn_id)) {
      save_member(*s, *previous);
      save_member(*s, conn_id);
      rc["socketId"] = conn_id;
      rc["role"] = "leader";
      rc["previousLeader"] = *previous;
      rc["timestamp"] = now_wall;
      spdlog::info("session {}: {} took the lead from {}", s->id(), conn_id, *previous);
    }
  } else if (s->is_leader(conn_id)) {
    if (auto next = s->hand_over_lead()) {
      save_member(*s, conn_id);
      save_member(*s, *next);
      rc["socketId"] = *next;
      rc["role"] = "leader";
      rc["previousRole"] = "follower";
      rc["previousLeader"] = conn_id;
      rc["reason"] = "leader_stepped_down";
      rc["timestamp"] = now_wall;
      spdlog::info("session {}: leader {} stepped down; {} leads", s->id(), conn_id, *next);
    }
  }
  if (!rc.empty()) {
    s->touch(now_wall);
    save(*s, now_us);
    outbox_.emit_to_session(s->id(), "role_changed", rc);
  }
  emit_snapshot_to_session(*s, now_us, now_wall);
}

void session_service::handle_sync_request(conn_ref conn_id, connection_state& conn,
                                          const boost::json::array& args) {
  auto parsed = parse_session_request(args);
  const auto* req = accept(conn_id, event_kind::sync_request, parsed);
  if (!req) return;
  const session* s = authorize(conn_id, conn, event_kind::sync_request, req->session_id, false);
  if (!s) return;
  boost::json::object r;
  r["sessionId"] = s->id();
  r["positionMs"] = s->position_us(clock_.steady_us()) / 1000;
  r["tempoBpm"] = store::json_number(s->tempo());
  r["isPlaying"] = s->playing();
  r["serverTime"] = clock_.wall_ms();
  outbox_.emit_to(conn_id, "sync_response", r);
}

// ------------------------------------------------------------ leader events

void session_service::handle_set_tempo(conn_ref conn_id, connection_state& conn,
                                       const boost::json::array& args) {
  auto parsed = parse_set_tempo(args);
  const auto* req = accept(conn_id, event_kind::set_tempo, parsed);
  if (!req) return;
  session* s = authorize(conn_id, conn, event_kind::set_tempo, req->session_id, true);
  if (!s) return;
  int64_t now_us = clock_.steady_us();
  int64_t now_wall = clock_.wall_ms();
  s->set_tempo(req->tempo, now_us);
  s->touch(now_wall);
  save(*s, now_us);
  spdlog::info("session {}: tempo {} BPM", s->id(), req->tempo);
  emit_snapshot_to_session(*s, now_us, now_wall);
}

// play / pause / stop. `stop` is "as pause, and position = 0" (EVENTS.md), so
// it sends the same `pause` event, with position 0; there is no `stop` event
// for clients to miss. Repeating the current state re-sends the messages and
// keeps the anchor (a second play does not jump).
void session_service::handle_transport(conn_ref conn_id, connection_state& conn, event_kind kind,
                                       const boost::json::array& args) {
  auto parsed = parse_session_request(args);
  const auto* req = accept(conn_id, kind, parsed);
  if (!req) return;
  session* s = authorize(conn_id, conn, kind, req->session_id, true);
  if (!s) return;
  int64_t now_us = clock_.steady_us();
  int64_t now_wall = clock_.wall_ms();
  if (kind == event_kind::play) {
    s->play(now_us);
  } else if (kind == event_kind::pause) {
    s->pause(now_us);
  } else {
    s->stop(now_us);
  }
  set_playing(*s, s->playing());
  s->touch(now_wall);
  save(*s, now_us);
  int64_t position_us = s->position_us(now_us);
  spdlog::info("session {}: {} at {} ms", s->id(), name_of(kind), position_us / 1000);
  emit_snapshot_to_session(*s, now_us, now_wall);
  boost::json::object t;
  t["sessionId"] = s->id();
  if (kind == event_kind::play) t["tempoBpm"] = store::json_number(s->tempo());
  t["position"] = session::position_json(position_us);
  t["serverTimestamp"] = now_wall;
  outbox_.emit_to_session(s->id(), kind == event_kind::play ? "play" : "pause", t);
}

void session_service::handle_seek(conn_ref conn_id, connection_state& conn,
                                  const boost::json::array& args) {
  auto parsed = parse_seek(args);
  const auto* req = accept(conn_id, event_kind::seek, parsed);
  if (!req) return;
  session* s = authorize(conn_id, conn, event_kind::seek, req->session_id, true);
  if (!s) return;
  int64_t now_us = clock_.steady_us();
  int64_t now_wall = clock_.wall_ms();
  s->seek(req->position_us, now_us);
  s->touch(now_wall);
  save(*s, now_us);
  spdlog::info("session {}: seek to {} ms", s->id(), req->position_us / 1000);
  emit_snapshot_to_session(*s, now_us, now_wall);
  boost::json::object t;
  t["sessionId"] = s->id();
  t["position"] = session::position_json(req->position_us);
  t["serverTimestamp"] = now_wall;
  outbox_.emit_to_session(s->id(), "seek", t);
}

// ------------------------------------------------------------------- health

void session_service::handle_latency_probe(conn_ref conn_id, connection_state& conn,
                                           const boost::json::array& args) {
  auto parsed = parse_latency_probe(args);
  const auto* req = accept(conn_id, event_kind::latency_probe, parsed);
  if (!req) return;
  int64_t now_wall = clock_.wall_ms();
  // Answer first: the client measures the round trip, so nothing may delay it.
  boost::json::object r;
  r["clientTimestamp"] = req->timestamp;
  r["serverTimestamp"] = now_wall;
  outbox_.emit_to(conn_id, "latency_response", r);
  record_latency(conn_id, conn, static_cast<double>(now_wall) - req->timestamp_ms, now_wall);
}

void session_service::handle_heartbeat_response(conn_ref conn_id, connection_state& conn,
                                                const boost::json::array& args) {
  auto parsed = parse_heartbeat_response(args);
  const auto* req = accept(conn_id, event_kind::heartbeat_response, parsed);
  if (!req) return;
  int64_t now_wall = clock_.wall_ms();
  record_latency(conn_id, conn, static_cast<double>(now_wall) - req->timestamp_ms, now_wall);
}

void session_service::record_latency(conn_ref conn_id, connection_state& conn, double latency_ms,
                                     int64_t now_wall_ms) {
  // Clock skew can make it negative; a bogus timestamp can make it huge. Both
  // are clamped so that one client cannot swing averageLatency without bound.
  latency_ms = std::clamp(latency_ms, 0.0, options_.max_latency_ms);
  conn.latency_ms = latency_ms;
  if (latency_ms > options_.latency_warn_ms) {
    int64_t now_us = clock_.steady_us();
    if (!conn.last_warn_us ||
        now_us - *conn.last_warn_us >= options_.latency_warn_interval_ms * 1000) {
      conn.last_warn_us = now_us;
      spdlog::warn("latency: {} at {} ms (warn above {} ms)", conn_id, latency_ms,
                   options_.latency_warn_ms);
    }
  }
  if (!conn.session_id) return;
  if (session* s = sessions_.find(*conn.session_id)) {
    if (auto* m = s->find_member(conn_id)) {
      m->last_ping_at = now_wall_ms;
      store_.save_member(s->id(), *m);
    }
  }
}

// ------------------------------------------------------------------- timers

void session_service::emit_tick(const session& s, int64_t now_us, int64_t now_wall_ms) {
  boost::json::object t;
  t["sessionId"] = s.id();
  t["positionMs"] = s.position_us(now_us) / 1000;  // floor: positions are never negative
  t["tempoBpm"] = store::json_number(s.tempo());
  t["serverTimestamp"] = now_wall_ms;
  outbox_.emit_to_session(s.id(), "scroll_tick", t);
}

void session_service::tick() {
  int64_t now_us = clock_.steady_us();
  int64_t now_wall = clock_.wall_ms();
  for (const auto& id : sessions_.playing()) {
    if (const session* s = sessions_.find(id)) emit_tick(*s, now_us, now_wall);
  }
  persist_playing(now_us);
}

size_t session_service::tick_due(const std::function<void(int64_t lag_us)>& on_lag) {
  int64_t now_us = clock_.steady_us();
  int64_t now_wall = clock_.wall_ms();
  size_t sent = ticks_.run_due(now_us, [&](const std::string& id, int64_t due_us) {
    const session* s = sessions_.find(id);
    if (!s || !s->playing()) {
      // A ticker left without a playing session (erased by the sweep or an
      // eviction while playing) stops here instead of waking us forever.
      ticks_.stop(id);
      return;
    }
    emit_tick(*s, now_us, now_wall);
    if (on_lag) on_lag(now_us - due_us);
  });
  persist_playing(now_us);
  return sent;
}

int64_t session_service::persist_period_us() const {
  int64_t period = options_.persist_playing_ms * 1000;
  return std::max(period - 50'000, period / 2);
}

std::optional<int64_t> session_service::next_tick_due_us() const {
  auto due = ticks_.next_due();
  if (!due || sessions_.playing().empty()) return due;
  return std::min(*due, last_persist_us_ + persist_period_us());
}

void session_service::persist_playing(int64_t now_us) {
  if (now_us - last_persist_us_ >= persist_period_us()) {
    last_persist_us_ = now_us;
    for (const auto& id : sessions_.playing()) {
      if (const session* s = sessions_.find(id)) save(*s, now_us);
    }
  }
}

void session_service::persist_all() {
  int64_t now_us = clock_.steady_us();
  size_t members = 0;
  sessions_.for_each([&](const session& s) {
    save(s, now_us);  // first: a store may keep a ticker flag only for a known session
    store_.set_ticking(s.id(), s.playing());
    for (const auto& m : s.members()) store_.save_member(s.id(), m);
    members += s.member_count();
  });
  spdlog::info("store: rewrote {} sessions and {} members", sessions_.size(), members);
}

void session_service::shutdown() {
  if (stopping_) return;
  stopping_ = true;
  int64_t now_us = clock_.steady_us();
  sessions_.for_each([&](const session& s) {
    store::session_record r = s.to_record(now_us);
    for (const auto& m : r.members) store_.remove_member(m.socket_id);
    r.members.clear();
    r.leader_socket_id.reset();
    r.is_playing = false;
    store_.save_session(r);
    store_.set_ticking(s.id(), false);
  });
  spdlog::info("store: saved {} sessions for the next start (paused, without members)",
               sessions_.size());
}

void session_service::heartbeat_round() {
  boost::json::value payload = boost::json::object{{"timestamp", clock_.wall_ms()}};
  size_t sent = 0;
  connections_.for_each([&](const std::string& id, const connection_state& c) {
    if (!connection_registry::healthy(c, options_.healthy_latency_ms)) return;
    outbox_.emit_to(id, "heartbeat", payload);
    ++sent;
  });
  spdlog::debug("heartbeat: sent to {} of {} connections", sent, connections_.active());
}

size_t session_service::sweep() {
  int64_t cutoff = clock_.wall_ms() - options_.session_idle_ms;
  auto expired = sessions_.empty_before(cutoff);
  for (const auto& id : expired) {
    ticks_.stop(id);
    sessions_.erase(id);
    store_.remove_session(id);
    spdlog::info("session {} expired (idle, no members)", id);
  }
  if (!expired.empty()) {
    spdlog::info("sweep: removed {} sessions, {} left", expired.size(), sessions_.size());
  }
  return expired.size();
}

// -------------------------------------------------------------------- views

boost::json::object session_service::performance() const {
  int64_t now_us = clock_.steady_us();
  int64_t now_wall = clock_.wall_ms();
  boost::json::object p;
  p["totalConnections"] = connections_.total();
  p["activeConnections"] = connections_.active();
  p["messagesPerSecond"] = messages_.last_window_count(now_us);
  p["averageLatency"] =
      store::json_number(std::round(connections_.average_latency_ms() * 100) / 100);
  p["lastResetTime"] = now_wall - (now_us - messages_.current_window_start_us(now_us)) / 1000;
  return p;
}

boost::json::object session_service::session_stats() const {
  boost::json::object s;
  s["totalSessions"] = sessions_.size();
  s["activeSessions"] = sessions_.size() - sessions_.empty_count();
  s["playingSessions"] = sessions_.playing().size();
  s["totalMembers"] = member_total_;
  return s;
}

session_service::counters session_service::metrics() const {
  counters c;
  for (size_t i = 0; i < event_kinds; ++i) {
    c.events_by_name[std::string(name_of(static_cast<event_kind>(i)))] = event_counts_[i];
  }
  for (auto code : all_reply_errors) {
    c.errors_by_code[std::string(code_name(code))] = error_counts_[static_cast<size_t>(code)];
  }
  c.sessions = sessions_.size();
  c.playing_sessions = sessions_.playing().size();
  c.connections = connections_.active();
  return c;
}

const session* session_service::find_session(const std::string& session_id) const {
  return sessions_.find(session_id);
}

const connection_state* session_service::find_connection(const std::string& conn_id) const {
  return connections_.find(conn_id);
}

}  // namespace bandsync::domain
