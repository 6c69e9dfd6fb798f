#pragma once
// The two clocks of the benchmark. Tick latency compares the receive time with
// the server's `serverTimestamp` (Date.now() style, Unix ms): both read the
// same wall clock because the server runs on this host (loopback only).
// Durations and deadlines use the steady clock.

#include <chrono>
#include <cstdint>

namespace bandsync::bench {

// Unix time in milliseconds, with sub-millisecond precision.
inline double wall_ms() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Seconds on the steady clock (only differences mean anything).
inline double steady_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// A duration in seconds (a command-line figure) as whole milliseconds.
inline std::chrono::milliseconds ms_from_seconds(double s) {
  return std::chrono::milliseconds(static_cast<int64_t>(s * 1000));
}

}  // namespace bandsync::bench
