#include "bandsync/reply_error.hpp"

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
    case reply_error::rate_limited:
      return "RATE_LIMITED";
  }
  return "UNKNOWN";
}

}  // namespace bandsync::domain
