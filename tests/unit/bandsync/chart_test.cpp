// Section markers and chord names: what is a marker, what is a chord line.

#include "bandsync/chart.hpp"

#include <gtest/gtest.h>

namespace bandsync::domain {
namespace {

TEST(Chart, ChordsAreNotSectionNames) {
  for (const char* chord :
       {"C",     "Am",     "Am7",   "F#m/C#", "Bb",    "Ebmaj7",    "Dsus4",
        "Cadd9", "G7(#9)", "Bm7b5", "C/E",    "Gm/Bb", "Cdim",      "Caug",
        "C+",    "N.C.",   "NC",    "%",      "x",     "E\xC2\xB0", "B\xC3\xB8"}) {
    EXPECT_TRUE(looks_like_chord(chord)) << chord;
    EXPECT_FALSE(parse_marker_line(std::string("[") + chord + "]")) << chord;
  }
  for (const char* name : {"Verse", "Chorus", "Chorus 2", "Bridge", "Coda", "Intro", "Outro",
                           "Break", "Ending", "Am I", "Section A", "Fade", "Bass solo"}) {
    EXPECT_FALSE(looks_like_chord(name)) << name;
  }
  EXPECT_FALSE(looks_like_chord(""));
  EXPECT_FALSE(looks_like_chord("C/"));
  EXPECT_FALSE(looks_like_chord("C/H"));
}

TEST(Chart, MarkerLines) {
  struct row {
    const char* line;
    std::optional<section> want;
  };
  const row rows[] = {
      {"[Verse]", section{"Verse", 0, std::nullopt}},
      {"  [Chorus 2]\t\r", section{"Chorus 2", 0, std::nullopt}},
      {"[Chorus] @17", section{"Chorus", 0, 17}},
      {"[Chorus]@17", section{"Chorus", 0, 17}},
      {"[Chorus] @ 9999", section{"Chorus", 0, 9999}},
      {"[ Solo ]", section{"Solo", 0, std::nullopt}},
      {"[Chorus] @0", std::nullopt},      // bars count from 1
      {"[Chorus] @017", std::nullopt},    // no leading zero
      {"[Chorus] @10000", std::nullopt},  // beyond 9999
      {"[Chorus] @x", std::nullopt},
      {"[Chorus] @", std::nullopt},
      {"[Verse] la la", std::nullopt},  // lyrics after it: a text line
      {"[C] [G]", std::nullopt},        // two chords
      {"[C]", std::nullopt},
      {"[]", std::nullopt},
      {"[ ]", std::nullopt},
      {"[Verse", std::nullopt},
      {"Verse]", std::nullopt},
      {"[Ver{se]", std::nullopt},
      {"[Verse]]", std::nullopt},
      {"", std::nullopt},
  };
  for (const auto& r : rows) EXPECT_EQ(parse_marker_line(r.line), r.want) << r.line;
  EXPECT_TRUE(parse_marker_line("[" + std::string(64, 'v') + "]"));
  EXPECT_FALSE(parse_marker_line("[" + std::string(65, 'v') + "]"));
  // 64 code points of two bytes each are still a name.
  std::string wide;
  for (int i = 0; i < 64; ++i) wide += "\xC3\xA9";
  EXPECT_TRUE(parse_marker_line("[" + wide + "]"));
}

TEST(Chart, SectionsCarryTheirLineIndex) {
  auto s = sections_of("[Intro]\n[C] [G]\n\n[Verse 1] @5\nla [Am]la\r\n[Chorus] @13\r\n[Chorus]");
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[0], (section{"Intro", 0, std::nullopt}));
  EXPECT_EQ(s[1], (section{"Verse 1", 3, 5}));
  EXPECT_EQ(s[2], (section{"Chorus", 5, 13}));
  EXPECT_EQ(s[3], (section{"Chorus", 6, std::nullopt}));
  EXPECT_TRUE(sections_of("").empty());
  EXPECT_TRUE(sections_of("\n\n").empty());
}

TEST(Chart, AtMost128SectionsAreListed) {
  std::string chart;
  for (int i = 0; i < 200; ++i) chart += "[Part " + std::to_string(i) + "]\n";
  auto s = sections_of(chart);
  ASSERT_EQ(s.size(), max_sections);
  EXPECT_EQ(s.back().name, "Part 127");
  EXPECT_EQ(s.back().line, 127u);
}

TEST(Chart, Utf8) {
  EXPECT_TRUE(valid_utf8("plain \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x8E\xB8"));
  EXPECT_FALSE(valid_utf8("\xC3"));              // truncated
  EXPECT_FALSE(valid_utf8("\xC0\xAF"));          // overlong
  EXPECT_FALSE(valid_utf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(valid_utf8("\xF4\x90\x80\x80"));  // beyond U+10FFFF
  EXPECT_FALSE(valid_utf8("\xFF"));
  EXPECT_EQ(code_points("a\xC3\xA9\xE2\x82\xAC"), 3u);
  EXPECT_EQ(first_code_points("a\xC3\xA9\xE2\x82\xAC", 2), "a\xC3\xA9");
  EXPECT_EQ(first_code_points("ab", 5), "ab");
}

}  // namespace
}  // namespace bandsync::domain
