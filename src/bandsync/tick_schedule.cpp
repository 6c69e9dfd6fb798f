#include "bandsync/tick_schedule.hpp"

#include <algorithm>

namespace bandsync::domain {

tick_schedule::tick_schedule(int64_t interval_us, size_t slots)
    : interval_us_(interval_us),
      load_(std::clamp<size_t>(slots, 1, static_cast<size_t>(std::max<int64_t>(interval_us, 1))),
            0) {}

std::pair<uint32_t, int64_t> tick_schedule::pick_slot(int64_t now_us) const {
  // Phases are fixed on the steady clock's grid: slot k ticks at the times
  // t with t mod interval == k * interval / slots.
  int64_t into = now_us % interval_us_;
  if (into < 0) into += interval_us_;
  int64_t period_start = now_us - into;
  const auto n = static_cast<int64_t>(load_.size());
  uint32_t best = 0;
  int64_t best_due = 0;
  for (int64_t k = 0; k < n; ++k) {
    int64_t due = period_start + k * interval_us_ / n;
    if (due <= now_us) due += interval_us_;  // the slot's next time after now
    auto slot = static_cast<uint32_t>(k);
    if (k == 0 || load_[slot] < load_[best] || (load_[slot] == load_[best] && due > best_due)) {
      best = slot;
      best_due = due;
    }
  }
  return {best, best_due};
}

int64_t tick_schedule::start(const std::string& id, int64_t now_us, size_t recipients) {
  return start(id, now_us, recipients, nullptr);
}

int64_t tick_schedule::start(const std::string& id, int64_t now_us, size_t recipients,
                             const session* s) {
  stop(id);
  auto [slot, due] = pick_slot(now_us);
  uint64_t gen = ++next_generation_;
  uint32_t index;
  if (free_.empty()) {
    index = static_cast<uint32_t>(tickers_.size());
    tickers_.emplace_back();
  } else {
    index = free_.back();
    free_.pop_back();
  }
  tickers_[index] = ticker{gen, slot, recipients, s, id};
  active_[id] = index;
  load_[slot] += recipients;
  heap_.push(entry{due, gen, index});
  if (heap_.size() > 2 * active_.size() + 64) compact();
  return due;
}

void tick_schedule::set_recipients(const std::string& id, size_t recipients) {
  auto it = active_.find(id);
  if (it == active_.end()) return;
  ticker& t = tickers_[it->second];
  load_[t.slot] -= t.recipients;
  load_[t.slot] += recipients;
  t.recipients = recipients;
}

void tick_schedule::stop(const std::string& id) {
  auto it = active_.find(id);
  if (it == active_.end()) return;
  ticker& t = tickers_[it->second];
  load_[t.slot] -= t.recipients;
  t = ticker{};  // generation 0: its heap entries are stale
  free_.push_back(it->second);
  active_.erase(it);
  if (heap_.size() > 2 * active_.size() + 64) compact();
}

std::optional<size_t> tick_schedule::slot_of(const std::string& id) const {
  auto it = active_.find(id);
  if (it == active_.end()) return std::nullopt;
  return tickers_[it->second].slot;
}

size_t tick_schedule::run_due(int64_t now_us,
                              const std::function<void(const std::string&, int64_t)>& fn) {
  return run_due(now_us, [&fn](const due_tick& t) {
    std::string id = t.id;  // fn may stop or restart this session, which resets its cell
    fn(id, t.due_us);
  });
}

size_t tick_schedule::run_due(int64_t now_us, const std::function<void(const due_tick&)>& fn) {
  size_t n = 0;
  while (!heap_.empty() && heap_.top().due_us <= now_us) {
    entry e = heap_.top();
    heap_.pop();
    if (!live(e)) continue;  // stopped or restarted
    ++n;
    int64_t next = e.due_us + interval_us_;
    // Whole intervals missed are skipped, on the same phase (the slot stays).
    if (next <= now_us) next += (now_us - next) / interval_us_ * interval_us_ + interval_us_;
    heap_.push(entry{next, e.generation, e.index});
    // The id by reference (no copy per tick): a deque's cells stay where
    // they are when others are added; stopping this session resets it.
    const ticker& t = tickers_[e.index];
    fn(due_tick{t.id, t.s, e.due_us});  // last: fn may stop or restart this session
  }
  return n;
}

std::optional<int64_t> tick_schedule::next_due() const {
  if (heap_.empty()) return std::nullopt;
  return heap_.top().due_us;
}

void tick_schedule::compact() {
  std::vector<entry> live_entries;
  live_entries.reserve(active_.size());
  while (!heap_.empty()) {
    if (live(heap_.top())) live_entries.push_back(heap_.top());
    heap_.pop();
  }
  heap_ = decltype(heap_)(std::greater<entry>(), std::move(live_entries));
}

}  // namespace bandsync::domain
