// Seats that survive drops (EVENTS.md "Seats"): held members, recovery, the
// leader grace, clientId seat reclaim and held seats in a full session, with
// the fake clock.

#include "service_fixture.hpp"

namespace bandsync::testing {
namespace {

using strings = std::vector<std::string>;

class Seats : public service_test {
 protected:
  void join_with(const std::string& conn, const std::string& client_id,
                 const std::string& name = "") {
    if (!svc().find_connection(conn)) connect(conn);
    boost::json::object p{{"sessionId", "band"}, {"clientId", client_id}};
    if (!name.empty()) p["displayName"] = name;
    send(conn, "join_session", p);
  }
  const boost::json::object& member_json(const boost::json::object& snap, size_t i) {
    return snap.at("members").as_array().at(i).as_object();
  }
  const boost::json::object& last_obj(std::string_view event) {
    const auto* s = out_.last(event);
    EXPECT_NE(s, nullptr) << event;
    return s->obj();
  }
};

TEST_F(Seats, HeldMemberStaysMarkedDisconnectedAndComesBack) {
  make_service({.seat_hold_ms = 45'000});
  join("lead", "band", "Keys");
  join("bass", "band", "Bass");
  double held_until = clock_.server_ms_at(clock_.steady_us() + 45'000'000);
  svc().on_hold("bass");
  EXPECT_EQ(out_.trace(), (strings{"session:band room_stats", "session:band member_status"}));
  EXPECT_EQ(last_obj("room_stats").at("memberCount"), 2);
  EXPECT_EQ(last_obj("room_stats").at("connectedCount"), 1);
  // Which member: every device can show "Bass: link lost, seat held" and
  // until when the seat is kept (server time, the recovery window).
  EXPECT_EQ(boost::json::value(last_obj("member_status")),
            boost::json::value({{"sessionId", "band"},
                                {"socketId", "bass"},
                                {"connected", false},
                                {"heldUntil", held_until}}));
  EXPECT_EQ(session("band").member_count(), 2u);
  EXPECT_EQ(svc().find_connection("bass")->session_id, "band");

  out_.clear();
  clock_.advance_ms(1'000);
  send("lead", "sync_request", R"({"sessionId":"band"})");
  send("lead", "set_tempo", R"({"sessionId":"band","tempo":90})");
  const auto& snap = last_obj("snapshot");
  EXPECT_EQ(member_json(snap, 0).at("connected"), true);
  EXPECT_EQ(member_json(snap, 0).at("heldUntil"), nullptr);
  EXPECT_EQ(member_json(snap, 1).at("connected"), false);
  // A device that joins or reloads meanwhile sees the same deadline.
  EXPECT_EQ(member_json(snap, 1).at("heldUntil"), held_until);

  out_.clear();
  svc().on_recover("bass");
  EXPECT_EQ(out_.trace(), (strings{"session:band room_stats", "session:band member_status"}));
  EXPECT_EQ(last_obj("room_stats").at("connectedCount"), 2);
  EXPECT_EQ(boost::json::value(last_obj("member_status")),
            boost::json::value({{"sessionId", "band"},
                                {"socketId", "bass"},
                                {"connected", true},
                                {"heldUntil", nullptr}}));
  EXPECT_TRUE(session("band").connected("bass"));
  EXPECT_FALSE(session("band").held_until("bass"));
  // Its events count again as a member's.
  out_.clear();
  send("bass", "sync_request", R"({"sessionId":"band"})");
  EXPECT_EQ(out_.trace(), (strings{"to:bass sync_response"}));
  // A second drop is announced again, with its own deadline.
  clock_.advance_ms(500);
  svc().on_hold("bass");
  EXPECT_EQ(last_obj("member_status").at("heldUntil"),
            clock_.server_ms_at(clock_.steady_us() + 45'000'000));
}

TEST_F(Seats, ATakeoverOfAConnectedSocketGetsAFreshRoomStatsAlone) {
  join("lead", "band", "Keys");
  join("bass", "band", "Bass");
  svc().on_recover("bass");
  // The seat never showed as held: nobody is told it is back.
  EXPECT_EQ(out_.trace(), (strings{"to:bass room_stats"}));
  EXPECT_EQ(last_obj("room_stats").at("connectedCount"), 2);
}

TEST_F(Seats, HoldThatExpiresLeavesAsADisconnect) {
  join("lead", "band", "Keys");
  join("bass", "band", "Bass");
  svc().on_hold("bass");
  out_.clear();
  svc().on_disconnect("bass");
  // user_left names the seat that went: no member_status for it.
  EXPECT_EQ(out_.trace(), (strings{"session:band room_stats", "session:band user_left"}));
  EXPECT_EQ(last_obj("user_left").at("socketId"), "bass");
  EXPECT_EQ(last_obj("room_stats").at("connectedCount"), 1);
  EXPECT_EQ(last_obj("room_stats").at("memberCount"), 1);
  EXPECT_EQ(svc().find_connection("bass"), nullptr);
  EXPECT_FALSE(store_.find_member("bass"));
}

TEST_F(Seats, HeldLeaderKeepsTheLeadAndTheBandPlaysWithinTheGrace) {
  join("lead", "band", "Keys");
  join("bass", "band", "Bass");
  send("lead", "play", R"({"sessionId":"band"})");
  out_.clear();
  svc().on_hold("lead");
  EXPECT_EQ(out_.trace(), (strings{"session:band room_stats", "session:band member_status"}));
  EXPECT_EQ(last_obj("member_status").at("socketId"), "lead");
  clock_.advance_ms(9'900);
  EXPECT_EQ(svc().expire_leader_grace(), 0u);
  EXPECT_GT(svc().tick_due(), 0u);
  EXPECT_TRUE(session("band").playing());
  EXPECT_TRUE(session("band").is_leader("lead"));
  // Nobody else may act as leader meanwhile.
  out_.clear();
  send("bass", "pause", R"({"sessionId":"band"})");
  expect_only_error("bass", "NOT_LEADER");

  out_.clear();
  svc().on_recover("lead");
  EXPECT_EQ(out_.trace(), (strings{"session:band room_stats", "session:band member_status"}));
  EXPECT_EQ(last_obj("member_status").at("connected"), true);
  clock_.advance_ms(1'000);
  EXPECT_EQ(svc().expire_leader_grace(), 0u);
  EXPECT_TRUE(session("band").is_leader("lead"));
  EXPECT_TRUE(session("band").playing());
}

TEST_F(Seats, GraceExpiryPassesTheLeadAndTheHeldSeatStaysAsAFollower) {
  join("lead", "band", "Keys");
  join("bass", "band", "Bass");
  send("lead", "play", R"({"sessionId":"band"})");
  svc().on_hold("lead");
  out_.clear();
  clock_.advance_ms(10'000);
  EXPECT_EQ(svc().expire_leader_grace(), 1u);
  EXPECT_EQ(out_.trace(), (strings{"session:band role_changed", "session:band snapshot",
                                   "session:band room_stats"}));
  const auto& rc = last_obj("role_changed");
  EXPECT_EQ(rc.at("socketId"), "bass");
  EXPECT_EQ(rc.at("reason"), "leader_disconnected");
  EXPECT_EQ(rc.at("previousRole"), "follower");
  const auto& snap = last_obj("snapshot");
  EXPECT_EQ(snap.at("leaderSocketId"), "bass");
  EXPECT_EQ(snap.at("isPlaying"), false);
  EXPECT_EQ(snap.at("message"), "Bass is now leading");
  EXPECT_EQ(member_json(snap, 0).at("role"), "follower");
  EXPECT_EQ(member_json(snap, 0).at("connected"), false);
  EXPECT_FALSE(store_.is_ticking("band"));
  EXPECT_EQ(store_.find_member("lead")->member.role, store::member_role::follower);

  // Back later: a follower; then it leaves for good without an election.
  out_.clear();
  svc().on_recover("lead");
  EXPECT_TRUE(session("band").is_leader("bass"));
  svc().on_disconnect("lead");
  EXPECT_EQ(last_obj("user_left").at("newLeader"), nullptr);
  EXPECT_EQ(svc().expire_leader_grace(), 0u);
}

TEST_F(Seats, ZeroGraceHandsOverAtOnce) {
  make_service({.leader_grace_ms = 0});
  join("lead", "band", "Keys");
  join("bass", "band", "Bass");
  svc().on_hold("lead");
  EXPECT_EQ(out_.trace(), (strings{"session:band role_changed", "session:band snapshot",
                                   "session:band room_stats", "session:band member_status"}));
  EXPECT_EQ(last_obj("member_status").at("socketId"), "lead");
  EXPECT_EQ(last_obj("member_status").at("connected"), false);
  EXPECT_TRUE(session("band").is_leader("bass"));
  EXPECT_EQ(session("band").member_count(), 2u);
}

TEST_F(Seats, AMemberMayTakeTheLeadDuringTheGrace) {
  join("lead", "band", "Keys");
  join("bass", "band", "Bass");
  svc().on_hold("lead");
  out_.clear();
  send("bass", "set_role", R"({"sessionId":"band","role":"leader"})");
  EXPECT_TRUE(session("band").is_leader("bass"));
  clock_.advance_ms(20'000);
  out_.clear();
  EXPECT_EQ(svc().expire_leader_grace(), 0u);
  EXPECT_TRUE(out_.log.empty());
}

TEST_F(Seats, ElectionPrefersAConnectedMember) {
  join("lead", "band", "Keys");
  join("bass", "band", "Bass");  // more senior than drums
  clock_.advance_ms(10);
  join("drum", "band", "Drums");
  svc().on_hold("bass");
  out_.clear();
  svc().on_disconnect("lead");
  EXPECT_TRUE(session("band").is_leader("drum"));
  EXPECT_EQ(last_obj("user_left").at("newLeader"), "drum");
}

TEST_F(Seats, ClientIdReclaimsAConnectedSeatWithItsRoleAndJoinedAt) {
  join_with("old-lead", "device-keys", "Keys");
  clock_.advance_ms(50);
  join("bass", "band", "Bass");
  auto joined_at = session("band").find_member("old-lead")->joined_at;
  clock_.advance_ms(50);
  out_.clear();
  join_with("new-lead", "device-keys");
  EXPECT_EQ(out_.trace(), (strings{"to:new-lead snapshot", "session:band member_replaced",
                                   "session:band room_stats"}));
  // The old socket leaves the room before anything goes to the session.
  EXPECT_EQ(out_.log[0].how, sent::kind::leave);
  EXPECT_EQ(out_.log[0].target, "old-lead");
  const auto& mr = last_obj("member_replaced");
  EXPECT_EQ(mr.at("sessionId"), "band");
  EXPECT_EQ(mr.at("previousSocketId"), "old-lead");
  EXPECT_EQ(mr.at("socketId"), "new-lead");
  EXPECT_EQ(mr.at("member").at("socketId"), "new-lead");
  EXPECT_EQ(mr.at("member").at("role"), "leader");
  EXPECT_EQ(mr.at("member").at("displayName"), "Keys");
  EXPECT_EQ(mr.at("member").at("joinedAt"), joined_at);
  EXPECT_EQ(mr.size(), 4u);
  const auto& snap = last_obj("snapshot");
  EXPECT_EQ(snap.at("leaderSocketId"), "new-lead");
  EXPECT_EQ(snap.at("members").as_array().size(), 2u);
  EXPECT_EQ(member_json(snap, 0).at("socketId"), "new-lead");
  // The clientId is never sent to anyone.
  for (const auto& e : out_.log) {
    EXPECT_EQ(boost::json::serialize(e.payload).find("device-keys"), std::string::npos);
  }
  // Store: member key moved, session lists the new id.
  EXPECT_FALSE(store_.find_member("old-lead"));
  ASSERT_TRUE(store_.find_member("new-lead"));
  EXPECT_EQ(store_.find_member("new-lead")->member.role, store::member_role::leader);
  EXPECT_EQ(store_.find_session("band")->leader_socket_id, "new-lead");
  // The old socket is no longer a member.
  EXPECT_FALSE(svc().find_connection("old-lead")->session_id);
  out_.clear();
  send("old-lead", "play", R"({"sessionId":"band"})");
  expect_only_error("old-lead", "NOT_A_MEMBER");
  send("new-lead", "play", R"({"sessionId":"band"})");
  EXPECT_TRUE(session("band").playing());
  // Its later end changes nothing in the session.
  out_.clear();
  svc().on_disconnect("old-lead");
  EXPECT_TRUE(out_.log.empty());
  EXPECT_EQ(session("band").member_count(), 2u);
}

TEST_F(Seats, ClientIdReclaimsAHeldSeatAndEndsItsGrace) {
  join("lead", "band", "Keys");
  join_with("bass-1", "device-bass", "Bass");
  svc().on_hold("lead");
  svc().on_hold("bass-1");
  out_.clear();
  join_with("bass-2", "device-bass");
  EXPECT_EQ(session("band").member_count(), 2u);
  EXPECT_TRUE(session("band").connected("bass-2"));
  // member_replaced says the seat is connected again (no member_status).
  EXPECT_EQ(last_obj("member_replaced").at("member").at("connected"), true);
  EXPECT_EQ(last_obj("member_replaced").at("member").at("heldUntil"), nullptr);
  EXPECT_TRUE(out_.named("member_status").empty());
  EXPECT_EQ(last_obj("room_stats").at("connectedCount"), 1);
  // The grace of the held leader still runs; the new bass takes over then.
  clock_.advance_ms(10'000);
  EXPECT_EQ(svc().expire_leader_grace(), 1u);
  EXPECT_TRUE(session("band").is_leader("bass-2"));
  // The held old socket expiring later changes nothing.
  out_.clear();
  svc().on_disconnect("bass-1");
  EXPECT_TRUE(out_.log.empty());
}

TEST_F(Seats, InvalidClientIdIsRefused) {
  connect("a");
  send("a", "join_session", R"({"sessionId":"band","clientId":"short"})");
  expect_only_error("a", "INVALID_PAYLOAD");
  out_.clear();
  send("a", "join_session", R"({"sessionId":"band","clientId":"has space in it"})");
  expect_only_error("a", "INVALID_PAYLOAD");
  out_.clear();
  send("a", "join_session", R"({"sessionId":"band","clientId":12345678})");
  expect_only_error("a", "INVALID_PAYLOAD");
  out_.clear();
  send("a", "join_session", R"({"sessionId":"band","clientId":null})");
  EXPECT_EQ(session("band").member_count(), 1u);
}

TEST_F(Seats, AFullSessionReleasesTheLongestHeldSeatForANewDevice) {
  make_service({.max_members = 3});
  join("m1", "band", "One");
  join("m2", "band", "Two");
  join("m3", "band", "Three");
  svc().on_hold("m3");
  clock_.advance_ms(5);
  svc().on_hold("m2");
  out_.clear();
  join("m4", "band", "Four");
  EXPECT_EQ(session("band").member_count(), 3u);
  EXPECT_FALSE(session("band").find_member("m3"));
  EXPECT_TRUE(session("band").find_member("m2"));
  EXPECT_FALSE(svc().find_connection("m3")->session_id);

  connect("m5");
  out_.clear();
  send("m5", "join_session", R"({"sessionId":"band"})");
  EXPECT_EQ(out_.trace(),
            (strings{"session:band room_stats", "session:band user_left", "to:m5 snapshot",
                     "session:band room_stats", "session:band user_joined"}));
  EXPECT_EQ(out_.named("user_left")[0]->obj().at("socketId"), "m2");
  // Every seat connected: full as before.
  connect("m6");
  out_.clear();
  send("m6", "join_session", R"({"sessionId":"band"})");
  expect_only_error("m6", "SESSION_FULL");
}

}  // namespace
}  // namespace bandsync::testing
