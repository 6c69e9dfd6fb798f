#include "glue/timers.hpp"

#include <boost/asio/buffer.hpp>

#include <sys/timerfd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

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

namespace {

int make_timer_fd() {
  int fd = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "timerfd_create");
  return fd;
}

timespec to_timespec(int64_t us) {
  return timespec{static_cast<time_t>(us / 1'000'000), static_cast<long>(us % 1'000'000 * 1000)};
}

}  // namespace

tick_driver::tick_driver(boost::asio::io_context& ioc, domain::session_service& service,
                         lag_histogram& lag)
    : fd_(ioc, make_timer_fd()),
      service_(service),
      lag_(lag),
      slot_us_(std::max<int64_t>(1, service.tick_slot_us())) {}

tick_driver::~tick_driver() {
  boost::system::error_code ec;
  fd_.close(ec);
}

void tick_driver::start() {
  service_.set_tick_wakeup([this](int64_t due_us) { wake_at(due_us); });
  if (auto due = service_.next_tick_due_us()) wake_at(*due);
}

void tick_driver::stop() {
  stopped_ = true;
  service_.set_tick_wakeup(nullptr);
  arm(0);
  boost::system::error_code ec;
  fd_.cancel(ec);
}

void tick_driver::arm(int64_t first_us) {
  itimerspec spec{};
  if (first_us > 0) {
    spec.it_value = to_timespec(first_us);
    spec.it_interval = to_timespec(slot_us_);
  }
  // Absolute: expiries stay on the steady clock's grid, however late a
  // wake-up runs. A time already past fires at once.
  ::timerfd_settime(fd_.native_handle(), TFD_TIMER_ABSTIME, &spec, nullptr);
  next_expiry_us_ = first_us;
}

void tick_driver::wake_at(int64_t due_us) {
  if (stopped_) return;
  due_us = std::max<int64_t>(due_us, 1);  // 0 would disarm
  // A later due time is seen by the run after the next expiry (on_expiry).
  if (next_expiry_us_ == 0 || due_us < next_expiry_us_) arm(due_us);
  wait();
}

void tick_driver::wait() {
  if (waiting_ || stopped_) return;
  waiting_ = true;
  // A read, not async_wait: Asio re-registers the descriptor with
  // epoll_ctl for every wait, while a read starts with a speculative read()
  // (EAGAIN until the next expiry) and is completed by the reactor's own
  // read when epoll reports the expiry: two cheap reads per wake-up, no
  // epoll_ctl, no timerfd_settime.
  fd_.async_read_some(boost::asio::buffer(&expirations_, sizeof expirations_),
                      [this](boost::system::error_code ec, size_t) {
                        // Cancelled: the driver may be gone. (A timer fd's read
                        // fails otherwise only for a short buffer.)
                        if (ec == boost::asio::error::operation_aborted) return;
                        waiting_ = false;
                        if (!stopped_) on_expiry();
                      });
}

void tick_driver::on_expiry() {
  int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::steady_clock::now().time_since_epoch())
                       .count();
  if (next_expiry_us_ != 0 && now_us >= next_expiry_us_) {
    // Where the periodic timer is now: its first expiry after `now`.
    next_expiry_us_ += ((now_us - next_expiry_us_) / slot_us_ + 1) * slot_us_;
  }
  service_.tick_due([this](int64_t lag_us) { lag_.observe(lag_us < 0 ? 0 : lag_us / 1000.0); });
  auto next = service_.next_tick_due_us();
  if (!next) {
    arm(0);  // nothing plays: no more expiries until a session starts
    return;
  }
  // Keep the periodic expiries while the next due time is the next of them
  // (sessions in every slot: no syscall); otherwise the timer goes to that
  // time (sooner, later, or off the grid).
  int64_t due = std::max<int64_t>(*next, 1);
  if (due != next_expiry_us_) arm(due);
  wait();
}

}  // namespace bandsync::glue
