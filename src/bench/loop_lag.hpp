#pragma once
// How late the generator's own event loop runs: a timer due every period
// records by how much it fired late. The generator and the server share the
// machine's cores, and a tick is timestamped when the generator reads it, so
// a busy generator inflates the latencies it reports; this says by how much
// (a p99 loop lag near the tick p99 means the generator, not the server, is
// the limit).

#include <chrono>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "bench/histogram.hpp"

namespace bandsync::bench {

class loop_lag {
 public:
  explicit loop_lag(boost::asio::io_context& ioc,
                    std::chrono::microseconds period = std::chrono::milliseconds(5));

  void start();
  void stop();
  const histogram& lag_us() const { return lag_us_; }

 private:
  void arm();

  boost::asio::steady_timer timer_;
  std::chrono::microseconds period_;
  std::chrono::steady_clock::time_point due_;
  histogram lag_us_;
  bool running_ = false;
};

}  // namespace bandsync::bench
