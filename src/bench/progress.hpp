#pragma once
// The progress line of long runs: every `interval_s`, one line on stderr
// ("[fanout   35.0 s] measuring: joined 4000/4000 ..."), so that a person
// watching a ten-minute run sees it is alive; stdout stays the report.

#include <functional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

namespace bandsync::bench {

class progress {
 public:
  progress(boost::asio::io_context& ioc, std::string scenario, double interval_s,
           std::function<std::string()> text);

  void start();
  void stop();
  void set_phase(std::string phase) { phase_ = std::move(phase); }
  // Seconds since start().
  double elapsed_s() const;

 private:
  void arm();

  boost::asio::steady_timer timer_;
  std::string scenario_;
  double interval_s_;
  std::function<std::string()> text_;
  std::string phase_ = "starting";
  double started_s_ = 0;
  bool running_ = false;
};

}  // namespace bandsync::bench
