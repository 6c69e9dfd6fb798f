#pragma once
// A session as the Redis layout of EVENTS.md stores it under `session:<id>`:
// the session fields with `members` as an array of [socketId, member] pairs.
// Shared by every session_store so that a deployment can switch between the
// old Node server and BandSync without losing sessions.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "store/member_record.hpp"
#include "store/setlist_record.hpp"

namespace bandsync::store {

struct session_record {
  std::string id;  // the key suffix; not part of the JSON value
  std::string message;
  double tempo = 120;      // BPM; written as both `tempo` and `tempoBpm`
  double position_ms = 0;  // ms into the song when the record was written
  bool is_playing = false;
  std::optional<std::string> leader_socket_id;
  std::vector<member_record> members;  // join order
  int64_t created_at = 0;              // Unix epoch ms
  int64_t last_active_at = 0;          // Unix epoch ms
  int64_t max_members = 8;             // settings.maxMembers
  // BandSync additions (docs/EVENTS.md "Persistence of setlists"): new keys in the
  // session value, which the old server carries along and never reads.
  int64_t beats_per_bar = 4;                   // `beatsPerBar`
  std::optional<std::string> current_song_id;  // `currentSongId`, null when none
  // Cluster mode only (docs/EVENTS.md "Cluster"): the server time (ms, with
  // fractions) at which `position_ms` and `anchor_beat` were read, so that a
  // node taking the session over extrapolates a playing clock exactly.
  // Written as `anchorServerMs` / `anchorBeat` only when set.
  std::optional<double> anchor_server_ms;
  double anchor_beat = 0;
  // Not part of the session value: the songs live under `setlist:<id>`
  // (session_store::save_setlist writes them, load_sessions reads them back
  // into this field; save_session ignores it).
  std::vector<song_record> setlist;

  bool operator==(const session_record&) const = default;
};

// The `session:<id>` value, in the old server's key order (readers must not
// depend on it): message, tempo, position, isPlaying, leaderSocketId, tempoBpm,
// members, createdAt, lastActiveAt, settings; then BandSync's additions,
// beatsPerBar and currentSongId (null when none). Whole numbers are written
// as integers. `setlist` is not written (it has a key of its own).
boost::json::object to_json(const session_record& session);

// Reads a `session:<id>` value written by BandSync or the old Node server, in
// any key order, ignoring unknown keys. Missing fields take the defaults of a
// new session (message "", tempo 120, position 0, not playing, no leader, no
// members, times 0, maxMembers 8, beatsPerBar 4, no current song), so the old
// server's values load; `tempoBpm` wins over `tempo` when both are
// present. `members` may hold [socketId, member] pairs (the Redis layout) or
// plain member objects (the snapshot layout). Returns std::nullopt, with a
// reason in `*error` when `error` is not null, if the value is not an object
// or a present field has the wrong type.
std::optional<session_record> session_from_json(std::string id, const boost::json::value& value,
                                                std::string* error = nullptr);

}  // namespace bandsync::store
