#pragma once
// Every payload the service sends (EVENTS.md "Server -> client"), built in one
// place so that a field is named, ordered and typed the same way wherever the
// event is sent. Pure functions of domain state, no I/O: the time is passed in
// (steady µs); the clock is only used to convert steady times to server times
// (clock::server_ms_at), never read.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "bandsync/clock.hpp"
#include "bandsync/reply_error.hpp"
#include "bandsync/session.hpp"
#include "store/member_record.hpp"

namespace bandsync::domain::payloads {

// A position as the wire carries it: milliseconds with microsecond precision,
// a double (util::to_json_text writes a whole one as JavaScript does, "42000").
boost::json::value position(int64_t position_us);

// `snapshot`: every session field, `sessionId`, `members` in join order, the
// members carrying `link` (see link() below), the
// current derived `position` and `serverTimestamp` (server time of `now_us`),
// then the clock fields: `beatsPerBar`, `beat`, `bar`, `startsAt` (the
// scheduled start while ahead, else null) and `effectiveAt` (when the last
// pending seek/tempo change takes effect, else null); then `setlist` (the
// songs, setlist_payloads.hpp) and `currentSongId` (or null).
boost::json::object snapshot(const session& s, const clock& clk, int64_t now_us);

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

// A member's link as the wire carries it (EVENTS.md "Link quality"):
// `{ rttMs, jitterMs (or null), at (server time received) }`, or null when the
// member has sent no link_report.
boost::json::value link(const member_link* l, const clock& clk);
// `member_link { sessionId, socketId, link }` after an accepted link_report.
boost::json::object member_link_changed(const session& s, const std::string& socket_id,
                                        const clock& clk);

// `heldUntil` of a member: the server time its held seat is released at the
// latest, or null while it is connected (EVENTS.md "Seats").
boost::json::value held_until(const session& s, const std::string& socket_id, const clock& clk);
// `member_status { sessionId, socketId, connected, heldUntil }`: a member's
// seat became held (its link was lost) or is connected again.
boost::json::object member_status(const session& s, const std::string& socket_id, const clock& clk);

// `user_joined { member, memberCount }`; the member carries `link` as in
// snapshots (null unless a member re-joined under a new name).
boost::json::object user_joined(const store::member_record& member, size_t member_count,
                                boost::json::value link);
// `member_replaced { sessionId, previousSocketId, socketId, member }`: a seat
// taken over by a join with its clientId (the clientId is never sent).
boost::json::object member_replaced(const session& s, const std::string& previous_socket_id,
                                    const store::member_record& member);
// `user_left { socketId, memberCount, newLeader }` (newLeader null unless elected).
boost::json::object user_left(const std::string& socket_id, size_t member_count,
                              const std::optional<std::string>& new_leader);

// `play { sessionId, tempoBpm, position, serverTimestamp, startsAt,
// countInBars, beatsPerBar, beat, bar }`: position, tempo, beat and bar as
// they will be at `starts_at_us`; serverTimestamp is `now_us`.
boost::json::object play(const session& s, const clock& clk, int64_t now_us, int64_t starts_at_us,
                         int count_in_bars);
// `pause { sessionId, position, serverTimestamp, beat, bar }` at `now_us`.
boost::json::object pause(const session& s, const clock& clk, int64_t now_us);
// `seek { sessionId, position, serverTimestamp, effectiveAt, beat, bar }`:
// the position sought and its beat, from `effective_at_us`.
boost::json::object seek(const session& s, const clock& clk, int64_t now_us, int64_t position_us,
                         int64_t effective_at_us);

// `scroll_tick { sessionId, positionMs (floor), tempoBpm, serverTimestamp,
// beat, bar }`.
boost::json::object scroll_tick(const session& s, const clock& clk, int64_t now_us);
// The same payload appended to `out` as JSON text, byte for byte what
// util::to_json_text(scroll_tick(s, clk, now_us)) writes, straight from the
// session's numbers: no object built per tick (issue 12).
void scroll_tick_text(std::string& out, const session& s, const clock& clk, int64_t now_us);
// `sync_response { sessionId, positionMs, tempoBpm, isPlaying, serverTime,
// beatsPerBar, beat, bar, startsAt }`.
boost::json::object sync_response(const session& s, const clock& clk, int64_t now_us);

// `latency_response { clientTimestamp (echoed as sent), serverTimestamp }`.
boost::json::object latency_response(const boost::json::value& client_timestamp,
                                     double now_server_ms);
// `time_sync`'s ack (or `time_sync_response`): { t1 (echoed as sent), t2, t3 }.
boost::json::object time_sync(const boost::json::value& t1, double t2_server_ms,
                              double t3_server_ms);
// `heartbeat { timestamp }`.
boost::json::object heartbeat(int64_t now_wall_ms);

// `error { message, code }`.
boost::json::object error(reply_error code, std::string message);

}  // namespace bandsync::domain::payloads
