#pragma once
// Validation of the setlist events' payloads (docs/EVENTS.md "Setlists", "Events"), in
// the manner of requests.hpp: each parser turns an event's arguments into a
// typed request or an error value, never throws, and reads client data only
// through Boost.JSON's non-throwing accessors. Errors carry a setlist_errc
// (INVALID_PAYLOAD, or SETLIST_FULL for a set_setlist of more than 100 songs,
// refused before any song is read) and a message naming the field.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/array.hpp>

#include "bandsync/setlist.hpp"

namespace bandsync::domain {

inline constexpr size_t max_cue_text_length = 140;  // code points

// set_setlist { sessionId, setlist: [song, ...] }, song = { id?, title,
// tempo?, beatsPerBar?, key?, chart? }.
struct set_setlist_request {
  std::string session_id;
  std::vector<song_input> songs;
};
setlist_result<set_setlist_request> parse_set_setlist(const boost::json::array& args);

// add_song { sessionId, song, index? }.
struct add_song_request {
  std::string session_id;
  song_input song;
  std::optional<size_t> index;
};
setlist_result<add_song_request> parse_add_song(const boost::json::array& args);

// update_song { sessionId, songId, song: { title?, tempo?, beatsPerBar?, key?,
// chart? } }; key or chart null or "" clears it. An `id` inside is ignored.
struct update_song_request {
  std::string session_id;
  std::string song_id;
  song_changes changes;
};
setlist_result<update_song_request> parse_update_song(const boost::json::array& args);

// remove_song { sessionId, songId }.
struct song_request {
  std::string session_id;
  std::string song_id;
};
setlist_result<song_request> parse_remove_song(const boost::json::array& args);

// move_song { sessionId, songId, index }.
struct move_song_request {
  std::string session_id;
  std::string song_id;
  size_t index = 0;
};
setlist_result<move_song_request> parse_move_song(const boost::json::array& args);

// select_song { sessionId, songId, continue? }.
struct select_song_request {
  std::string session_id;
  std::string song_id;
  bool keep_playing = false;  // `continue`
};
setlist_result<select_song_request> parse_select_song(const boost::json::array& args);

// next_song / previous_song { sessionId, continue? }.
struct step_song_request {
  std::string session_id;
  bool keep_playing = false;
};
setlist_result<step_song_request> parse_step_song(const boost::json::array& args);

// import_chart { sessionId, text, index?, id? }; text a string of at most
// 65536 bytes (the importer's own checks follow in setlist::import_chart).
struct import_chart_request {
  std::string session_id;
  std::string text;
  std::optional<size_t> index;
  std::optional<std::string> id;
};
setlist_result<import_chart_request> parse_import_chart(const boost::json::array& args);

// cue { sessionId, text?, section? }: at least one of them; text 1-140 code
// points without control characters, section 1-64 code points.
struct cue_request {
  std::string session_id;
  std::optional<std::string> text;
  std::optional<std::string> section;
};
setlist_result<cue_request> parse_cue(const boost::json::array& args);

}  // namespace bandsync::domain
