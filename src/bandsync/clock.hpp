#pragma once
// The domain's only source of time, injected so that tests can drive the
// scroll clock, latency and idle expiry deterministically (ARCHITECTURE.md
// "Time": position is derived from a monotonic clock, never accumulated).

#include <cstdint>

namespace bandsync::domain {

class clock {
 public:
  virtual ~clock() = default;
  // Monotonic microseconds from an arbitrary origin; never goes backwards.
  virtual int64_t steady_us() const = 0;
  // Unix epoch milliseconds, as JavaScript's Date.now().
  virtual int64_t wall_ms() const = 0;
};

// The real clocks: std::chrono::steady_clock and std::chrono::system_clock.
class system_clock_source : public clock {
 public:
  int64_t steady_us() const override;
  int64_t wall_ms() const override;
};

}  // namespace bandsync::domain
