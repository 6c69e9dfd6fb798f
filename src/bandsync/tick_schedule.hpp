#pragma once
// The shared tick scheduler (ARCHITECTURE.md "Time"): one queue of due times
// for every playing session, driven by one timer in the app. Pure: no clock
// of its own, no I/O.
//
// Phases are balanced: the period is cut into `slots` equal slots and each
// ticking session is given one, the slot whose load (the recipients of the
// sessions already in it) is smallest, whatever moment its leader pressed
// play. Bands that start together (a scheduled start, a bulk resume, a set
// on the hour) then still spread their writes over the period instead of
// leaving in one burst, where the last band's tick waited behind every other
// band's writes. The phase is free to choose because a tick carries the
// position at the moment it is sent. Among equally loaded slots the one whose
// next tick is latest is taken, so an unloaded server still ticks a session
// one interval after it started, as before.

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

namespace bandsync::domain {

class session;

class tick_schedule {
 public:
  // 1 ms slots in the 100 ms tick period: fine enough that a slot's writes
  // (tens of recipients at a few µs each) fit in it.
  static constexpr size_t default_slots = 100;

  // `slots` is clamped to [1, interval_us].
  explicit tick_schedule(int64_t interval_us, size_t slots = default_slots);

  // `id` ticks from `now_us` on with `recipients` members to write to: it is
  // given the least-loaded slot and first ticks at that slot's next time
  // after `now_us` (at most one interval later). Restarting a ticking session
  // frees its slot and picks again. Returns the first due time.
  int64_t start(const std::string& id, int64_t now_us, size_t recipients = 1);
  // The same, with the session the ticks are for, handed back by run_due()
  // so that a tick does no lookup by id (issue 12). The caller stops the
  // ticker before that session object goes away.
  int64_t start(const std::string& id, int64_t now_us, size_t recipients, const session* s);
  // The member count of a ticking session changed: its slot's load follows
  // (the session keeps its slot, so its ticks stay one interval apart).
  // No-op for a session that does not tick.
  void set_recipients(const std::string& id, size_t recipients);
  // Stops `id` and frees its slot's load. No-op if it does not tick.
  void stop(const std::string& id);
  bool ticking(const std::string& id) const { return active_.contains(id); }
  size_t size() const { return active_.size(); }

  // The slots and what is in them (for tests and metrics).
  size_t slots() const { return load_.size(); }
  // The length of a slot (µs, rounded down): the finest step of due times.
  int64_t slot_us() const { return interval_us_ / static_cast<int64_t>(load_.size()); }
  std::optional<size_t> slot_of(const std::string& id) const;
  // Recipients of the sessions ticking in `slot`.
  uint64_t slot_load(size_t slot) const { return load_.at(slot); }

  // Calls `fn(id, due_us)` for every session due at `now_us`, earliest first,
  // and schedules each again one interval after its due time; a session that
  // fell a whole interval behind (a stalled loop) skips the missed ticks
  // rather than sending them in a burst, and stays in its slot. Returns how
  // many were due.
  size_t run_due(int64_t now_us, const std::function<void(const std::string&, int64_t)>& fn);
  // The same, with the session given to start() (null when none was). `id`
  // refers to the schedule's own copy: valid until fn stops or restarts
  // that session.
  struct due_tick {
    const std::string& id;
    const session* s;
    int64_t due_us;
  };
  size_t run_due(int64_t now_us, const std::function<void(const due_tick&)>& fn);

  // The earliest due time, or nullopt when nothing ticks. It may name a
  // session stopped since (a spurious wake-up, harmless).
  std::optional<int64_t> next_due() const;

 private:
  // A heap entry names its ticker by index, not by id: no string is copied
  // or hashed per tick. The generation tells a live entry from one left
  // behind by a stop or restart (generations are never reused).
  struct entry {
    int64_t due_us;
    uint64_t generation;
    uint32_t index;
    // Equal due times run in the order the sessions started playing, so that
    // a round is deterministic.
    bool operator>(const entry& o) const {
      return due_us > o.due_us || (due_us == o.due_us && generation > o.generation);
    }
  };
  struct ticker {
    uint64_t generation = 0;  // 0: a free cell
    uint32_t slot = 0;
    uint64_t recipients = 0;
    const session* s = nullptr;
    std::string id;
  };
  // The slot to give a session starting at `now_us`, and its first due time.
  std::pair<uint32_t, int64_t> pick_slot(int64_t now_us) const;
  bool live(const entry& e) const { return tickers_[e.index].generation == e.generation; }
  // Stopped sessions leave stale entries behind; rebuilding when they
  // outnumber the live ones keeps the heap bounded by the live sessions.
  void compact();

  int64_t interval_us_;
  std::vector<uint64_t> load_;  // recipients per slot
  std::priority_queue<entry, std::vector<entry>, std::greater<entry>> heap_;
  std::deque<ticker> tickers_;                        // cells, reused through free_
  std::vector<uint32_t> free_;                        // free cells of tickers_
  std::unordered_map<std::string, uint32_t> active_;  // id -> cell
  uint64_t next_generation_ = 0;
};

}  // namespace bandsync::domain
