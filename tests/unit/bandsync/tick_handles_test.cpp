// The tick schedule hands each due tick its session (no lookup by id on the
// tick path, issue 12), and the session table tells whoever holds such a
// pointer before a session goes away.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "bandsync/session.hpp"
#include "bandsync/session_table.hpp"
#include "bandsync/tick_schedule.hpp"

namespace bandsync::domain {
namespace {

struct seen {
  std::string id;
  const session* s;
  int64_t due;
  bool operator==(const seen&) const = default;
};

std::vector<seen> run(tick_schedule& t, int64_t now) {
  std::vector<seen> out;
  t.run_due(now, [&](const tick_schedule::due_tick& d) { out.push_back({d.id, d.s, d.due_us}); });
  return out;
}

TEST(TickHandles, EachDueTickCarriesTheSessionItWasStartedWith) {
  session a("a", 0, 8), b("b", 0, 8);
  tick_schedule t(100'000);
  t.start("a", 0, 1, &a);
  t.start("b", 0, 1, &b);
  t.start("c", 0);  // none given
  auto got = run(t, 100'000);
  ASSERT_EQ(got.size(), 3u);
  for (const auto& g : got) {
    EXPECT_EQ(g.s, g.id == "a" ? &a : g.id == "b" ? &b : nullptr) << g.id;
  }
}

TEST(TickHandles, AStoppedOrRestartedTickerNeverHandsOutItsOldSession) {
  session a("a", 0, 8), a2("a", 0, 8);
  tick_schedule t(100'000);
  t.start("a", 0, 1, &a);
  t.stop("a");
  EXPECT_TRUE(run(t, 1'000'000).empty());
  t.start("a", 1'000'000, 1, &a2);
  auto got = run(t, 2'000'000);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].s, &a2);
}

TEST(TickHandles, TheCallbackMayStopItselfAndStartOthers) {
  std::vector<session> sessions;
  for (int i = 0; i < 3; ++i) sessions.emplace_back("s" + std::to_string(i), 0, 8);
  tick_schedule t(100'000, 1);
  for (int i = 0; i < 3; ++i) t.start(sessions[i].id(), 0, 1, &sessions[i]);
  std::vector<std::string> ids;
  int started = 0;
  t.run_due(100'000, [&](const tick_schedule::due_tick& d) {
    ids.push_back(d.id);  // read before anything changes
    if (d.id == "s0") t.stop("s0");
    // Many new tickers: the schedule's cells grow under the running loop.
    for (int k = 0; k < 200; ++k) t.start("new" + std::to_string(started++), 100'000);
  });
  EXPECT_EQ(ids, (std::vector<std::string>{"s0", "s1", "s2"}));
  EXPECT_FALSE(t.ticking("s0"));
  EXPECT_TRUE(t.ticking("s1"));
  EXPECT_EQ(t.size(), 2u + 600u);
}

TEST(TickHandles, TheTableReportsEveryErasureIncludingEvictions) {
  session_table table(2);
  std::vector<std::string> erased;
  table.on_erase([&](const std::string& id) { erased.push_back(id); });
  table.insert(session("old", 1, 8), nullptr);  // empty: evictable
  table.insert(session("x", 2, 8), nullptr);
  std::optional<std::string> evicted;
  ASSERT_NE(table.insert(session("y", 3, 8), &evicted), nullptr);
  EXPECT_EQ(evicted, "old");
  table.erase("x");
  table.erase("missing");  // not there: nothing to report
  EXPECT_EQ(erased, (std::vector<std::string>{"old", "x"}));
}

}  // namespace
}  // namespace bandsync::domain
