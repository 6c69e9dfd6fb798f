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
  schedule_full,    // SCHEDULE_FULL: a timed seek/set_tempo with 16 changes pending
  rate_limited,     // RATE_LIMITED: a new session beyond the creation rate (creation_limiter)
  // The setlist events' own refusals (setlist_errc, setlist.hpp):
  setlist_full,     // SETLIST_FULL: more than 100 songs or 256 KiB of charts
  no_such_song,     // NO_SUCH_SONG: songId names no song of the setlist
  song_id_taken,    // SONG_ID_TAKEN: a client-supplied song id is already used
  end_of_setlist,   // END_OF_SETLIST: next_song on the last song, previous_song on the first
  no_such_section,  // NO_SUCH_SECTION: a cue names no section of the current song
};

inline constexpr std::array<reply_error, 13> all_reply_errors = {
    reply_error::invalid_payload, reply_error::not_leader,    reply_error::not_a_member,
    reply_error::no_such_session, reply_error::session_full,  reply_error::server_busy,
    reply_error::schedule_full,   reply_error::rate_limited,  reply_error::setlist_full,
    reply_error::no_such_song,    reply_error::song_id_taken, reply_error::end_of_setlist,
    reply_error::no_such_section,
};

// The wire `code`, e.g. "NOT_LEADER".
std::string_view code_name(reply_error error);

enum class setlist_errc;
// The reply for a refused setlist event: the same wire code as code_name(errc).
reply_error to_reply_error(setlist_errc errc);

}  // namespace bandsync::domain
