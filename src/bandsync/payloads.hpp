#pragma once
// Every payload the service sends (EVENTS.md "Server -> client"), built in one
// place so that a field is named, ordered and typed the same way wherever the
// event is sent. Pure functions of domain state: no clock, no I/O.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "bandsync/reply_error.hpp"
#include "bandsync/session.hpp"
#include "store/member_record.hpp"

namespace bandsync::domain::payloads {

// A position as the wire carries it: exact milliseconds (an integer when
// whole, otherwise a fraction with microsecond precision).
boost::json::value position(int64_t position_us);

// `snapshot`: every session field, `sessionId`, `members` in join order, the
// current derived `position` and `serverTimestamp`.
boost::json::object snapshot(const session& s, int64_t now_us, int64_t now_wall_ms);

// `room_stats` (EVENTS.md "Session state").
boost::json::object room_stats(const session& s, int64_t now_us, int64_t now_wall_ms);

// `role_changed`, in its three shapes:
// a takeover (join_session or set_role with role "leader"):
//   { socketId, role: "leader", previousLeader, timestamp };
boost::json::object role_taken(const std::string& new_leader, const std::string& previous_leader,
                               int64_t now_wall_ms);
// an election after the leader left:
//   { socketId, role, previousRole: "follower", reason: "leader_disconnected", timestamp };
boost::json::object role_elected(const std::string& new_leader, int64_t now_wall_ms);
// the leader stepped down (set_role "follower"):
//   { socketId, role, previousRole, previousLeader, reason: "leader_stepped_down", timestamp }.
boost::json::object role_handed_over(const std::string& new_leader,
                                     const std::string& previous_leader, int64_t now_wall_ms);

// `user_joined { member, memberCount }`.
boost::json::object user_joined(const store::member_record& member, size_t member_count);
// `member_replaced { sessionId, previousSocketId, socketId, member }`: a seat
// taken over by a join with its clientId (the clientId is never sent).
boost::json::object member_replaced(const session& s, const std::string& previous_socket_id,
                                    const store::member_record& member);
// `user_left { socketId, memberCount, newLeader }` (newLeader null unless elected).
boost::json::object user_left(const std::string& socket_id, size_t member_count,
                              const std::optional<std::string>& new_leader);

// `play { sessionId, tempoBpm, position, serverTimestamp }`.
boost::json::object play(const session& s, int64_t position_us, int64_t now_wall_ms);
// `pause` and `seek`: { sessionId, position, serverTimestamp }.
boost::json::object pause(const session& s, int64_t position_us, int64_t now_wall_ms);
boost::json::object seek(const session& s, int64_t position_us, int64_t now_wall_ms);

// `scroll_tick { sessionId, positionMs (floor), tempoBpm, serverTimestamp }`.
boost::json::object scroll_tick(const session& s, int64_t now_us, int64_t now_wall_ms);
// `sync_response { sessionId, positionMs, tempoBpm, isPlaying, serverTime }`.
boost::json::object sync_response(const session& s, int64_t now_us, int64_t now_wall_ms);

// `latency_response { clientTimestamp (echoed as sent), serverTimestamp }`.
boost::json::object latency_response(const boost::json::value& client_timestamp,
                                     int64_t now_wall_ms);
// `heartbeat { timestamp }`.
boost::json::object heartbeat(int64_t now_wall_ms);

// `error { message, code }`.
boost::json::object error(reply_error code, std::string message);

}  // namespace bandsync::domain::payloads
