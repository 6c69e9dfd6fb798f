// Session creation limits on their own (fake time in µs).
#include "bandsync/creation_limiter.hpp"

#include <string>

#include <gtest/gtest.h>

namespace bandsync::domain {
namespace {

constexpr int64_t minute_us = 60'000'000;

TEST(CreationLimiter, ConnectionBurstThenRefillRate) {
  creation_limiter l({.connection_burst = 3,
                      .connection_per_minute = 6,
                      .address_burst = 100,
                      .address_per_minute = 100});
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(l.try_create("c", "10.0.0.1", 0)) << i;
  EXPECT_FALSE(l.try_create("c", "10.0.0.1", 0));
  EXPECT_FALSE(l.try_create("c", "10.0.0.1", minute_us / 6 - 1));  // not a whole token yet
  EXPECT_TRUE(l.try_create("c", "10.0.0.1", minute_us / 6));
  EXPECT_FALSE(l.try_create("c", "10.0.0.1", minute_us / 6));
  // Another connection from the same address has its own bucket.
  EXPECT_TRUE(l.try_create("d", "10.0.0.1", minute_us / 6));
  // Refill stops at the burst.
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(l.try_create("c", "10.0.0.1", 10 * minute_us)) << i;
  EXPECT_FALSE(l.try_create("c", "10.0.0.1", 10 * minute_us));
}

TEST(CreationLimiter, AddressBucketIsSharedByItsConnections) {
  creation_limiter l({.connection_burst = 100,
                      .connection_per_minute = 100,
                      .address_burst = 5,
                      .address_per_minute = 60});
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(l.try_create("c" + std::to_string(i), "nat", 0));
  EXPECT_FALSE(l.try_create("fresh", "nat", 0));
  EXPECT_TRUE(l.try_create("fresh", "other", 0));        // other addresses unaffected
  EXPECT_TRUE(l.try_create("fresh", "nat", 1'000'000));  // one per second at 60/min
  EXPECT_FALSE(l.try_create("fresh", "nat", 1'000'000));
}

TEST(CreationLimiter, ARefusalTakesNothing) {
  creation_limiter l({.connection_burst = 2,
                      .connection_per_minute = 0.001,
                      .address_burst = 1,
                      .address_per_minute = 0.001});
  EXPECT_TRUE(l.try_create("a", "x", 0));
  // The address is empty: the connection's token must not be spent.
  EXPECT_FALSE(l.try_create("a", "x", 0));
  EXPECT_TRUE(l.try_create("a", "y", 0));
  EXPECT_FALSE(l.try_create("a", "z", 0));  // now the connection is empty
}

TEST(CreationLimiter, NoAddressMeansNoAddressBucket) {
  creation_limiter l({.connection_burst = 2,
                      .connection_per_minute = 1,
                      .address_burst = 1,
                      .address_per_minute = 1});
  EXPECT_TRUE(l.try_create("a", "", 0));
  EXPECT_TRUE(l.try_create("b", "", 0));
  EXPECT_EQ(l.tracked_addresses(), 0u);
}

TEST(CreationLimiter, TablesAreBounded) {
  creation_limiter l({.connection_burst = 10,
                      .connection_per_minute = 60,
                      .address_burst = 2,
                      .address_per_minute = 60,
                      .max_addresses = 3});
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(l.try_create("c", "a" + std::to_string(i), 0));
  EXPECT_EQ(l.tracked_addresses(), 3u);
  // Every entry is refilling: a new address is refused rather than stored.
  EXPECT_FALSE(l.try_create("c", "a3", 0));
  EXPECT_EQ(l.tracked_addresses(), 3u);
  // Once they refilled they carry no state and make room.
  EXPECT_TRUE(l.try_create("c", "a3", 2'000'000));
  EXPECT_EQ(l.tracked_addresses(), 1u);
  EXPECT_EQ(l.tracked_connections(), 1u);
  l.forget_connection("c");
  EXPECT_EQ(l.tracked_connections(), 0u);
}

}  // namespace
}  // namespace bandsync::domain
