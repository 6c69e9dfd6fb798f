// The ChordPro subset: what each directive becomes, and that anything else
// is dropped with a warning or refused with an error.

#include "bandsync/chordpro.hpp"

#include <gtest/gtest.h>

#include "bandsync/chart.hpp"

namespace bandsync::domain {
namespace {

imported_song ok(std::string_view text) {
  auto r = import_chordpro(text);
  if (auto* e = std::get_if<import_error>(&r)) ADD_FAILURE() << e->message;
  return std::get_if<imported_song>(&r) ? std::get<imported_song>(r) : imported_song{};
}

std::string err(std::string_view text) {
  auto r = import_chordpro(text);
  auto* e = std::get_if<import_error>(&r);
  return e ? e->message : "(imported)";
}

TEST(ChordPro, ATypicalChart) {
  auto s =
      ok("{title: Amazing Grace}\r\n"
         "{subtitle: Traditional}\n"
         "{key: G}\n"
         "{tempo: 72}\n"
         "{time: 3/4}\n"
         "# arranged for the band\n"
         "\n"
         "{start_of_verse}\n"
         "A[G]mazing [G7]grace, how [C]sweet the [G]sound\n"
         "{end_of_verse}\n"
         "{comment: Slowly}\n"
         "{soc: Chorus 2 @17}\n"
         "[C]\n"
         "{eoc}\n");
  EXPECT_EQ(s.title, "Amazing Grace");
  EXPECT_EQ(s.key, "G");
  EXPECT_EQ(s.tempo, 72);
  EXPECT_EQ(s.beats_per_bar, 3);
  EXPECT_EQ(s.chart,
            "Traditional\n"
            "\n"
            "[Verse]\n"
            "A[G]mazing [G7]grace, how [C]sweet the [G]sound\n"
            "Slowly\n"
            "[Chorus 2] @17\n"
            "[C]");
  EXPECT_TRUE(s.warnings.empty());
  auto sections = sections_of(s.chart);
  ASSERT_EQ(sections.size(), 2u);
  EXPECT_EQ(sections[0], (section{"Verse", 2, std::nullopt}));
  EXPECT_EQ(sections[1], (section{"Chorus 2", 5, 17}));
}

TEST(ChordPro, ShortFormsAndEnvironments) {
  auto s =
      ok("{t:Song}\n{st:Sub}\n{c:Note}\n{sov}\n{sob}\n{sot}\n{sog}\n{soc}\n{chorus}\n"
         "{START_OF_CHORUS: Refrain}\n{Title: Second}");
  EXPECT_EQ(s.title, "Song");
  EXPECT_EQ(s.chart, "Sub\nNote\n[Verse]\n[Bridge]\n[Tab]\n[Grid]\n[Chorus]\n[Chorus]\n[Refrain]");
  ASSERT_EQ(s.warnings.size(), 1u);
  EXPECT_EQ(s.warnings[0], "line 11: a second {title} is ignored");
}

TEST(ChordPro, TempoAndTimeForms) {
  EXPECT_EQ(ok("{tempo: 96.5}").tempo, 96.5);
  EXPECT_EQ(ok("{tempo: 120 BPM}").tempo, 120);
  EXPECT_EQ(ok("{time: 6/8}").beats_per_bar, 6);
  EXPECT_EQ(ok("{time: 16/16}").beats_per_bar, 16);
  for (const char* bad : {"{tempo: fast}", "{tempo: 19}", "{tempo: 301}", "{tempo: 1e2}",
                          "{tempo: 96.}", "{tempo:}", "{tempo: 1000}"}) {
    auto s = ok(bad);
    EXPECT_FALSE(s.tempo) << bad;
    ASSERT_FALSE(s.warnings.empty()) << bad;
    EXPECT_EQ(s.warnings[0], "line 1: {tempo} must be a number from 20 to 300; ignored") << bad;
  }
  for (const char* bad :
       {"{time: 17/4}", "{time: 0/4}", "{time: 3/3}", "{time: 4}", "{time: a/4}", "{time: 3/64}"}) {
    EXPECT_FALSE(ok(bad).beats_per_bar) << bad;
  }
}

TEST(ChordPro, UnknownDirectivesAreListedAndDropped) {
  auto s = ok("{title: X}\n{capo: 2}\n{artist: Y}\nla\n{}\n{ key }\n{key: waytoolongkey}");
  EXPECT_EQ(s.chart, "la");
  EXPECT_FALSE(s.key);
  ASSERT_EQ(s.warnings.size(), 5u);
  EXPECT_EQ(s.warnings[0], "line 2: {capo} is not understood; ignored");
  EXPECT_EQ(s.warnings[1], "line 3: {artist} is not understood; ignored");
  EXPECT_EQ(s.warnings[2], "line 5: {} is not understood; ignored");
  EXPECT_EQ(s.warnings[3], "line 6: {key} must be 1 to 8 characters; ignored");
  EXPECT_EQ(s.warnings[4], "line 7: {key} must be 1 to 8 characters; ignored");
}

TEST(ChordPro, WarningsAreBounded) {
  std::string text = "{title: X}\n";
  for (int i = 0; i < 1000; ++i) text += "{x" + std::to_string(i) + "}\n";
  auto s = ok(text);
  ASSERT_EQ(s.warnings.size(), max_import_warnings + 1);
  EXPECT_EQ(s.warnings.back(), "and 980 more warnings");
}

TEST(ChordPro, NoTitleIsUntitled) {
  auto s = ok("[G]la la");
  EXPECT_EQ(s.title, "Untitled");
  EXPECT_EQ(s.chart, "[G]la la");
  ASSERT_EQ(s.warnings.size(), 1u);
  EXPECT_EQ(s.warnings[0], "no {title}: the song is called \"Untitled\"");
}

TEST(ChordPro, LongTitleIsCutAtACodePoint) {
  std::string title;
  for (int i = 0; i < 250; ++i) title += "\xC3\xA9";
  auto s = ok("{title: " + title + "}");
  EXPECT_EQ(code_points(s.title), 200u);
  EXPECT_EQ(s.title.size(), 400u);
}

TEST(ChordPro, LabelsThatAreNotSectionNamesFallBack) {
  auto s = ok("{title: X}\n{soc: A}\n{sov: [x]}");
  EXPECT_EQ(s.chart, "[Chorus]\n[Verse]");
  EXPECT_EQ(s.warnings.size(), 2u);
}

TEST(ChordPro, UnclosedBracesAreText) {
  EXPECT_EQ(ok("{title: X}\n{not a directive\nx}").chart, "{not a directive\nx}");
}

TEST(ChordPro, Errors) {
  EXPECT_EQ(err(std::string(max_import_bytes + 1, 'a')), "text must be at most 65536 bytes");
  EXPECT_EQ(err("{title: \xC3}"), "text must be valid UTF-8");
  // 33 000 bytes of text lines in 64 KiB: the chart would be too large.
  std::string big;
  for (int i = 0; i < 330; ++i) big += std::string(99, 'a') + "\n";
  EXPECT_EQ(err(big), "the chart would be more than 32768 bytes");
  // Directives do not count: 60 KiB of them make an empty chart.
  std::string directives;
  while (directives.size() < 60000) directives += "{tempo: 100}\n";
  EXPECT_EQ(ok(directives).chart, "");
}

TEST(ChordPro, EmptyText) {
  auto s = ok("");
  EXPECT_EQ(s.chart, "");
  EXPECT_EQ(s.title, "Untitled");
}

}  // namespace
}  // namespace bandsync::domain
