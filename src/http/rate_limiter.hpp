#pragma once
// Per-IP fixed-window request limit (as express-rate-limit's default store):
// at most `max` requests per `window` from one address. The table of
// addresses is bounded; expired windows are dropped as the clock moves.

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace bandsync::http {

class rate_limiter {
 public:
  struct decision {
    bool allowed = true;
    uint32_t limit = 0;
    uint32_t remaining = 0;
    int64_t reset_ms = 0;  // wall time at which the window ends
  };

  rate_limiter(int64_t window_ms, uint32_t max, size_t max_addresses = 100000)
      : window_ms_(window_ms), max_(max), max_addresses_(max_addresses) {}

  // Counts one request from `address` at `now_ms`. When the address table is
  // full of live windows, a new address is refused: under an address flood
  // the limiter fails closed rather than grow.
  decision hit(std::string_view address, int64_t now_ms);

  size_t tracked() const { return windows_.size(); }

 private:
  struct window {
    int64_t start_ms;
    uint32_t count;
  };
  void purge(int64_t now_ms);

  int64_t window_ms_;
  uint32_t max_;
  size_t max_addresses_;
  std::unordered_map<std::string, window> windows_;
  int64_t last_purge_ms_ = 0;
};

}  // namespace bandsync::http
