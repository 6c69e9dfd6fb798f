// The clock additions through the service (docs/EVENTS.md "Clock"):
// time_sync, scheduled play with count-in, timed seek/set_tempo, the beat
// grid and set_time_signature.

#include <cmath>
#include <optional>

#include "service_fixture.hpp"
#include "store/json_number.hpp"

namespace bandsync::testing {
namespace {

using strings = std::vector<std::string>;

class Clock : public service_test {
 protected:
  Clock() {
    domain::service_options o;
    o.play_lead_ms = 200;  // PLAY_LEAD_MS as a band of bandsync-client devices would set it
    make_service(o);
    join("lead", "band", "Keys");
    join("f", "band", "Bass");
  }

  double server_now() const { return clock_.server_time_ms(); }

  // Moves the clock onto the next scroll_tick and returns it. The driver's
  // wake-ups (next_tick_due_us) include the playing sessions' write-behind,
  // which sends no tick: those are passed as the driver would.
  const boost::json::object& next_tick() {
    for (int wakeups = 0; wakeups < 3; ++wakeups) {
      auto due = svc().next_tick_due_us();
      EXPECT_TRUE(due);
      if (!due) break;
      clock_.advance_us(*due - clock_.steady_us());
      out_.clear();
      svc().tick_due();
      auto ticks = out_.named("scroll_tick");
      EXPECT_LE(ticks.size(), 1u);
      if (!ticks.empty()) return ticks.at(0)->obj();
    }
    ADD_FAILURE() << "no scroll_tick within three wake-ups";
    static const boost::json::object none;
    return none;
  }
};

double num(const boost::json::value& v) {
  return *store::number_of(v);
}

TEST_F(Clock, TimeSyncAnswersThroughTheAck) {
  clock_.advance_us(1234);  // a fraction of a millisecond: server times carry it
  std::optional<boost::json::value> acked;
  int calls = 0;
  svc().on_event("f", "time_sync", args_json(R"({"t1":1234.5})"), [&](const boost::json::value& v) {
    acked = v;
    ++calls;
  });
  EXPECT_TRUE(out_.log.empty()) << ::testing::PrintToString(out_.trace());
  ASSERT_EQ(calls, 1);
  const auto& o = acked->as_object();
  EXPECT_EQ(o.size(), 3u);
  EXPECT_EQ(o.at("t1"), 1234.5);
  EXPECT_EQ(num(o.at("t2")), server_now());
  EXPECT_EQ(num(o.at("t3")), server_now());
  EXPECT_EQ(server_now(), fake_clock::initial_wall_ms + 1.234);
}

TEST_F(Clock, TimeSyncWithoutAckEmitsAResponseAndNeedsNoSession) {
  connect("stranger");
  send("stranger", "time_sync", R"({"t1":"not a number"})");
  expect_only_error("stranger", "INVALID_PAYLOAD");
  out_.clear();
  send("stranger", "time_sync", R"({"t1":-7})");
  EXPECT_EQ(out_.trace(), (strings{"to:stranger time_sync_response"}));
  const auto& o = out_.last("time_sync_response")->obj();
  EXPECT_EQ(o.at("t1"), -7);
  EXPECT_EQ(num(o.at("t2")), server_now());
  EXPECT_EQ(num(o.at("t3")), server_now());
}

TEST_F(Clock, PlayWithoutAtStartsAfterTheLead) {
  send("lead", "play", R"({"sessionId":"band"})");
  const auto& play = out_.last("play")->obj();
  EXPECT_EQ(num(play.at("serverTimestamp")), server_now());
  EXPECT_EQ(num(play.at("startsAt")), server_now() + 200);
  EXPECT_EQ(out_.last("snapshot")->obj().at("isPlaying"), true);
  EXPECT_EQ(num(out_.last("snapshot")->obj().at("startsAt")), server_now() + 200);
}

TEST_F(Clock, CountInSchedulesTheStartAndTicksHoldUntilIt) {
  send("lead", "seek", R"({"sessionId":"band","position":1000})");
  out_.clear();
  double sent_at = server_now();
  // 2 bars of 4 beats at 120 BPM: 4 s.
  send("lead", "play", R"({"sessionId":"band","countIn":2})");
  EXPECT_EQ(out_.trace(), (strings{"session:band snapshot", "session:band play"}));
  const auto& play = out_.last("play")->obj();
  EXPECT_EQ(num(play.at("startsAt")), sent_at + 4000);
  EXPECT_EQ(play.at("countInBars"), 2);
  EXPECT_EQ(play.at("beatsPerBar"), 4);
  EXPECT_EQ(play.at("position"), 1000.0);
  EXPECT_EQ(num(play.at("beat")), 2);  // 1000 ms at 120 BPM
  EXPECT_EQ(num(play.at("bar")), 0.5);

  // Every tick before the start holds the start position...
  for (int i = 0; i < 39; ++i) {
    const auto& t = next_tick();
    EXPECT_EQ(t.at("positionMs"), 1000) << i;
    EXPECT_EQ(num(t.at("beat")), 2) << i;
  }
  EXPECT_LT(server_now(), sent_at + 4000);
  send("f", "sync_request", R"({"sessionId":"band"})");
  EXPECT_EQ(out_.last("sync_response")->obj().at("positionMs"), 1000);
  EXPECT_EQ(num(out_.last("sync_response")->obj().at("startsAt")), sent_at + 4000);
  // ...then the position runs from it exactly.
  clock_.advance_us(static_cast<int64_t>((sent_at + 4000 - server_now()) * 1000) + 250'000);
  EXPECT_EQ(server_now(), sent_at + 4250);
  send("f", "sync_request", R"({"sessionId":"band"})");
  const auto& sync = out_.last("sync_response")->obj();
  EXPECT_EQ(sync.at("positionMs"), 1250);
  EXPECT_EQ(num(sync.at("beat")), 2.5);
  EXPECT_EQ(sync.at("startsAt"), nullptr);
  const auto& t = next_tick();
  EXPECT_EQ(std::floor(num(t.at("serverTimestamp")) - (sent_at + 4000) + 1000),
            t.at("positionMs").as_int64());
}

TEST_F(Clock, PlayAtAServerTime) {
  double at = server_now() + 1500.25;
  send("lead", "play", boost::json::value({{"sessionId", "band"}, {"at", at}}));
  EXPECT_EQ(num(out_.last("play")->obj().at("startsAt")), at);
  out_.clear();
  send("lead", "play", boost::json::value({{"sessionId", "band"}, {"at", at + 61'000}}));
  expect_only_error("lead", "INVALID_PAYLOAD");
}

TEST_F(Clock, RepeatedPlayKeepsTheFirstSchedule) {
  send("lead", "play", R"({"sessionId":"band","countIn":1})");
  double starts = num(out_.last("play")->obj().at("startsAt"));
  clock_.advance_ms(100);
  send("lead", "play", R"({"sessionId":"band"})");
  EXPECT_EQ(num(out_.last("play")->obj().at("startsAt")), starts);
}

TEST_F(Clock, BeatIsContinuousThroughATimedTempoChange) {
  send("lead", "play", R"({"sessionId":"band","countIn":0})");
  clock_.advance_ms(200 + 1000);  // lead, then 1 s at 120 BPM: beat 2
  EXPECT_EQ(session("band").beat(clock_.steady_us()), 2);
  double at = server_now() + 500;
  send("lead", "set_tempo", boost::json::value({{"sessionId", "band"}, {"tempo", 60}, {"at", at}}));
  const auto& snap = out_.last("snapshot")->obj();
  EXPECT_EQ(snap.at("tempoBpm"), 120.0);  // not yet
  EXPECT_EQ(num(snap.at("effectiveAt")), at);
  clock_.advance_ms(500);  // the change is due: beat 3, now 1 beat per second
  EXPECT_EQ(session("band").beat(clock_.steady_us()), 3);
  EXPECT_EQ(session("band").tempo(clock_.steady_us()), 60);
  // Just before and after the change the beat moves by the elapsed time only.
  EXPECT_NEAR(session("band").beat(clock_.steady_us() - 1000), 3 - 0.002, 1e-9);
  EXPECT_NEAR(session("band").beat(clock_.steady_us() + 1000), 3 + 0.001, 1e-9);
  clock_.advance_ms(1500);
  send("f", "sync_request", R"({"sessionId":"band"})");
  const auto& sync = out_.last("sync_response")->obj();
  EXPECT_EQ(num(sync.at("beat")), 4.5);
  EXPECT_EQ(num(sync.at("bar")), 4.5 / 4);
  EXPECT_EQ(sync.at("tempoBpm"), 60.0);
  EXPECT_EQ(sync.at("positionMs"), 3000);  // the position is real time
}

TEST_F(Clock, TimedSeekAnnouncesItsEffectiveTime) {
  send("lead", "play", R"({"sessionId":"band"})");
  clock_.advance_ms(1200);  // position 1000
  double at = server_now() + 300;
  out_.clear();
  send("lead", "seek", boost::json::value({{"sessionId", "band"}, {"position", 8000}, {"at", at}}));
  EXPECT_EQ(out_.trace(), (strings{"session:band snapshot", "session:band seek"}));
  const auto& seek = out_.last("seek")->obj();
  EXPECT_EQ(num(seek.at("effectiveAt")), at);
  EXPECT_EQ(seek.at("position"), 8000.0);
  EXPECT_EQ(num(seek.at("beat")), 16);
  clock_.advance_ms(299);
  EXPECT_EQ(session("band").position_us(clock_.steady_us()), 1'299'000);
  clock_.advance_ms(1);
  EXPECT_EQ(session("band").position_us(clock_.steady_us()), 8'000'000);
}

TEST_F(Clock, SetTimeSignatureIsLeaderOnlyAndRereadsTheBar) {
  send("f", "set_time_signature", R"({"sessionId":"band","beatsPerBar":3})");
  expect_only_error("f", "NOT_LEADER", "Only the leader can set_time_signature");
  out_.clear();
  send("lead", "set_time_signature", R"({"sessionId":"band","beatsPerBar":17})");
  expect_only_error("lead", "INVALID_PAYLOAD");
  out_.clear();
  send("lead", "seek", R"({"sessionId":"band","position":3000})");  // beat 6
  send("lead", "set_time_signature", R"({"sessionId":"band","beatsPerBar":3})");
  const auto& snap = out_.last("snapshot")->obj();
  EXPECT_EQ(snap.at("beatsPerBar"), 3);
  EXPECT_EQ(num(snap.at("beat")), 6);
  EXPECT_EQ(num(snap.at("bar")), 2);
}

TEST_F(Clock, TooManyPendingChangesAreRefused) {
  send("lead", "play", R"({"sessionId":"band"})");
  double at = server_now() + 10'000;
  for (size_t i = 0; i < domain::max_pending_changes; ++i) {
    send("lead", "set_tempo",
         boost::json::value({{"sessionId", "band"}, {"tempo", 100 + i}, {"at", at}}));
  }
  out_.clear();
  send("lead", "set_tempo", boost::json::value({{"sessionId", "band"}, {"tempo", 90}, {"at", at}}));
  expect_only_error("lead", "SCHEDULE_FULL", "too many scheduled changes pending");
}

TEST_F(Clock, ServerTimestampsIgnoreWallClockSteps) {
  clock_.set_wall_ms(clock_.wall_ms() + 3'600'000);  // NTP step
  send("f", "sync_request", R"({"sessionId":"band"})");
  EXPECT_EQ(num(out_.last("sync_response")->obj().at("serverTime")), fake_clock::initial_wall_ms);
}

}  // namespace
}  // namespace bandsync::testing
