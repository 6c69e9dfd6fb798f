// The leader's transport, tempo and time signature, and sync_request
// (EVENTS.md "set_tempo", "play", "pause", "stop", "seek", "sync_request", and
// the clock additions: scheduled play with count-in, timed seek/set_tempo,
// set_time_signature; ARCHITECTURE.md "Time").

#include "bandsync/handlers.hpp"
#include "bandsync/payloads.hpp"
#include "util/log.hpp"

namespace bandsync::domain {
namespace {

void refuse_schedule_full(service_core& core, const event_call& call) {
  send_error(core, call.conn_id, call.event, reply_error::schedule_full,
             "too many scheduled changes pending");
}

// pause / stop. `stop` is "as pause, and position = 0" (EVENTS.md), so it
// sends the same `pause` event, with position 0; there is no `stop` event for
// clients to miss. Repeating the current state re-sends the messages.
void halt(service_core& core, const event_call& call, session& s, bool to_start) {
  if (to_start) {
    s.stop(call.now_us);
  } else {
    s.pause(call.now_us);
  }
  set_playing(core, s, false);
  commit(core, call, s);
  spdlog::info("session {}: {} at {} ms", s.id(), call.event, s.position_us(call.now_us) / 1000);
  core.out.emit_to_session(s.id(), "pause", payloads::pause(s, core.clk, call.now_us));
}

}  // namespace

void on_set_tempo(service_core& core, const event_call& call, const scheduled_tempo_request& req,
                  session& s) {
  // Without `at` a tempo change takes effect at once (as before), so the
  // snapshot answering it states the new tempo; `at` schedules it.
  int64_t at_us = req.at_ms ? core.clk.steady_us_at(*req.at_ms) : call.now_us;
  auto effective = s.set_tempo(req.tempo, at_us, call.now_us);
  if (!effective) return refuse_schedule_full(core, call);
  spdlog::info("session {}: tempo {} BPM", s.id(), req.tempo);
  commit(core, call, s);
}

void on_play(service_core& core, const event_call& call, const play_request& req, session& s) {
  std::optional<int64_t> at_us;
  if (req.at_ms) at_us = core.clk.steady_us_at(*req.at_ms);
  // A repeated play keeps the first schedule (and re-sends its messages).
  if (!s.playing()) {
    int64_t start_us = play_start_us(call.now_us, core.options.play_lead_ms * 1000, at_us,
                                     req.count_in_bars, s.beats_per_bar(), s.tempo(call.now_us));
    s.play_at(start_us, call.now_us);
  }
  set_playing(core, s, true);
  commit(core, call, s);
  int64_t starts_at_us = s.starts_at_us(call.now_us).value_or(call.now_us);
  spdlog::info("session {}: play at {} ms, starting in {} ms", s.id(),
               s.position_us(call.now_us) / 1000, (starts_at_us - call.now_us) / 1000);
  core.out.emit_to_session(
      s.id(), "play", payloads::play(s, core.clk, call.now_us, starts_at_us, req.count_in_bars));
}

void on_pause(service_core& core, const event_call& call, const session_request&, session& s) {
  halt(core, call, s, false);
}

void on_stop(service_core& core, const event_call& call, const session_request&, session& s) {
  halt(core, call, s, true);
}

void on_seek(service_core& core, const event_call& call, const scheduled_seek_request& req,
             session& s) {
  // As set_tempo: without `at` at once (the old contract), with `at` then.
  int64_t at_us = req.at_ms ? core.clk.steady_us_at(*req.at_ms) : call.now_us;
  auto effective = s.seek(req.position_us, at_us, call.now_us);
  if (!effective) return refuse_schedule_full(core, call);
  spdlog::info("session {}: seek to {} ms", s.id(), req.position_us / 1000);
  commit(core, call, s);
  core.out.emit_to_session(s.id(), "seek",
                           payloads::seek(s, core.clk, call.now_us, req.position_us, *effective));
}

void on_set_time_signature(service_core& core, const event_call& call,
                           const time_signature_request& req, session& s) {
  s.set_beats_per_bar(req.beats_per_bar);
  spdlog::info("session {}: {} beats per bar", s.id(), req.beats_per_bar);
  commit(core, call, s);
}

void on_sync_request(service_core& core, const event_call& call, const session_request&,
                     session& s) {
  core.out.emit_to(call.conn_id, "sync_response",
                   payloads::sync_response(s, core.clk, call.now_us));
}

}  // namespace bandsync::domain
