#include "bandsync/payloads.hpp"

#include <algorithm>

#include <boost/json/array.hpp>

#include "bandsync/setlist_payloads.hpp"
#include "util/json_text.hpp"

namespace bandsync::domain::payloads {
namespace {

boost::json::value nullable(const std::optional<std::string>& s) {
  if (s) return boost::json::value(*s);
  return nullptr;
}

// `role_changed` fields in the order the old server wrote them; the optional
// ones are present only in the shapes that carry them.
boost::json::object role_changed(const std::string& new_leader, bool previous_role,
                                 const std::string* previous_leader, std::string_view reason,
                                 int64_t now_wall_ms) {
  boost::json::object o;
  o["socketId"] = new_leader;
  o["role"] = "leader";
  if (previous_role) o["previousRole"] = "follower";
  if (previous_leader) o["previousLeader"] = *previous_leader;
  if (!reason.empty()) o["reason"] = reason;
  o["timestamp"] = now_wall_ms;
  return o;
}

// The old fields of play/pause/seek; `at_us` is the instant the event
// describes (the start, the pause, the seek's effect), `now_us` when it is sent.
boost::json::object transport(const session& s, const clock& clk, bool with_tempo,
                              int64_t position_us, int64_t now_us, int64_t at_us) {
  boost::json::object o;
  o["sessionId"] = s.id();
  if (with_tempo) o["tempoBpm"] = s.tempo(at_us);
  o["position"] = position(position_us);
  o["serverTimestamp"] = clk.server_ms_at(now_us);
  return o;
}

// The musical position at `at_us` (docs/EVENTS.md "Clock").
void add_beat(boost::json::object& o, const session& s, int64_t at_us) {
  o["beat"] = s.beat(at_us);
  o["bar"] = s.bar(at_us);
}

boost::json::value server_time_or_null(const clock& clk, std::optional<int64_t> steady_us) {
  if (steady_us) return clk.server_ms_at(*steady_us);
  return nullptr;
}

}  // namespace

boost::json::value position(int64_t position_us) {
  return static_cast<double>(position_us) / 1000.0;
}

boost::json::object snapshot(const session& s, const clock& clk, int64_t now_us) {
  boost::json::object o;
  o["sessionId"] = s.id();
  o["message"] = s.message();
  o["tempo"] = s.tempo(now_us);
  o["tempoBpm"] = s.tempo(now_us);
  o["position"] = position(s.position_us(now_us));
  o["isPlaying"] = s.playing();
  o["leaderSocketId"] = nullable(s.leader());
  o["createdAt"] = s.created_at();
  o["lastActiveAt"] = s.last_active_at();
  o["settings"] = boost::json::object{{"maxMembers", s.max_members()}};
  boost::json::array members;
  members.reserve(s.member_count());
  for (const auto& m : s.members()) {
    auto member = store::to_json(m);
    // BandSync: the member's last link report (EVENTS.md "Link quality").
    member["link"] = link(s.link(m.socket_id), clk);
    // BandSync: false while the member's connection is held, and until when
    // the seat is kept (EVENTS.md "Seats").
    member["connected"] = s.connected(m.socket_id);
    member["heldUntil"] = held_until(s, m.socket_id, clk);
    members.push_back(std::move(member));
  }
  o["members"] = std::move(members);
  o["serverTimestamp"] = clk.server_ms_at(now_us);
  o["beatsPerBar"] = s.beats_per_bar();
  add_beat(o, s, now_us);
  o["startsAt"] = server_time_or_null(clk, s.starts_at_us(now_us));
  o["effectiveAt"] = server_time_or_null(clk, s.last_change_at_us(now_us));
  add_setlist_fields(o, s.setlist());
  return o;
}

boost::json::object room_stats(const session& s, int64_t now_us, int64_t now_wall_ms) {
  boost::json::object o;
  o["sessionId"] = s.id();
  o["memberCount"] = s.member_count();
  // Members whose connection is held keep their seat but are not counted here.
  o["connectedCount"] = s.connected_count();
  o["isPlaying"] = s.playing();
  o["tempo"] = s.tempo(now_us);
  o["position"] = position(s.position_us(now_us));
  o["leader"] = nullable(s.leader());
  o["uptime"] = std::max<int64_t>(0, now_wall_ms - s.created_at());
  o["lastActiveAt"] = s.last_active_at();
  return o;
}

boost::json::object role_taken(const std::string& new_leader, const std::string& previous_leader,
                               int64_t now_wall_ms) {
  return role_changed(new_leader, false, &previous_leader, {}, now_wall_ms);
}

boost::json::object role_elected(const std::string& new_leader, int64_t now_wall_ms) {
  return role_changed(new_leader, true, nullptr, "leader_disconnected", now_wall_ms);
}

boost::json::object role_handed_over(const std::string& new_leader,
                                     const std::string& previous_leader, int64_t now_wall_ms) {
  return role_changed(new_leader, true, &previous_leader, "leader_stepped_down", now_wall_ms);
}

boost::json::value link(const member_link* l, const clock& clk) {
  if (!l) return nullptr;
  boost::json::object o;
  o["rttMs"] = l->rtt_ms;
  o["jitterMs"] = l->jitter_ms ? boost::json::value(*l->jitter_ms) : boost::json::value(nullptr);
  o["at"] = clk.server_ms_at(l->at_us);
  return o;
}

boost::json::object member_link_changed(const session& s, const std::string& socket_id,
                                        const clock& clk) {
  boost::json::object o;
  o["sessionId"] = s.id();
  o["socketId"] = socket_id;
  o["link"] = link(s.link(socket_id), clk);
  return o;
}

boost::json::value held_until(const session& s, const std::string& socket_id, const clock& clk) {
  return server_time_or_null(clk, s.held_until(socket_id));
}

boost::json::object member_status(const session& s, const std::string& socket_id,
                                  const clock& clk) {
  boost::json::object o;
  o["sessionId"] = s.id();
  o["socketId"] = socket_id;
  o["connected"] = s.connected(socket_id);
  o["heldUntil"] = held_until(s, socket_id, clk);
  return o;
}

boost::json::object user_joined(const store::member_record& member, size_t member_count,
                                boost::json::value link) {
  boost::json::object o;
  auto m = store::to_json(member);
  m["link"] = std::move(link);
  m["connected"] = true;  // a joiner is connected; same member shape as in snapshots
  m["heldUntil"] = nullptr;
  o["member"] = std::move(m);
  o["memberCount"] = member_count;
  return o;
}

boost::json::object member_replaced(const session& s, const std::string& previous_socket_id,
                                    const store::member_record& member) {
  boost::json::object o;
  o["sessionId"] = s.id();
  o["previousSocketId"] = previous_socket_id;
  o["socketId"] = member.socket_id;
  auto m = store::to_json(member);
  // A reclaimed seat is a new connection: its link is measured again
  // (session::replace_member drops the old report).
  m["link"] = nullptr;
  m["connected"] = s.connected(member.socket_id);
  m["heldUntil"] = nullptr;  // a reclaimed seat is connected again
  o["member"] = std::move(m);
  return o;
}

boost::json::object user_left(const std::string& socket_id, size_t member_count,
                              const std::optional<std::string>& new_leader) {
  boost::json::object o;
  o["socketId"] = socket_id;
  o["memberCount"] = member_count;
  o["newLeader"] = nullable(new_leader);
  return o;
}

boost::json::object play(const session& s, const clock& clk, int64_t now_us, int64_t starts_at_us,
                         int count_in_bars) {
  auto o = transport(s, clk, true, s.position_us(starts_at_us), now_us, starts_at_us);
  o["startsAt"] = clk.server_ms_at(starts_at_us);
  o["countInBars"] = count_in_bars;
  o["beatsPerBar"] = s.beats_per_bar();
  add_beat(o, s, starts_at_us);
  return o;
}

boost::json::object pause(const session& s, const clock& clk, int64_t now_us) {
  auto o = transport(s, clk, false, s.position_us(now_us), now_us, now_us);
  add_beat(o, s, now_us);
  return o;
}

boost::json::object seek(const session& s, const clock& clk, int64_t now_us, int64_t position_us,
                         int64_t effective_at_us) {
  auto o = transport(s, clk, false, position_us, now_us, effective_at_us);
  o["effectiveAt"] = clk.server_ms_at(effective_at_us);
  add_beat(o, s, effective_at_us);
  return o;
}

boost::json::object scroll_tick(const session& s, const clock& clk, int64_t now_us) {
  boost::json::object o;
  o["sessionId"] = s.id();
  o["positionMs"] = s.position_us(now_us) / 1000;  // floor: positions are never negative
  o["tempoBpm"] = s.tempo(now_us);
  o["serverTimestamp"] = clk.server_ms_at(now_us);
  add_beat(o, s, now_us);
  return o;
}

void scroll_tick_text(std::string& out, const session& s, const clock& clk, int64_t now_us) {
  // Field for field as scroll_tick() above (an object keeps insertion order),
  // each value of the type it has there: positionMs an integer, the others
  // doubles (unit test payloads.scroll_tick_text_is_the_object_s_text).
  out += "{\"sessionId\":";
  util::append_json_string(out, s.id());
  out += ",\"positionMs\":";
  util::append_json_number(out, static_cast<int64_t>(s.position_us(now_us) / 1000));
  out += ",\"tempoBpm\":";
  util::append_json_number(out, s.tempo(now_us));
  out += ",\"serverTimestamp\":";
  util::append_json_number(out, clk.server_ms_at(now_us));
  out += ",\"beat\":";
  util::append_json_number(out, s.beat(now_us));
  out += ",\"bar\":";
  util::append_json_number(out, s.bar(now_us));
  out += '}';
}

boost::json::object sync_response(const session& s, const clock& clk, int64_t now_us) {
  boost::json::object o;
  o["sessionId"] = s.id();
  o["positionMs"] = s.position_us(now_us) / 1000;
  o["tempoBpm"] = s.tempo(now_us);
  o["isPlaying"] = s.playing();
  o["serverTime"] = clk.server_ms_at(now_us);
  o["beatsPerBar"] = s.beats_per_bar();
  add_beat(o, s, now_us);
  o["startsAt"] = server_time_or_null(clk, s.starts_at_us(now_us));
  return o;
}

boost::json::object latency_response(const boost::json::value& client_timestamp,
                                     double now_server_ms) {
  boost::json::object o;
  o["clientTimestamp"] = client_timestamp;
  o["serverTimestamp"] = now_server_ms;
  return o;
}

boost::json::object time_sync(const boost::json::value& t1, double t2_server_ms,
                              double t3_server_ms) {
  boost::json::object o;
  o["t1"] = t1;
  o["t2"] = t2_server_ms;
  o["t3"] = t3_server_ms;
  return o;
}

boost::json::object heartbeat(int64_t now_wall_ms) {
  return boost::json::object{{"timestamp", now_wall_ms}};
}

boost::json::object error(reply_error code, std::string message) {
  boost::json::object o;
  o["message"] = std::move(message);
  o["code"] = code_name(code);
  return o;
}

}  // namespace bandsync::domain::payloads
