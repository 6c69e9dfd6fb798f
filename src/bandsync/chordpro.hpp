#pragma once
// The ChordPro subset BandSync imports (docs/EVENTS.md "Chart import"):
// a pasted chart becomes a song's title, tempo, metre, key and chart text,
// with ChordPro's environments turned into BandSync section markers
// (chart.hpp). Pure and total: any bytes in, a song or an error value out,
// never a throw; time and memory linear in the input (the input is bounded
// by max_import_bytes before anything else is done).

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "bandsync/metre.hpp"

namespace bandsync::domain {

inline constexpr size_t max_import_bytes = 64 * 1024;  // the pasted text
inline constexpr size_t max_import_warnings = 20;      // listed; the rest counted in one line
inline constexpr size_t max_title_length = 200;        // code points
inline constexpr size_t max_key_length = 8;            // code points
inline constexpr double min_song_tempo = 20;
inline constexpr double max_song_tempo = 300;

struct imported_song {
  std::string title;  // "Untitled" (with a warning) when the text has no {title}
  std::optional<double> tempo;
  std::optional<int> beats_per_bar;
  std::optional<std::string> key;
  std::string chart;                  // valid UTF-8, '\n' line ends, at most max_chart_bytes
  std::vector<std::string> warnings;  // at most max_import_warnings + 1
};

struct import_error {
  std::string message;
};

// Reads `text` as ChordPro. Errors: more than max_import_bytes, invalid UTF-8,
// a chart that would exceed max_chart_bytes. Everything else (unknown or
// malformed directives, out-of-range values) is dropped with a warning that
// names the 1-based line.
std::variant<imported_song, import_error> import_chordpro(std::string_view text);

}  // namespace bandsync::domain
