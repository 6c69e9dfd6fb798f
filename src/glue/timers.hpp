#pragma once
// The app's timers on an Asio io_context: fixed-period jobs (heartbeats, the
// sweep, the metrics log) and the driver of the domain's shared tick schedule.

#include <chrono>
#include <cstdint>
#include <functional>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "bandsync/session_service.hpp"
#include "glue/metrics_text.hpp"

namespace bandsync::glue {

// Calls `fn` every `period` on a fixed schedule (no drift: the next deadline
// is the previous deadline plus the period); `fn` gets the lateness in ms.
// After a stall, the missed deadlines are skipped rather than fired in a burst.
class periodic {
 public:
  periodic(boost::asio::io_context& ioc, std::chrono::steady_clock::duration period,
           std::function<void(double lag_ms)> fn);
  periodic(const periodic&) = delete;
  periodic& operator=(const periodic&) = delete;

  void start();
  void stop();

 private:
  void arm();

  boost::asio::steady_timer timer_;
  std::chrono::steady_clock::duration period_;
  std::function<void(double)> fn_;
  std::chrono::steady_clock::time_point next_;
  bool stopped_ = false;
};

// Drives the domain's tick schedule with one timer fd of its own, periodic
// with the schedule's slot length and aligned to its grid: while sessions
// tick in every slot, the kernel re-arms it and no timer is set per slot.
// (An Asio timer re-armed at each slot's due time cost two timerfd_settime
// calls per slot, ~1,000 slots a second: issue 12.) It is set again only
// when the next due time is off that grid (the persist write-behind) or more
// than a slot after its next expiry (nothing to do in between), and
// disarmed when nothing plays. The service's clock must be
// std::chrono::steady_clock (system_clock_source), i.e. CLOCK_MONOTONIC.
class tick_driver {
 public:
  tick_driver(boost::asio::io_context& ioc, domain::session_service& service, lag_histogram& lag);
  ~tick_driver();
  tick_driver(const tick_driver&) = delete;
  tick_driver& operator=(const tick_driver&) = delete;

  void start();
  void stop();

 private:
  void wake_at(int64_t due_us);
  // The timer fd's first expiry at `first_us`, then every slot (0: disarmed).
  void arm(int64_t first_us);
  void wait();
  void on_expiry();

  boost::asio::posix::stream_descriptor fd_;
  domain::session_service& service_;
  lag_histogram& lag_;
  int64_t slot_us_;
  bool stopped_ = false;
  bool waiting_ = false;
  int64_t next_expiry_us_ = 0;  // the timer fd's next expiry; 0: disarmed
  uint64_t expirations_ = 0;    // what a read of the timer fd gives (unused)
};

}  // namespace bandsync::glue
