#include "bench/progress.hpp"

#include <cstdio>

#include "bench/time.hpp"

namespace bandsync::bench {

progress::progress(boost::asio::io_context& ioc, std::string scenario, double interval_s,
                   std::function<std::string()> text)
    : timer_(ioc),
      scenario_(std::move(scenario)),
      interval_s_(interval_s),
      text_(std::move(text)) {}

void progress::start() {
  started_s_ = steady_s();
  running_ = interval_s_ > 0;
  if (running_) arm();
}

void progress::stop() {
  running_ = false;
  timer_.cancel();
}

double progress::elapsed_s() const {
  return steady_s() - started_s_;
}

void progress::arm() {
  timer_.expires_after(std::chrono::milliseconds(static_cast<int64_t>(interval_s_ * 1000)));
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || !running_) return;
    std::fprintf(stderr, "[%s %7.1f s] %s: %s\n", scenario_.c_str(), elapsed_s(), phase_.c_str(),
                 text_().c_str());
    std::fflush(stderr);
    arm();
  });
}

}  // namespace bandsync::bench
