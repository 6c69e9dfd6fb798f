#pragma once
// A song's chart text and the section markers in it (docs/EVENTS.md "Chart
// section markers"). Pure functions over bytes, no Boost, no allocation beyond
// the result: the ChordPro importer and its fuzz target use this without the
// rest of the domain.
//
// A section marker is a line that holds only `[Name]`, optionally followed by
// `@N` (the bar where the section starts, as musicians count: 1-based):
//     [Verse 1]
//     [Chorus] @17
// A bracketed name that reads as a chord (`[C]`, `[Am7]`, `[F#m/C#]`, `[N.C.]`)
// is a chord line, not a marker, so a ChordPro line holding one chord is left
// alone; a section called "A" or "B" is written `[Section A]`.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bandsync::domain {

inline constexpr size_t max_chart_bytes = 32 * 1024;  // UTF-8 bytes of one chart
inline constexpr size_t max_sections = 128;           // markers past it are not listed
inline constexpr size_t max_section_name = 64;        // code points; longer is not a marker
inline constexpr uint32_t max_section_bar = 9999;

struct section {
  std::string name;
  uint32_t line = 0;            // 0-based index of the marker line (chart split on '\n')
  std::optional<uint32_t> bar;  // 1-based bar number, as written after '@'

  bool operator==(const section&) const = default;
};

// The marker a single line holds (without its line number), or std::nullopt
// when the line is text, a chord line, or a malformed marker. Leading and
// trailing blanks (space, tab, CR) are ignored.
std::optional<section> parse_marker_line(std::string_view line);

// Every marker of `chart`, in order, at most max_sections. Linear in the size
// of the chart.
std::vector<section> sections_of(std::string_view chart);

// True when `s` is a chord name as ChordPro charts write them: a root A-G with
// an optional # or b, then any run of quality tokens (m, min, maj, M, dim, aug,
// sus, add, digits, + - # b ( ) ° ø), then an optional /bass note; or one of
// N.C., NC, %, x.
bool looks_like_chord(std::string_view s);

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
bool valid_utf8(std::string_view s);

// `s` without leading and trailing blanks (space, tab, CR).
std::string_view trim_blanks(std::string_view s);

// True when `s` holds a control character other than tab (C0 or DEL).
bool has_control_chars(std::string_view s);

// Number of code points of valid UTF-8 text.
size_t code_points(std::string_view s);

// The longest prefix of valid UTF-8 `s` with at most `n` code points.
std::string_view first_code_points(std::string_view s, size_t n);

}  // namespace bandsync::domain
