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

TEST(ClusterLease, AcquiredIsValidUntilSendTimePlusTtlMinusMargin) {
  lease_table t("a", timing());
  EXPECT_EQ(t.on_acquired("S", "a:3", 1000 * ms), lease_table::outcome::acquired);
  EXPECT_TRUE(t.owns("S", 1000 * ms));
  EXPECT_TRUE(t.owns("S", 1499 * ms));
  EXPECT_FALSE(t.owns("S", 1500 * ms));  // 600 - 100 after the send
  EXPECT_EQ(t.token("S"), "a:3");
  EXPECT_EQ(t.version("S"), 3u);
  EXPECT_EQ(t.expired(1500 * ms), std::vector<std::string>{"S"});
  EXPECT_TRUE(t.expired(1499 * ms).empty());
}

TEST(ClusterLease, RenewalExtendsFromItsSendTimeNotItsReply) {
  lease_table t("a", timing());
  t.on_acquired("S", "a:1", 0);
  EXPECT_TRUE(t.on_renewed("S", "a:1", true, 200 * ms));
  EXPECT_TRUE(t.owns("S", 699 * ms));
  EXPECT_FALSE(t.owns("S", 700 * ms));
  // A late reply of an older renewal never shortens the validity.
  EXPECT_TRUE(t.on_renewed("S", "a:1", true, 100 * ms));
  EXPECT_TRUE(t.owns("S", 699 * ms));
}

TEST(ClusterLease, RefusedRenewalLosesTheLease) {
  lease_table t("a", timing());
  t.on_acquired("S", "a:1", 0);
  EXPECT_FALSE(t.on_renewed("S", "a:1", false, 200 * ms));
  EXPECT_FALSE(t.owns("S", 201 * ms));
  EXPECT_FALSE(t.token("S"));
  EXPECT_EQ(t.owned_count(), 0u);
}

TEST(ClusterLease, ReplyAboutAnOlderTokenIsIgnored) {
  lease_table t("a", timing());
  t.on_acquired("S", "a:1", 0);
  t.on_acquired("S", "a:2", 100 * ms);
  EXPECT_TRUE(t.on_renewed("S", "a:1", false, 150 * ms));
  EXPECT_EQ(t.token("S"), "a:2");
  EXPECT_TRUE(t.owns("S", 550 * ms));
}

TEST(ClusterLease, ForeignOwnerIsCachedForOneTtl) {
  lease_table t("a", timing());
  EXPECT_EQ(t.on_acquired("S", "b:5", 0), lease_table::outcome::foreign);
  EXPECT_FALSE(t.owns("S", 0));
  EXPECT_FALSE(t.token("S"));
  EXPECT_EQ(t.owner("S", 599 * ms), "b");
  EXPECT_FALSE(t.owner("S", 600 * ms));
  // Heard again (a broadcast): fresh again; an older version does not win.
  t.note_owner("S", "b", 5, 1000 * ms);
  EXPECT_EQ(t.owner("S", 1500 * ms), "b");
  t.note_owner("S", "c", 4, 1500 * ms);
  EXPECT_EQ(t.owner("S", 1500 * ms), "b");
  t.note_owner("S", "c", 6, 1500 * ms);
  EXPECT_EQ(t.owner("S", 1500 * ms), "c");
}

TEST(ClusterLease, HearsayNeverOverridesOurOwnLease) {
  lease_table t("a", timing());
  t.on_acquired("S", "a:1", 0);
  t.note_owner("S", "b", 9, 10 * ms);
  EXPECT_TRUE(t.owns("S", 10 * ms));
  t.note_owner("T", "a", 1, 0);  // our own id is never a foreign owner
  EXPECT_FALSE(t.owner("T", 0));
}

TEST(ClusterLease, InvalidTokenChangesNothing) {
  lease_table t("a", timing());
  EXPECT_EQ(t.on_acquired("S", "garbage", 0), lease_table::outcome::invalid);
  EXPECT_FALSE(t.owner("S", 0));
  EXPECT_FALSE(t.token("S"));
}

TEST(ClusterLease, OwnedListsEveryOwnedSession) {
  lease_table t("a", timing());
  t.on_acquired("S", "a:1", 0);
  t.on_acquired("T", "b:1", 0);
  t.on_acquired("U", "a:4", 0);
  auto owned = t.owned();
  EXPECT_EQ(owned.size(), 2u);
  t.drop("S");
  EXPECT_EQ(t.owned_count(), 1u);
}

}  // namespace
}  // namespace bandsync::cluster
