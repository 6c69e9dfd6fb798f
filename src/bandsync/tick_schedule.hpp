#pragma once
// The shared tick scheduler (ARCHITECTURE.md "Time"): one queue of due times
// for every playing session, driven by one timer in the app. Each session
// ticks every interval from the moment it started playing, so a thousand
// bands spread their ticks over the period instead of leaving in one burst
// at the same instant (which made the last band's tick wait behind all the
// others' writes). Pure: no clock of its own, no I/O.

#include <cstdint>
#include <functional>
#include <optional>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

namespace bandsync::domain {

class tick_schedule {
 public:
  explicit tick_schedule(int64_t interval_us) : interval_us_(interval_us) {}

  // `id` ticks from `now_us` on: first one interval later. Restarting a
  // ticking session restarts its phase. Returns the new due time.
  int64_t start(const std::string& id, int64_t now_us);
  void stop(const std::string& id);
  bool ticking(const std::string& id) const { return active_.contains(id); }
  size_t size() const { return active_.size(); }

  // Calls `fn(id, due_us)` for every session due at `now_us`, earliest first,
  // and schedules each again one interval after its due time; a session that
  // fell a whole interval behind (a stalled loop) skips the missed ticks
  // rather than sending them in a burst. Returns how many were due.
  size_t run_due(int64_t now_us, const std::function<void(const std::string&, int64_t)>& fn);

  // The earliest due time, or nullopt when nothing ticks. It may name a
  // session stopped since (a spurious wake-up, harmless).
  std::optional<int64_t> next_due() const;

 private:
  struct entry {
    int64_t due_us;
    uint64_t generation;
    std::string id;
    // Equal due times run in the order the sessions started playing, so that
    // a round is deterministic.
    bool operator>(const entry& o) const {
      return due_us > o.due_us || (due_us == o.due_us && generation > o.generation);
    }
  };
  // Stopped sessions leave stale entries behind; rebuilding when they
  // outnumber the live ones keeps the heap bounded by the live sessions.
  void compact();

  int64_t interval_us_;
  std::priority_queue<entry, std::vector<entry>, std::greater<entry>> heap_;
  std::unordered_map<std::string, uint64_t> active_;  // id -> live generation
  uint64_t next_generation_ = 0;
};

}  // namespace bandsync::domain
