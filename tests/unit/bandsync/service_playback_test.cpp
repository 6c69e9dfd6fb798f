// The scroll clock through the service: play, pause, stop, seek, set_tempo,
// scroll_tick and sync_request (EVENTS.md; ARCHITECTURE.md "Time").

#include <algorithm>
#include <random>

#include "service_fixture.hpp"

namespace bandsync::testing {
namespace {

using strings = std::vector<std::string>;

class Playback : public service_test {
 protected:
  Playback() {
    join("lead", "band", "Keys");
    join("f", "band", "Bass");
  }

  // Server time now as the payloads carry it: a double (util::to_json_text
  // writes a whole one as JavaScript does, "1700000000000").
  boost::json::value server_now() const { return clock_.server_time_ms(); }

  // The position of the tick the scheduler sends now (one must be due).
  int64_t tick_position() {
    out_.clear();
    svc().tick_due();
    auto ticks = out_.named("scroll_tick");
    EXPECT_EQ(ticks.size(), 1u);
    return ticks.empty() ? -1 : ticks[0]->obj().at("positionMs").as_int64();
  }
};

TEST_F(Playback, PlaySendsSnapshotThenPlay) {
  clock_.advance_ms(7);
  send("lead", "play", R"({"sessionId":"band"})");
  EXPECT_EQ(out_.trace(), (strings{"session:band snapshot", "session:band play"}));
  EXPECT_EQ(out_.last("snapshot")->obj().at("isPlaying"), true);
  EXPECT_EQ(boost::json::value(out_.last("play")->obj()),
            boost::json::value({{"sessionId", "band"},
                                {"tempoBpm", 120.0},
                                {"position", 0.0},
                                {"serverTimestamp", server_now()},
                                // PLAY_LEAD_MS is 0 in the service's defaults
                                {"startsAt", server_now()},
                                {"countInBars", 0},
                                {"beatsPerBar", 4},
                                {"beat", 0.0},
                                {"bar", 0.0}}));
  EXPECT_TRUE(store_.is_ticking("band"));
  EXPECT_TRUE(store_.find_session("band")->is_playing);
  EXPECT_EQ(svc().session_stats().at("playingSessions"), 1);
}

TEST_F(Playback, TickReportsTheDerivedPosition) {
  send("lead", "play", R"({"sessionId":"band"})");
  clock_.advance_us(123'456);
  out_.clear();
  svc().tick_due();
  ASSERT_EQ(out_.trace(), (strings{"session:band scroll_tick"}));
  EXPECT_EQ(boost::json::value(out_.last("scroll_tick")->obj()),
            boost::json::value({{"sessionId", "band"},
                                {"positionMs", 123},  // floor of 123.456
                                {"tempoBpm", 120.0},
                                {"serverTimestamp", server_now()},
                                // the beat arithmetic is transport_test's
                                {"beat", session("band").beat(clock_.steady_us())},
                                {"bar", session("band").bar(clock_.steady_us())}}));
  EXPECT_NEAR(session("band").beat(clock_.steady_us()), 123.456 * 120 / 60000, 1e-12);
}

// Several sessions due in one turn: each tick carries the position at its
// own moment of writing, not the turn's start (the ticks written before it
// take time; under load, hundreds of them).
TEST_F(Playback, EachTickOfATurnCarriesItsOwnMoment) {
  join("lead2", "band2", "Keys");
  send("lead", "play", R"({"sessionId":"band"})");
  send("lead2", "play", R"({"sessionId":"band2"})");
  clock_.advance_ms(150);  // both sessions are due
  clock_.set_step_per_read_us(700);
  out_.clear();
  svc().tick_due();
  clock_.set_step_per_read_us(0);
  auto ticks = out_.named("scroll_tick");
  ASSERT_EQ(ticks.size(), 2u);
  double t0 = ticks[0]->obj().at("serverTimestamp").to_number<double>();
  double t1 = ticks[1]->obj().at("serverTimestamp").to_number<double>();
  EXPECT_GE(t1 - t0, 0.69);  // at least one clock read (0.7 ms) between the two
  // Both played at the same moment: the positions differ by what the
  // timestamps do (positionMs is whole milliseconds).
  auto pos = [&](size_t i) {
    return static_cast<double>(ticks[i]->obj().at("positionMs").as_int64());
  };
  EXPECT_NEAR(pos(1) - pos(0), t1 - t0, 1.0);
}

TEST_F(Playback, TenMinutesInUnevenStepsDoNotDrift) {
  send("lead", "play", R"({"sessionId":"band"})");
  std::mt19937 rng(1234);
  std::uniform_int_distribution<int64_t> step(1, 250'000);  // 1 us .. 250 ms, like a late timer
  int64_t elapsed_us = 0;
  size_t ticks = 0;
  while (elapsed_us < 10 * 60 * 1'000'000LL) {
    int64_t d = step(rng);
    clock_.advance_us(d);
    elapsed_us += d;
    out_.clear();
    svc().tick_due();
    // Steps shorter than the 100 ms period may find no tick due; every tick
    // sent carries the exact derived position.
    auto sent = out_.named("scroll_tick");
    ASSERT_LE(sent.size(), 1u);
    if (sent.empty()) continue;
    ++ticks;
    ASSERT_EQ(sent[0]->obj().at("positionMs").as_int64(), elapsed_us / 1000)
        << "after " << elapsed_us << " us";
  }
  // A tick is due at most 100 ms after the last one and the calls are at most
  // 250 ms apart, so ticks are never more than 350 ms apart.
  EXPECT_GE(ticks, static_cast<size_t>(10 * 60 * 1000 / 350));
  send("f", "sync_request", R"({"sessionId":"band"})");
  EXPECT_EQ(out_.last("sync_response")->obj().at("positionMs"), elapsed_us / 1000);
}

TEST_F(Playback, PauseFreezesAndPlayResumes) {
  send("lead", "play", R"({"sessionId":"band"})");
  clock_.advance_us(2'000'500);
  out_.clear();
  send("lead", "pause", R"({"sessionId":"band"})");
  EXPECT_EQ(out_.trace(), (strings{"session:band snapshot", "session:band pause"}));
  EXPECT_EQ(boost::json::value(out_.last("pause")->obj()),
            boost::json::value({{"sessionId", "band"},
                                {"position", 2000.5},
                                {"serverTimestamp", server_now()},
                                {"beat", 2000.5 * 120 / 60000},
                                {"bar", 2000.5 * 120 / 60000 / 4}}));
  EXPECT_FALSE(store_.is_ticking("band"));
  EXPECT_EQ(store_.find_session("band")->position_ms, 2000.5);

  clock_.advance_ms(60'000);
  out_.clear();
  svc().tick_due();
  EXPECT_TRUE(out_.log.empty());  // only playing sessions tick

  send("lead", "play", R"({"sessionId":"band"})");
  EXPECT_EQ(out_.last("play")->obj().at("position"), 2000.5);
  clock_.advance_ms(1000);
  EXPECT_EQ(tick_position(), 3000);
}

TEST_F(Playback, PlayWhilePlayingKeepsTheAnchor) {
  send("lead", "play", R"({"sessionId":"band"})");
  clock_.advance_ms(500);
  out_.clear();
  send("lead", "play", R"({"sessionId":"band"})");
  EXPECT_EQ(out_.trace(), (strings{"session:band snapshot", "session:band play"}));
  EXPECT_EQ(out_.last("play")->obj().at("position"), 500.0);
  clock_.advance_ms(500);
  EXPECT_EQ(tick_position(), 1000);
}

TEST_F(Playback, StopPausesAtZeroAndSendsPause) {
  send("lead", "play", R"({"sessionId":"band"})");
  clock_.advance_ms(4321);
  out_.clear();
  send("lead", "stop", R"({"sessionId":"band"})");
  EXPECT_EQ(out_.trace(), (strings{"session:band snapshot", "session:band pause"}));
  EXPECT_EQ(out_.last("pause")->obj().at("position"), 0.0);
  EXPECT_EQ(out_.last("snapshot")->obj().at("position"), 0.0);
  EXPECT_EQ(out_.last("snapshot")->obj().at("isPlaying"), false);
  EXPECT_FALSE(store_.is_ticking("band"));
  clock_.advance_ms(1000);
  EXPECT_EQ(session("band").position_us(clock_.steady_us()), 0);
}

TEST_F(Playback, SeekWhilePlayingKeepsPlayingFromThere) {
  send("lead", "play", R"({"sessionId":"band"})");
  clock_.advance_ms(1000);
  out_.clear();
  send("lead", "seek", R"({"sessionId":"band","position":60000.25})");
  EXPECT_EQ(out_.trace(), (strings{"session:band snapshot", "session:band seek"}));
  EXPECT_EQ(
      boost::json::value(out_.last("seek")->obj()),
      boost::json::value({{"sessionId", "band"},
                          {"position", 60000.25},
                          {"serverTimestamp", server_now()},
                          {"effectiveAt", server_now()},  // no `at`: at once, as the old contract
                          {"beat", 60000.25 * 120 / 60000},
                          {"bar", 60000.25 * 120 / 60000 / 4}}));
  EXPECT_EQ(out_.last("snapshot")->obj().at("isPlaying"), true);
  clock_.advance_ms(250);
  EXPECT_EQ(tick_position(), 60250);
}

TEST_F(Playback, SeekWhilePausedStaysPaused) {
  send("lead", "seek", R"({"sessionId":"band","position":42000})");
  clock_.advance_ms(1000);
  EXPECT_FALSE(session("band").playing());
  EXPECT_EQ(session("band").position_us(clock_.steady_us()), 42'000'000);
  EXPECT_EQ(store_.find_session("band")->position_ms, 42000);
}

TEST_F(Playback, TempoChangeReanchorsWithoutMovingThePosition) {
  send("lead", "play", R"({"sessionId":"band"})");
  clock_.advance_us(1'234'567);
  out_.clear();
  send("lead", "set_tempo", R"({"sessionId":"band","tempo":96.5})");
  EXPECT_EQ(out_.trace(), (strings{"session:band snapshot"}));
  const auto& snap = out_.last("snapshot")->obj();
  EXPECT_EQ(snap.at("tempo"), 96.5);
  EXPECT_EQ(snap.at("tempoBpm"), 96.5);
  EXPECT_EQ(snap.at("position"), 1234.567);
  clock_.advance_us(765'433);
  EXPECT_EQ(tick_position(), 2000);
  EXPECT_EQ(out_.last("scroll_tick")->obj().at("tempoBpm"), 96.5);
  send("lead", "set_tempo", R"({"sessionId":"band","tempo":140})");
  EXPECT_EQ(store_.find_session("band")->tempo, 140);
}

TEST_F(Playback, SyncResponseToTheSenderOnly) {
  send("lead", "play", R"({"sessionId":"band"})");
  clock_.advance_us(999'999);
  out_.clear();
  send("f", "sync_request", R"({"sessionId":"band"})");
  EXPECT_EQ(out_.trace(), (strings{"to:f sync_response"}));
  EXPECT_EQ(boost::json::value(out_.last("sync_response")->obj()),
            boost::json::value({{"sessionId", "band"},
                                {"positionMs", 999},
                                {"tempoBpm", 120.0},
                                {"isPlaying", true},
                                {"serverTime", server_now()},
                                {"beatsPerBar", 4},
                                {"beat", session("band").beat(clock_.steady_us())},
                                {"bar", session("band").bar(clock_.steady_us())},
                                {"startsAt", nullptr}}));
}

TEST_F(Playback, TickBuildsOnePayloadPerPlayingSessionOnly) {
  join("x", "other", "X");
  join("y", "quiet", "Y");
  send("lead", "play", R"({"sessionId":"band"})");
  send("x", "play", R"({"sessionId":"other"})");
  clock_.advance_ms(100);
  out_.clear();
  svc().tick_due();
  // Sessions that start together get different phases (tick_schedule), so
  // the order of their ticks is the schedule's, not checked here.
  strings trace = out_.trace();
  std::sort(trace.begin(), trace.end());
  EXPECT_EQ(trace, (strings{"session:band scroll_tick", "session:other scroll_tick"}));
}

TEST_F(Playback, FollowersCannotDriveTheTransport) {
  for (const char* event : {"play", "pause", "stop"}) {
    out_.clear();
    send("f", event, R"({"sessionId":"band"})");
    expect_only_error("f", "NOT_LEADER", std::string("Only the leader can ") + event);
  }
  out_.clear();
  send("f", "seek", R"({"sessionId":"band","position":5})");
  expect_only_error("f", "NOT_LEADER", "Only the leader can seek");
  out_.clear();
  send("f", "set_tempo", R"({"sessionId":"band","tempo":90})");
  expect_only_error("f", "NOT_LEADER", "Only the leader can set_tempo");
  EXPECT_FALSE(session("band").playing());
  EXPECT_EQ(session("band").tempo(clock_.steady_us()), 120);
  EXPECT_EQ(session("band").position_us(clock_.steady_us()), 0);
}

}  // namespace
}  // namespace bandsync::testing
