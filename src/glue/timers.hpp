#pragma once
// The app's timers on an Asio io_context: fixed-period jobs (heartbeats, the
// sweep, the metrics log) and the driver of the domain's shared tick schedule.

#include <chrono>
#include <cstdint>
#include <functional>

#include <boost/asio/io_context.hpp>
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

// Drives the domain's tick schedule with one timer: it sleeps until the
// earliest due tick, and is woken earlier when a session starts playing.
// The service's clock must be std::chrono::steady_clock (system_clock_source).
class tick_driver {
 public:
  tick_driver(boost::asio::io_context& ioc, domain::session_service& service, lag_histogram& lag);
  tick_driver(const tick_driver&) = delete;
  tick_driver& operator=(const tick_driver&) = delete;

  void start();
  void stop();

 private:
  void wake_at(int64_t due_us);

  boost::asio::steady_timer timer_;
  domain::session_service& service_;
  lag_histogram& lag_;
  bool stopped_ = false;
  bool armed_ = false;
  int64_t armed_due_us_ = 0;
  uint64_t generation_ = 0;
};

}  // namespace bandsync::glue
