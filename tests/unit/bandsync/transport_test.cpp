// The schedulable transport with a beat grid, at the microsecond.

#include "bandsync/transport.hpp"

#include <random>

#include <gtest/gtest.h>

namespace bandsync::domain {
namespace {

// An arbitrary steady origin (as fake_clock's), so that nothing relies on 0.
constexpr int64_t t0 = 5'000'000'000;
constexpr int64_t ms = 1000;
constexpr int64_t s = 1'000'000;

TEST(Transport, NewAndRestoredGridStartsAtPositionZero) {
  transport t;
  EXPECT_FALSE(t.playing());
  EXPECT_EQ(t.position_us(t0), 0);
  EXPECT_EQ(t.beat(t0), 0);
  EXPECT_EQ(t.beats_per_bar(), 4);
  transport r(90 * s, 100, 3);  // 90 s at 100 BPM = 150 beats = 50 bars of 3
  EXPECT_DOUBLE_EQ(r.beat(t0), 150);
  EXPECT_DOUBLE_EQ(r.bar(t0), 50);
  EXPECT_EQ(r.tempo(t0), 100);
}

TEST(Transport, ScheduledStartHoldsToTheMicrosecondThenRuns) {
  transport t(1 * s);
  ASSERT_TRUE(t.play_at(t0 + 200 * ms, t0));
  EXPECT_TRUE(t.playing());
  EXPECT_EQ(t.starts_at_us(t0), t0 + 200 * ms);
  EXPECT_EQ(t.starts_at_us(t0 + 200 * ms - 1), t0 + 200 * ms);
  EXPECT_FALSE(t.starts_at_us(t0 + 200 * ms));  // started
  EXPECT_EQ(t.position_us(t0), 1 * s);
  EXPECT_EQ(t.position_us(t0 + 200 * ms - 1), 1 * s);
  EXPECT_EQ(t.position_us(t0 + 200 * ms), 1 * s);
  EXPECT_EQ(t.position_us(t0 + 200 * ms + 1), 1 * s + 1);
  EXPECT_EQ(t.position_us(t0 + 1200 * ms), 2 * s);
  EXPECT_DOUBLE_EQ(t.beat(t0 + 100 * ms), 2);  // 1 s at 120 BPM, held
  EXPECT_DOUBLE_EQ(t.beat(t0 + 1200 * ms), 4);
}

TEST(Transport, AStartInThePastStartsNow) {
  transport t;
  ASSERT_TRUE(t.play_at(t0 - 5 * s, t0));
  EXPECT_FALSE(t.starts_at_us(t0));
  EXPECT_EQ(t.position_us(t0 + 10), 10);
}

TEST(Transport, RepeatedPlayWhileScheduledKeepsTheFirstSchedule) {
  transport t;
  ASSERT_TRUE(t.play_at(t0 + 200 * ms, t0));
  EXPECT_FALSE(t.play_at(t0 + 500 * ms, t0 + 100 * ms));
  EXPECT_FALSE(t.play_at(t0 + 100 * ms, t0 + 100 * ms));
  EXPECT_EQ(t.starts_at_us(t0 + 100 * ms), t0 + 200 * ms);
  EXPECT_EQ(t.position_us(t0 + 300 * ms), 100 * ms);
  EXPECT_FALSE(t.play_at(t0 + 400 * ms, t0 + 300 * ms));  // running: nothing moves either
  EXPECT_EQ(t.position_us(t0 + 400 * ms), 200 * ms);
}

TEST(Transport, PauseBeforeTheStartCancelsItAtTheHeldPosition) {
  transport t(7 * s);
  ASSERT_TRUE(t.play_at(t0 + 4 * s, t0));
  ASSERT_TRUE(t.pause(t0 + 1 * s));
  EXPECT_FALSE(t.playing());
  EXPECT_FALSE(t.starts_at_us(t0 + 1 * s));
  EXPECT_EQ(t.position_us(t0 + 1 * s), 7 * s);
  EXPECT_EQ(t.position_us(t0 + 10 * s), 7 * s);  // the old start time passes: still held
  EXPECT_FALSE(t.pause(t0 + 11 * s));
  ASSERT_TRUE(t.play_at(t0 + 12 * s, t0 + 11 * s));  // a new schedule from the held position
  EXPECT_EQ(t.starts_at_us(t0 + 11 * s), t0 + 12 * s);
  EXPECT_EQ(t.position_us(t0 + 13 * s), 8 * s);
}

TEST(Transport, PauseWhileRunningFreezesExactly) {
  transport t;
  t.play_at(t0, t0);
  ASSERT_TRUE(t.pause(t0 + 1'234'567));
  EXPECT_EQ(t.position_us(t0 + 99 * s), 1'234'567);
}

TEST(Transport, TheBeatIsContinuousAcrossATempoChange) {
  transport t;  // 120 BPM: 2 beats a second
  t.play_at(t0, t0);
  EXPECT_DOUBLE_EQ(t.beat(t0 + 10 * s), 20);
  int64_t now = t0 + 10 * s;
  auto at = t.set_tempo(60, now + 500 * ms, now);
  ASSERT_EQ(at, now + 500 * ms);
  EXPECT_EQ(t.tempo(now + 500 * ms - 1), 120);
  EXPECT_EQ(t.tempo(now + 500 * ms), 60);
  EXPECT_DOUBLE_EQ(t.beat(now + 500 * ms), 21);
  EXPECT_NEAR(t.beat(now + 500 * ms - 1), 21, 2.0 / s);
  EXPECT_NEAR(t.beat(now + 500 * ms + 1), 21, 1.01 / s);
  EXPECT_DOUBLE_EQ(t.beat(now + 1500 * ms), 22);  // one beat a second now
  EXPECT_DOUBLE_EQ(t.bar(now + 1500 * ms), 5.5);
  // The position (real time) is not affected by tempo.
  EXPECT_EQ(t.position_us(now + 1500 * ms), 11'500 * ms);
  EXPECT_TRUE(t.pending(now + 500 * ms).empty());
  ASSERT_EQ(t.pending(now).size(), 1u);
  EXPECT_EQ(t.pending(now)[0].tempo, 60);
}

TEST(Transport, ATempoChangeWhilePausedIsImmediateAndKeepsTheBeat) {
  transport t(30 * s);  // beat 60 at 120 BPM
  EXPECT_EQ(t.set_tempo(90, t0 + 5 * s, t0), t0);
  EXPECT_EQ(t.tempo(t0), 90);
  EXPECT_DOUBLE_EQ(t.beat(t0), 60);
  t.play_at(t0, t0);
  EXPECT_DOUBLE_EQ(t.beat(t0 + 2 * s), 63);  // 1.5 beats a second
}

TEST(Transport, ATempoChangeBeforeTheStartTakesEffectAtTheStart) {
  transport t(2 * s);  // beat 4
  t.play_at(t0 + 1 * s, t0);
  t.set_tempo(60, t0 + 200 * ms, t0);
  EXPECT_DOUBLE_EQ(t.beat(t0 + 500 * ms), 4);
  EXPECT_EQ(t.position_us(t0 + 500 * ms), 2 * s);
  EXPECT_DOUBLE_EQ(t.beat(t0 + 3 * s), 6);  // 2 s at 60 BPM from the start
}

TEST(Transport, AScheduledSeekJumpsAtItsTime) {
  transport t;
  t.play_at(t0, t0);
  int64_t now = t0 + 3 * s;
  auto at = t.seek(60 * s, now + 200 * ms, now);
  ASSERT_EQ(at, now + 200 * ms);
  EXPECT_EQ(t.position_us(now + 200 * ms - 1), 3200 * ms - 1);
  EXPECT_EQ(t.position_us(now + 200 * ms), 60 * s);
  EXPECT_EQ(t.position_us(now + 200 * ms + 1), 60 * s + 1);
  EXPECT_DOUBLE_EQ(t.beat(now + 200 * ms), 120);  // re-gridded at 120 BPM
  EXPECT_EQ(t.position_us(now + 10 * s), 69'800 * ms);
}

TEST(Transport, ASeekWhilePausedIsImmediate) {
  transport t;
  EXPECT_EQ(t.seek(5 * s, t0 + 1 * s, t0), t0);
  EXPECT_EQ(t.position_us(t0), 5 * s);
  EXPECT_FALSE(t.playing());
}

TEST(Transport, ASeekRegridsTheBeatAtTheCurrentTempo) {
  transport t;
  t.play_at(t0, t0);
  t.set_tempo(60, t0 + 10 * s, t0 + 10 * s);  // beat 20 at 10 s
  EXPECT_DOUBLE_EQ(t.beat(t0 + 12 * s), 22);
  t.seek(0, t0 + 12 * s, t0 + 12 * s);
  EXPECT_DOUBLE_EQ(t.beat(t0 + 12 * s), 0);  // position 0 is beat 0
  EXPECT_DOUBLE_EQ(t.beat(t0 + 13 * s), 1);
}

TEST(Transport, ASeekBeforeTheStartMovesTheHeldPosition) {
  transport t(10 * s);
  t.play_at(t0 + 1 * s, t0);
  t.seek(20 * s, t0 + 300 * ms, t0);
  EXPECT_EQ(t.position_us(t0 + 300 * ms - 1), 10 * s);
  EXPECT_EQ(t.position_us(t0 + 300 * ms), 20 * s);
  EXPECT_EQ(t.position_us(t0 + 1 * s), 20 * s);  // still held until the start
  EXPECT_EQ(t.starts_at_us(t0 + 500 * ms), t0 + 1 * s);
  EXPECT_EQ(t.position_us(t0 + 1 * s + 1), 20 * s + 1);
}

TEST(Transport, ChangesTakeEffectInTheOrderTheyWereMade) {
  transport t;
  t.play_at(t0, t0);
  EXPECT_EQ(t.seek(40 * s, t0 + 500 * ms, t0), t0 + 500 * ms);
  // Asked for earlier than the pending seek: raised to it.
  EXPECT_EQ(t.set_tempo(60, t0 + 200 * ms, t0), t0 + 500 * ms);
  EXPECT_EQ(t.tempo(t0 + 499 * ms), 120);
  // The seek re-grids at 120 (beat 80), then 60 BPM from there.
  EXPECT_DOUBLE_EQ(t.beat(t0 + 500 * ms), 80);
  EXPECT_DOUBLE_EQ(t.beat(t0 + 550 * ms), 80.05);
  EXPECT_EQ(t.set_tempo(90, t0 - 1 * s, t0 + 600 * ms), t0 + 600 * ms);  // raised to now
  EXPECT_DOUBLE_EQ(t.beat(t0 + 1600 * ms), 80.1 + 1.5);
}

TEST(Transport, PauseFoldsPendingChangesIn) {
  transport t;
  t.play_at(t0, t0);
  t.seek(30 * s, t0 + 1200 * ms, t0 + 1 * s);
  t.set_tempo(60, t0 + 1300 * ms, t0 + 1 * s);
  ASSERT_TRUE(t.pause(t0 + 1100 * ms));
  EXPECT_EQ(t.position_us(t0 + 1100 * ms), 30 * s);
  EXPECT_EQ(t.position_us(t0 + 5 * s), 30 * s);
  EXPECT_EQ(t.tempo(t0 + 1100 * ms), 60);
  EXPECT_DOUBLE_EQ(t.beat(t0 + 5 * s), 60);  // re-gridded at 120, then the tempo keeps the beat
  EXPECT_TRUE(t.pending(t0).empty());
}

TEST(Transport, PendingChangesAreBounded) {
  transport t;
  t.play_at(t0, t0);
  for (size_t i = 0; i < max_pending_changes; ++i) {
    ASSERT_TRUE(t.seek(static_cast<int64_t>(i) * s, t0 + 1 * s, t0)) << i;
  }
  EXPECT_FALSE(t.seek(99 * s, t0 + 1 * s, t0));
  EXPECT_FALSE(t.set_tempo(60, t0 + 1 * s, t0));
  EXPECT_EQ(t.pending(t0).size(), max_pending_changes);
  EXPECT_EQ(t.position_us(t0 + 1 * s), static_cast<int64_t>(max_pending_changes - 1) * s);
  // Once they are due there is room again.
  EXPECT_TRUE(t.set_tempo(60, t0 + 2 * s, t0 + 1 * s));
  EXPECT_EQ(t.tempo(t0 + 2 * s), 60);
}

TEST(Transport, StopGoesToZeroAndKeepsTheTempo) {
  transport t(5 * s);
  t.play_at(t0, t0);
  t.set_tempo(100, t0 + 2 * s, t0 + 1 * s);
  t.stop(t0 + 1500 * ms);
  EXPECT_FALSE(t.playing());
  EXPECT_EQ(t.position_us(t0 + 9 * s), 0);
  EXPECT_EQ(t.beat(t0 + 9 * s), 0);
  EXPECT_EQ(t.tempo(t0 + 9 * s), 100);
}

TEST(Transport, TheTimeSignatureRereadsTheBarNotTheBeat) {
  transport t(6 * s);  // beat 12
  EXPECT_DOUBLE_EQ(t.bar(t0), 3);
  t.set_beats_per_bar(3);
  EXPECT_DOUBLE_EQ(t.beat(t0), 12);
  EXPECT_DOUBLE_EQ(t.bar(t0), 4);
}

// Random tempo changes at random times: the beat never jumps and never runs
// backwards, and the position is exactly the elapsed time.
TEST(Transport, RandomTempoChangesKeepTheBeatContinuous) {
  std::mt19937_64 rng(11);
  std::uniform_int_distribution<int64_t> gap(1, 3 * s);
  std::uniform_real_distribution<double> tempo(20, 300);
  transport t;
  t.play_at(t0 + 100 * ms, t0);
  int64_t now = t0;
  for (int i = 0; i < 500; ++i) {
    now += gap(rng);
    auto at = t.set_tempo(tempo(rng), now + gap(rng), now);
    ASSERT_TRUE(at);
    double before = t.beat(*at - 1);
    double after = t.beat(*at);
    ASSERT_GE(after, before);
    ASSERT_LE(after - before, 300.0 / 60'000'000 + 1e-9) << i;
    ASSERT_EQ(t.position_us(*at), *at - (t0 + 100 * ms));
  }
}

TEST(Transport, PlayStartLeadCountInAndAt) {
  // Without at or count-in: the lead (0 = at once).
  EXPECT_EQ(play_start_us(t0, 200 * ms, std::nullopt, 0, 4, 120), t0 + 200 * ms);
  EXPECT_EQ(play_start_us(t0, 0, std::nullopt, 0, 4, 120), t0);
  // Two bars of 4/4 at 120 BPM: 4 s, longer than the lead.
  EXPECT_EQ(play_start_us(t0, 200 * ms, std::nullopt, 2, 4, 120), t0 + 4 * s);
  // One bar of one beat at 300 BPM (200 ms) is shorter than a 250 ms lead.
  EXPECT_EQ(play_start_us(t0, 250 * ms, std::nullopt, 1, 1, 300), t0 + 250 * ms);
  // `at` is honoured, but never inside the count-in nor before now.
  EXPECT_EQ(play_start_us(t0, 200 * ms, t0 + 50 * ms, 0, 4, 120), t0 + 50 * ms);
  EXPECT_EQ(play_start_us(t0, 200 * ms, t0 + 10 * s, 2, 4, 120), t0 + 10 * s);
  EXPECT_EQ(play_start_us(t0, 200 * ms, t0 + 1 * s, 2, 4, 120), t0 + 4 * s);
  EXPECT_EQ(play_start_us(t0, 200 * ms, t0 - 1 * s, 0, 4, 120), t0);
  EXPECT_EQ(bars_duration_us(1, 3, 90), 2 * s);
  EXPECT_EQ(bars_duration_us(1, 7, 140), 3 * s);
  EXPECT_EQ(bars_duration_us(1, 1, 7), 8'571'429);  // rounded to the µs
  EXPECT_EQ(bars_duration_us(0, 4, 120), 0);
}

}  // namespace
}  // namespace bandsync::domain
