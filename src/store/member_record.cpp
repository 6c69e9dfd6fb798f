#include "store/member_record.hpp"

#include "store/json_number.hpp"

namespace bandsync::store {
namespace {

bool fail_member_record(std::string* error, std::string reason) {
  if (error) *error = std::move(reason);
  return false;
}

// Reads an optional epoch-ms field: absent or null keeps `out` unchanged.
bool read_time(const boost::json::object& o, std::string_view key, int64_t& out,
               std::string* error) {
  const auto* v = o.if_contains(key);
  if (!v || v->is_null()) return true;
  auto n = integer_of(*v);
  if (!n) return fail_member_record(error, std::string(key) + " must be a number");
  out = *n;
  return true;
}

}  // namespace

std::string_view role_name(member_role role) {
  return role == member_role::leader ? "leader" : "follower";
}

std::optional<member_role> parse_role(std::string_view name) {
  if (name == "leader") return member_role::leader;
  if (name == "follower") return member_role::follower;
  return std::nullopt;
}

boost::json::object to_json(const member_record& member) {
  boost::json::object o;
  o["socketId"] = member.socket_id;
  o["displayName"] = member.display_name;
  o["role"] = role_name(member.role);
  o["joinedAt"] = member.joined_at;
  o["lastPingAt"] = member.last_ping_at;
  return o;
}

std::optional<member_record> member_from_json(const boost::json::value& value,
                                              std::string_view fallback_socket_id,
                                              std::string* error) {
  const auto* o = value.if_object();
  if (!o) {
    fail_member_record(error, "member must be an object");
    return std::nullopt;
  }
  member_record m;
  if (const auto* v = o->if_contains("socketId"); v && !v->is_null()) {
    const auto* s = v->if_string();
    if (!s) {
      fail_member_record(error, "socketId must be a string");
      return std::nullopt;
    }
    m.socket_id = std::string(*s);
  } else if (!fallback_socket_id.empty()) {
    m.socket_id = std::string(fallback_socket_id);
  } else {
    fail_member_record(error, "socketId is missing");
    return std::nullopt;
  }
  if (const auto* v = o->if_contains("displayName"); v && !v->is_null()) {
    const auto* s = v->if_string();
    if (!s) {
      fail_member_record(error, "displayName must be a string");
      return std::nullopt;
    }
    m.display_name = std::string(*s);
  }
  if (const auto* v = o->if_contains("role"); v && v->is_string()) {
    m.role = parse_role(v->get_string()).value_or(member_role::follower);
  }
  if (!read_time(*o, "joinedAt", m.joined_at, error) ||
      !read_time(*o, "lastPingAt", m.last_ping_at, error)) {
    return std::nullopt;
  }
  return m;
}

boost::json::object member_entry_to_json(std::string_view session_id, const member_record& member) {
  boost::json::object o;
  o["sessionId"] = session_id;
  for (auto& kv : to_json(member)) o[kv.key()] = std::move(kv.value());
  return o;
}

std::optional<member_entry> member_entry_from_json(const boost::json::value& value,
                                                   std::string* error) {
  const auto* o = value.if_object();
  if (!o) {
    fail_member_record(error, "member entry must be an object");
    return std::nullopt;
  }
  const auto* sid = o->if_contains("sessionId");
  if (!sid || !sid->is_string()) {
    fail_member_record(error, "sessionId must be a string");
    return std::nullopt;
  }
  auto member = member_from_json(value, {}, error);
  if (!member) return std::nullopt;
  return member_entry{std::string(sid->get_string()), std::move(*member)};
}

}  // namespace bandsync::store
