// The leader's setlist events (docs/EVENTS.md "Setlists"): each runs one
// setlist operation (setlist.hpp) and, when it applied, writes what changed
// through the store and tells the session with ONE `setlist_changed`; a
// change of the session's tempo, metre, position or playback is followed by a
// `snapshot`. A refused operation changes nothing and answers `error` with
// the operation's code.

#include "bandsync/handlers.hpp"
#include "bandsync/setlist_payloads.hpp"
#include "util/log.hpp"

namespace bandsync::domain {
namespace {

// How a change reaches the session's transport.
enum class effect {
  none,       // the songs or their order only
  selection,  // select/next/previous: after_select
};

void finish(service_core& core, const event_call& call, session& s,
            setlist_result<setlist_change> result, effect how, bool keep_playing = false) {
  auto* change = std::get_if<setlist_change>(&result);
  if (!change) {
    auto& e = std::get<setlist_error>(result);
    send_error(core, call.conn_id, call.event, to_reply_error(e.code), std::move(e.message));
    return;
  }
  bool transport_changed = false;
  if (how == effect::selection) {
    // select() succeeded, so there is a current song.
    s.apply(after_select(s.song_state_at(call.now_us), *s.setlist().current_song(), keep_playing),
            call.now_us);
    set_playing(core, s, s.playing());
    transport_changed = true;
  } else {
    if (change->current_transport_changed) {
      s.apply(after_update_of_current(s.song_state_at(call.now_us), *s.setlist().current_song()),
              call.now_us);
      transport_changed = true;
    }
    // The songs changed: only then is `setlist:<id>` rewritten (a selection
    // changes the session value's currentSongId alone).
    core.store.save_setlist(s.id(), s.setlist().records());
  }
  s.touch(call.now_wall_ms);
  // The session value holds currentSongId and beatsPerBar (a remove or a set
  // can clear the current song), so it is written after every change.
  save(core, s, call.now_us);
  spdlog::info("session {}: setlist {} {} ({} songs, current {})", s.id(), change->kind,
               change->song_id.value_or("-"), s.setlist().songs().size(),
               s.setlist().current_id().value_or("none"));
  core.out.emit_to_session(s.id(), "setlist_changed",
                           setlist_changed_payload(s.id(), s.setlist(), *change));
  if (transport_changed) emit_snapshot(core, s, call.now_us, call.now_wall_ms);
}

}  // namespace

void on_set_setlist(service_core& core, const event_call& call, const set_setlist_request& req,
                    session& s) {
  auto songs = req.songs;
  finish(core, call, s, s.setlist().set(std::move(songs)), effect::none);
}

void on_add_song(service_core& core, const event_call& call, const add_song_request& req,
                 session& s) {
  finish(core, call, s, s.setlist().add(req.song, req.index), effect::none);
}

void on_update_song(service_core& core, const event_call& call, const update_song_request& req,
                    session& s) {
  finish(core, call, s, s.setlist().update(req.song_id, req.changes), effect::none);
}

void on_remove_song(service_core& core, const event_call& call, const song_request& req,
                    session& s) {
  finish(core, call, s, s.setlist().remove(req.song_id), effect::none);
}

void on_move_song(service_core& core, const event_call& call, const move_song_request& req,
                  session& s) {
  finish(core, call, s, s.setlist().move(req.song_id, req.index), effect::none);
}

void on_select_song(service_core& core, const event_call& call, const select_song_request& req,
                    session& s) {
  finish(core, call, s, s.setlist().select(req.song_id), effect::selection, req.keep_playing);
}

void on_next_song(service_core& core, const event_call& call, const step_song_request& req,
                  session& s) {
  finish(core, call, s, s.setlist().next(), effect::selection, req.keep_playing);
}

void on_previous_song(service_core& core, const event_call& call, const step_song_request& req,
                      session& s) {
  finish(core, call, s, s.setlist().previous(), effect::selection, req.keep_playing);
}

void on_import_chart(service_core& core, const event_call& call, const import_chart_request& req,
                     session& s) {
  finish(core, call, s, s.setlist().import_chart(req.text, req.index, req.id), effect::none);
}

void on_cue(service_core& core, const event_call& call, const cue_request& req, session& s) {
  auto made = s.setlist().make_cue(req.text, req.section);
  if (auto* e = std::get_if<setlist_error>(&made)) {
    send_error(core, call.conn_id, call.event, to_reply_error(e->code), std::move(e->message));
    return;
  }
  const auto& c = std::get<cue>(made);
  spdlog::info("session {}: cue {} {}", s.id(), c.text.value_or("-"), c.section.value_or("-"));
  core.out.emit_to_session(
      s.id(), "cue", cue_payload(s.id(), c, call.conn_id, static_cast<double>(call.now_wall_ms)));
}

}  // namespace bandsync::domain
