#include "bandsync/rate_meter.hpp"

#include <gtest/gtest.h>

namespace bandsync::domain {
namespace {

TEST(RateMeter, ReportsTheLastCompleteWindow) {
  rate_meter m(0);
  EXPECT_EQ(m.last_window_count(0), 0u);
  for (int i = 0; i < 5; ++i) m.record(100'000 * i);
  EXPECT_EQ(m.last_window_count(999'999), 0u);  // first window not complete yet
  EXPECT_EQ(m.last_window_count(1'000'000), 5u);
  m.record(1'500'000);
  m.record(1'600'000);
  EXPECT_EQ(m.last_window_count(1'700'000), 5u);
  EXPECT_EQ(m.last_window_count(2'000'000), 2u);
  EXPECT_EQ(m.last_window_count(3'000'000), 0u);  // a silent window
}

TEST(RateMeter, GapsResetToZero) {
  rate_meter m(0);
  m.record(10);
  m.record(5'500'000);  // four silent windows in between
  EXPECT_EQ(m.last_window_count(5'600'000), 0u);
  EXPECT_EQ(m.last_window_count(6'000'000), 1u);
}

TEST(RateMeter, WindowStart) {
  rate_meter m(1000);
  EXPECT_EQ(m.current_window_start_us(1000), 1000);
  EXPECT_EQ(m.current_window_start_us(1'000'999), 1000);
  EXPECT_EQ(m.current_window_start_us(1'001'000), 1'001'000);
  EXPECT_EQ(m.current_window_start_us(7'500'000), 7'001'000);
}

}  // namespace
}  // namespace bandsync::domain
