#include "bandsync/reply_error.hpp"

#include "bandsync/setlist.hpp"

namespace bandsync::domain {

std::string_view code_name(reply_error error) {
  switch (error) {
    case reply_error::invalid_payload:
      return "INVALID_PAYLOAD";
    case reply_error::not_leader:
      return "NOT_LEADER";
    case reply_error::not_a_member:
      return "NOT_A_MEMBER";
    case reply_error::no_such_session:
      return "NO_SUCH_SESSION";
    case reply_error::session_full:
      return "SESSION_FULL";
    case reply_error::server_busy:
      return "SERVER_BUSY";
    case reply_error::schedule_full:
      return "SCHEDULE_FULL";
    case reply_error::setlist_full:
      return "SETLIST_FULL";
    case reply_error::no_such_song:
      return "NO_SUCH_SONG";
    case reply_error::song_id_taken:
      return "SONG_ID_TAKEN";
    case reply_error::end_of_setlist:
      return "END_OF_SETLIST";
    case reply_error::no_such_section:
      return "NO_SUCH_SECTION";
    case reply_error::rate_limited:
      return "RATE_LIMITED";
  }
  return "UNKNOWN";
}

reply_error to_reply_error(setlist_errc errc) {
  switch (errc) {
    case setlist_errc::invalid_payload:
      return reply_error::invalid_payload;
    case setlist_errc::setlist_full:
      return reply_error::setlist_full;
    case setlist_errc::no_such_song:
      return reply_error::no_such_song;
    case setlist_errc::song_id_taken:
      return reply_error::song_id_taken;
    case setlist_errc::end_of_setlist:
      return reply_error::end_of_setlist;
    case setlist_errc::no_such_section:
      return reply_error::no_such_section;
  }
  return reply_error::invalid_payload;
}

}  // namespace bandsync::domain
