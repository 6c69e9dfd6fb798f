// The shared tick schedule: phases per session, no drift, no bursts after a
// stall, stale entries bounded; and tick_due() through the service.

#include "bandsync/tick_schedule.hpp"

#include <gtest/gtest.h>

#include "service_fixture.hpp"

namespace bandsync::testing {
namespace {

using domain::tick_schedule;
using ticks = std::vector<std::pair<std::string, int64_t>>;

ticks run(tick_schedule& t, int64_t now) {
  ticks out;
  t.run_due(now, [&](const std::string& id, int64_t due) { out.emplace_back(id, due); });
  return out;
}

TEST(TickSchedule, EachSessionTicksFromItsOwnStart) {
  tick_schedule t(100'000);
  EXPECT_EQ(t.start("a", 0), 100'000);
  EXPECT_EQ(t.start("b", 30'000), 130'000);
  EXPECT_EQ(t.next_due(), 100'000);
  EXPECT_TRUE(run(t, 99'999).empty());
  EXPECT_EQ(run(t, 100'000), (ticks{{"a", 100'000}}));
  EXPECT_EQ(run(t, 130'500), (ticks{{"b", 130'000}}));
  EXPECT_EQ(t.next_due(), 200'000);
}

TEST(TickSchedule, LateWakeUpsDoNotShiftThePhase) {
  tick_schedule t(100'000);
  t.start("a", 0);
  for (int k = 1; k <= 50; ++k) {
    // Every wake-up 3 ms late: due times stay on the 100 ms grid.
    EXPECT_EQ(run(t, k * 100'000 + 3'000), (ticks{{"a", k * 100'000}}));
  }
}

TEST(TickSchedule, AStallSkipsMissedTicksInsteadOfBursting) {
  tick_schedule t(100'000);
  t.start("a", 0);
  EXPECT_EQ(run(t, 1'000'000).size(), 1u);  // 9 ticks were missed: one is sent
  EXPECT_EQ(t.next_due(), 1'100'000);
}

TEST(TickSchedule, StopAndRestart) {
  tick_schedule t(100'000);
  t.start("a", 0);
  t.stop("a");
  EXPECT_FALSE(t.ticking("a"));
  EXPECT_TRUE(run(t, 500'000).empty());
  t.start("a", 500'000);
  t.start("a", 550'000);  // restarted: the old phase is gone
  EXPECT_EQ(run(t, 700'000), (ticks{{"a", 650'000}}));
}

TEST(TickSchedule, StaleEntriesStayBounded) {
  tick_schedule t(100'000);
  for (int i = 0; i < 100'000; ++i) {
    t.start("a", i);
    t.stop("a");
  }
  t.start("a", 0);
  EXPECT_EQ(t.size(), 1u);
  // Only the live entry survives a run far in the future.
  EXPECT_EQ(run(t, 10'000'000).size(), 1u);
}

class TickDue : public service_test {};

TEST_F(TickDue, SessionsTickOnTheirOwnPhaseWithExactPositions) {
  join("a", "one", "A");
  join("b", "two", "B");
  std::vector<int64_t> wakeups;
  svc().set_tick_wakeup([&](int64_t due) { wakeups.push_back(due); });
  int64_t t0 = clock_.steady_us();
  send("a", "play", R"({"sessionId":"one"})");
  clock_.advance_ms(40);
  send("b", "play", R"({"sessionId":"two"})");
  EXPECT_EQ(wakeups, (std::vector<int64_t>{t0 + 100'000, t0 + 140'000}));
  EXPECT_EQ(svc().next_tick_due_us(), t0 + 100'000);

  out_.clear();
  clock_.advance_ms(60);  // t0 + 100 ms: only "one" is due
  std::vector<int64_t> lags;
  EXPECT_EQ(svc().tick_due([&](int64_t lag) { lags.push_back(lag); }), 1u);
  auto ticks = out_.named("scroll_tick");
  ASSERT_EQ(ticks.size(), 1u);
  EXPECT_EQ(ticks[0]->obj().at("sessionId"), "one");
  EXPECT_EQ(ticks[0]->obj().at("positionMs"), 100);
  EXPECT_EQ(lags, (std::vector<int64_t>{0}));

  out_.clear();
  clock_.advance_ms(42);  // t0 + 142 ms: "two" is due, 2 ms late
  EXPECT_EQ(svc().tick_due([&](int64_t lag) { lags.push_back(lag); }), 1u);
  ticks = out_.named("scroll_tick");
  ASSERT_EQ(ticks.size(), 1u);
  EXPECT_EQ(ticks[0]->obj().at("sessionId"), "two");
  EXPECT_EQ(ticks[0]->obj().at("positionMs"), 102);  // derived, so the lateness is in it
  EXPECT_EQ(lags.back(), 2'000);

  send("a", "pause", R"({"sessionId":"one"})");
  out_.clear();
  clock_.advance_ms(1000);
  svc().tick_due();
  for (const auto* t : out_.named("scroll_tick")) EXPECT_EQ(t->obj().at("sessionId"), "two");
}

}  // namespace
}  // namespace bandsync::testing
