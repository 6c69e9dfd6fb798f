// Every error reply: a table of malformed payloads for every event
// (INVALID_PAYLOAD naming the field, nothing changed), and the authorization
// and capacity codes.

#include <limits>

#include "bandsync/payloads.hpp"
#include "service_fixture.hpp"

namespace bandsync::testing {
namespace {

using strings = std::vector<std::string>;

const std::string bad_payload = "payload must be an object";
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
const std::string bad_timestamp = "timestamp must be a number";

struct malformed {
  std::string event;
  std::optional<boost::json::value> payload;  // nullopt: no argument at all
  std::string message;
  std::string label;
  // A 1 MiB string of `huge_fill` goes into payload[huge_key] when the test
  // runs, not in the table: every test process builds the whole table (440
  // times under ctest), and a dozen 1 MiB values made that most of the unit
  // tests' CPU time under the sanitizers.
  std::string huge_key = {};
  char huge_fill = 0;

  boost::json::value argument() const {
    auto v = *payload;
    if (!huge_key.empty()) v.as_object()[huge_key] = boost::json::string(1 << 20, huge_fill);
    return v;
  }
};

std::ostream& operator<<(std::ostream& os, const malformed& m) {
  os << m.event << " ";
  if (m.payload) {
    auto text = boost::json::serialize(*m.payload);
    os << (text.size() > 80 ? text.substr(0, 80) + "..." : text);
    if (!m.huge_key.empty()) os << " with a 1 MiB " << m.huge_key;
  } else {
    os << "(no arguments)";
  }
  return os;
}

boost::json::value with(std::string_view event_fields_json, std::string_view key,
                        boost::json::value v) {
  auto o = boost::json::parse(event_fields_json).as_object();
  o[key] = std::move(v);
  return o;
}

// std::string does not convert to a JSON value implicitly.
boost::json::value str(const std::string& s) {
  return boost::json::string(s);
}

const double nan = std::numeric_limits<double>::quiet_NaN();
const double inf = std::numeric_limits<double>::infinity();

std::vector<malformed> table() {
  std::vector<malformed> rows;
  auto add = [&](std::string event, std::optional<boost::json::value> p, std::string msg,
                 std::string label) {
    rows.push_back({std::move(event), std::move(p), std::move(msg), std::move(label)});
  };
  auto add_huge = [&](std::string event, std::string_view base, std::string key, char fill,
                      std::string msg, std::string label) {
    add(std::move(event), boost::json::parse(base), std::move(msg), std::move(label));
    rows.back().huge_key = std::move(key);
    rows.back().huge_fill = fill;
  };

  // The shape and sessionId rules shared by every session event; the base
  // payload is otherwise valid, so only the field under test can fail.
  const std::vector<std::pair<std::string, std::string>> session_events = {
      {"join_session", R"({"displayName":"X"})"},
      {"leave_session", "{}"},
      {"update_message", R"({"message":"hi"})"},
      {"set_role", R"({"role":"leader"})"},
      {"set_tempo", R"({"tempo":100})"},
      {"play", "{}"},
      {"pause", "{}"},
      {"stop", "{}"},
      {"seek", R"({"position":10})"},
      {"sync_request", "{}"},
  };
  const std::vector<std::pair<std::string, boost::json::value>> bad_ids = {
      {"missing", nullptr},  // replaced below by leaving the key out
      {"null", nullptr},
      {"number", 5},
      {"empty", ""},
      {"65chars", str(std::string(65, 'a'))},
      {"space", "my band"},
      {"slash", "a/b"},
      {"unicode", "b\xC3\xA4nd"},
      {"array", boost::json::array{"band"}},
      {"object", boost::json::object{{"id", "band"}}},
      {"bool", true},
  };
  for (const auto& [event, base] : session_events) {
    add(event, std::nullopt, bad_payload, "no_args");
    add(event, boost::json::value(nullptr), bad_payload, "null");
    add(event, boost::json::value(5), bad_payload, "number");
    add(event, boost::json::value("band"), bad_payload, "string");
    add(event, boost::json::array{boost::json::object{{"sessionId", "band"}}}, bad_payload,
        "array");
    for (const auto& [label, id] : bad_ids) {
      if (label == "missing") {
        add(event, boost::json::parse(base), bad_session_id, "id_missing");
      } else {
        add(event, with(base, "sessionId", id), bad_session_id, "id_" + label);
      }
    }
    add_huge(event, base, "sessionId", 'a', bad_session_id, "id_huge");
  }

  const std::string join = R"({"sessionId":"other"})";
  std::string name65;
  for (int i = 0; i < 65; ++i) name65 += "\xC3\xA9";  // 65 code points, 130 bytes
  add("join_session", with(join, "displayName", 5), bad_display_name, "name_number");
  add("join_session", with(join, "displayName", true), bad_display_name, "name_bool");
  add("join_session", with(join, "displayName", boost::json::object{}), bad_display_name,
      "name_object");
  add("join_session", with(join, "displayName", str(std::string(65, 'n'))), bad_display_name,
      "name_65");
  add("join_session", with(join, "displayName", str(name65)), bad_display_name, "name_65_utf8");
  add_huge("join_session", join, "displayName", 'n', bad_display_name, "name_huge");
  add("join_session", with(join, "displayName", "a\nb"), bad_display_name, "name_newline");
  add("join_session", with(join, "displayName", str(std::string("a\0b", 3))), bad_display_name,
      "name_nul");
  add("join_session", with(join, "displayName", "a\x7f"), bad_display_name, "name_del");
  add("join_session", with(join, "role", "boss"), bad_role, "role_unknown");
  add("join_session", with(join, "role", "Leader"), bad_role, "role_case");
  add("join_session", with(join, "role", ""), bad_role, "role_empty");
  add("join_session", with(join, "role", 1), bad_role, "role_number");

  const std::string msg = R"({"sessionId":"band"})";
  add("update_message", boost::json::parse(msg), bad_message, "message_missing");
  add("update_message", with(msg, "message", nullptr), bad_message, "message_null");
  add("update_message", with(msg, "message", 5), bad_message, "message_number");
  add("update_message", with(msg, "message", boost::json::array{"a"}), bad_message,
      "message_array");
  add("update_message", with(msg, "message", str(std::string(501, 'm'))), bad_message,
      "message_501");
  add_huge("update_message", msg, "message", 'm', bad_message, "message_huge");

  add("set_role", boost::json::parse(msg), bad_role, "role_missing");
  add("set_role", with(msg, "role", nullptr), bad_role, "role_null");
  add("set_role", with(msg, "role", "admin"), bad_role, "role_unknown");
  add("set_role", with(msg, "role", 0), bad_role, "role_number");

  add("set_tempo", boost::json::parse(msg), bad_tempo, "tempo_missing");
  for (auto [label, v] : std::vector<std::pair<std::string, boost::json::value>>{
           {"null", nullptr},
           {"string", "120"},
           {"string_nan", "NaN"},
           {"bool", true},
           {"array", boost::json::array{120}},
           {"too_low", 19.99},
           {"too_high", 300.01},
           {"negative", -1},
           {"zero", 0},
           {"huge", 1e308},
           {"huge_uint", std::numeric_limits<uint64_t>::max()},
           {"nan", nan},
           {"inf", inf},
           {"neg_inf", -inf},
       }) {
    add("set_tempo", with(msg, "tempo", v), bad_tempo, "tempo_" + label);
  }

  add("seek", boost::json::parse(msg), bad_position, "position_missing");
  for (auto [label, v] : std::vector<std::pair<std::string, boost::json::value>>{
           {"null", nullptr},
           {"string", "0"},
           {"string_inf", "Infinity"},
           {"negative", -1},
           {"slightly_negative", -0.001},
           {"too_large", 86400000.5},
           {"min_int", std::numeric_limits<int64_t>::min()},
           {"huge", 1e300},
           {"nan", nan},
           {"inf", inf},
           {"object", boost::json::object{}},
       }) {
    add("seek", with(msg, "position", v), bad_position, "position_" + label);
  }

  for (const std::string event : {"latency_probe", "heartbeat_response"}) {
    add(event, std::nullopt, bad_payload, "no_args");
    add(event, boost::json::value(123), bad_payload, "number");
    add(event, boost::json::value("{}"), bad_payload, "string");
    add(event, boost::json::parse("{}"), bad_timestamp, "ts_missing");
    add(event, boost::json::parse(R"({"timestamp":null})"), bad_timestamp, "ts_null");
    add(event, boost::json::parse(R"({"timestamp":"1795627303502"})"), bad_timestamp, "ts_string");
    add(event, boost::json::parse(R"({"timestamp":{}})"), bad_timestamp, "ts_object");
    add(event, boost::json::parse(R"({"timestamp":true})"), bad_timestamp, "ts_bool");
    add(event, boost::json::object{{"timestamp", nan}}, bad_timestamp, "ts_nan");
    add(event, boost::json::object{{"timestamp", inf}}, bad_timestamp, "ts_inf");
  }
  add("latency_probe", boost::json::parse(R"({"timestamp":1,"sessionId":5})"), bad_session_id,
      "id_number");
  add("latency_probe", boost::json::parse(R"({"timestamp":1,"sessionId":"a b"})"), bad_session_id,
      "id_space");
  return rows;
}

class MalformedPayload : public service_test, public ::testing::WithParamInterface<malformed> {
 protected:
  MalformedPayload() {
    join("lead", "band", "Keys");
    join("f", "band", "Bass");
    connect("loner");
    send("lead", "play", R"({"sessionId":"band"})");
    clock_.advance_ms(1234);
    out_.clear();
  }

