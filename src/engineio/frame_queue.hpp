#pragma once
// A session's outbound frames, first in first out. A vector with a moving
// head instead of std::deque: libstdc++'s deque allocates ~600 bytes on
// construction, which every idle connection would pay; this allocates
// nothing until the first frame and keeps at most one slot once drained.

#include <cstddef>
#include <vector>

#include "engineio/packet.hpp"

namespace bandsync::engineio {

class frame_queue {
 public:
  bool empty() const { return head_ == items_.size(); }
  size_t size() const { return items_.size() - head_; }
  const frame& front() const { return items_[head_]; }
  const frame& at(size_t i) const { return items_[head_ + i]; }

  void push_back(frame f) { items_.push_back(std::move(f)); }

  void pop_front() {
    items_[head_++] = frame{};  // release the shared bytes now
    if (head_ == items_.size()) {
      // Drained. A connection that gets one frame at a time (a tick) keeps
      // its one slot, with no allocation per frame; the larger capacity a
      // burst left (a join's snapshot, a replay) goes back, so an idle
      // connection holds none of it (idle memory, issue 12).
      if (items_.capacity() > 1)
        items_ = {};
      else
        items_.clear();
      head_ = 0;
    } else if (head_ >= 64 && head_ * 2 >= items_.size()) {
      items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  }

  void clear() {
    items_ = {};
    head_ = 0;
  }

  template <class Fn>
  void for_each(Fn&& fn) const {
    for (size_t i = head_; i < items_.size(); ++i) fn(items_[i]);
  }

 private:
  std::vector<frame> items_;
  size_t head_ = 0;
};

}  // namespace bandsync::engineio
