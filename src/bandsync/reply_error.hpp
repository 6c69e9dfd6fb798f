#pragma once
// The `error { message, code }` replies BandSync sends where the old server
// stayed silent (EVENTS.md "Client -> server": leader-only and member-only
// events from anyone else), plus payload validation and capacity refusals.

#include <array>
#include <string_view>

namespace bandsync::domain {

enum class reply_error {
  invalid_payload,  // INVALID_PAYLOAD: a payload failed validation
  not_leader,       // NOT_LEADER: a leader-only event from a follower
  not_a_member,     // NOT_A_MEMBER: a member-only event from a non-member
  no_such_session,  // NO_SUCH_SESSION: the named session does not exist
  session_full,     // SESSION_FULL: join_session on a session at maxMembers
  server_busy,      // SERVER_BUSY: a new session while the session table is full
  rate_limited,     // RATE_LIMITED: a new session beyond the creation rate (creation_limiter)
};

inline constexpr std::array<reply_error, 7> all_reply_errors = {
    reply_error::invalid_payload, reply_error::not_leader,   reply_error::not_a_member,
    reply_error::no_such_session, reply_error::session_full, reply_error::server_busy,
    reply_error::rate_limited,
};

// The wire `code`, e.g. "NOT_LEADER".
std::string_view code_name(reply_error error);

}  // namespace bandsync::domain
