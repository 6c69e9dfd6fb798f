#include "bandsync/clock.hpp"

#include <chrono>
#include <cmath>

namespace bandsync::domain {

int64_t clock::steady_us_at(double server_ms) const {
  return std::llround(server_ms * 1000.0) - server_offset_us();
}

system_clock_source::system_clock_source() {
  using namespace std::chrono;
  // Read the steady clock on both sides of the system clock and take the
  // midpoint, so that the anchor's error is at most half the (sub-µs) gap.
  int64_t before = steady_us();
  int64_t wall_us = duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
  int64_t after = steady_us();
  server_offset_us_ = wall_us - (before + (after - before) / 2);
}

int64_t system_clock_source::steady_us() const {
  using namespace std::chrono;
  return duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count();
}

int64_t system_clock_source::wall_ms() const {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace bandsync::domain
