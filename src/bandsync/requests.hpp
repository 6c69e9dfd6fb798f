#pragma once
// Validation of client payloads (EVENTS.md "Client -> server"): each parser
// turns an event's arguments into a typed request or an invalid_payload whose
// message names the offending field. Nothing here throws on any input: only
// the non-throwing Boost.JSON accessors (if_*, is_*) touch client data.

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include "store/member_record.hpp"

namespace bandsync::domain {

// Bounds of client-supplied values; every string a client can store is bounded.
inline constexpr size_t max_session_id_length = 64;
inline constexpr size_t min_client_id_length = 8;
inline constexpr size_t max_client_id_length = 64;
inline constexpr size_t max_display_name_length = 64;  // code points, after trimming
inline constexpr size_t max_message_length = 500;      // code points
inline constexpr double min_tempo = 20;
inline constexpr double max_tempo = 300;
inline constexpr double max_position_ms = 86'400'000;  // 24 h

struct invalid_payload {
  std::string message;  // e.g. "tempo must be a number from 20 to 300"
};

template <class T>
using parse_result = std::variant<T, invalid_payload>;

// join_session { sessionId, displayName?, role?, clientId? }. displayName is
// trimmed of ASCII whitespace; absent, null or blank reads as std::nullopt
// (the caller picks the default name). role and clientId absent or null read
// as std::nullopt; clientId is 8-64 characters of [A-Za-z0-9_-].
struct join_request {
  std::string session_id;
  std::optional<std::string> display_name;
  std::optional<store::member_role> role;
  std::optional<std::string> client_id;
};
parse_result<join_request> parse_join_session(const boost::json::array& args);

// { sessionId }: leave_session, play, pause, stop, sync_request.
struct session_request {
  std::string session_id;
};
parse_result<session_request> parse_session_request(const boost::json::array& args);

// update_message { sessionId, message }; message may be empty.
struct message_request {
  std::string session_id;
  std::string message;
};
parse_result<message_request> parse_update_message(const boost::json::array& args);

// set_role { sessionId, role }.
struct role_request {
  std::string session_id;
  store::member_role role = store::member_role::follower;
};
parse_result<role_request> parse_set_role(const boost::json::array& args);

// set_tempo { sessionId, tempo }, tempo in [20, 300] BPM.
struct tempo_request {
  std::string session_id;
  double tempo = 120;
};
parse_result<tempo_request> parse_set_tempo(const boost::json::array& args);

// seek { sessionId, position }, position in [0, 86 400 000] ms, kept to the
// microsecond.
struct seek_request {
  std::string session_id;
  int64_t position_us = 0;
};
parse_result<seek_request> parse_seek(const boost::json::array& args);

// latency_probe { timestamp, sessionId? }. sessionId is not used (the server
// knows the connection's session); when present and neither null nor "" it
// must still be a valid id. `timestamp` keeps the client's value to echo it.
struct latency_probe_request {
  boost::json::value timestamp;
  double timestamp_ms = 0;
};
parse_result<latency_probe_request> parse_latency_probe(const boost::json::array& args);

// heartbeat_response { timestamp }.
struct heartbeat_response_request {
  double timestamp_ms = 0;
};
parse_result<heartbeat_response_request> parse_heartbeat_response(const boost::json::array& args);

// link_report { sessionId, rttMs, jitterMs? } (EVENTS.md "Link quality"): the
// round trip a member measured to the server and its variation, each a finite
// number from 0 to 60000 ms; `jitterMs` absent or null reads as unknown.
struct link_report_request {
  std::string session_id;
  double rtt_ms = 0;
  std::optional<double> jitter_ms;
};
parse_result<link_report_request> parse_link_report(const boost::json::array& args);

// True when `id` is 1-64 characters of [A-Za-z0-9_.-].
bool valid_session_id(std::string_view id);
// True when `id` is 8-64 characters of [A-Za-z0-9_-].
bool valid_client_id(std::string_view id);

// What every event parser (here, clock_requests, setlist_requests) reads
// first: the first argument as an object (nullptr when absent or not an
// object), and a field of it that is absent or JSON null as nullptr.
const boost::json::object* payload_of(const boost::json::array& args);
const boost::json::value* field(const boost::json::object& o, std::string_view key);
extern const std::string payload_not_object;

}  // namespace bandsync::domain
