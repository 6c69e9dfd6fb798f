#include "http/rate_limiter.hpp"

namespace bandsync::http {

void rate_limiter::purge(int64_t now_ms) {
  last_purge_ms_ = now_ms;
  for (auto it = windows_.begin(); it != windows_.end();) {
    if (now_ms - it->second.start_ms >= window_ms_)
      it = windows_.erase(it);
    else
      ++it;
  }
}

rate_limiter::decision rate_limiter::hit(std::string_view address, int64_t now_ms) {
  // A full scan at most once per window (or when the table is full) keeps the
  // amortised cost per request constant.
  if (now_ms - last_purge_ms_ >= window_ms_) purge(now_ms);
  auto it = windows_.find(std::string(address));
  if (it == windows_.end()) {
    if (windows_.size() >= max_addresses_) purge(now_ms);
    if (windows_.size() >= max_addresses_) return {false, max_, 0, now_ms + window_ms_};
    it = windows_.emplace(std::string(address), window{now_ms, 0}).first;
  } else if (now_ms - it->second.start_ms >= window_ms_) {
    it->second = window{now_ms, 0};
  }
  auto& w = it->second;
  decision d;
  d.limit = max_;
  d.reset_ms = w.start_ms + window_ms_;
  if (w.count >= max_) {
    d.allowed = false;
    return d;
  }
  ++w.count;
  d.remaining = max_ - w.count;
  return d;
}

}  // namespace bandsync::http
