// What the app's timers drive: the scroll ticks with their write-behind of
// the position, and the heartbeat rounds (ARCHITECTURE.md "Time").

#include <algorithm>

#include "bandsync/payloads.hpp"
#include "bandsync/session_service.hpp"
#include "util/log.hpp"

namespace bandsync::domain {
namespace {

// The write-behind period: persist_playing_ms less a margin for timer
// lateness (50 ms, at most half the period), so that, driven by
// next_tick_due_us(), consecutive saves of a playing session are never more
// than persist_playing_ms apart. (Waiting for the next session tick instead
// let jitter push the gap to persist_playing_ms + one tick interval.)
int64_t persist_period_us(const service_core& core) {
  int64_t period = core.options.persist_playing_ms * 1000;
  return std::max(period - 50'000, period / 2);
}

void persist_playing(service_core& core, int64_t now_us) {
  if (now_us - core.last_persist_us < persist_period_us(core)) return;
  core.last_persist_us = now_us;
  for (const auto& id : core.sessions.playing()) {
    if (const session* s = core.sessions.find(id)) save(core, *s, now_us);
  }
}

// A tick's payload, written as text straight from the session's numbers
// when the outbox takes text (payloads::scroll_tick_text).
class tick_payload final : public payload_writer {
 public:
  tick_payload(const session& s, const clock& clk, int64_t now_us)
      : s_(s), clk_(clk), now_us_(now_us) {}
  void append_text(std::string& out) const override {
    payloads::scroll_tick_text(out, s_, clk_, now_us_);
  }
  boost::json::value value() const override { return payloads::scroll_tick(s_, clk_, now_us_); }

 private:
  const session& s_;
  const clock& clk_;
  int64_t now_us_;
};

}  // namespace

size_t session_service::tick_due(const std::function<void(int64_t lag_us)>& on_lag) {
  int64_t now_us = core_.clk.steady_us();
  // The schedule hands back the session itself (set_playing gave it; the
  // table stops a ticker before erasing its session): no lookup by id.
  size_t sent = core_.ticks.run_due(now_us, [&](const tick_schedule::due_tick& t) {
    const session* s = t.s ? t.s : core_.sessions.find(t.id);
    if (!s || !s->playing()) {
      // A ticker left without a playing session stops here instead of
      // waking us forever.
      core_.ticks.stop(std::string(t.id));
      return;
    }
    // The position at the moment this tick is written, not at the start of
    // the turn: the ticks written before it in this turn (tens to hundreds
    // under load) would otherwise age its snapshot by their writes' time.
    // Each tick is written as soon as it is encoded (send_mode::now).
    core_.out.emit_written_to_session(s->id(), "scroll_tick",
                                      tick_payload(*s, core_.clk, core_.clk.steady_us()));
    if (on_lag) on_lag(now_us - t.due_us);
  });
  persist_playing(core_, now_us);
  return sent;
}

std::optional<int64_t> session_service::next_tick_due_us() const {
  auto due = core_.ticks.next_due();
  if (!due || core_.sessions.playing().empty()) return due;
  return std::min(*due, core_.last_persist_us + persist_period_us(core_));
}

void session_service::heartbeat_round(size_t slice, size_t slices) {
  if (slices <= 1) {
    boost::json::value payload = payloads::heartbeat(core_.clk.wall_ms());
    size_t sent = 0;
    core_.connections.for_each([&](const std::string& id, const connection_state& c) {
      if (c.held || !connection_registry::healthy(c, core_.options.healthy_latency_ms)) return;
      core_.out.emit_to(id, "heartbeat", payload);
      ++sent;
    });
    spdlog::debug("heartbeat: sent to {} of {} connections", sent, core_.connections.active());
    return;
  }
  // Slice 0 lists the connections once per round (not a scan and a hash of
  // every id per slice: 5 % of the server's CPU at 4,000 devices); each slice
  // sends to its share of that list, checked again when it goes out.
  auto& list = core_.heartbeat_round;
  if (slice == 0) {
    list.clear();
    core_.connections.for_each(
        [&](const std::string& id, const connection_state&) { list.push_back(id); });
  }
  size_t from = list.size() * slice / slices;
  size_t to = list.size() * (slice + 1) / slices;
  if (from >= to) return;
  boost::json::value payload = payloads::heartbeat(core_.clk.wall_ms());
  for (size_t i = from; i < to && i < list.size(); ++i) {
    const connection_state* c = core_.connections.find(list[i]);
    if (!c || c->held || !connection_registry::healthy(*c, core_.options.healthy_latency_ms))
      continue;
    core_.out.emit_to(list[i], "heartbeat", payload);
  }
  if (slice + 1 == slices) list = {};  // the round is over: nothing held between rounds
}

}  // namespace bandsync::domain
