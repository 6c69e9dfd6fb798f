#include "bandsync/requests.hpp"

#include <cmath>

#include "bandsync/chart.hpp"  // code_points
#include "store/json_number.hpp"

namespace bandsync::domain {
const std::string payload_not_object = "payload must be an object";

const boost::json::object* payload_of(const boost::json::array& args) {
  return args.empty() ? nullptr : args[0].if_object();
}

const boost::json::value* field(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && !v->is_null() ? v : nullptr;
}

namespace {

const std::string bad_session_id = "sessionId must be 1-64 characters of [A-Za-z0-9_.-]";
const std::string bad_display_name =
    "displayName must be a string of at most 64 characters without control characters or "
    "broken characters (U+FFFD, a lone UTF-16 surrogate)";
const std::string bad_message =
    "message must be a string of at most 500 characters without control characters (tab and "
    "newline allowed) or broken characters (U+FFFD, a lone UTF-16 surrogate)";
const std::string bad_tempo = "tempo must be a number from 20 to 300";
const std::string bad_position = "position must be a number from 0 to 86400000";
const std::string bad_role = "role must be \"leader\" or \"follower\"";
const std::string bad_client_id = "clientId must be 8-64 characters of [A-Za-z0-9_-]";
const std::string bad_timestamp = "timestamp must be a number";
const std::string bad_rtt = "rttMs must be a number from 0 to 60000";
const std::string bad_jitter = "jitterMs must be a number from 0 to 60000";
// A round trip longer than the longest latency the server records
// (latency_probe's clamp) says nothing a band can use; above it is a bug.
constexpr double max_link_ms = 60000;

std::optional<std::string> session_id_of(const boost::json::object& o) {
  const auto* v = field(o, "sessionId");
  if (!v || !v->is_string() || !valid_session_id(v->get_string())) return std::nullopt;
  return std::string(v->get_string());
}

std::optional<double> number_in(const boost::json::object& o, std::string_view key, double lo,
                                double hi) {
  const auto* v = field(o, key);
  if (!v) return std::nullopt;
  auto n = store::number_of(*v);
  if (!n || *n < lo || *n > hi) return std::nullopt;
  return n;
}

std::optional<double> timestamp_of(const boost::json::object& o) {
  const auto* v = field(o, "timestamp");
  return v ? store::number_of(*v) : std::nullopt;
}

// Parses the `{ sessionId }` shared by every session event; on success returns
// the payload object so that the caller can read its other fields.
template <class Request>
parse_result<Request> with_session(const boost::json::array& args, const boost::json::object*& o) {
  o = payload_of(args);
  if (!o) return invalid_payload{payload_not_object};
  auto id = session_id_of(*o);
  if (!id) return invalid_payload{bad_session_id};
  Request r;
  r.session_id = std::move(*id);
  return r;
}

// Text a band member reads on every device: no control characters (C0, DEL,
// C1; `multiline` allows tab and newline) and no U+FFFD, which is what a lone
// UTF-16 surrogate becomes in the packet decoder (a client's string was cut in
// the middle of an emoji): refused rather than shown as a broken glyph.
bool clean_text(std::string_view s, bool multiline) {
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20) {
      if (!(multiline && (c == '\t' || c == '\n'))) return false;
    } else if (c == 0x7F) {
      return false;
    } else if (c == 0xC2 && i + 1 < s.size()) {  // U+0080..U+009F: C1 controls
      auto d = static_cast<unsigned char>(s[i + 1]);
      if (d >= 0x80 && d <= 0x9F) return false;
    } else if (c == 0xEF && s.substr(i, 3) == "\xEF\xBF\xBD") {  // U+FFFD
      return false;
    }
  }
  return true;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

}  // namespace

