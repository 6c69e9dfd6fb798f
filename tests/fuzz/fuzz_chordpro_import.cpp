// libFuzzer target for the ChordPro importer and the chart section markers.
//
// The input is pasted chart text (any bytes). import_chordpro must never
// crash, and whenever it returns a song, the song must respect the importer's
// contract (chordpro.hpp): a non-empty title of at most 200 code points, a
// chart of valid UTF-8 within max_chart_bytes, tempo and metre in range, a
// bounded warning list; and the sections derived from that chart must point
// at marker lines of it. Any violation aborts, so libFuzzer reports it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "bandsync/chart.hpp"
#include "bandsync/chordpro.hpp"

namespace {

namespace d = bandsync::domain;

void check(bool ok) {
  if (!ok) std::abort();
}

// The `index`-th line of `text` split on '\n'.
std::string_view line_at(std::string_view text, size_t index) {
  size_t start = 0;
  for (size_t i = 0; i < index; ++i) {
    size_t nl = text.find('\n', start);
    check(nl != std::string_view::npos);
    start = nl + 1;
  }
  size_t end = text.find('\n', start);
  return text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
}

void check_sections(std::string_view chart) {
  auto sections = d::sections_of(chart);
  check(sections.size() <= d::max_sections);
  uint32_t previous = 0;
  for (size_t i = 0; i < sections.size(); ++i) {
    const auto& s = sections[i];
    check(i == 0 || s.line > previous);
    previous = s.line;
    auto marker = d::parse_marker_line(line_at(chart, s.line));
    check(marker && marker->name == s.name && marker->bar == s.bar);
    check(!s.name.empty() && !d::looks_like_chord(s.name));
    check(!s.bar || (*s.bar >= 1 && *s.bar <= d::max_section_bar));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto result = d::import_chordpro(text);
  if (auto* song = std::get_if<d::imported_song>(&result)) {
    check(d::valid_utf8(text));
    check(!song->title.empty() && d::valid_utf8(song->title) &&
          d::code_points(song->title) <= d::max_title_length);
    check(d::valid_utf8(song->chart) && song->chart.size() <= d::max_chart_bytes);
    check(!song->tempo || (*song->tempo >= d::min_song_tempo && *song->tempo <= d::max_song_tempo));
    check(!song->beats_per_bar || (*song->beats_per_bar >= d::min_beats_per_bar &&
                                   *song->beats_per_bar <= d::max_beats_per_bar));
    check(!song->key || (!song->key->empty() && d::code_points(*song->key) <= d::max_key_length));
    check(song->warnings.size() <= d::max_import_warnings + 1);
    check_sections(song->chart);
  } else {
    check(!std::get<d::import_error>(result).message.empty());
  }
  // The marker parser on raw input too (it must cope with invalid UTF-8).
  if (d::valid_utf8(text)) check_sections(text);
  return 0;
}
