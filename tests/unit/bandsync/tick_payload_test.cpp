// The tick's payload written straight from the session's numbers
// (payloads::scroll_tick_text) against the JSON object path it replaces on
// the hot path: the same bytes for every state a session can tick in.

#include <random>

#include <gtest/gtest.h>

#include "bandsync/payloads.hpp"
#include "bandsync/session.hpp"
#include "test_support.hpp"
#include "util/json_text.hpp"

namespace bandsync::domain {
namespace {

std::string object_text(const session& s, const clock& clk, int64_t now_us) {
  return util::to_json_text(payloads::scroll_tick(s, clk, now_us));
}

std::string written_text(const session& s, const clock& clk, int64_t now_us) {
  std::string out = "prefix";  // appended, not overwritten
  payloads::scroll_tick_text(out, s, clk, now_us);
  EXPECT_EQ(out.substr(0, 6), "prefix");
  return out.substr(6);
}

TEST(TickPayload, TextIsTheObjectsTextWhilePausedAndPlaying) {
  testing::fake_clock clk;
  session s("band-1", clk.wall_ms(), 8);
  int64_t now = clk.steady_us();
  EXPECT_EQ(written_text(s, clk, now), object_text(s, clk, now));
  s.play_at(now, now);
  for (int i = 0; i < 2000; ++i) {
    now += 100'000 + (i % 7) * 13;  // ticks with sub-millisecond lateness
    ASSERT_EQ(written_text(s, clk, now), object_text(s, clk, now)) << "tick " << i;
  }
}

TEST(TickPayload, TextIsTheObjectsTextOverManyStates) {
  testing::fake_clock clk;
  std::mt19937_64 rng(12);
  std::uniform_real_distribution<double> tempo(20.0, 300.0);
  std::uniform_int_distribution<int64_t> step(1, 5'000'000);
  std::uniform_int_distribution<int> bpb(1, 16);
  const char* ids[] = {"a", "band_2026-12.02", "X", "0123456789abcdefghijklmnopqrstuvwxyz"};
  for (int round = 0; round < 200; ++round) {
    int64_t now = clk.steady_us() + step(rng) * round;
    session s(ids[round % 4], clk.wall_ms(), 8);
    if (round % 3 == 0) s.set_beats_per_bar(bpb(rng));
    // Whole tempos ("120") and fractional ones ("96.5", "133.33333333333334").
    double bpm = round % 5 == 0 ? 120.0 : round % 5 == 1 ? 96.5 : tempo(rng);
    s.set_tempo(bpm, now, now);
    if (round % 4 == 1) s.seek(step(rng) * 7, now, now);
    s.play_at(now + (round % 2) * 50'000, now);
    for (int i = 0; i < 50; ++i) {
      now += step(rng) / 50;
      if (i == 25 && round % 6 == 2) s.set_tempo(tempo(rng), now, now);
      ASSERT_EQ(written_text(s, clk, now), object_text(s, clk, now))
          << "round " << round << " tick " << i;
    }
    // Far along: large positions and beats.
    now += int64_t{3'600'000'000} * (round % 9);
    ASSERT_EQ(written_text(s, clk, now), object_text(s, clk, now)) << "round " << round;
  }
}

}  // namespace
}  // namespace bandsync::domain
