// The setlist's rules: ordering, bounds, ids, selection and what it does to
// the session's transport, next/previous at the ends, restore, cues, and the
// payload views.

#include "bandsync/setlist.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "bandsync/setlist_payloads.hpp"

namespace bandsync::domain {
namespace {

song_input in(std::string title, std::optional<std::string> id = std::nullopt) {
  song_input s;
  s.id = std::move(id);
  s.title = std::move(title);
  return s;
}

template <class T>
const T& value(const setlist_result<T>& r) {
  if (auto* e = std::get_if<setlist_error>(&r)) {
    ADD_FAILURE() << code_name(e->code) << ": " << e->message;
    static const T empty{};
    return empty;
  }
  return std::get<T>(r);
}

template <class T>
setlist_errc code(const setlist_result<T>& r) {
  auto* e = std::get_if<setlist_error>(&r);
  if (!e) {
    ADD_FAILURE() << "expected an error";
    return setlist_errc::invalid_payload;
  }
  return e->code;
}

template <class F>
song_changes with(F f) {
  song_changes c;
  f(c);
  return c;
}

std::vector<std::string> ids(const setlist& l) {
  std::vector<std::string> out;
  for (const auto& s : l.songs()) out.push_back(s.id);
  return out;
}

setlist abc() {
  setlist l;
  value(l.set({in("A", "a"), in("B", "b"), in("C", "c")}));
  return l;
}

TEST(Setlist, CodesOnTheWire) {
  EXPECT_EQ(code_name(setlist_errc::invalid_payload), "INVALID_PAYLOAD");
  EXPECT_EQ(code_name(setlist_errc::setlist_full), "SETLIST_FULL");
  EXPECT_EQ(code_name(setlist_errc::no_such_song), "NO_SUCH_SONG");
  EXPECT_EQ(code_name(setlist_errc::song_id_taken), "SONG_ID_TAKEN");
  EXPECT_EQ(code_name(setlist_errc::end_of_setlist), "END_OF_SETLIST");
  EXPECT_EQ(code_name(setlist_errc::no_such_section), "NO_SUCH_SECTION");
}

TEST(Setlist, SetFillsDefaultsGeneratesIdsAndDerivesSections) {
  setlist l;
  song_input first = in("First", "s2");  // a client id that looks generated
  first.tempo = 90;
  first.beats_per_bar = 3;
  first.key = "";  // empty reads as absent
  first.chart = "[Verse]\n[C]la\n[Chorus] @9";
  auto c = value(l.set({first, in("Second"), in("Third")}));
  EXPECT_EQ(c.kind, "set");
  EXPECT_FALSE(c.song_id);
  EXPECT_EQ(ids(l), (std::vector<std::string>{"s2", "s3", "s4"}));
  const song& s = l.songs()[0];
  EXPECT_EQ(s.tempo, 90);
  EXPECT_EQ(s.beats_per_bar, 3);
  EXPECT_FALSE(s.key);
  ASSERT_EQ(s.sections.size(), 2u);
  EXPECT_EQ(s.sections[1], (section{"Chorus", 2, 9}));
  EXPECT_EQ(l.songs()[1].tempo, 120);
  EXPECT_EQ(l.songs()[1].beats_per_bar, 4);
  EXPECT_TRUE(l.songs()[1].sections.empty());
  EXPECT_EQ(l.chart_bytes(), first.chart->size());
}

TEST(Setlist, SetKeepsTheCurrentSongOnlyIfItStays) {
  auto l = abc();
  value(l.select("b"));
  EXPECT_FALSE(value(l.set({in("B again", "b"), in("D", "d")})).current_transport_changed);
  EXPECT_EQ(l.current_id(), "b");
  EXPECT_EQ(l.current_song()->title, "B again");
  song_input faster = in("B faster", "b");
  faster.tempo = 150;
  EXPECT_TRUE(value(l.set({in("D", "d"), faster})).current_transport_changed);
  EXPECT_EQ(l.current_song()->tempo, 150);
  value(l.set({in("D", "d")}));
  EXPECT_FALSE(l.current_id());
  value(l.set({}));
  EXPECT_TRUE(l.empty());
}

TEST(Setlist, SetIsAllOrNothing) {
  auto l = abc();
  EXPECT_EQ(code(l.set({in("X", "x"), in("Y", "x")})), setlist_errc::song_id_taken);
  EXPECT_EQ(code(l.set({in("X"), in("")})), setlist_errc::invalid_payload);
  std::vector<song_input> many(101, in("S"));
  EXPECT_EQ(code(l.set(many)), setlist_errc::setlist_full);
  EXPECT_EQ(ids(l), (std::vector<std::string>{"a", "b", "c"}));
  many.resize(100);
  value(l.set(many));
  EXPECT_EQ(l.songs().size(), 100u);
  EXPECT_EQ(code(l.add(in("101st"), std::nullopt)), setlist_errc::setlist_full);
}

TEST(Setlist, ChartBytesAreBoundedPerSongAndPerSetlist) {
  setlist l;
  song_input big = in("Big");
  big.chart = std::string(max_chart_bytes, 'a');
  std::vector<song_input> eight(8, big);  // exactly 256 KiB
  value(l.set(eight));
  EXPECT_EQ(l.chart_bytes(), max_setlist_chart_bytes);
  song_input one = in("One more byte");
  one.chart = "x";
  EXPECT_EQ(code(l.add(one, std::nullopt)), setlist_errc::setlist_full);
  EXPECT_EQ(code(l.update(l.songs()[0].id, with([](song_changes& c) {
                            c.chart = std::string(max_chart_bytes + 1, 'a');
                          }))),
            setlist_errc::invalid_payload);
  // Shrinking one chart makes room.
  value(l.update(l.songs()[0].id,
                 with([](song_changes& c) { c.chart = std::optional<std::string>(); })));
  EXPECT_EQ(l.chart_bytes(), 7 * max_chart_bytes);
  value(l.add(one, std::nullopt));
  eight.push_back(one);
  EXPECT_EQ(code(setlist{}.set(eight)), setlist_errc::setlist_full);
}

TEST(Setlist, FieldBounds) {
  auto bad = [](song_input s) { return check_song_fields(s).has_value(); };
  EXPECT_FALSE(bad(in(std::string(200, 't'))));
  EXPECT_TRUE(bad(in(std::string(201, 't'))));
  EXPECT_TRUE(bad(in("tab\x01")));
  EXPECT_TRUE(bad(in("T", "has space")));
  EXPECT_TRUE(bad(in("T", std::string(65, 'i'))));
  EXPECT_FALSE(bad(in("T", std::string(64, 'i'))));
  EXPECT_FALSE(bad(in("T", "A-z_09")));
  song_input s = in("T");
  s.tempo = 19.9;
  EXPECT_TRUE(bad(s));
  s.tempo = 300;
  EXPECT_FALSE(bad(s));
  s.beats_per_bar = 17;
  EXPECT_TRUE(bad(s));
  s.beats_per_bar = 16;
  s.key = "123456789";
  EXPECT_TRUE(bad(s));
  s.key = "C#m";
  s.chart = std::string("\xFF");
  EXPECT_TRUE(bad(s));
}

TEST(Setlist, AddAtAnIndex) {
  auto l = abc();
  EXPECT_EQ(value(l.add(in("Front", "f"), 0)).song_id, "f");
  value(l.add(in("Middle", "m"), 2));
  value(l.add(in("End", "e"), std::nullopt));
  value(l.add(in("Also end", "z"), 6));
  EXPECT_EQ(ids(l), (std::vector<std::string>{"f", "a", "m", "b", "c", "e", "z"}));
  EXPECT_EQ(code(l.add(in("Past the end"), 8)), setlist_errc::invalid_payload);
  EXPECT_EQ(code(l.add(in("Dup", "a"), std::nullopt)), setlist_errc::song_id_taken);
  EXPECT_EQ(value(l.add(in("Generated"), std::nullopt)).song_id, "s8");
}

TEST(Setlist, MoveToAnIndex) {
  auto l = abc();
  value(l.add(in("D", "d"), std::nullopt));
  value(l.move("a", 3));
  EXPECT_EQ(ids(l), (std::vector<std::string>{"b", "c", "d", "a"}));
  value(l.move("a", 0));
  EXPECT_EQ(ids(l), (std::vector<std::string>{"a", "b", "c", "d"}));
  value(l.move("c", 1));
  EXPECT_EQ(ids(l), (std::vector<std::string>{"a", "c", "b", "d"}));
  EXPECT_EQ(value(l.move("b", 2)).kind, "move");  // where it already is
  EXPECT_EQ(ids(l), (std::vector<std::string>{"a", "c", "b", "d"}));
  EXPECT_EQ(code(l.move("a", 4)), setlist_errc::invalid_payload);
  EXPECT_EQ(code(l.move("nope", 0)), setlist_errc::no_such_song);
}

TEST(Setlist, RemoveClearsTheCurrentSong) {
  auto l = abc();
  value(l.select("b"));
  value(l.remove("a"));
  EXPECT_EQ(l.current_id(), "b");
  auto c = value(l.remove("b"));
  EXPECT_EQ(c.kind, "remove");
  EXPECT_EQ(c.song_id, "b");
  EXPECT_FALSE(l.current_id());
  EXPECT_EQ(code(l.remove("b")), setlist_errc::no_such_song);
  EXPECT_EQ(ids(l), (std::vector<std::string>{"c"}));
}

TEST(Setlist, UpdateKeepsAbsentFieldsAndReportsTransportChanges) {
  auto l = abc();
  song_input full = in("D", "d");
  full.key = "Em";
  full.chart = "[Intro]";
  value(l.add(full, std::nullopt));
  auto out = value(l.update("d", with([](song_changes& c) { c.title = "D2"; })));
  EXPECT_FALSE(out.current_transport_changed);
  EXPECT_EQ(out.kind, "update");
  EXPECT_EQ(out.song_id, "d");
  const song* d = l.find("d");
  EXPECT_EQ(d->title, "D2");
  EXPECT_EQ(d->key, "Em");
  ASSERT_EQ(d->sections.size(), 1u);
  value(l.update("d", with([](song_changes& c) {
                   c.key = std::optional<std::string>();
                   c.chart = std::optional<std::string>("[Outro] @3");
                 })));
  EXPECT_FALSE(l.find("d")->key);
  EXPECT_EQ(l.find("d")->sections[0], (section{"Outro", 0, 3}));

  value(l.select("d"));
  EXPECT_FALSE(value(l.update("d", with([](song_changes& c) { c.title = "D3"; })))
                   .current_transport_changed);
  EXPECT_TRUE(
      value(l.update("d", with([](song_changes& c) { c.tempo = 140; }))).current_transport_changed);
  EXPECT_TRUE(value(l.update("d", with([](song_changes& c) { c.beats_per_bar = 7; })))
                  .current_transport_changed);
  EXPECT_FALSE(
      value(l.update("a", with([](song_changes& c) { c.tempo = 99; }))).current_transport_changed);
  EXPECT_EQ(code(l.update("zz", song_changes{})), setlist_errc::no_such_song);
  EXPECT_EQ(code(l.update("d", with([](song_changes& c) { c.title = ""; }))),
            setlist_errc::invalid_payload);
  EXPECT_EQ(l.find("d")->title, "D3");
}

TEST(Setlist, NextAndPreviousAtTheEnds) {
  setlist empty;
  EXPECT_EQ(code(empty.next()), setlist_errc::end_of_setlist);
  EXPECT_EQ(code(empty.previous()), setlist_errc::end_of_setlist);

  auto l = abc();
  auto c = value(l.next());  // nothing current: the first
  EXPECT_EQ(c.kind, "select");
  EXPECT_EQ(c.song_id, "a");
  EXPECT_EQ(code(l.previous()), setlist_errc::end_of_setlist);
  EXPECT_EQ(l.current_id(), "a");
  value(l.next());
  value(l.next());
  EXPECT_EQ(l.current_id(), "c");
  EXPECT_EQ(code(l.next()), setlist_errc::end_of_setlist);
  EXPECT_EQ(l.current_id(), "c");
  value(l.previous());
  EXPECT_EQ(l.current_id(), "b");

  auto m = abc();
  value(m.previous());  // nothing current: the last
  EXPECT_EQ(m.current_id(), "c");
  EXPECT_EQ(code(m.select("x")), setlist_errc::no_such_song);
  EXPECT_EQ(m.current_id(), "c");
}

TEST(Setlist, SelectionResetsTheTransport) {
  song s;
  s.tempo = 84;
  s.beats_per_bar = 6;
  song_state playing{120, 4, 93'000'000, true};
  EXPECT_EQ(after_select(playing, s, false), (song_state{84, 6, 0, false}));
  EXPECT_EQ(after_select(playing, s, true), (song_state{84, 6, 0, true}));
  song_state paused{120, 4, 5'000, false};
  // `continue` does not start a stopped band.
  EXPECT_EQ(after_select(paused, s, true), (song_state{84, 6, 0, false}));
  EXPECT_EQ(after_update_of_current(playing, s), (song_state{84, 6, 93'000'000, true}));
}

TEST(Setlist, RestoreReappliesTheBounds) {
  std::vector<store::song_record> records = {
      {"a", "A", 100, 4, {}, "[Verse]"}, {"a", "Duplicate", 100, 4, {}, {}},
      {"bad id", "B", 100, 4, {}, {}},   {"t", "Too slow", 5, 4, {}, {}},
      {"m", "Metre", 100, 0, {}, {}},    {"e", "Empty key and chart", 100, 4, "", ""},
  };
  size_t skipped = 0;
  auto l = setlist::restore(records, std::string("a"), &skipped);
  EXPECT_EQ(skipped, 4u);
  EXPECT_EQ(ids(l), (std::vector<std::string>{"a", "e"}));
  EXPECT_EQ(l.current_id(), "a");
  EXPECT_EQ(l.songs()[0].sections.size(), 1u);
  EXPECT_FALSE(l.songs()[1].key);
  EXPECT_FALSE(l.songs()[1].chart);
  EXPECT_FALSE(setlist::restore(records, std::string("gone")).current_id());

  std::vector<store::song_record> many;
  for (int i = 0; i < 120; ++i) {
    many.push_back({"x" + std::to_string(i), "X", 100, 4, {}, std::string(4000, 'c')});
  }
  l = setlist::restore(many, std::nullopt, &skipped);
  // 65 charts of 4000 bytes fit in 256 KiB; the rest are dropped.
  EXPECT_EQ(l.songs().size(), 65u);
  EXPECT_EQ(skipped, 55u);
  EXPECT_LE(l.chart_bytes(), max_setlist_chart_bytes);
  EXPECT_EQ(setlist::restore(l.records(), std::nullopt).songs(), l.songs());
}

TEST(Setlist, ImportAddsTheSongWithItsWarnings) {
  auto l = abc();
  auto c =
      value(l.import_chart("{title: Imported}\n{tempo: 140}\n{time: 6/8}\n{capo: 3}\n{soc}\n"
                           "[D]la",
                           1, std::string("imp")));
  EXPECT_EQ(c.kind, "import");
  EXPECT_EQ(c.song_id, "imp");
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_EQ(c.warnings[0], "line 4: {capo} is not understood; ignored");
  EXPECT_EQ(ids(l), (std::vector<std::string>{"a", "imp", "b", "c"}));
  const song* s = l.find("imp");
  EXPECT_EQ(s->title, "Imported");
  EXPECT_EQ(s->tempo, 140);
  EXPECT_EQ(s->beats_per_bar, 6);
  EXPECT_EQ(s->chart, "[Chorus]\n[D]la");
  EXPECT_EQ(s->sections, (std::vector<section>{{"Chorus", 0, std::nullopt}}));
  EXPECT_EQ(value(l.import_chart("{t: Two}", std::nullopt)).song_id, "s5");
  EXPECT_EQ(code(l.import_chart("\xFF", std::nullopt)), setlist_errc::invalid_payload);
  EXPECT_EQ(code(l.import_chart("{t: x}", std::nullopt, std::string("a"))),
            setlist_errc::song_id_taken);
}

TEST(Setlist, CuesResolveSectionsOfTheCurrentSong) {
  setlist l;
  song_input s = in("S", "s");
  s.chart = "[Verse]\n[Chorus] @17\n[Chorus] @33";
  value(l.set({s, in("Other", "o")}));
  EXPECT_EQ(code(l.make_cue(std::nullopt, std::string("Chorus"))), setlist_errc::no_such_section);
  EXPECT_EQ(value(l.make_cue(std::string("end after this"), std::nullopt)),
            (cue{"end after this", std::nullopt, std::nullopt}));
  value(l.select("s"));
  EXPECT_EQ(value(l.make_cue(std::string("repeat"), std::string("Chorus"))),
            (cue{"repeat", "Chorus", 17}));
  EXPECT_EQ(value(l.make_cue(std::nullopt, std::string("Verse"))),
            (cue{std::nullopt, "Verse", std::nullopt}));
  EXPECT_EQ(code(l.make_cue(std::nullopt, std::string("chorus"))), setlist_errc::no_such_section);
  value(l.select("o"));
  EXPECT_EQ(code(l.make_cue(std::nullopt, std::string("Verse"))), setlist_errc::no_such_section);
}

TEST(SetlistPayloads, SetlistChangedAndSnapshotFields) {
  setlist l;
  song_input s = in("Song", "s");
  s.key = "A";
  s.chart = "[Verse] @1\nla";
  value(l.set({s, in("Bare", "b")}));
  value(l.select("s"));
  auto p = setlist_changed_payload("band", l, setlist_change{"select", "s", {}, false});
  auto want = boost::json::parse(R"({"sessionId":"band","currentSongId":"s",
      "setlist":[{"id":"s","title":"Song","tempo":120,"beatsPerBar":4,"key":"A",
                  "chart":"[Verse] @1\nla","sections":[{"name":"Verse","line":0,"bar":1}]},
                 {"id":"b","title":"Bare","tempo":120,"beatsPerBar":4,"sections":[]}],
      "change":{"kind":"select","songId":"s"}})");
  EXPECT_EQ(boost::json::value(p), want);

  boost::json::object snapshot{{"tempo", 120}};
  add_setlist_fields(snapshot, setlist{});
  EXPECT_EQ(boost::json::value(snapshot),
            boost::json::parse(R"({"tempo":120,"setlist":[],"currentSongId":null})"));

  auto imported = setlist_changed_payload("band", l, setlist_change{"import", "s", {"w1"}, false});
  EXPECT_EQ(imported.at("change"),
            boost::json::parse(R"({"kind":"import","songId":"s","warnings":["w1"]})"));
  auto set = setlist_changed_payload("band", l, setlist_change{"set", std::nullopt, {}, false});
  EXPECT_EQ(set.at("change"), boost::json::parse(R"({"kind":"set"})"));
}

TEST(SetlistPayloads, Cue) {
  auto p = cue_payload("band", cue{std::nullopt, "Chorus", 17}, "sock", 1795627303700.5);
  EXPECT_EQ(boost::json::value(p), boost::json::parse(R"({"sessionId":"band","text":null,
      "section":"Chorus","bar":17,"from":"sock","timestamp":1795627303700.5})"));
}

}  // namespace
}  // namespace bandsync::domain
