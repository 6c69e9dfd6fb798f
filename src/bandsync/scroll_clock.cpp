#include "bandsync/scroll_clock.hpp"

namespace bandsync::domain {

int64_t scroll_clock::position_us(int64_t now_us) const {
  if (!playing_ || now_us <= anchor_steady_us_) return anchor_position_us_;
  return anchor_position_us_ + (now_us - anchor_steady_us_);
}

void scroll_clock::play(int64_t now_us) {
  if (playing_) return;
  anchor_steady_us_ = now_us;
  playing_ = true;
}

void scroll_clock::pause(int64_t now_us) {
  if (!playing_) return;
  anchor_position_us_ = position_us(now_us);
  anchor_steady_us_ = now_us;
  playing_ = false;
}

void scroll_clock::seek(int64_t position_us, int64_t now_us) {
  anchor_position_us_ = position_us;
  anchor_steady_us_ = now_us;
}

void scroll_clock::reanchor(int64_t now_us) {
  anchor_position_us_ = position_us(now_us);
  anchor_steady_us_ = now_us;
}

}  // namespace bandsync::domain
