// Per-address admission: the handshake token bucket and the open-connection
// cap, on a hand-driven clock.
#include "engineio/address_limits.hpp"

#include <gtest/gtest.h>

namespace bandsync::engineio {
namespace {

using namespace std::chrono_literals;
using clock = address_limits::clock;

TEST(AddressLimits, DefaultsAdmitFiveHundredReconnectsInTenSeconds) {
  address_limits limits;
  auto t = clock::time_point{} + 1h;
  int retry = 0;
  for (int i = 0; i < 500; ++i) {
    ASSERT_TRUE(limits.take_handshake("203.0.113.7", t + i * 20ms, retry)) << "reconnect " << i;
  }
}

TEST(AddressLimits, BucketRefusesBeyondBurstThenRefills) {
  address_limits limits({.handshake_rate = 2, .handshake_burst = 3, .max_connections = 10});
  auto t = clock::time_point{} + 1h;
  int retry = 0;
  EXPECT_TRUE(limits.take_handshake("a", t, retry));
  EXPECT_TRUE(limits.take_handshake("a", t, retry));
  EXPECT_TRUE(limits.take_handshake("a", t, retry));
  EXPECT_FALSE(limits.take_handshake("a", t, retry));
  EXPECT_EQ(retry, 1);
  // Another address has its own bucket.
  EXPECT_TRUE(limits.take_handshake("b", t, retry));
  // Half a second at 2 per second: one token back.
  EXPECT_TRUE(limits.take_handshake("a", t + 500ms, retry));
  EXPECT_FALSE(limits.take_handshake("a", t + 500ms, retry));
  // Never more than the burst, however long the pause.
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limits.take_handshake("a", t + 1h, retry));
  EXPECT_FALSE(limits.take_handshake("a", t + 1h, retry));
}

TEST(AddressLimits, ConnectionCapPerAddress) {
  address_limits limits({.handshake_rate = 1, .handshake_burst = 1, .max_connections = 2});
  auto t = clock::time_point{} + 1h;
  EXPECT_TRUE(limits.connection_opened("a", t));
  EXPECT_TRUE(limits.connection_opened("a", t));
  EXPECT_FALSE(limits.connection_opened("a", t));
  EXPECT_TRUE(limits.connection_opened("b", t));
  EXPECT_EQ(limits.connections_of("a"), 2u);
  limits.connection_closed("a");
  EXPECT_TRUE(limits.connection_opened("a", t));
  // A close for an address never seen is harmless.
  limits.connection_closed("zzz");
  EXPECT_EQ(limits.connections_of("zzz"), 0u);
}

TEST(AddressLimits, TableIsBoundedAndDropsIdleFullEntries) {
  address_limits limits(
      {.handshake_rate = 10, .handshake_burst = 1, .max_connections = 5, .max_addresses = 2});
  auto t = clock::time_point{} + 1h;
  int retry = 0;
  EXPECT_TRUE(limits.connection_opened("a", t));
  EXPECT_TRUE(limits.take_handshake("b", t, retry));
  // Full of live entries ("a" holds a connection, "b" is refilling): refused.
  EXPECT_FALSE(limits.connection_opened("c", t));
  EXPECT_FALSE(limits.take_handshake("c", t, retry));
  EXPECT_EQ(limits.tracked(), 2u);
  // Once "b" has refilled, its entry makes room.
  EXPECT_TRUE(limits.connection_opened("c", t + 1s));
  EXPECT_EQ(limits.tracked(), 2u);
}

}  // namespace
}  // namespace bandsync::engineio
