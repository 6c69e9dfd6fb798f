// Server time: the monotonic clock shifted once to the wall clock.

#include "bandsync/clock.hpp"

#include <gtest/gtest.h>

#include "test_support.hpp"

namespace bandsync::domain {
namespace {

using testing::fake_clock;

TEST(ServerClock, StartsAtTheWallClockAndFollowsSteadyTime) {
  fake_clock c;
  EXPECT_EQ(c.server_time_ms(), static_cast<double>(fake_clock::initial_wall_ms));
  c.advance_us(1'234);
  EXPECT_EQ(c.server_time_ms(), fake_clock::initial_wall_ms + 1.234);
  c.advance_ms(60'000);
  EXPECT_EQ(c.server_time_ms(), fake_clock::initial_wall_ms + 60'001.234);
}

TEST(ServerClock, DoesNotJumpWhenTheSystemClockIsSet) {
  fake_clock c;
  c.advance_us(500);
  double before = c.server_time_ms();
  c.set_wall_ms(fake_clock::initial_wall_ms - 3'600'000);  // set back an hour
  EXPECT_EQ(c.server_time_ms(), before);
  c.set_wall_ms(fake_clock::initial_wall_ms + 86'400'000);  // and forward a day
  c.advance_us(1);
  EXPECT_EQ(c.server_time_ms(), before + 0.001);
}

TEST(ServerClock, SteadyAndServerTimeConvertExactly) {
  fake_clock c;
  for (int64_t us :
       {int64_t{0}, int64_t{1}, int64_t{999}, int64_t{123'456'789}, int64_t{86'400'000'000}}) {
    int64_t steady = c.steady_us() + us;
    EXPECT_EQ(c.steady_us_at(c.server_ms_at(steady)), steady) << us;
  }
  // A client's server time with more than µs precision rounds to the nearest
  // µs (a double near epoch 1.8e12 ms resolves about 0.24 µs).
  double t = c.server_time_ms();
  EXPECT_EQ(c.steady_us_at(t + 0.0002), c.steady_us());
  EXPECT_EQ(c.steady_us_at(t + 0.0008), c.steady_us() + 1);
}

TEST(ServerClock, TheRealClockIsAnchoredToTheWallClockAndMonotonic) {
  system_clock_source c;
  // Generous: only that the anchor is the wall clock, not another epoch.
  EXPECT_NEAR(c.server_time_ms(), static_cast<double>(c.wall_ms()), 1000.0);
  double last = c.server_time_ms();
  for (int i = 0; i < 10'000; ++i) {
    double now = c.server_time_ms();
    ASSERT_GE(now, last);
    last = now;
  }
  EXPECT_EQ(c.server_offset_us(), system_clock_source(c).server_offset_us());
}

}  // namespace
}  // namespace bandsync::domain
