#include "bandsync/payloads.hpp"

#include <algorithm>

#include <boost/json/array.hpp>

#include "store/json_number.hpp"

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

boost::json::object transport(const session& s, bool with_tempo, int64_t position_us,
                              int64_t now_wall_ms) {
  boost::json::object o;
  o["sessionId"] = s.id();
  if (with_tempo) o["tempoBpm"] = store::json_number(s.tempo());
  o["position"] = position(position_us);
  o["serverTimestamp"] = now_wall_ms;
  return o;
}

}  // namespace

boost::json::value position(int64_t position_us) {
  if (position_us % 1000 == 0) return position_us / 1000;
  return static_cast<double>(position_us) / 1000.0;
}

boost::json::object snapshot(const session& s, int64_t now_us, int64_t now_wall_ms) {
  boost::json::object o;
  o["sessionId"] = s.id();
  o["message"] = s.message();
  o["tempo"] = store::json_number(s.tempo());
  o["tempoBpm"] = store::json_number(s.tempo());
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
    // BandSync: false while the member's connection is held (EVENTS.md "Seats").
    member["connected"] = s.connected(m.socket_id);
    members.push_back(std::move(member));
  }
  o["members"] = std::move(members);
  o["serverTimestamp"] = now_wall_ms;
  return o;
}

boost::json::object room_stats(const session& s, int64_t now_us, int64_t now_wall_ms) {
  boost::json::object o;
  o["sessionId"] = s.id();
  o["memberCount"] = s.member_count();
  // Members whose connection is held keep their seat but are not counted here.
  o["connectedCount"] = s.connected_count();
  o["isPlaying"] = s.playing();
  o["tempo"] = store::json_number(s.tempo());
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

boost::json::object user_joined(const store::member_record& member, size_t member_count) {
  boost::json::object o;
  auto m = store::to_json(member);
  m["connected"] = true;  // a joiner is connected; same member shape as in snapshots
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
  m["connected"] = s.connected(member.socket_id);
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

boost::json::object play(const session& s, int64_t position_us, int64_t now_wall_ms) {
  return transport(s, true, position_us, now_wall_ms);
}

boost::json::object pause(const session& s, int64_t position_us, int64_t now_wall_ms) {
  return transport(s, false, position_us, now_wall_ms);
}

boost::json::object seek(const session& s, int64_t position_us, int64_t now_wall_ms) {
  return transport(s, false, position_us, now_wall_ms);
}

boost::json::object scroll_tick(const session& s, int64_t now_us, int64_t now_wall_ms) {
  boost::json::object o;
  o["sessionId"] = s.id();
  o["positionMs"] = s.position_us(now_us) / 1000;  // floor: positions are never negative
  o["tempoBpm"] = store::json_number(s.tempo());
  o["serverTimestamp"] = now_wall_ms;
  return o;
}

boost::json::object sync_response(const session& s, int64_t now_us, int64_t now_wall_ms) {
  boost::json::object o;
  o["sessionId"] = s.id();
  o["positionMs"] = s.position_us(now_us) / 1000;
  o["tempoBpm"] = store::json_number(s.tempo());
  o["isPlaying"] = s.playing();
  o["serverTime"] = now_wall_ms;
  return o;
}

boost::json::object latency_response(const boost::json::value& client_timestamp,
                                     int64_t now_wall_ms) {
  boost::json::object o;
  o["clientTimestamp"] = client_timestamp;
  o["serverTimestamp"] = now_wall_ms;
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
