#include "bandsync/tick_schedule.hpp"

namespace bandsync::domain {

int64_t tick_schedule::start(const std::string& id, int64_t now_us) {
  uint64_t gen = ++next_generation_;
  active_[id] = gen;
  int64_t due = now_us + interval_us_;
  heap_.push(entry{due, gen, id});
  if (heap_.size() > 2 * active_.size() + 64) compact();
  return due;
}

void tick_schedule::stop(const std::string& id) {
  active_.erase(id);
  if (heap_.size() > 2 * active_.size() + 64) compact();
}

size_t tick_schedule::run_due(int64_t now_us,
                              const std::function<void(const std::string&, int64_t)>& fn) {
  size_t n = 0;
  while (!heap_.empty() && heap_.top().due_us <= now_us) {
    entry e = heap_.top();
    heap_.pop();
    auto it = active_.find(e.id);
    if (it == active_.end() || it->second != e.generation) continue;  // stopped or restarted
    ++n;
    int64_t next = e.due_us + interval_us_;
    if (next <= now_us) next = now_us + interval_us_;
    heap_.push(entry{next, e.generation, e.id});
    fn(e.id, e.due_us);  // last: fn may stop or restart this session
  }
  return n;
}

std::optional<int64_t> tick_schedule::next_due() const {
  if (heap_.empty()) return std::nullopt;
  return heap_.top().due_us;
}

void tick_schedule::compact() {
  std::vector<entry> live;
  live.reserve(active_.size());
  while (!heap_.empty()) {
    const entry& e = heap_.top();
    auto it = active_.find(e.id);
    if (it != active_.end() && it->second == e.generation) live.push_back(e);
    heap_.pop();
  }
  heap_ = decltype(heap_)(std::greater<entry>(), std::move(live));
}

}  // namespace bandsync::domain
