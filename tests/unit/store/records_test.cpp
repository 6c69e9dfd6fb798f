// The Redis layout of EVENTS.md: member and session records to and from JSON,
// including the old Node server's values (different key order).

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "store/member_record.hpp"
#include "store/session_record.hpp"
#include "store/setlist_record.hpp"

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
  // Every field the old server wrote, with the same value, whatever the key
  // order; BandSync's additions are the only other keys.
  const auto old = boost::json::parse(example_session).as_object();
  for (const auto& kv : old) {
    ASSERT_TRUE(o.contains(kv.key())) << kv.key();
    EXPECT_EQ(o.at(kv.key()), kv.value()) << kv.key();
  }
  EXPECT_EQ(o.size(), old.size() + 2);
  EXPECT_EQ(o.at("beatsPerBar"), 4);
  EXPECT_TRUE(o.at("currentSongId").is_null());
  EXPECT_EQ(boost::json::serialize(o["tempo"]), "96");
  EXPECT_FALSE(o.contains("id"));
  EXPECT_FALSE(o.contains("sessionId"));
}

TEST(SessionRecord, TheOldServersValueLoadsWithoutTheAdditions) {
  auto s = session_from_json("example-band", boost::json::parse(example_session));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->beats_per_bar, 4);
  EXPECT_FALSE(s->current_song_id);
  EXPECT_TRUE(s->setlist.empty());
}

TEST(SessionRecord, AdditionsRoundTripButTheSongsStayOut) {
  auto record = example_record();
  record.beats_per_bar = 3;
  record.current_song_id = "s2";
  record.setlist = {song_record{"s2", "Waltz", 90, 3, "D", "[Verse]"}};
  auto o = to_json(record);
  EXPECT_EQ(o.at("beatsPerBar"), 3);
  EXPECT_EQ(o.at("currentSongId"), "s2");
  EXPECT_FALSE(o.contains("setlist"));
  EXPECT_FALSE(o.contains("songs"));
  auto back = session_from_json(record.id, boost::json::parse(boost::json::serialize(o)));
  ASSERT_TRUE(back);
  record.setlist.clear();
  EXPECT_EQ(*back, record);
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
      {R"({"beatsPerBar":"3"})", "beatsPerBar must be a number"},
      {R"({"currentSongId":5})", "currentSongId must be a string or null"},
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

TEST(SetlistRecord, RoundTripsAndLeavesOutAbsentOptionals) {
  std::vector<song_record> songs = {
      {"intro", "Intro Jam", 96.5, 4, std::nullopt, std::nullopt},
      {"s2", "Waltz \u00e9", 90, 3, "F#m", "[Verse]\n[C]la [G]la\n[Chorus] @17"},
  };
  auto o = setlist_to_json(songs);
  const auto& first = o.at("songs").as_array()[0].as_object();
  EXPECT_EQ(first.size(), 4u);  // id, title, tempo, beatsPerBar
  EXPECT_FALSE(first.contains("key"));
  EXPECT_FALSE(first.contains("chart"));
  std::string error;
  auto back = setlist_from_json(boost::json::parse(boost::json::serialize(o)), &error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(*back, songs);
}

TEST(SetlistRecord, DefaultsAndIgnoredKeys) {
  auto back = setlist_from_json(boost::json::parse(
      R"({"songs":[{"id":"a","title":"A","key":null,"sections":[{"name":"x","line":0}]}],"v":2})"));
  ASSERT_TRUE(back);
  ASSERT_EQ(back->size(), 1u);
  EXPECT_EQ((*back)[0], (song_record{"a", "A", 120, 4, std::nullopt, std::nullopt}));
}

TEST(SetlistRecord, RejectsWrongTypesWithAReason) {
  struct row {
    const char* json;
    const char* reason;
  };
  const row rows[] = {
      {R"([])", "setlist must be an object with a songs array"},
      {R"({"songs":{}})", "setlist must be an object with a songs array"},
      {R"({"songs":[5]})", "songs: song must be an object"},
      {R"({"songs":[{"title":"A"}]})", "songs: song id must be a string"},
      {R"({"songs":[{"id":"a"}]})", "songs: song title must be a string"},
      {R"({"songs":[{"id":"a","title":"A","tempo":"x"}]})", "songs: song tempo must be a number"},
      {R"({"songs":[{"id":"a","title":"A","beatsPerBar":-1}]})",
       "songs: song beatsPerBar must be a whole number"},
      {R"({"songs":[{"id":"a","title":"A","key":1}]})", "songs: key must be a string"},
      {R"({"songs":[{"id":"a","title":"A","chart":[]}]})", "songs: chart must be a string"},
  };
  for (const auto& r : rows) {
    std::string error;
    EXPECT_FALSE(setlist_from_json(boost::json::parse(r.json), &error)) << r.json;
    EXPECT_EQ(error, r.reason) << r.json;
    EXPECT_FALSE(setlist_from_json(boost::json::parse(r.json)));
  }
}

}  // namespace
}  // namespace bandsync::store
