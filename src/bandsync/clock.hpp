#pragma once
// The domain's only source of time, injected so that tests can drive the
// scroll clock, latency and idle expiry deterministically (ARCHITECTURE.md
// "Time": position is derived from a monotonic clock, never accumulated).
//
// Server time (docs/EVENTS.md "Clock"): the time every client synchronises to, in Unix
// epoch milliseconds with a sub-millisecond fraction. It is the monotonic
// clock shifted by a constant fixed once when the clock is made, so it reads
// like the wall clock at start but never jumps when the system clock is set
// (NTP step, manual change): clients that estimated it keep a valid estimate.

#include <cstdint>

namespace bandsync::domain {

class clock {
 public:
  virtual ~clock() = default;
  // Monotonic microseconds from an arbitrary origin; never goes backwards.
  virtual int64_t steady_us() const = 0;
  // Unix epoch milliseconds, as JavaScript's Date.now().
  virtual int64_t wall_ms() const = 0;

  // Epoch microseconds at steady time 0: server time = steady time + this.
  // Constant for the life of the clock.
  virtual int64_t server_offset_us() const = 0;

  // Server time now, epoch milliseconds (exact to the microsecond: epoch
  // microseconds stay below 2^53, so the double holds them exactly).
  double server_time_ms() const { return server_ms_at(steady_us()); }

  // Server time of the steady instant `steady_us`, and back (rounded to the
  // microsecond). The two are exact inverses on whole microseconds.
  double server_ms_at(int64_t steady_us) const {
    return static_cast<double>(steady_us + server_offset_us()) / 1000.0;
  }
  int64_t steady_us_at(double server_ms) const;
};

// The real clocks: std::chrono::steady_clock and std::chrono::system_clock.
// Server time is anchored to the system clock once, at construction.
class system_clock_source : public clock {
 public:
  system_clock_source();
  int64_t steady_us() const override;
  int64_t wall_ms() const override;
  int64_t server_offset_us() const override { return server_offset_us_; }

 private:
  int64_t server_offset_us_ = 0;
};

}  // namespace bandsync::domain
