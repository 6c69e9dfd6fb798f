#include "bandsync/rate_meter.hpp"

namespace bandsync::domain {

rate_meter::rate_meter(int64_t now_us, int64_t window_us)
    : window_us_(window_us > 0 ? window_us : 1), current_start_us_(now_us) {}

int64_t rate_meter::windows_passed(int64_t now_us) const {
  return now_us <= current_start_us_ ? 0 : (now_us - current_start_us_) / window_us_;
}

void rate_meter::record(int64_t now_us) {
  int64_t passed = windows_passed(now_us);
  if (passed >= 1) {
    last_count_ = passed == 1 ? current_count_ : 0;
    current_count_ = 0;
    current_start_us_ += passed * window_us_;
  }
  ++current_count_;
}

uint64_t rate_meter::last_window_count(int64_t now_us) const {
  int64_t passed = windows_passed(now_us);
  if (passed == 0) return last_count_;
  return passed == 1 ? current_count_ : 0;
}

int64_t rate_meter::current_window_start_us(int64_t now_us) const {
  return current_start_us_ + windows_passed(now_us) * window_us_;
}

}  // namespace bandsync::domain
