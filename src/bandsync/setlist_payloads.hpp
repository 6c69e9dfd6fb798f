#pragma once
// The JSON views of songs and setlists that the setlist events send
// (docs/EVENTS.md "Setlists", "Server → client"): built once per change and broadcast
// as one pre-encoded frame by the caller.

#include <cstdint>
#include <string_view>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "bandsync/setlist.hpp"

namespace bandsync::domain {

// `{ id, title, tempo, beatsPerBar, key?, chart?, sections: [{ name, line,
// bar? }] }`.
boost::json::object song_view(const song& s);

// The `setlist` array of snapshots and setlist_changed.
boost::json::array setlist_view(const setlist& list);

// Adds `setlist` and `currentSongId` (null when none) to a snapshot payload.
void add_setlist_fields(boost::json::object& snapshot, const setlist& list);

// `setlist_changed { sessionId, setlist, currentSongId, change: { kind,
// songId?, warnings? } }` (warnings only for an import that had some).
boost::json::object setlist_changed_payload(std::string_view session_id, const setlist& list,
                                            const setlist_change& change);

// `cue { sessionId, text, section, bar, from, timestamp }`: text, section and
// bar are null when absent; `from` is the leader's socket id, `timestamp`
// the server time (epoch ms) the cue was sent.
boost::json::object cue_payload(std::string_view session_id, const cue& c, std::string_view from,
                                double timestamp_ms);

}  // namespace bandsync::domain
