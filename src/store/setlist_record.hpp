#pragma once
// A session's setlist as stored under `setlist:<id>` (docs/EVENTS.md
// "Persistence of setlists"): `{ "songs": [song, ...] }`. A key of its own, beside
// `session:<id>`, because the session value is rewritten once a second while
// playing (the position write-behind) and a setlist may hold 256 KiB of charts;
// the setlist key is written only when the songs change. The old server never
// reads it (it reads `session:*` and `member:*` only).
//
// The store checks types only; the domain re-applies its bounds when it
// restores a setlist (setlist::restore), so a hand-edited key cannot break its
// invariants.

#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace bandsync::store {

struct song_record {
  std::string id;
  std::string title;
  double tempo = 120;     // BPM
  int beats_per_bar = 4;  // the metre's numerator
  std::optional<std::string> key;
  std::optional<std::string> chart;

  bool operator==(const song_record&) const = default;
};

// `{ id, title, tempo, beatsPerBar, key?, chart? }` (absent optionals are not
// written). The domain's song view adds the derived `sections`.
boost::json::object to_json(const song_record& song);

// Reads a song object; `id` and `title` are required strings, tempo and
// beatsPerBar take their defaults when absent or null, key and chart are
// strings or absent/null. Unknown keys (such as `sections`) are ignored.
std::optional<song_record> song_from_json(const boost::json::value& value,
                                          std::string* error = nullptr);

// The `setlist:<id>` value: `{ "songs": [...] }`.
boost::json::object setlist_to_json(const std::vector<song_record>& songs);

// Reads a `setlist:<id>` value; std::nullopt (reason in `*error`) when it is
// not an object with a `songs` array of songs.
std::optional<std::vector<song_record>> setlist_from_json(const boost::json::value& value,
                                                          std::string* error = nullptr);

}  // namespace bandsync::store
