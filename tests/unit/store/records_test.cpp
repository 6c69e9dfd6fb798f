// The Redis layout of EVENTS.md: member and session records to and from JSON,
// including the old Node server's values (different key order).

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "store/member_record.hpp"
#include "store/session_record.hpp"

namespace bandsync::store {
namespace {

// Verbatim from EVENTS.md "Redis layout".
constexpr const char* example_session =
    R"({"message":"Keys is leading","tempo":96,"position":42000,"isPlaying":false,
 "leaderSocketId":"sFi9k8dNrOz4Mq6PAAAA","tempoBpm":96,
 "members":[["sFi9k8dNrOz4Mq6PAAAA",{"socketId":"sFi9k8dNrOz4Mq6PAAAA","joinedAt":1795627303700,
              "lastPingAt":1795627303700,"role":"leader","displayName":"Keys"}],
            ["mo9bofWGLEl0vh2DAAAB",{"socketId":"mo9bofWGLEl0vh2DAAAB","joinedAt":1795627304107,
              "lastPingAt":1795627304107,"role":"follower","displayName":"Bass"}]],
 "createdAt":1795627303502,"lastActiveAt":1795627304714,"settings":{"maxMembers":8}})";

constexpr const char* example_member =
    R"({"sessionId":"example-band","socketId":"mo9bofWGLEl0vh2DAAAB","joinedAt":1795627304107,
 "lastPingAt":1795627304107,"role":"follower","displayName":"Bass"})";

session_record example_record() {
  session_record s;
  s.id = "example-band";
  s.message = "Keys is leading";
  s.tempo = 96;
  s.position_ms = 42000;
  s.is_playing = false;
  s.leader_socket_id = "sFi9k8dNrOz4Mq6PAAAA";
  s.members = {
      {"sFi9k8dNrOz4Mq6PAAAA", "Keys", member_role::leader, 1795627303700, 1795627303700},
      {"mo9bofWGLEl0vh2DAAAB", "Bass", member_role::follower, 1795627304107, 1795627304107},
  };
  s.created_at = 1795627303502;
  s.last_active_at = 1795627304714;
  s.max_members = 8;
  return s;
}

TEST(SessionRecord, LoadsTheEventsMdExample) {
  std::string error;
  auto s = session_from_json("example-band", boost::json::parse(example_session), &error);
  ASSERT_TRUE(s) << error;
  EXPECT_EQ(*s, example_record());
}

TEST(SessionRecord, WritesTheRedisLayout) {
  auto o = to_json(example_record());
  // Same JSON value as the example, whatever the key order.
  EXPECT_EQ(boost::json::value(o), boost::json::parse(example_session));
  EXPECT_EQ(boost::json::serialize(o["tempo"]), "96");
  EXPECT_FALSE(o.contains("id"));
  EXPECT_FALSE(o.contains("sessionId"));
}

TEST(SessionRecord, RoundTripsThroughText) {
  auto record = example_record();
  record.tempo = 96.5;
  record.position_ms = 1234.567;
  record.is_playing = true;
  auto text = boost::json::serialize(to_json(record));
  auto back = session_from_json(record.id, boost::json::parse(text));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, record);
}

TEST(SessionRecord, NullLeaderAndNoMembers) {
  session_record s;
  s.id = "empty";
  s.message = "Waiting for members\u2026";
  auto o = to_json(s);
  EXPECT_TRUE(o["leaderSocketId"].is_null());
  EXPECT_TRUE(o["members"].as_array().empty());
  auto back = session_from_json("empty", o);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, s);
}

TEST(SessionRecord, MissingFieldsTakeDefaultsAndUnknownKeysAreIgnored) {
  auto s = session_from_json("x", boost::json::parse(R"({"tempo":100,"extra":{"a":[1,2]}})"));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->tempo, 100);
  EXPECT_EQ(s->message, "");
  EXPECT_EQ(s->position_ms, 0);
  EXPECT_FALSE(s->is_playing);
  EXPECT_FALSE(s->leader_socket_id);
  EXPECT_TRUE(s->members.empty());
  EXPECT_EQ(s->max_members, 8);
}

TEST(SessionRecord, TempoBpmWinsOverTempo) {
  auto s = session_from_json("x", boost::json::parse(R"({"tempoBpm":140,"tempo":100})"));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->tempo, 140);
}

