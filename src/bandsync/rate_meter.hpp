#pragma once
// Events per second for `performance.messagesPerSecond` (EVENTS.md "HTTP"):
// counts in fixed one-second windows of steady time and reports the count of
// the last complete window, like the old server's periodic counter reset, but
// without a timer (windows roll lazily when recording or reading).

#include <cstdint>

namespace bandsync::domain {

class rate_meter {
 public:
  explicit rate_meter(int64_t now_us, int64_t window_us = 1'000'000);

  void record(int64_t now_us);

  // Events in the last complete window; 0 when that window saw none (also
  // before the first window has completed).
  uint64_t last_window_count(int64_t now_us) const;

  // Steady time at which the current (incomplete) window began: the moment the
  // counter was last reset.
  int64_t current_window_start_us(int64_t now_us) const;

 private:
  int64_t windows_passed(int64_t now_us) const;

  int64_t window_us_;
  int64_t current_start_us_;
  uint64_t current_count_ = 0;
  uint64_t last_count_ = 0;
};

}  // namespace bandsync::domain
