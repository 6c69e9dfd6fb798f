#include "cluster/lease.hpp"

#include <gtest/gtest.h>

namespace bandsync::cluster {
namespace {

constexpr int64_t ms = 1000;  // µs

lease_timing timing() {
  return lease_timing{600, 200, 100};
}

TEST(ClusterLease, Tokens) {
  EXPECT_EQ(make_token("a", 7), "a:7");
  auto p = parse_token("node-1:42");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->node, "node-1");
  EXPECT_EQ(p->version, 42u);
  EXPECT_FALSE(parse_token("a"));
  EXPECT_FALSE(parse_token("a:"));
  EXPECT_FALSE(parse_token("a:0"));
  EXPECT_FALSE(parse_token("a:1x"));
  EXPECT_FALSE(parse_token(":1"));
}

TEST(ClusterLease, LeaseValues) {
  auto v = parse_lease_value("node-1:42@7");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->token, "node-1:42");
  EXPECT_EQ(v->epoch, "7");
  EXPECT_EQ(v->parts.node, "node-1");
  EXPECT_EQ(v->parts.version, 42u);
  EXPECT_FALSE(parse_lease_value("node-1:42"));  // the per-session format of before
  EXPECT_FALSE(parse_lease_value("node-1:42@"));
  EXPECT_FALSE(parse_lease_value("node-1:42@x1"));
  EXPECT_FALSE(parse_lease_value("node-1:0@3"));
  EXPECT_FALSE(parse_lease_value("@3"));
}

// Every session lease is valid exactly as long as the node lease: from the
// send time of the last confirmed join/renewal plus TTL minus margin.
TEST(ClusterLease, SessionsAreValidWhileTheNodeLeaseIs) {
  lease_table t("a", timing());
  // No node lease: nothing can be ours.
  EXPECT_EQ(t.on_acquired("S", "a:3@1", 0), lease_table::outcome::invalid);
  t.on_node_lease("1", 1000 * ms);
  EXPECT_EQ(t.on_acquired("S", "a:3@1", 1000 * ms), lease_table::outcome::acquired);
  EXPECT_TRUE(t.owns("S", 1000 * ms));
  EXPECT_TRUE(t.owns("S", 1499 * ms));
  EXPECT_FALSE(t.owns("S", 1500 * ms));  // 600 - 100 after the send
  EXPECT_EQ(t.token("S"), "a:3@1");
  EXPECT_EQ(t.version("S"), 3u);
  EXPECT_EQ(t.expired(1500 * ms), std::vector<std::string>{"S"});
  EXPECT_TRUE(t.expired(1499 * ms).empty());
}

TEST(ClusterLease, NodeRenewalExtendsEverySessionFromItsSendTime) {
  lease_table t("a", timing());
  t.on_node_lease("1", 0);
  t.on_acquired("S", "a:1@1", 0);
  t.on_acquired("T", "a:2@1", 0);
  t.on_node_lease("1", 200 * ms);
  EXPECT_TRUE(t.owns("S", 699 * ms));
  EXPECT_TRUE(t.owns("T", 699 * ms));
  EXPECT_FALSE(t.owns("S", 700 * ms));
  // A late reply of an older renewal never shortens the validity.
  t.on_node_lease("1", 100 * ms);
  EXPECT_TRUE(t.owns("S", 699 * ms));
}

TEST(ClusterLease, LosingTheNodeLeaseLosesEverySession) {
  lease_table t("a", timing());
  t.on_node_lease("1", 0);
  t.on_acquired("S", "a:1@1", 0);
  t.on_acquired("U", "b:1@4", 0);
  t.lose_node();
  EXPECT_FALSE(t.owns("S", 1 * ms));
  EXPECT_FALSE(t.token("S"));
  EXPECT_EQ(t.owned_count(), 0u);
  EXPECT_EQ(t.epoch(), "");
  // What is known about other nodes' sessions stays.
  EXPECT_EQ(t.owner("U", 1 * ms), "b");
}

TEST(ClusterLease, ANewEpochDropsTheOldEpochsSessions) {
  lease_table t("a", timing());
  t.on_node_lease("1", 0);
  t.on_acquired("S", "a:1@1", 0);
  t.on_node_lease("2", 100 * ms);
  EXPECT_FALSE(t.token("S"));
  EXPECT_TRUE(t.node_valid(100 * ms));
  // Our own id under another epoch is not ours.
  EXPECT_EQ(t.on_acquired("S", "a:1@1", 100 * ms), lease_table::outcome::invalid);
  EXPECT_EQ(t.on_acquired("S", "a:2@2", 100 * ms), lease_table::outcome::acquired);
}

TEST(ClusterLease, ForeignOwnerIsCachedForOneTtlAndRemembersItsEpoch) {
  lease_table t("a", timing());
  t.on_node_lease("1", 0);
  EXPECT_EQ(t.on_acquired("S", "b:5@9", 0), lease_table::outcome::foreign);
  EXPECT_FALSE(t.owns("S", 0));
  EXPECT_FALSE(t.token("S"));
  EXPECT_EQ(t.owner("S", 599 * ms), "b");
  EXPECT_FALSE(t.owner("S", 600 * ms));
  EXPECT_EQ(t.last_owner("S"), std::make_pair(std::string("b"), std::string("9")));
  // Heard again (a broadcast): fresh again; an older version does not win.
  t.note_owner("S", "b", 5, 1000 * ms);
  EXPECT_EQ(t.owner("S", 1500 * ms), "b");
  EXPECT_EQ(t.last_owner("S")->second, "9");
  t.note_owner("S", "c", 4, 1500 * ms);
  EXPECT_EQ(t.owner("S", 1500 * ms), "b");
  // A newer owner heard of only through hearsay: its epoch is unknown.
  t.note_owner("S", "c", 6, 1500 * ms);
  EXPECT_EQ(t.owner("S", 1500 * ms), "c");
  EXPECT_EQ(t.last_owner("S"), std::make_pair(std::string("c"), std::string()));
}

TEST(ClusterLease, HearsayNeverOverridesOurOwnLease) {
  lease_table t("a", timing());
  t.on_node_lease("1", 0);
  t.on_acquired("S", "a:1@1", 0);
  t.note_owner("S", "b", 9, 10 * ms);
  EXPECT_TRUE(t.owns("S", 10 * ms));
  t.note_owner("T", "a", 1, 0);  // our own id is never a foreign owner
  EXPECT_FALSE(t.owner("T", 0));
}

TEST(ClusterLease, InvalidValueChangesNothing) {
  lease_table t("a", timing());
  t.on_node_lease("1", 0);
  EXPECT_EQ(t.on_acquired("S", "garbage", 0), lease_table::outcome::invalid);
  EXPECT_EQ(t.on_acquired("S", "", 0), lease_table::outcome::invalid);
  EXPECT_FALSE(t.owner("S", 0));
  EXPECT_FALSE(t.token("S"));
}

TEST(ClusterLease, OwnedListsEveryOwnedSession) {
  lease_table t("a", timing());
  t.on_node_lease("1", 0);
  t.on_acquired("S", "a:1@1", 0);
  t.on_acquired("T", "b:1@2", 0);
  t.on_acquired("U", "a:4@1", 0);
  auto owned = t.owned();
  EXPECT_EQ(owned.size(), 2u);
  t.drop("S");
  EXPECT_EQ(t.owned_count(), 1u);
}

}  // namespace
}  // namespace bandsync::cluster
