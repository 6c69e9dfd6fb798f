// The session's own rules, without the service: membership invariants,
// election order, takeover and hand-over, views and records.

#include "bandsync/session.hpp"
#include "bandsync/payloads.hpp"
#include "test_support.hpp"
#include "util/json_text.hpp"

#include <gtest/gtest.h>

namespace bandsync::domain {
namespace {

using store::member_role;

store::member_record m(std::string id, int64_t joined_at, std::string name = "") {
  if (name.empty()) name = "N" + id;
  return {std::move(id), std::move(name), member_role::follower, joined_at, joined_at};
}

// Exactly the leader has role "leader".
void expect_one_leader(const session& s) {
  size_t leaders = 0;
  for (const auto& x : s.members()) {
    if (x.role == member_role::leader) {
      ++leaders;
      EXPECT_EQ(s.leader(), x.socket_id);
    }
  }
  EXPECT_EQ(leaders, s.empty() ? 0u : 1u);
  EXPECT_EQ(s.leader().has_value(), !s.empty());
}

TEST(Session, AddMemberRefusesDuplicatesAndOverflow) {
  session s("x", 0, 2);
  EXPECT_TRUE(s.add_member(m("a", 1)));
  EXPECT_FALSE(s.add_member(m("a", 2)));
  EXPECT_TRUE(s.add_member(m("b", 3)));
  EXPECT_TRUE(s.full());
  EXPECT_FALSE(s.add_member(m("c", 4)));
  EXPECT_EQ(s.member_count(), 2u);
  expect_one_leader(s);
}

TEST(Session, AddedMembersStartAsFollowersWhateverTheyClaim) {
  session s("x", 0, 8);
  s.add_member(m("a", 1));
  auto claim = m("b", 2);
  claim.role = member_role::leader;
  s.add_member(claim);
  EXPECT_EQ(s.find_member("b")->role, member_role::follower);
  expect_one_leader(s);
}

TEST(Session, ElectionOrderAcrossManyDepartures) {
  session s("x", 0, 8);
  // joinedAt: e=1, a=5, c=5, b=7, d=9 (join order a, b, c, d, e)
  s.add_member(m("a", 5));
  s.add_member(m("b", 7));
  s.add_member(m("c", 5));
  s.add_member(m("d", 9));
  s.add_member(m("e", 1));
  std::vector<std::string> leaders;
  while (!s.empty()) {
    leaders.push_back(*s.leader());
    auto d = s.remove_member(*s.leader(), 0);
    ASSERT_TRUE(d);
    EXPECT_TRUE(d->was_leader);
    expect_one_leader(s);
  }
  EXPECT_EQ(leaders, (std::vector<std::string>{"a", "e", "c", "b", "d"}));
}

TEST(Session, FollowerDepartureKeepsTheLeaderAndPlayback) {
  session s("x", 0, 8);
  s.add_member(m("a", 1));
  s.add_member(m("b", 2));
  s.play_at(0, 0);
  auto d = s.remove_member("b", 100);
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->was_leader);
  EXPECT_FALSE(d->new_leader);
  EXPECT_EQ(d->member.socket_id, "b");
  EXPECT_TRUE(s.playing());
  EXPECT_FALSE(s.remove_member("b", 100));
}

TEST(Session, RemovingByAReferenceToTheMembersOwnId) {
  session s("x", 0, 8);
  s.add_member(m("a", 1));
  s.add_member(m("b", 2));
  auto d = s.remove_member(s.members()[0].socket_id, 0);
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->was_leader);
  EXPECT_EQ(d->new_leader, "b");
}

TEST(Session, TakeLeadAndHandOver) {
  session s("x", 0, 8);
  s.add_member(m("a", 1, "Keys"));
  s.add_member(m("b", 2, "Bass"));
  s.add_member(m("c", 3, "Drums"));
  EXPECT_EQ(s.take_lead("c"), "a");
  EXPECT_EQ(s.message(), "Drums is leading");
  expect_one_leader(s);
  EXPECT_FALSE(s.take_lead("c"));
  EXPECT_EQ(s.hand_over_lead(), "a");
  EXPECT_EQ(s.message(), "Keys is now leading");
  expect_one_leader(s);
  session alone("y", 0, 8);
  alone.add_member(m("z", 1));
  EXPECT_FALSE(alone.hand_over_lead());
  EXPECT_EQ(alone.leader(), "z");
}

TEST(Session, SnapshotAndRecordAgree) {
  session s("band", 1000, 8);
  s.add_member(m("a", 1001, "Keys"));
  s.set_tempo(96, 0, 0);
  s.seek(1500, 0, 0);
  bandsync::testing::fake_clock clk;
  auto snap = payloads::snapshot(s, clk, 0);
  auto rec = s.to_record(0);
  EXPECT_EQ(rec.id, "band");
  EXPECT_EQ(rec.tempo, 96);
  EXPECT_EQ(rec.position_ms, 1.5);
  EXPECT_EQ(rec.members, s.members());
  auto stored = store::to_json(rec);
  for (const char* key : {"message", "tempo", "tempoBpm", "position", "isPlaying", "leaderSocketId",
                          "createdAt", "lastActiveAt", "settings"}) {
    // The same text on the wire and in Redis (the record keeps integers
    // where the old server wrote them; the payload has doubles).
    EXPECT_EQ(util::to_json_text(snap.at(key)), util::to_json_text(stored.at(key))) << key;
  }
  EXPECT_EQ(snap.at("position"), 1.5);
}

TEST(Session, PositionJson) {
  EXPECT_EQ(payloads::position(42'000'000), 42000.0);
  EXPECT_EQ(util::to_json_text(payloads::position(42'000'000)), "42000");
  EXPECT_EQ(payloads::position(1), 0.001);
  EXPECT_EQ(util::to_json_text(payloads::position(1)), "0.001");
  EXPECT_EQ(util::to_json_text(payloads::position(1'234'567)), "1234.567");
  EXPECT_EQ(util::to_json_text(payloads::position(0)), "0");
}

TEST(Session, RestoreClearsMembersAndPauses) {
  store::session_record r;
  r.id = "band";
  r.message = "old";
  r.tempo = 90;
  r.position_ms = 2500.5;
  r.is_playing = true;
  r.leader_socket_id = "dead";
  r.members = {m("dead", 1)};
  r.created_at = 10;
  r.last_active_at = 20;
  auto s = session::restore(r, 8);
  EXPECT_EQ(s.id(), "band");
  EXPECT_EQ(s.message(), "old");
  EXPECT_EQ(s.tempo(0), 90);
  EXPECT_EQ(s.position_us(123456789), 2'500'500);
  EXPECT_FALSE(s.playing());
  EXPECT_TRUE(s.empty());
  EXPECT_FALSE(s.leader());
  EXPECT_EQ(s.created_at(), 10);
  EXPECT_EQ(s.last_active_at(), 20);
}

}  // namespace
}  // namespace bandsync::domain
