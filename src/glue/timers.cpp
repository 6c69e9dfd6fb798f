#include "glue/timers.hpp"

namespace bandsync::glue {

periodic::periodic(boost::asio::io_context& ioc, std::chrono::steady_clock::duration period,
                   std::function<void(double lag_ms)> fn)
    : timer_(ioc), period_(period), fn_(std::move(fn)) {}

void periodic::start() {
  next_ = std::chrono::steady_clock::now() + period_;
  arm();
}

void periodic::stop() {
  stopped_ = true;
  timer_.cancel();
}

void periodic::arm() {
  timer_.expires_at(next_);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || stopped_) return;
    auto now = std::chrono::steady_clock::now();
    double lag = std::chrono::duration<double, std::milli>(now - next_).count();
    fn_(lag);
    next_ += period_;
    if (next_ <= now) next_ = now + period_;
    arm();
  });
}

tick_driver::tick_driver(boost::asio::io_context& ioc, domain::session_service& service,
                         lag_histogram& lag)
    : timer_(ioc), service_(service), lag_(lag) {}

void tick_driver::start() {
  service_.set_tick_wakeup([this](int64_t due_us) { wake_at(due_us); });
  if (auto due = service_.next_tick_due_us()) wake_at(*due);
}

void tick_driver::stop() {
  stopped_ = true;
  service_.set_tick_wakeup(nullptr);
  timer_.cancel();
}

void tick_driver::wake_at(int64_t due_us) {
  if (stopped_ || (armed_ && due_us >= armed_due_us_)) return;
  armed_ = true;
  armed_due_us_ = due_us;
  timer_.expires_at(std::chrono::steady_clock::time_point(std::chrono::microseconds(due_us)));
  timer_.async_wait([this, generation = ++generation_](boost::system::error_code ec) {
    if (ec || stopped_ || generation != generation_) return;
    armed_ = false;
    service_.tick_due([this](int64_t lag_us) { lag_.observe(lag_us < 0 ? 0 : lag_us / 1000.0); });
    if (auto next = service_.next_tick_due_us()) wake_at(*next);
  });
}

}  // namespace bandsync::glue
