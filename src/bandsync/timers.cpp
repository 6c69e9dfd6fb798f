// What the app's timers drive: the scroll ticks with their write-behind of
// the position, and the heartbeat rounds (ARCHITECTURE.md "Time").

#include "bandsync/payloads.hpp"
#include "bandsync/session_service.hpp"
#include "util/log.hpp"

namespace bandsync::domain {
namespace {

void persist_playing(service_core& core, int64_t now_us) {
  if (now_us - core.last_persist_us < core.options.persist_playing_ms * 1000) return;
  core.last_persist_us = now_us;
  for (const auto& id : core.sessions.playing()) {
    if (const session* s = core.sessions.find(id)) save(core, *s, now_us);
  }
}

}  // namespace

size_t session_service::tick_due(const std::function<void(int64_t lag_us)>& on_lag) {
  int64_t now_us = core_.clk.steady_us();
  int64_t now_wall = core_.clk.wall_ms();
  size_t sent = core_.ticks.run_due(now_us, [&](const std::string& id, int64_t due_us) {
    const session* s = core_.sessions.find(id);
    if (!s || !s->playing()) {
      // A ticker left without a playing session (erased by the sweep or an
      // eviction while playing) stops here instead of waking us forever.
      core_.ticks.stop(id);
      return;
    }
    core_.out.emit_to_session(s->id(), "scroll_tick", payloads::scroll_tick(*s, now_us, now_wall));
    if (on_lag) on_lag(now_us - due_us);
  });
  persist_playing(core_, now_us);
  return sent;
}

void session_service::heartbeat_round() {
  boost::json::value payload = payloads::heartbeat(core_.clk.wall_ms());
  size_t sent = 0;
  core_.connections.for_each([&](const std::string& id, const connection_state& c) {
    if (c.held || !connection_registry::healthy(c, core_.options.healthy_latency_ms)) return;
    core_.out.emit_to(id, "heartbeat", payload);
    ++sent;
  });
  spdlog::debug("heartbeat: sent to {} of {} connections", sent, core_.connections.active());
}

}  // namespace bandsync::domain
