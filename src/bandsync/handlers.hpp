#pragma once
// The client event handlers (one per row of the event table, events.cpp). They
// run after the payload was parsed and the sender authorized: `anyone` events
// get the request only, member and leader events also get the session. Plain
// functions over the shared service state.

#include <string>
#include <string_view>

#include "bandsync/clock_requests.hpp"
#include "bandsync/requests.hpp"
#include "bandsync/service_core.hpp"
#include "bandsync/setlist_requests.hpp"

namespace bandsync::domain {

// membership.cpp
void on_join_session(service_core& core, const event_call& call, const join_request& req);
void on_leave_session(service_core& core, const event_call& call, const session_request& req,
                      session& s);
void on_update_message(service_core& core, const event_call& call, const message_request& req,
                       session& s);
void on_set_role(service_core& core, const event_call& call, const role_request& req, session& s);

// Removes the connection from its session (leave_session, a join elsewhere or
// a disconnect): election, store writes and the messages of EVENTS.md
// "Leaving". Precondition: conn.session_id is set.
void leave_current(service_core& core, const std::string& conn_id, connection_state& conn,
                   std::string_view why);

// seats.cpp
// A join whose clientId names another member's seat in `s`: the joiner takes
// that seat over (EVENTS.md "Seats", member_replaced).
void reclaim_seat(service_core& core, const event_call& call, session& s, const std::string& old_id,
                  const join_request& req);
// Frees a seat of full session `s` held by a dropped connection (the one
// dropped longest) as a departure; false when every member is connected.
bool release_held_seat(service_core& core, session& s);
// The lead of `s` passes from its held leader to the most senior connected
// member (election messages); false when nobody else is connected.
bool pass_held_lead(service_core& core, session& s, int64_t now_us, int64_t now_wall_ms);

// playback.cpp
void on_set_tempo(service_core& core, const event_call& call, const scheduled_tempo_request& req,
                  session& s);
void on_play(service_core& core, const event_call& call, const play_request& req, session& s);
void on_pause(service_core& core, const event_call& call, const session_request& req, session& s);
void on_stop(service_core& core, const event_call& call, const session_request& req, session& s);
void on_seek(service_core& core, const event_call& call, const scheduled_seek_request& req,
             session& s);
void on_set_time_signature(service_core& core, const event_call& call,
                           const time_signature_request& req, session& s);
void on_sync_request(service_core& core, const event_call& call, const session_request& req,
                     session& s);

// health.cpp
void on_latency_probe(service_core& core, const event_call& call, const latency_probe_request& req);
void on_heartbeat_response(service_core& core, const event_call& call,
                           const heartbeat_response_request& req);
// Answers through the ack when the client asked for one, else with
// `time_sync_response`.
void on_time_sync(service_core& core, const event_call& call, const time_sync_request& req);

// setlist_events.cpp (docs/EVENTS.md "Setlists")
void on_set_setlist(service_core& core, const event_call& call, const set_setlist_request& req,
                    session& s);
void on_add_song(service_core& core, const event_call& call, const add_song_request& req,
                 session& s);
void on_update_song(service_core& core, const event_call& call, const update_song_request& req,
                    session& s);
void on_remove_song(service_core& core, const event_call& call, const song_request& req,
                    session& s);
void on_move_song(service_core& core, const event_call& call, const move_song_request& req,
                  session& s);
void on_select_song(service_core& core, const event_call& call, const select_song_request& req,
                    session& s);
void on_next_song(service_core& core, const event_call& call, const step_song_request& req,
                  session& s);
void on_previous_song(service_core& core, const event_call& call, const step_song_request& req,
                      session& s);
void on_import_chart(service_core& core, const event_call& call, const import_chart_request& req,
                     session& s);
void on_cue(service_core& core, const event_call& call, const cue_request& req, session& s);

}  // namespace bandsync::domain