TEST(SessionRecord, AcceptsMembersAsPlainObjects) {
  auto s = session_from_json(
      "x", boost::json::parse(R"({"members":[{"socketId":"a","role":"leader","joinedAt":5},
                                              ["b",{"displayName":"B"}]]})"));
  ASSERT_TRUE(s);
  ASSERT_EQ(s->members.size(), 2u);
  EXPECT_EQ(s->members[0].socket_id, "a");
  EXPECT_EQ(s->members[0].role, member_role::leader);
  EXPECT_EQ(s->members[0].joined_at, 5);
  // The pair's key stands in for a missing socketId.
  EXPECT_EQ(s->members[1].socket_id, "b");
  EXPECT_EQ(s->members[1].display_name, "B");
  EXPECT_EQ(s->members[1].role, member_role::follower);
}

TEST(SessionRecord, RejectsWrongTypesWithAReason) {
  struct row {
    const char* json;
    const char* reason;
  };
  const row rows[] = {
      {R"([])", "session must be an object"},
      {R"("text")", "session must be an object"},
      {R"({"message":5})", "message must be a string"},
      {R"({"tempo":"fast"})", "tempo must be a number"},
      {R"({"position":[1]})", "position must be a number"},
      {R"({"isPlaying":"yes"})", "isPlaying must be a boolean"},
      {R"({"leaderSocketId":7})", "leaderSocketId must be a string or null"},
      {R"({"createdAt":"now"})", "createdAt must be a number"},
      {R"({"settings":8})", "settings must be an object"},
      {R"({"settings":{"maxMembers":"8"}})", "settings.maxMembers must be a number"},
      {R"({"members":{}})", "members must be an array"},
      {R"({"members":[["a"]]})", "members must hold [socketId, member] pairs"},
      {R"({"members":[[1,{}]]})", "members must hold [socketId, member] pairs"},
      {R"({"members":[["a",5]]})", "members: member must be an object"},
      {R"({"members":[{"displayName":"x"}]})", "members: socketId is missing"},
      {R"({"members":[["a",{"joinedAt":"x"}]]})", "members: joinedAt must be a number"},
  };
  for (const auto& r : rows) {
    std::string error;
    EXPECT_FALSE(session_from_json("x", boost::json::parse(r.json), &error)) << r.json;
    EXPECT_EQ(error, r.reason) << r.json;
    // A null error pointer is allowed.
    EXPECT_FALSE(session_from_json("x", boost::json::parse(r.json)));
  }
}

TEST(MemberRecord, ToJsonHasTheContractFields) {
  member_record m{"sock", "Keys", member_role::leader, 10, 20};
  auto o = to_json(m);
  EXPECT_EQ(boost::json::value(o), boost::json::parse(R"({"socketId":"sock","displayName":"Keys",
                                                          "role":"leader","joinedAt":10,"lastPingAt":20})"));
}

TEST(MemberRecord, EntryRoundTripAndEventsMdExample) {
  std::string error;
  auto e = member_entry_from_json(boost::json::parse(example_member), &error);
  ASSERT_TRUE(e) << error;
  EXPECT_EQ(e->session_id, "example-band");
  EXPECT_EQ(e->member, (member_record{"mo9bofWGLEl0vh2DAAAB", "Bass", member_role::follower,
                                      1795627304107, 1795627304107}));
  EXPECT_EQ(boost::json::value(member_entry_to_json(e->session_id, e->member)),
            boost::json::parse(example_member));
}

TEST(MemberRecord, EntryRejectsMissingSessionId) {
  std::string error;
  EXPECT_FALSE(member_entry_from_json(boost::json::parse(R"({"socketId":"a"})"), &error));
  EXPECT_EQ(error, "sessionId must be a string");
  EXPECT_FALSE(member_entry_from_json(boost::json::parse("3"), &error));
  EXPECT_EQ(error, "member entry must be an object");
}

TEST(MemberRecord, UnknownRoleReadsAsFollower) {
  auto m = member_from_json(boost::json::parse(R"({"socketId":"a","role":"drummer"})"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->role, member_role::follower);
  EXPECT_EQ(parse_role("leader"), member_role::leader);
  EXPECT_EQ(parse_role("follower"), member_role::follower);
  EXPECT_FALSE(parse_role("Leader"));
  EXPECT_FALSE(parse_role(""));
}

}  // namespace
}  // namespace bandsync::store
