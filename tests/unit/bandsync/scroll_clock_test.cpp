#include "bandsync/scroll_clock.hpp"

#include <gtest/gtest.h>

namespace bandsync::domain {
namespace {

TEST(ScrollClock, PausedHoldsItsPosition) {
  scroll_clock c(1500);
  EXPECT_FALSE(c.playing());
  EXPECT_EQ(c.position_us(0), 1500);
  EXPECT_EQ(c.position_us(1'000'000'000), 1500);
}

TEST(ScrollClock, PlayingDerivesFromTheAnchor) {
  scroll_clock c;
  c.play(1000);
  EXPECT_EQ(c.position_us(1000), 0);
  EXPECT_EQ(c.position_us(1001), 1);
  EXPECT_EQ(c.position_us(3'601'000'000 + 1000), 3'601'000'000);
  EXPECT_EQ(c.position_us(500), 0);  // before the anchor: no negative elapsed time
}

TEST(ScrollClock, PlayWithAFutureAnchorHoldsUntilIt) {
  scroll_clock c(300);
  c.play(2000);
  EXPECT_TRUE(c.playing());
  EXPECT_EQ(c.anchor_us(), 2000);
  EXPECT_EQ(c.position_us(1000), 300);
  EXPECT_EQ(c.position_us(2000), 300);
  EXPECT_EQ(c.position_us(2001), 301);
  c.pause(1500);  // before the anchor: frozen at the held position
  EXPECT_EQ(c.position_us(5000), 300);
  EXPECT_EQ(c.anchor_us(), 1500);
}

TEST(ScrollClock, PauseFreezesExactly) {
  scroll_clock c;
  c.play(10);
  c.pause(1'234'577);
  EXPECT_EQ(c.position_us(99'999'999), 1'234'567);
  c.pause(200'000'000);  // already paused: nothing moves
  EXPECT_EQ(c.position_us(0), 1'234'567);
  c.play(300'000'000);
  EXPECT_EQ(c.position_us(300'000'033), 1'234'600);
}

TEST(ScrollClock, RepeatedPlayKeepsTheAnchor) {
  scroll_clock c;
  c.play(0);
  c.play(500);
  EXPECT_EQ(c.position_us(1000), 1000);
}

TEST(ScrollClock, SeekKeepsThePlayState) {
  scroll_clock c;
  c.seek(42, 0);
  EXPECT_FALSE(c.playing());
  EXPECT_EQ(c.position_us(100), 42);
  c.play(100);
  c.seek(5000, 200);
  EXPECT_TRUE(c.playing());
  EXPECT_EQ(c.position_us(300), 5100);
}

TEST(ScrollClock, ReanchorDoesNotMoveThePosition) {
  scroll_clock c;
  c.play(0);
  for (int64_t t = 7; t < 1'000'000; t += 7919) {
    c.reanchor(t);
    EXPECT_EQ(c.position_us(t), t);
  }
  EXPECT_EQ(c.position_us(2'000'000), 2'000'000);
}

}  // namespace
}  // namespace bandsync::domain
