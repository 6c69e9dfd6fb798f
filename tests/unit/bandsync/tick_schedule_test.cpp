// The shared tick schedule: phases per session, no drift, no bursts after a
// stall, stale entries bounded, recipients balanced over the slots of the
// period; and tick_due() through the service.

#include "bandsync/tick_schedule.hpp"

#include <algorithm>
#include <random>
#include <unordered_map>

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

uint64_t max_load(const tick_schedule& t) {
  uint64_t m = 0;
  for (size_t k = 0; k < t.slots(); ++k) m = std::max(m, t.slot_load(k));
  return m;
}

uint64_t total_load(const tick_schedule& t) {
  uint64_t sum = 0;
  for (size_t k = 0; k < t.slots(); ++k) sum += t.slot_load(k);
  return sum;
}

uint64_t ceil_div(uint64_t a, uint64_t b) {
  return (a + b - 1) / b;
}

TEST(TickSchedule, SessionsStartedTogetherSpreadOverTheSlots) {
  // 500 bands of 8 pressing play in the same microsecond (a bulk resume).
  tick_schedule t(100'000);
  ASSERT_EQ(t.slots(), 100u);
  const int64_t now = 7'000'123;
  for (int i = 0; i < 500; ++i) {
    int64_t due = t.start("s" + std::to_string(i), now, 8);
    EXPECT_GT(due, now);
    EXPECT_LE(due, now + 100'000);
  }
  EXPECT_EQ(total_load(t), 4000u);
  EXPECT_LE(max_load(t), ceil_div(4000, 100) + 8);
  // The writes of one period, bucketed by the 1 ms they are due in: the same
  // spread, where a phase per start would have put all 4 000 in one bucket.
  std::vector<uint64_t> per_ms(100, 0);
  size_t due = t.run_due(now + 100'000, [&](const std::string&, int64_t at) {
    per_ms[static_cast<size_t>((at - now - 1) / 1000)] += 8;
  });
  EXPECT_EQ(due, 500u);
  EXPECT_LE(*std::max_element(per_ms.begin(), per_ms.end()), ceil_div(4000, 100) + 8);
}

TEST(TickSchedule, UnevenSessionsStartedTogetherStayWithinOneSessionOfEven) {
  tick_schedule t(100'000);
  std::mt19937 rng(12);
  std::uniform_int_distribution<size_t> members(1, 8);
  uint64_t total = 0;
  for (int i = 0; i < 500; ++i) {
    size_t m = members(rng);
    total += m;
    t.start("s" + std::to_string(i), 42, m);
  }
  EXPECT_EQ(total_load(t), total);
  EXPECT_LE(max_load(t), ceil_div(total, 100) + 8);
}

TEST(TickSchedule, SessionsKeepTheirSlotFromTickToTick) {
  tick_schedule t(100'000);
  for (int i = 0; i < 300; ++i) t.start("s" + std::to_string(i), 1'000'000 + i % 7, 8);
  std::unordered_map<std::string, int64_t> last;
  for (int64_t now = 1'000'000; now <= 2'000'000; now += 1'000) {
    t.run_due(now, [&](const std::string& id, int64_t at) {
      auto slot = t.slot_of(id);
      ASSERT_TRUE(slot);
      EXPECT_EQ(at % 100'000, static_cast<int64_t>(*slot) * 1'000) << id;
      if (last.contains(id)) {
        EXPECT_EQ(at - last[id], 100'000) << id;
      }
      last[id] = at;
    });
  }
  EXPECT_EQ(last.size(), 300u);
}

TEST(TickSchedule, StopFreesTheSlotsLoad) {
  tick_schedule t(100'000, 4);
  t.start("a", 0, 8);
  t.start("b", 0, 8);
  t.start("c", 0, 8);
  t.start("d", 0, 8);
  auto slot_a = t.slot_of("a");
  ASSERT_TRUE(slot_a);
  EXPECT_EQ(max_load(t), 8u);  // one session per slot
  t.stop("a");
  EXPECT_FALSE(t.slot_of("a"));
  EXPECT_EQ(t.slot_load(*slot_a), 0u);
  EXPECT_EQ(total_load(t), 24u);
  t.start("e", 12'345, 3);
  EXPECT_EQ(t.slot_of("e"), slot_a);  // the freed slot is the least loaded
  t.stop("nobody");                   // harmless
  EXPECT_EQ(total_load(t), 27u);
}

TEST(TickSchedule, RecipientChangesMoveTheLoadNotTheSession) {
  tick_schedule t(100'000, 4);
  t.start("a", 0);  // one recipient unless told
  EXPECT_EQ(total_load(t), 1u);
  auto slot_a = *t.slot_of("a");
  t.set_recipients("a", 8);  // the band joined after play
  EXPECT_EQ(t.slot_of("a"), slot_a);
  EXPECT_EQ(t.slot_load(slot_a), 8u);
  t.start("b", 0, 2);
  t.start("c", 0, 2);
  t.start("d", 0, 2);
  t.start("e", 0, 2);  // slot_a holds 8: "e" goes with one of the 2s
  EXPECT_NE(t.slot_of("e"), slot_a);
  t.set_recipients("a", 1);
  EXPECT_EQ(t.slot_load(slot_a), 1u);
  t.set_recipients("nobody", 5);  // not ticking: no-op
  EXPECT_EQ(total_load(t), 1u + 8u);
  t.start("a", 50'000, 1);  // a restart frees the old slot before picking
  EXPECT_EQ(total_load(t), 1u + 8u);
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