bool valid_session_id(std::string_view id) {
  if (id.empty() || id.size() > max_session_id_length) return false;
  for (char c : id) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool valid_client_id(std::string_view id) {
  if (id.size() < min_client_id_length || id.size() > max_client_id_length) return false;
  for (char c : id) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

parse_result<join_request> parse_join_session(const boost::json::array& args) {
  const boost::json::object* o = nullptr;
  auto r = with_session<join_request>(args, o);
  auto* req = std::get_if<join_request>(&r);
  if (!req) return r;
  if (const auto* v = field(*o, "displayName")) {
    const auto* s = v->if_string();
    if (!s) return invalid_payload{bad_display_name};
    std::string_view name = *s;
    while (!name.empty() && is_space(name.front())) name.remove_prefix(1);
    while (!name.empty() && is_space(name.back())) name.remove_suffix(1);
    if (code_points(name) > max_display_name_length) return invalid_payload{bad_display_name};
    if (!clean_text(name, false)) return invalid_payload{bad_display_name};
    if (!name.empty()) req->display_name = std::string(name);
  }
  if (const auto* v = field(*o, "role")) {
    const auto* s = v->if_string();
    auto role = s ? store::parse_role(*s) : std::nullopt;
    if (!role) return invalid_payload{bad_role};
    req->role = role;
  }
  if (const auto* v = field(*o, "clientId")) {
    const auto* s = v->if_string();
    if (!s || !valid_client_id(*s)) return invalid_payload{bad_client_id};
    req->client_id = std::string(*s);
  }
  return r;
}

parse_result<session_request> parse_session_request(const boost::json::array& args) {
  const boost::json::object* o = nullptr;
  return with_session<session_request>(args, o);
}

parse_result<message_request> parse_update_message(const boost::json::array& args) {
  const boost::json::object* o = nullptr;
  auto r = with_session<message_request>(args, o);
  auto* req = std::get_if<message_request>(&r);
  if (!req) return r;
  const auto* v = field(*o, "message");
  const auto* s = v ? v->if_string() : nullptr;
  if (!s || code_points(*s) > max_message_length || !clean_text(*s, true))
    return invalid_payload{bad_message};
  req->message = std::string(*s);
  return r;
}

parse_result<role_request> parse_set_role(const boost::json::array& args) {
  const boost::json::object* o = nullptr;
  auto r = with_session<role_request>(args, o);
  auto* req = std::get_if<role_request>(&r);
  if (!req) return r;
  const auto* v = field(*o, "role");
  const auto* s = v ? v->if_string() : nullptr;
  auto role = s ? store::parse_role(*s) : std::nullopt;
  if (!role) return invalid_payload{bad_role};
  req->role = *role;
  return r;
}

parse_result<tempo_request> parse_set_tempo(const boost::json::array& args) {
  const boost::json::object* o = nullptr;
  auto r = with_session<tempo_request>(args, o);
  auto* req = std::get_if<tempo_request>(&r);
  if (!req) return r;
  auto tempo = number_in(*o, "tempo", min_tempo, max_tempo);
  if (!tempo) return invalid_payload{bad_tempo};
  req->tempo = *tempo;
  return r;
}

parse_result<seek_request> parse_seek(const boost::json::array& args) {
  const boost::json::object* o = nullptr;
  auto r = with_session<seek_request>(args, o);
  auto* req = std::get_if<seek_request>(&r);
  if (!req) return r;
  auto position = number_in(*o, "position", 0, max_position_ms);
  if (!position) return invalid_payload{bad_position};
  req->position_us = std::llround(*position * 1000);
  return r;
}

parse_result<latency_probe_request> parse_latency_probe(const boost::json::array& args) {
  const auto* o = payload_of(args);
  if (!o) return invalid_payload{payload_not_object};
  auto ts = timestamp_of(*o);
  if (!ts) return invalid_payload{bad_timestamp};
  if (const auto* v = field(*o, "sessionId")) {
    // "" is what a client that has not joined yet may send; treat it as absent.
    const auto* s = v->if_string();
    if (!s || (!s->empty() && !valid_session_id(*s))) return invalid_payload{bad_session_id};
  }
  return latency_probe_request{*o->if_contains("timestamp"), *ts};
}

parse_result<heartbeat_response_request> parse_heartbeat_response(const boost::json::array& args) {
  const auto* o = payload_of(args);
  if (!o) return invalid_payload{payload_not_object};
  auto ts = timestamp_of(*o);
  if (!ts) return invalid_payload{bad_timestamp};
  return heartbeat_response_request{*ts};
}

parse_result<link_report_request> parse_link_report(const boost::json::array& args) {
  const boost::json::object* o = nullptr;
  auto r = with_session<link_report_request>(args, o);
  if (std::holds_alternative<invalid_payload>(r)) return r;
  auto& req = std::get<link_report_request>(r);
  auto rtt = number_in(*o, "rttMs", 0, max_link_ms);
  if (!rtt) return invalid_payload{bad_rtt};
  req.rtt_ms = *rtt;
  if (field(*o, "jitterMs")) {
    auto jitter = number_in(*o, "jitterMs", 0, max_link_ms);
    if (!jitter) return invalid_payload{bad_jitter};
    req.jitter_ms = *jitter;
  }
  return r;
}

}  // namespace bandsync::domain