  // Everything a rejected event could have changed.
  std::string fingerprint() {
    std::string s;
    for (const char* id : {"band", "other"}) {
      if (const auto* sess = svc().find_session(id)) {
        s += boost::json::serialize(domain::payloads::snapshot(*sess, clock_, clock_.steady_us()));
      }
      if (auto rec = store_.find_session(id)) s += boost::json::serialize(store::to_json(*rec));
      s += store_.is_ticking(id) ? "T" : "-";
    }
    for (const char* conn : {"lead", "f", "loner"}) {
      const auto* c = svc().find_connection(conn);
      s += c && c->session_id ? *c->session_id : "none";
      s += c && c->latency_ms ? std::to_string(*c->latency_ms) : "unmeasured";
      if (auto m = store_.find_member(conn)) {
        s += boost::json::serialize(store::member_entry_to_json(m->session_id, m->member));
      }
    }
    s += std::to_string(store_.session_count()) + "/" + std::to_string(store_.member_count());
    return s;
  }
};

TEST_P(MalformedPayload, IsRejectedNamingTheFieldAndChangesNothing) {
  const auto& row = GetParam();
  for (const char* sender : {"lead", "loner"}) {
    SCOPED_TRACE(sender);
    out_.clear();
    auto before = fingerprint();
    boost::json::array a;
    if (row.payload) a.push_back(row.argument());
    svc().on_event(sender, row.event, a);
    expect_only_error(sender, "INVALID_PAYLOAD", row.message);
    EXPECT_EQ(fingerprint(), before);
  }
  EXPECT_EQ(svc().metrics().errors_by_code.at("INVALID_PAYLOAD"), 2u);
}

INSTANTIATE_TEST_SUITE_P(EveryEvent, MalformedPayload, ::testing::ValuesIn(table()),
                         [](const ::testing::TestParamInfo<malformed>& info) {
                           return info.param.event + "_" + info.param.label;
                         });

// The limits themselves are accepted.
class Boundaries : public service_test {};

TEST_F(Boundaries, LimitValuesAreAccepted) {
  std::string id64 = "AZaz09_.-" + std::string(55, 'x');
  ASSERT_EQ(id64.size(), 64u);
  std::string name64;
  for (int i = 0; i < 64; ++i) name64 += "\xC3\xA9";
  connect("a");
  send("a", "join_session",
       boost::json::value({{"sessionId", str(id64)}, {"displayName", str(name64)}}));
  ASSERT_TRUE(svc().find_session(id64));
  EXPECT_EQ(svc().find_session(id64)->members()[0].display_name, name64);
  auto ok = [&](std::string_view event, boost::json::object p) {
    out_.clear();
    p["sessionId"] = str(id64);
    send("a", event, p);
    EXPECT_TRUE(out_.named("error").empty()) << event << " " << boost::json::serialize(p);
  };
  ok("update_message", {{"message", str(std::string(500, 'm'))}});
  ok("update_message", {{"message", ""}});
  ok("set_tempo", {{"tempo", 20}});
  ok("set_tempo", {{"tempo", 300}});
  ok("set_tempo", {{"tempo", 300.0}});
  ok("set_tempo", {{"tempo", uint64_t{120}}});
  ok("seek", {{"position", 0}});
  ok("seek", {{"position", 86400000}});
  ok("seek", {{"position", -0.0}});
  ok("join_session", {{"displayName", nullptr}, {"role", nullptr}});
  out_.clear();
  send("a", "latency_probe", R"({"timestamp":1,"sessionId":""})");
  send("a", "latency_probe", R"({"timestamp":1,"sessionId":null})");
  send("a", "latency_probe", R"({"timestamp":1.5,"sessionId":"any-valid.id"})");
  send("a", "heartbeat_response", R"({"timestamp":-5})");
  EXPECT_TRUE(out_.named("error").empty());
  // Extra arguments and unknown fields are ignored.
  out_.clear();
  boost::json::array two{boost::json::object{{"sessionId", str(id64)}}, 42};
  svc().on_event("a", "sync_request", two);
  EXPECT_EQ(out_.trace(), (strings{"to:a sync_response"}));
}

class Authorization : public service_test {
 protected:
  Authorization() {
    join("lead", "band", "Keys");
    join("f", "band", "Bass");
    join("x", "elsewhere", "X");
    connect("loner");
  }
};

TEST_F(Authorization, NoSuchSession) {
  for (const char* event : {"leave_session", "play", "pause", "stop", "sync_request"}) {
    for (const char* sender : {"lead", "loner"}) {
      out_.clear();
      send(sender, event, R"({"sessionId":"nope"})");
      expect_only_error(sender, "NO_SUCH_SESSION", "Session nope does not exist");
    }
  }
  out_.clear();
  send("lead", "update_message", R"({"sessionId":"nope","message":"m"})");
  expect_only_error("lead", "NO_SUCH_SESSION");
  out_.clear();
  send("lead", "set_role", R"({"sessionId":"nope","role":"leader"})");
  expect_only_error("lead", "NO_SUCH_SESSION");
  out_.clear();
  send("lead", "set_tempo", R"({"sessionId":"nope","tempo":100})");
  expect_only_error("lead", "NO_SUCH_SESSION");
  out_.clear();
  send("lead", "seek", R"({"sessionId":"nope","position":1})");
  expect_only_error("lead", "NO_SUCH_SESSION");
  EXPECT_FALSE(svc().find_session("nope"));
}

TEST_F(Authorization, NotAMember) {
  const std::vector<std::pair<std::string, std::string>> events = {
      {"leave_session", R"({"sessionId":"band"})"},
      {"update_message", R"({"sessionId":"band","message":"pwned"})"},
      {"set_role", R"({"sessionId":"band","role":"leader"})"},
      {"sync_request", R"({"sessionId":"band"})"},
      {"set_tempo", R"({"sessionId":"band","tempo":99})"},
      {"play", R"({"sessionId":"band"})"},
      {"pause", R"({"sessionId":"band"})"},
      {"stop", R"({"sessionId":"band"})"},
      {"seek", R"({"sessionId":"band","position":1})"},
  };
  for (const auto& [event, payload] : events) {
    // A connection in no session, and a member of another session.
    for (const char* sender : {"loner", "x"}) {
      SCOPED_TRACE(event + " from " + sender);
      out_.clear();
      send(sender, event, payload);
      expect_only_error(sender, "NOT_A_MEMBER", "Not a member of session band");
    }
  }
  const auto& s = session("band");
  EXPECT_EQ(s.leader(), "lead");
  EXPECT_EQ(s.message(), "Keys is leading");
  EXPECT_EQ(s.tempo(clock_.steady_us()), 120);
  EXPECT_FALSE(s.playing());
  EXPECT_EQ(session("elsewhere").member_count(), 1u);
  EXPECT_EQ(svc().metrics().errors_by_code.at("NOT_A_MEMBER"), 18u);
}

TEST_F(Authorization, ServerBusyWhenEverySessionHasMembers) {
  make_service({.max_sessions = 2});
  join("a", "one", "A");
  join("b", "two", "B");
  connect("c");
  send("c", "join_session", R"({"sessionId":"three"})");
  expect_only_error("c", "SERVER_BUSY", "Server at capacity (2 sessions)");
  EXPECT_FALSE(svc().find_session("three"));
  // Joining an existing session is still possible.
  out_.clear();
  send("c", "join_session", R"({"sessionId":"one"})");
  EXPECT_TRUE(out_.named("error").empty());
}

TEST_F(Authorization, FullTableEvictsTheLeastRecentlyActiveEmptySession) {
  make_service({.max_sessions = 3});
  join("a", "one", "A");
  clock_.advance_ms(10);
  join("b", "two", "B");
  clock_.advance_ms(10);
  join("c", "three", "C");
  clock_.advance_ms(10);
  use("a", "one");
  use("b", "two");
  svc().on_disconnect("b");  // "two" empty since t+30
  clock_.advance_ms(10);
  svc().on_disconnect("a");  // "one" empty since t+40
  join("d", "four", "D");
  EXPECT_FALSE(svc().find_session("two"));
  EXPECT_FALSE(store_.find_session("two"));
  EXPECT_TRUE(svc().find_session("one"));
  EXPECT_TRUE(svc().find_session("four"));
  EXPECT_EQ(svc().session_stats().at("totalSessions"), 3);
}

TEST_F(Authorization, ErrorCountersCoverEveryCode) {
  auto m = svc().metrics();
  EXPECT_EQ(m.errors_by_code.size(), 13u);
  for (const char* code :
       {"INVALID_PAYLOAD", "NOT_LEADER", "NOT_A_MEMBER", "NO_SUCH_SESSION", "SESSION_FULL",
        "SERVER_BUSY", "SCHEDULE_FULL", "RATE_LIMITED", "SETLIST_FULL", "NO_SUCH_SONG",
        "SONG_ID_TAKEN", "END_OF_SETLIST", "NO_SUCH_SECTION"}) {
    EXPECT_EQ(m.errors_by_code.count(code), 1u) << code;
  }
}

}  // namespace
}  // namespace bandsync::testing
