// The Asio timers that drive the domain, on a real io_context. Bounds are
// generous: the machine may be loaded; the tests check that the timers fire
// and stop, not how precisely.
#include "glue/timers.hpp"

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include "store/memory_store.hpp"
#include "test_support.hpp"

namespace bandsync::glue {
namespace {

using namespace std::chrono_literals;

// Runs `ioc` for about `d`.
void run_for(boost::asio::io_context& ioc, std::chrono::milliseconds d) {
  ioc.restart();
  ioc.run_for(d);
}

TEST(Periodic, FiresOnScheduleUntilStopped) {
  boost::asio::io_context ioc;
  int calls = 0;
  periodic p(ioc, 20ms, [&](double lag_ms) {
    EXPECT_GE(lag_ms, 0);
    ++calls;
  });
  p.start();
  run_for(ioc, 300ms);
  EXPECT_GE(calls, 3);
  EXPECT_LE(calls, 16);  // never faster than the period
  p.stop();
  int at_stop = calls;
  run_for(ioc, 100ms);
  EXPECT_EQ(calls, at_stop);
}

TEST(TickDriver, TicksPlayingSessionsAndRecordsTheirLag) {
  boost::asio::io_context ioc;
  domain::system_clock_source clock;
  testing::recording_outbox out;
  store::memory_store store;
  domain::session_service service(clock, out, store);
  lag_histogram lag;
  tick_driver driver(ioc, service, lag);
  driver.start();

  service.on_connect("a");
  service.on_event("a", "join_session",
                   boost::json::array{boost::json::object{{"sessionId", "band"}}});
  run_for(ioc, 150ms);
  EXPECT_TRUE(out.named("scroll_tick").empty()) << "nothing plays";

  // Starting to play wakes the driver, which had nothing to wait for.
  service.on_event("a", "play", boost::json::array{boost::json::object{{"sessionId", "band"}}});
  run_for(ioc, 450ms);
  size_t ticks = out.named("scroll_tick").size();
  EXPECT_GE(ticks, 2u);
  EXPECT_LE(ticks, 5u);  // one per 100 ms at most
  EXPECT_EQ(lag.total, ticks);

  driver.stop();
  run_for(ioc, 250ms);
  EXPECT_EQ(out.named("scroll_tick").size(), ticks);
}

}  // namespace
}  // namespace bandsync::glue
