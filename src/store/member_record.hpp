#pragma once
// A session member as EVENTS.md "Session state" defines it, and its two JSON
// forms in the Redis layout: the member object inside `session:<id>` and the
// `member:<socketId>` value `{ sessionId, ...member }`.

#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace bandsync::store {

enum class member_role { leader, follower };

// "leader" or "follower", as on the wire.
std::string_view role_name(member_role role);

// Returns std::nullopt unless `name` is exactly "leader" or "follower".
std::optional<member_role> parse_role(std::string_view name);

struct member_record {
  std::string socket_id;
  std::string display_name;
  member_role role = member_role::follower;
  int64_t joined_at = 0;     // Unix epoch ms
  int64_t last_ping_at = 0;  // Unix epoch ms

  bool operator==(const member_record&) const = default;
};

// `{ socketId, displayName, role, joinedAt, lastPingAt }`: the member object of
// snapshots, `user_joined` and the session JSON.
boost::json::object to_json(const member_record& member);

// Reads a member object written by BandSync or the old Node server; key order
// and unknown keys do not matter. `socketId` is required (a string) unless
// `fallback_socket_id` is given (the key of a [socketId, member] pair);
// displayName defaults to "", role to follower (an unknown role reads as
// follower), times to 0. Returns std::nullopt, with a reason in `*error` when
// `error` is not null, if the value is not an object or a field has the wrong
// type.
std::optional<member_record> member_from_json(const boost::json::value& value,
                                              std::string_view fallback_socket_id = {},
                                              std::string* error = nullptr);

// The `member:<socketId>` value: `{ sessionId, ...member }`.
boost::json::object member_entry_to_json(std::string_view session_id, const member_record& member);

struct member_entry {
  std::string session_id;
  member_record member;
};

// Reads a `member:<socketId>` value; `sessionId` must be a string. Same
// tolerance and failure reporting as member_from_json.
std::optional<member_entry> member_entry_from_json(const boost::json::value& value,
                                                   std::string* error = nullptr);

}  // namespace bandsync::store
