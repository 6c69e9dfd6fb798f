#include "cluster/room_channels.hpp"

#include <gtest/gtest.h>

namespace bandsync::cluster {
namespace {

// Times in µs on a fake clock; heartbeat rounds every 500 ms, a channel stays
// two rounds after a local event.
constexpr int64_t round_us = 500'000;
constexpr int64_t quiet_us = 2 * round_us;

const auto nothing_needed = [](const std::string&) { return false; };

TEST(RoomChannels, AskedOnceConfirmedOnce) {
  room_channels c(quiet_us);
  EXPECT_TRUE(c.add("S"));
  EXPECT_FALSE(c.add("S"));  // its SUBSCRIBE is in flight
  EXPECT_TRUE(c.contains("S"));
  EXPECT_FALSE(c.subscribed("S"));
  EXPECT_TRUE(c.confirm("S"));
  EXPECT_TRUE(c.subscribed("S"));
  EXPECT_FALSE(c.confirm("T"));  // dropped or never asked for
  c.unconfirm_all();
  EXPECT_FALSE(c.subscribed("S"));
  EXPECT_EQ(c.sessions(), std::vector<std::string>{"S"});
}

TEST(RoomChannels, AnUnusedChannelNothingNeedsGoesAtTheNextRound) {
  room_channels c(quiet_us);
  c.add("S");
  c.confirm("S");
  EXPECT_EQ(c.take_idle(1'000, nothing_needed), std::vector<std::string>{"S"});
  EXPECT_FALSE(c.contains("S"));
  EXPECT_TRUE(c.add("S"));  // asked for again when needed again
}

TEST(RoomChannels, ANeededChannelStays) {
  room_channels c(quiet_us);
  c.add("S");
  c.confirm("S");
  EXPECT_TRUE(c.take_idle(10 * quiet_us, [](const std::string& s) { return s == "S"; }).empty());
  EXPECT_TRUE(c.subscribed("S"));
}

TEST(RoomChannels, AnUnconfirmedChannelIsNeverDropped) {
  room_channels c(quiet_us);
  c.add("S");  // SUBSCRIBE in flight, or the connection is down
  EXPECT_TRUE(c.take_idle(10 * quiet_us, nothing_needed).empty());
  EXPECT_TRUE(c.contains("S"));
}

// The race of a forwarded join (node.cpp, room_channels.hpp): node B is still
// subscribed to S from an earlier member, has no socket in S any more, and
// one of its sockets sends join_session for S, owned by node A. B forwards
// it at t0; A answers with `join` on B's channel and broadcasts user_joined
// and room_stats on S's channel. Until the `join` arrives B has no socket in
// S, so the heartbeat round between (at most one round later) must not drop
// the channel: the broadcasts published meanwhile would be lost (pub/sub
// keeps nothing). Without the use-time check this unsubscribed at t0 + 1 ms.
TEST(RoomChannels, AForwardedJoinKeepsTheChannelUntilTheOwnerAnswers) {
  room_channels c(quiet_us);
  c.add("S");
  c.confirm("S");
  const int64_t t0 = 10 * quiet_us;
  c.used("S", t0);  // route(): the join leaves for the owner
  // Heartbeat rounds come every round_us, at any phase: the first one may
  // come right after the forward, the second one round later.
  EXPECT_TRUE(c.take_idle(t0 + 1'000, nothing_needed).empty());
  EXPECT_TRUE(c.take_idle(t0 + 1'000 + round_us, nothing_needed).empty());
  EXPECT_TRUE(c.subscribed("S"));
  // The owner never answered (a refusal goes to the socket, not the room):
  // the channel goes once two rounds passed without a local event.
  EXPECT_EQ(c.take_idle(t0 + quiet_us, nothing_needed), std::vector<std::string>{"S"});
}

// A local event for a session this node has not subscribed to yet: route()
// notes the use before ensure_subscribed() asks for the channel, and the
// SUBSCRIBE is still sent (add() is true once).
TEST(RoomChannels, UseBeforeTheChannelIsAskedFor) {
  room_channels c(quiet_us);
  c.used("S", 5);
  EXPECT_FALSE(c.contains("S"));
  EXPECT_FALSE(c.subscribed("S"));
  EXPECT_TRUE(c.take_idle(10, nothing_needed).empty());
  EXPECT_TRUE(c.add("S"));
  EXPECT_FALSE(c.add("S"));
  EXPECT_TRUE(c.confirm("S"));
  EXPECT_TRUE(c.take_idle(10, nothing_needed).empty());  // used 5 µs ago
}

}  // namespace
}  // namespace bandsync::cluster
