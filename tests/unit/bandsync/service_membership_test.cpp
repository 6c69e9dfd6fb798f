// join_session, leave_session, disconnects, leader election and set_role
// (EVENTS.md "Client -> server" and "Leaving, disconnects and leader election").

#include "service_fixture.hpp"

namespace bandsync::testing {
namespace {

using strings = std::vector<std::string>;

class Membership : public service_test {};

TEST_F(Membership, FirstJoinCreatesTheSessionWithDefaultsAndLeads) {
  connect("sFi9k8dNrOz4Mq6PAAAA");
  send("sFi9k8dNrOz4Mq6PAAAA", "join_session", R"({"sessionId":"band"})");
  EXPECT_EQ(out_.trace(), (strings{"to:sFi9k8dNrOz4Mq6PAAAA snapshot", "session:band room_stats",
                                   "session:band user_joined"}));
  // join_room precedes every emit to the session, so the joiner receives them.
  EXPECT_EQ(out_.log[0].how, sent::kind::join);
  EXPECT_EQ(out_.log[0].event, "band");

  const auto& snap = out_.named("snapshot")[0]->obj();
  EXPECT_EQ(snap.at("sessionId"), "band");
  EXPECT_EQ(snap.at("message"), "User AAAA is leading");
  EXPECT_EQ(snap.at("tempo"), 120.0);
  EXPECT_EQ(snap.at("tempoBpm"), 120.0);
  EXPECT_EQ(snap.at("position"), 0.0);
  EXPECT_EQ(snap.at("isPlaying"), false);
  EXPECT_EQ(snap.at("leaderSocketId"), "sFi9k8dNrOz4Mq6PAAAA");
  EXPECT_EQ(snap.at("createdAt"), clock_.wall_ms());
  EXPECT_EQ(snap.at("lastActiveAt"), clock_.wall_ms());
  EXPECT_EQ(snap.at("settings"), boost::json::parse(R"({"maxMembers":8})"));
  // Server time, a double on the wire (docs/EVENTS.md "Clock").
  EXPECT_EQ(snap.at("serverTimestamp"), clock_.server_time_ms());
  ASSERT_EQ(snap.at("members").as_array().size(), 1u);
  EXPECT_EQ(snap.at("members").as_array()[0],
            boost::json::value({{"socketId", "sFi9k8dNrOz4Mq6PAAAA"},
                                {"displayName", "User AAAA"},
                                {"role", "leader"},
                                {"joinedAt", clock_.wall_ms()},
                                {"lastPingAt", clock_.wall_ms()},
                                {"link", nullptr},
                                {"connected", true},
                                {"heldUntil", nullptr}}));
  EXPECT_EQ(snap.at("beatsPerBar"), 4);
  EXPECT_EQ(snap.at("beat"), 0.0);
  EXPECT_EQ(snap.at("bar"), 0.0);
  EXPECT_EQ(snap.at("startsAt"), nullptr);
  EXPECT_EQ(snap.at("effectiveAt"), nullptr);
  // and an empty setlist without a current song.
  EXPECT_EQ(snap.at("setlist"), boost::json::array());
  EXPECT_TRUE(snap.at("currentSongId").is_null());
  EXPECT_EQ(snap.size(), 19u);

  const auto& stats = out_.named("room_stats")[0]->obj();
  EXPECT_EQ(boost::json::value(stats), boost::json::value({{"sessionId", "band"},
                                                           {"memberCount", 1},
                                                           {"connectedCount", 1},
                                                           {"isPlaying", false},
                                                           {"tempo", 120.0},
                                                           {"position", 0.0},
                                                           {"leader", "sFi9k8dNrOz4Mq6PAAAA"},
                                                           {"uptime", 0},
                                                           {"lastActiveAt", clock_.wall_ms()}}));
  const auto& joined = out_.named("user_joined")[0]->obj();
  EXPECT_EQ(joined.at("member"), snap.at("members").as_array()[0]);
  EXPECT_EQ(joined.at("memberCount"), 1);

  // Written through to the store.
  auto rec = store_.find_session("band");
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->leader_socket_id, "sFi9k8dNrOz4Mq6PAAAA");
  EXPECT_EQ(rec->members.size(), 1u);
  EXPECT_EQ(store_.find_member("sFi9k8dNrOz4Mq6PAAAA")->session_id, "band");
}

TEST_F(Membership, InitialMessageUsesTheUnicodeEllipsis) {
  // A session whose only member left keeps its message; a fresh one, before
  // the first member is added, starts from the contract's text.
  domain::session fresh("x", 0, 8);
  EXPECT_EQ(fresh.message(), "Waiting for members\xE2\x80\xA6");
}

TEST_F(Membership, SecondJoinerFollows) {
  join("a", "band", "Keys");
  clock_.advance_ms(250);
  connect("b");
  send("b", "join_session", R"({"sessionId":"band","displayName":"Bass"})");
  EXPECT_EQ(out_.trace(),
            (strings{"to:b snapshot", "session:band room_stats", "session:band user_joined"}));
  const auto& s = session("band");
  EXPECT_EQ(s.leader(), "a");
  EXPECT_EQ(s.message(), "Keys is leading");
  ASSERT_EQ(s.member_count(), 2u);
  EXPECT_EQ(s.members()[1].display_name, "Bass");
  EXPECT_EQ(s.members()[1].role, store::member_role::follower);
  EXPECT_EQ(out_.last("user_joined")->obj().at("memberCount"), 2);
  EXPECT_EQ(out_.last("room_stats")->obj().at("uptime"), 250);
}

TEST_F(Membership, CapacityErrorAndNothingElse) {
  for (int i = 0; i < 8; ++i) join("m" + std::to_string(i), "band", "M" + std::to_string(i));
  connect("late");
  auto before = store_.find_session("band");
  send("late", "join_session", R"({"sessionId":"band","displayName":"Late","role":"leader"})");
  expect_only_error("late", "SESSION_FULL", "Session at capacity (8 members)");
  EXPECT_EQ(session("band").member_count(), 8u);
  EXPECT_EQ(session("band").leader(), "m0");
  EXPECT_EQ(store_.find_session("band"), before);
  EXPECT_FALSE(svc().find_connection("late")->session_id);
}

TEST_F(Membership, CapacityFollowsTheOption) {
  make_service({.max_members = 2});
  join("a", "band", "A");
  join("b", "band", "B");
  connect("c");
  send("c", "join_session", R"({"sessionId":"band"})");
  expect_only_error("c", "SESSION_FULL", "Session at capacity (2 members)");
}

TEST_F(Membership, JoiningAsLeaderTakesOverAndDemotes) {
  join("a", "band", "Keys");
  join("b", "band", "Bass");
  connect("c");
  send("c", "join_session", R"({"sessionId":"band","displayName":"Drums","role":"leader"})");
  EXPECT_EQ(out_.trace(), (strings{"to:c snapshot", "session:band role_changed",
                                   "session:band room_stats", "session:band user_joined"}));
  const auto& rc = out_.last("role_changed")->obj();
  EXPECT_EQ(boost::json::value(rc), boost::json::value({{"socketId", "c"},
                                                        {"role", "leader"},
                                                        {"previousLeader", "a"},
                                                        {"timestamp", clock_.wall_ms()}}));
  const auto& s = session("band");
  EXPECT_EQ(s.leader(), "c");
  EXPECT_EQ(s.message(), "Drums is leading");
  // The old server left the previous leader marked "leader"; here exactly one leads.
  EXPECT_EQ(s.find_member("a")->role, store::member_role::follower);
  EXPECT_EQ(s.find_member("c")->role, store::member_role::leader);
  EXPECT_EQ(out_.last("user_joined")->obj().at("member").at("role"), "leader");
  EXPECT_EQ(store_.find_member("a")->member.role, store::member_role::follower);
  EXPECT_EQ(store_.find_member("c")->member.role, store::member_role::leader);
  EXPECT_EQ(store_.find_session("band")->leader_socket_id, "c");
}

TEST_F(Membership, FirstJoinerWithLeaderRoleSendsNoRoleChanged) {
  connect("a");
  send("a", "join_session", R"({"sessionId":"band","role":"leader"})");
  EXPECT_TRUE(out_.named("role_changed").empty());
  EXPECT_EQ(session("band").leader(), "a");
}

TEST_F(Membership, JoiningAnotherSessionLeavesTheFirst) {
  join("a", "one", "Keys");
  join("b", "one", "Bass");
  connect("c");
  send("c", "join_session", R"({"sessionId":"two"})");
  out_.clear();
  send("a", "join_session", R"({"sessionId":"two","displayName":"Keys"})");
  // Leaving "one" (as leave_session: the leader left, so an election), then joining "two".
  EXPECT_EQ(out_.trace(),
            (strings{"session:one role_changed", "session:one snapshot", "session:one room_stats",
                     "session:one user_left", "to:a snapshot", "session:two room_stats",
                     "session:two user_joined"}));
  EXPECT_EQ(out_.log[0].how, sent::kind::leave);
  EXPECT_EQ(out_.log[0].event, "one");
  EXPECT_EQ(session("one").member_count(), 1u);
  EXPECT_EQ(session("one").leader(), "b");
  EXPECT_EQ(session("two").member_count(), 2u);
  EXPECT_EQ(svc().find_connection("a")->session_id, "two");
  EXPECT_EQ(store_.find_member("a")->session_id, "two");
}

TEST_F(Membership, RefusedJoinDoesNotLeaveTheCurrentSession) {
  make_service({.max_members = 1});
  join("a", "one", "A");
  join("b", "two", "B");
  send("a", "join_session", R"({"sessionId":"two"})");
  expect_only_error("a", "SESSION_FULL");
  EXPECT_EQ(svc().find_connection("a")->session_id, "one");
  EXPECT_EQ(session("one").leader(), "a");
}

TEST_F(Membership, RejoinIsAnUpdateNotADuplicate) {
  join("a", "band", "Keys");
  join("b", "band", "Bass");
  send("b", "join_session", R"({"sessionId":"band"})");
  // Nothing changed: only the sender gets a snapshot.
  EXPECT_EQ(out_.trace(), (strings{"to:b snapshot"}));
  EXPECT_EQ(session("band").member_count(), 2u);
  out_.clear();
  send("b", "join_session", R"({"sessionId":"band","displayName":"Bass 2","role":"leader"})");
  EXPECT_EQ(out_.trace(), (strings{"session:band role_changed", "session:band snapshot"}));
  EXPECT_EQ(session("band").member_count(), 2u);
  EXPECT_EQ(session("band").leader(), "b");
  EXPECT_EQ(session("band").find_member("b")->display_name, "Bass 2");
  EXPECT_EQ(session("band").find_member("a")->role, store::member_role::follower);
  EXPECT_EQ(store_.find_member("b")->member.display_name, "Bass 2");
}

TEST_F(Membership, DefaultDisplayNameUsesTheLastFourCharacters) {
  join("mo9bofWGLEl0vh2DAAAB", "band", "");
  EXPECT_EQ(session("band").members()[0].display_name, "User AAAB");
  join("xy", "band", "   ");
  EXPECT_EQ(session("band").members()[1].display_name, "User xy");
  join("q", "band", "  Keys  ");
  EXPECT_EQ(session("band").members()[2].display_name, "Keys");
}

TEST_F(Membership, FollowerLeaving) {
  join("a", "band", "Keys");
  join("b", "band", "Bass");
  join("c", "band", "Drums");
  send("b", "leave_session", R"({"sessionId":"band"})");
  EXPECT_EQ(out_.trace(), (strings{"session:band room_stats", "session:band user_left"}));
  EXPECT_EQ(out_.log[0].how, sent::kind::leave);
  EXPECT_EQ(boost::json::value(out_.last("user_left")->obj()),
            boost::json::value({{"socketId", "b"}, {"memberCount", 2}, {"newLeader", nullptr}}));
  EXPECT_EQ(out_.last("room_stats")->obj().at("memberCount"), 2);
  EXPECT_EQ(session("band").leader(), "a");
  EXPECT_FALSE(svc().find_connection("b")->session_id);
  EXPECT_FALSE(store_.find_member("b"));
  EXPECT_EQ(store_.find_session("band")->members.size(), 2u);
}

TEST_F(Membership, LeaderDisconnectElectsAndPausesInOrder) {
  join("a", "band", "Keys");
  clock_.advance_ms(10);
  join("b", "band", "Bass");
  clock_.advance_ms(10);
  join("c", "band", "Drums");
  send("a", "play", R"({"sessionId":"band"})");
  clock_.advance_us(3'456'789);
  out_.clear();

  svc().on_disconnect("a");
  EXPECT_EQ(out_.trace(), (strings{"session:band role_changed", "session:band snapshot",
                                   "session:band room_stats", "session:band user_left"}));
  EXPECT_EQ(boost::json::value(out_.last("role_changed")->obj()),
            boost::json::value({{"socketId", "b"},
                                {"role", "leader"},
                                {"previousRole", "follower"},
                                {"reason", "leader_disconnected"},
                                {"timestamp", clock_.wall_ms()}}));
  const auto& snap = out_.last("snapshot")->obj();
  EXPECT_EQ(snap.at("isPlaying"), false);
  EXPECT_EQ(snap.at("position"), 3456.789);  // frozen at the exact derived position
  EXPECT_EQ(snap.at("message"), "Bass is now leading");
  EXPECT_EQ(snap.at("leaderSocketId"), "b");
  EXPECT_EQ(snap.at("members").as_array().size(), 2u);
  EXPECT_EQ(snap.at("members").as_array()[0].at("role"), "leader");
  EXPECT_EQ(boost::json::value(out_.last("user_left")->obj()),
            boost::json::value({{"socketId", "a"}, {"memberCount", 2}, {"newLeader", "b"}}));

  // The pause holds: time passes, the position does not move, no ticks.
  clock_.advance_ms(5000);
  out_.clear();
  svc().tick_due();
  EXPECT_TRUE(out_.log.empty());
  EXPECT_EQ(session("band").position_us(clock_.steady_us()), 3'456'789);
  EXPECT_FALSE(store_.is_ticking("band"));
  EXPECT_FALSE(svc().find_connection("a"));
  EXPECT_EQ(store_.find_member("b")->member.role, store::member_role::leader);
  EXPECT_FALSE(store_.find_session("band")->is_playing);
}

TEST_F(Membership, ElectionPicksEarliestJoinedAtThenJoinOrder) {
  join("a", "band", "A");
  clock_.advance_ms(5);
  join("b", "band", "B");
  // Same millisecond: c joined after b, so b wins the tie.
  join("c", "band", "C");
  svc().on_disconnect("a");
  EXPECT_EQ(session("band").leader(), "b");
  svc().on_disconnect("b");
  EXPECT_EQ(session("band").leader(), "c");
}

TEST_F(Membership, ElectionPrefersAnEarlierJoinedAtOverJoinOrder) {
  // A wall clock stepped back between joins: join order and joinedAt disagree,
  // and the contract's rule is joinedAt first.
  join("a", "band", "A");
  clock_.set_wall_ms(clock_.wall_ms() + 1000);
  join("b", "band", "B");
  clock_.set_wall_ms(clock_.wall_ms() - 500);
  join("c", "band", "C");
  svc().on_disconnect("a");
  EXPECT_EQ(session("band").leader(), "c");
  EXPECT_EQ(session("band").message(), "C is now leading");
}

TEST_F(Membership, LeaderLeaveSessionElectsToo) {
  join("a", "band", "A");
  join("b", "band", "B");
  send("a", "leave_session", R"({"sessionId":"band"})");
  EXPECT_EQ(out_.trace(), (strings{"session:band role_changed", "session:band snapshot",
                                   "session:band room_stats", "session:band user_left"}));
  EXPECT_EQ(session("band").leader(), "b");
  // Still connected, in no session.
  ASSERT_TRUE(svc().find_connection("a"));
  EXPECT_FALSE(svc().find_connection("a")->session_id);
}

TEST_F(Membership, LastMemberLeavingKeepsTheSessionEmptyAndPaused) {
  join("a", "band", "A");
  send("a", "play", R"({"sessionId":"band"})");
  clock_.advance_ms(1500);
  out_.clear();
  svc().on_disconnect("a");
  EXPECT_TRUE(out_.trace().empty());
  const auto& s = session("band");
  EXPECT_TRUE(s.empty());
  EXPECT_FALSE(s.leader());
  EXPECT_FALSE(s.playing());
  EXPECT_EQ(s.position_us(clock_.steady_us()), 1'500'000);
  EXPECT_EQ(svc().session_stats().at("activeSessions"), 0);
  EXPECT_EQ(svc().session_stats().at("totalSessions"), 1);
  // Re-joining it: the joiner leads again, the state survives.
  join("b", "band", "B");
  EXPECT_EQ(session("band").leader(), "b");
  EXPECT_EQ(session("band").position_us(clock_.steady_us()), 1'500'000);
}

TEST_F(Membership, SetRoleLeaderTakesOver) {
  join("a", "band", "Keys");
  join("b", "band", "Bass");
  send("b", "set_role", R"({"sessionId":"band","role":"leader"})");
  EXPECT_EQ(out_.trace(), (strings{"session:band role_changed", "session:band snapshot"}));
  EXPECT_EQ(boost::json::value(out_.last("role_changed")->obj()),
            boost::json::value({{"socketId", "b"},
                                {"role", "leader"},
                                {"previousLeader", "a"},
                                {"timestamp", clock_.wall_ms()}}));
  const auto& s = session("band");
  EXPECT_EQ(s.leader(), "b");
  EXPECT_EQ(s.find_member("a")->role, store::member_role::follower);
  EXPECT_EQ(s.find_member("b")->role, store::member_role::leader);
  EXPECT_EQ(s.message(), "Bass is leading");
}

TEST_F(Membership, SetRoleLeaderByTheLeaderOnlySnapshots) {
  join("a", "band", "Keys");
  send("a", "set_role", R"({"sessionId":"band","role":"leader"})");
  EXPECT_EQ(out_.trace(), (strings{"session:band snapshot"}));
}

TEST_F(Membership, TakeoverKeepsPlaying) {
  join("a", "band", "Keys");
  join("b", "band", "Bass");
  send("a", "play", R"({"sessionId":"band"})");
  send("b", "set_role", R"({"sessionId":"band","role":"leader"})");
  EXPECT_TRUE(session("band").playing());
}

TEST_F(Membership, LeaderSteppingDownHandsOverToTheMostSenior) {
  join("a", "band", "Keys");
  clock_.advance_ms(1);
  join("b", "band", "Bass");
  clock_.advance_ms(1);
  join("c", "band", "Drums");
  send("a", "play", R"({"sessionId":"band"})");
  out_.clear();
  send("a", "set_role", R"({"sessionId":"band","role":"follower"})");
  EXPECT_EQ(out_.trace(), (strings{"session:band role_changed", "session:band snapshot"}));
  EXPECT_EQ(boost::json::value(out_.last("role_changed")->obj()),
            boost::json::value({{"socketId", "b"},
                                {"role", "leader"},
                                {"previousRole", "follower"},
                                {"previousLeader", "a"},
                                {"reason", "leader_stepped_down"},
                                {"timestamp", clock_.wall_ms()}}));
  const auto& s = session("band");
  EXPECT_EQ(s.leader(), "b");
  EXPECT_EQ(s.find_member("a")->role, store::member_role::follower);
  EXPECT_EQ(s.message(), "Bass is now leading");
  EXPECT_TRUE(s.playing());
}

TEST_F(Membership, LoneLeaderCannotStepDown) {
  join("a", "band", "Keys");
  send("a", "set_role", R"({"sessionId":"band","role":"follower"})");
  EXPECT_EQ(out_.trace(), (strings{"session:band snapshot"}));
  EXPECT_EQ(session("band").leader(), "a");
}

TEST_F(Membership, FollowerSetRoleFollowerChangesNothing) {
  join("a", "band", "Keys");
  join("b", "band", "Bass");
  send("b", "set_role", R"({"sessionId":"band","role":"follower"})");
  EXPECT_EQ(out_.trace(), (strings{"session:band snapshot"}));
  EXPECT_EQ(session("band").leader(), "a");
}

TEST_F(Membership, UpdateMessageByAnyMember) {
  join("a", "band", "Keys");
  join("b", "band", "Bass");
  clock_.advance_ms(42);
  send("b", "update_message", R"({"sessionId":"band","message":"Chorus x2 \u00e9"})");
  EXPECT_EQ(out_.trace(), (strings{"session:band snapshot"}));
  EXPECT_EQ(out_.last("snapshot")->obj().at("message"), "Chorus x2 \xC3\xA9");
  EXPECT_EQ(out_.last("snapshot")->obj().at("lastActiveAt"), clock_.wall_ms());
  EXPECT_EQ(store_.find_session("band")->message, "Chorus x2 \xC3\xA9");
  send("b", "update_message", R"({"sessionId":"band","message":""})");
  EXPECT_EQ(session("band").message(), "");
}

TEST_F(Membership, DisconnectWithoutSessionAndUnknownConnections) {
  connect("a");
  svc().on_disconnect("a");
  svc().on_disconnect("a");
  svc().on_disconnect("never");
  EXPECT_TRUE(out_.log.empty());
  // Events from a connection that never connected are ignored.
  send("ghost", "join_session", R"({"sessionId":"band"})");
  EXPECT_TRUE(out_.log.empty());
  EXPECT_FALSE(svc().find_session("band"));
  EXPECT_EQ(svc().metrics().events_by_name.at("join_session"), 1u);
}

TEST_F(Membership, DuplicateConnectIsIgnored) {
  join("a", "band", "A");
  connect("a");
  EXPECT_EQ(svc().find_connection("a")->session_id, "band");
  EXPECT_EQ(svc().performance().at("totalConnections"), 1);
}

}  // namespace
}  // namespace bandsync::testing
