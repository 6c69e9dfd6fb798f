#include "bench/loop_lag.hpp"

namespace bandsync::bench {

loop_lag::loop_lag(boost::asio::io_context& ioc, std::chrono::microseconds period)
    : timer_(ioc), period_(period) {}

void loop_lag::start() {
  running_ = true;
  due_ = std::chrono::steady_clock::now() + period_;
  arm();
}

void loop_lag::stop() {
  running_ = false;
  timer_.cancel();
}

void loop_lag::arm() {
  timer_.expires_at(due_);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || !running_) return;
    auto now = std::chrono::steady_clock::now();
    lag_us_.record(std::chrono::duration_cast<std::chrono::microseconds>(now - due_).count());
    // Measure from now on: one long stall is one sample, not a burst of them.
    due_ = now + period_;
    arm();
  });
}

}  // namespace bandsync::bench
