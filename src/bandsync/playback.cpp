// The leader's transport and tempo, and sync_request (EVENTS.md "set_tempo",
// "play", "pause", "stop", "seek", "sync_request"; ARCHITECTURE.md "Time").

#include "bandsync/handlers.hpp"
#include "bandsync/payloads.hpp"
#include "util/log.hpp"

namespace bandsync::domain {
namespace {

enum class transport_action { play, pause, stop };

// play / pause / stop. `stop` is "as pause, and position = 0" (EVENTS.md), so
// it sends the same `pause` event, with position 0; there is no `stop` event
// for clients to miss. Repeating the current state re-sends the messages and
// keeps the anchor (a second play does not jump).
void run_transport(service_core& core, const event_call& call, session& s,
                   transport_action action) {
  if (action == transport_action::play) {
    s.play(call.now_us);
  } else if (action == transport_action::pause) {
    s.pause(call.now_us);
  } else {
    s.stop(call.now_us);
  }
  set_playing(core, s, s.playing());
  commit(core, call, s);
  int64_t position_us = s.position_us(call.now_us);
  spdlog::info("session {}: {} at {} ms", s.id(), call.event, position_us / 1000);
  if (action == transport_action::play) {
    core.out.emit_to_session(s.id(), "play", payloads::play(s, position_us, call.now_wall_ms));
  } else {
    core.out.emit_to_session(s.id(), "pause", payloads::pause(s, position_us, call.now_wall_ms));
  }
}

}  // namespace

void on_set_tempo(service_core& core, const event_call& call, const tempo_request& req,
                  session& s) {
  s.set_tempo(req.tempo, call.now_us);
  spdlog::info("session {}: tempo {} BPM", s.id(), req.tempo);
  commit(core, call, s);
}

void on_play(service_core& core, const event_call& call, const session_request&, session& s) {
  run_transport(core, call, s, transport_action::play);
}

void on_pause(service_core& core, const event_call& call, const session_request&, session& s) {
  run_transport(core, call, s, transport_action::pause);
}

void on_stop(service_core& core, const event_call& call, const session_request&, session& s) {
  run_transport(core, call, s, transport_action::stop);
}

void on_seek(service_core& core, const event_call& call, const seek_request& req, session& s) {
  s.seek(req.position_us, call.now_us);
  spdlog::info("session {}: seek to {} ms", s.id(), req.position_us / 1000);
  commit(core, call, s);
  core.out.emit_to_session(s.id(), "seek", payloads::seek(s, req.position_us, call.now_wall_ms));
}

void on_sync_request(service_core& core, const event_call& call, const session_request&,
                     session& s) {
  core.out.emit_to(call.conn_id, "sync_response",
                   payloads::sync_response(s, call.now_us, call.now_wall_ms));
}

}  // namespace bandsync::domain
