// The setlist events through the service (docs/EVENTS.md "Setlists"): who may
// send them, the one setlist_changed per change, what a selection does to the
// transport, the error codes of refusals, the snapshot fields and the store
// writes, and a restart that keeps the setlist.

#include "service_fixture.hpp"

namespace bandsync::testing {
namespace {

using strings = std::vector<std::string>;

constexpr const char* three_songs = R"({"sessionId":"band","setlist":[
  {"id":"a","title":"Opener","tempo":90,"beatsPerBar":4},
  {"id":"b","title":"Waltz","tempo":150,"beatsPerBar":3,"key":"Bb",
   "chart":"[Verse]\n[C]La la\n[Chorus] @17\nHey"},
  {"id":"c","title":"Closer","tempo":200,"beatsPerBar":6}]})";

class Setlist : public service_test {
 protected:
  Setlist() {
    join("lead", "band", "Keys");
    join("f", "band", "Bass");
  }

  void load_three() {
    send("lead", "set_setlist", three_songs);
    out_.clear();
  }

  strings song_ids(const boost::json::value& list) {
    strings out;
    for (const auto& s : list.as_array()) out.emplace_back(s.at("id").as_string());
    return out;
  }
};

TEST_F(Setlist, SetSetlistSendsOneSetlistChangedAndWritesTheSongs) {
  send("lead", "set_setlist", three_songs);
  ASSERT_EQ(out_.trace(), (strings{"session:band setlist_changed"}));
  const auto& p = out_.last("setlist_changed")->obj();
  EXPECT_EQ(p.at("sessionId"), "band");
  EXPECT_EQ(song_ids(p.at("setlist")), (strings{"a", "b", "c"}));
  EXPECT_TRUE(p.at("currentSongId").is_null());
  EXPECT_EQ(p.at("change"), boost::json::value({{"kind", "set"}}));
  // Sections are derived from the chart.
  EXPECT_EQ(
      p.at("setlist").at(1).at("sections"),
      boost::json::parse(R"([{"name":"Verse","line":0},{"name":"Chorus","line":2,"bar":17}])"));
  auto stored = store_.find_setlist("band");
  ASSERT_EQ(stored.size(), 3u);
  EXPECT_EQ(stored[1].title, "Waltz");
  EXPECT_EQ(stored[1].key, "Bb");
}

TEST_F(Setlist, SelectionAppliesTempoMetreAndPositionZeroAndStopsPlayback) {
  load_three();
  send("lead", "seek", R"({"sessionId":"band","position":5000})");
  send("lead", "play", R"({"sessionId":"band"})");
  clock_.advance_ms(700);
  out_.clear();

  send("lead", "select_song", R"({"sessionId":"band","songId":"b"})");
  EXPECT_EQ(out_.trace(), (strings{"session:band setlist_changed", "session:band snapshot"}));
  const auto& s = session("band");
  EXPECT_EQ(s.tempo(clock_.steady_us()), 150);
  EXPECT_EQ(s.beats_per_bar(), 3);
  EXPECT_FALSE(s.playing());
  EXPECT_EQ(s.position_us(clock_.steady_us()), 0);
  EXPECT_FALSE(store_.is_ticking("band"));
  const auto& snap = out_.last("snapshot")->obj();
  EXPECT_EQ(snap.at("currentSongId"), "b");
  EXPECT_EQ(snap.at("tempoBpm"), 150.0);
  EXPECT_EQ(snap.at("beatsPerBar"), 3);
  EXPECT_EQ(snap.at("position"), 0.0);
  EXPECT_EQ(snap.at("isPlaying"), false);
  EXPECT_EQ(song_ids(snap.at("setlist")), (strings{"a", "b", "c"}));
  EXPECT_EQ(out_.last("setlist_changed")->obj().at("change"),
            boost::json::value({{"kind", "select"}, {"songId", "b"}}));
  // The session value holds the selection (save_session on select).
  auto rec = store_.find_session("band");
  EXPECT_EQ(rec->current_song_id, "b");
  EXPECT_EQ(rec->beats_per_bar, 3);
  EXPECT_EQ(rec->tempo, 150);
}

TEST_F(Setlist, ContinueKeepsPlayingFromZeroOfTheNextSong) {
  load_three();
  send("lead", "select_song", R"({"sessionId":"band","songId":"a"})");
  send("lead", "play", R"({"sessionId":"band"})");
  clock_.advance_ms(3000);
  out_.clear();
  send("lead", "next_song", R"({"sessionId":"band","continue":true})");
  EXPECT_EQ(out_.trace(), (strings{"session:band setlist_changed", "session:band snapshot"}));
  const auto& s = session("band");
  EXPECT_TRUE(s.playing());
  EXPECT_EQ(s.position_us(clock_.steady_us()), 0);
  EXPECT_EQ(s.tempo(clock_.steady_us()), 150);
  clock_.advance_ms(250);
  EXPECT_EQ(s.position_us(clock_.steady_us()), 250'000);
  EXPECT_TRUE(store_.is_ticking("band"));
  // continue never starts a stopped band.
  send("lead", "pause", R"({"sessionId":"band"})");
  send("lead", "next_song", R"({"sessionId":"band","continue":true})");
  EXPECT_FALSE(session("band").playing());
  EXPECT_EQ(session("band").setlist().current_id(), "c");
}

TEST_F(Setlist, NextAndPreviousStepAndStopAtTheEnds) {
  load_three();
  send("lead", "previous_song", R"({"sessionId":"band"})");  // none current: the last
  EXPECT_EQ(session("band").setlist().current_id(), "c");
  out_.clear();
  send("lead", "next_song", R"({"sessionId":"band"})");
  expect_only_error("lead", "END_OF_SETLIST");
  send("lead", "previous_song", R"({"sessionId":"band"})");
  send("lead", "previous_song", R"({"sessionId":"band"})");
  EXPECT_EQ(session("band").setlist().current_id(), "a");
  EXPECT_EQ(session("band").tempo(clock_.steady_us()), 90);
  out_.clear();
  send("lead", "previous_song", R"({"sessionId":"band"})");
  expect_only_error("lead", "END_OF_SETLIST");
  EXPECT_EQ(session("band").setlist().current_id(), "a");
}

TEST_F(Setlist, FollowersAreRefusedWithNotLeaderAndNothingChanges) {
  load_three();
  for (const char* event : {"set_setlist", "add_song", "update_song", "remove_song", "move_song",
                            "select_song", "next_song", "previous_song", "import_chart", "cue"}) {
    out_.clear();
    send("f", event,
         R"({"sessionId":"band","songId":"a","index":0,"text":"{title: X}",
             "setlist":[],"song":{"title":"X"}})");
    expect_only_error("f", "NOT_LEADER");
  }
  EXPECT_EQ(session("band").setlist().songs().size(), 3u);
  EXPECT_FALSE(session("band").setlist().current_id());
  EXPECT_EQ(store_.find_setlist("band").size(), 3u);
}

TEST_F(Setlist, OutsidersGetNotAMember) {
  connect("x");
  send("x", "next_song", R"({"sessionId":"band"})");
  expect_only_error("x", "NOT_A_MEMBER");
}

TEST_F(Setlist, BoundsAndMissingSongsAnswerTheirCodes) {
  load_three();
  send("lead", "select_song", R"({"sessionId":"band","songId":"zz"})");
  expect_only_error("lead", "NO_SUCH_SONG");
  out_.clear();
  send("lead", "add_song", R"({"sessionId":"band","song":{"id":"a","title":"Again"}})");
  expect_only_error("lead", "SONG_ID_TAKEN");
  out_.clear();
  send("lead", "add_song", R"({"sessionId":"band","song":{"title":"Slow","tempo":19}})");
  expect_only_error("lead", "INVALID_PAYLOAD", "song tempo must be a number from 20 to 300");
  out_.clear();
  send("lead", "move_song", R"({"sessionId":"band","songId":"a","index":3})");
  expect_only_error("lead", "INVALID_PAYLOAD");
  out_.clear();
  send("lead", "cue", R"({"sessionId":"band","section":"Chorus"})");  // no current song
  expect_only_error("lead", "NO_SUCH_SECTION");
  out_.clear();
  // 101 songs: refused before any song is read.
  boost::json::array many;
  for (int i = 0; i < 101; ++i) many.push_back(boost::json::object{{"title", "T"}});
  send("lead", "set_setlist", boost::json::object{{"sessionId", "band"}, {"setlist", many}});
  expect_only_error("lead", "SETLIST_FULL");
  out_.clear();
  // 100 songs fit; the 101st add is full.
  many.pop_back();
  send("lead", "set_setlist", boost::json::object{{"sessionId", "band"}, {"setlist", many}});
  EXPECT_EQ(out_.trace(), (strings{"session:band setlist_changed"}));
  out_.clear();
  send("lead", "add_song", R"({"sessionId":"band","song":{"title":"One more"}})");
  expect_only_error("lead", "SETLIST_FULL");
  // Charts: 8 songs of 32 KiB = 256 KiB fit, a 9th byte does not.
  out_.clear();
  boost::json::array big;
  for (int i = 0; i < 8; ++i) {
    big.push_back(boost::json::object{{"title", "Big"}, {"chart", std::string(32768, 'x')}});
  }
  send("lead", "set_setlist", boost::json::object{{"sessionId", "band"}, {"setlist", big}});
  EXPECT_EQ(out_.trace(), (strings{"session:band setlist_changed"}));
  out_.clear();
  send("lead", "add_song", R"({"sessionId":"band","song":{"title":"Tiny","chart":"x"}})");
  expect_only_error("lead", "SETLIST_FULL");
  // Every refusal is counted under its code.
  const auto errors = svc().metrics().errors_by_code;
  EXPECT_EQ(errors.at("SETLIST_FULL"), 3u);
  EXPECT_EQ(errors.at("NO_SUCH_SONG"), 1u);
  EXPECT_EQ(errors.at("NO_SUCH_SECTION"), 1u);
}

TEST_F(Setlist, UpdateOfTheCurrentSongAppliesItsTempoAtOnce) {
  load_three();
  send("lead", "select_song", R"({"sessionId":"band","songId":"a"})");
  send("lead", "play", R"({"sessionId":"band"})");
  clock_.advance_ms(1000);
  out_.clear();
  send("lead", "update_song", R"({"sessionId":"band","songId":"a","song":{"tempo":100}})");
  EXPECT_EQ(out_.trace(), (strings{"session:band setlist_changed", "session:band snapshot"}));
  EXPECT_EQ(session("band").tempo(clock_.steady_us()), 100);
  EXPECT_TRUE(session("band").playing());  // position and playback untouched
  EXPECT_EQ(session("band").position_us(clock_.steady_us()), 1'000'000);
  EXPECT_EQ(store_.find_setlist("band")[0].tempo, 100);
  // Another song's change leaves the transport alone: no snapshot.
  out_.clear();
  send("lead", "update_song", R"({"sessionId":"band","songId":"c","song":{"tempo":210}})");
  EXPECT_EQ(out_.trace(), (strings{"session:band setlist_changed"}));
  EXPECT_EQ(session("band").tempo(clock_.steady_us()), 100);
}

TEST_F(Setlist, RemovingTheCurrentSongClearsTheSelectionInTheStore) {
  load_three();
  send("lead", "select_song", R"({"sessionId":"band","songId":"b"})");
  out_.clear();
  send("lead", "remove_song", R"({"sessionId":"band","songId":"b"})");
  EXPECT_EQ(out_.trace(), (strings{"session:band setlist_changed"}));
  EXPECT_TRUE(out_.last("setlist_changed")->obj().at("currentSongId").is_null());
  EXPECT_FALSE(store_.find_session("band")->current_song_id);
  EXPECT_EQ(store_.find_setlist("band").size(), 2u);
  send("lead", "move_song", R"({"sessionId":"band","songId":"c","index":0})");
  EXPECT_EQ(song_ids(out_.last("setlist_changed")->obj().at("setlist")), (strings{"c", "a"}));
}

TEST_F(Setlist, ImportChartAddsTheSongWithItsWarnings) {
  send(
      "lead", "import_chart",
      R"({"sessionId":"band","text":"{title: Hallelujah}\n{tempo: 72}\n{time: 6/8}\n{key: C}\n{soc}\n[C]Halle[Am]lujah\n{x_unknown: 1}"})");
  ASSERT_EQ(out_.trace(), (strings{"session:band setlist_changed"}));
  const auto& p = out_.last("setlist_changed")->obj();
  const auto& song = p.at("setlist").at(0);
  EXPECT_EQ(song.at("title"), "Hallelujah");
  EXPECT_EQ(song.at("tempo"), 72);
  EXPECT_EQ(song.at("beatsPerBar"), 6);
  EXPECT_EQ(song.at("key"), "C");
  EXPECT_EQ(song.at("chart"), "[Chorus]\n[C]Halle[Am]lujah");
  EXPECT_EQ(song.at("sections"), boost::json::parse(R"([{"name":"Chorus","line":0}])"));
  EXPECT_EQ(p.at("change").at("kind"), "import");
  EXPECT_EQ(p.at("change").at("warnings").as_array().size(), 1u);
  EXPECT_EQ(store_.find_setlist("band").size(), 1u);
}

TEST_F(Setlist, CueGoesToEverybodyWithTheSectionsBar) {
  load_three();
  send("lead", "select_song", R"({"sessionId":"band","songId":"b"})");
  clock_.advance_ms(5);
  out_.clear();
  send("lead", "cue", R"({"sessionId":"band","section":"Chorus","text":"twice"})");
  ASSERT_EQ(out_.trace(), (strings{"session:band cue"}));
  EXPECT_EQ(boost::json::value(out_.last("cue")->obj()),
            boost::json::value({{"sessionId", "band"},
                                {"text", "twice"},
                                {"section", "Chorus"},
                                {"bar", 17},
                                {"from", "lead"},
                                {"timestamp", static_cast<double>(clock_.wall_ms())}}));
  out_.clear();
  send("lead", "cue", R"({"sessionId":"band","section":"Outro"})");
  expect_only_error("lead", "NO_SUCH_SECTION");
}

TEST_F(Setlist, AJoinerGetsTheSetlistAndCurrentSongInItsSnapshot) {
  load_three();
  send("lead", "select_song", R"({"sessionId":"band","songId":"c"})");
  connect("late");
  send("late", "join_session", R"({"sessionId":"band","displayName":"Drums"})");
  const auto& snap = out_.last("snapshot")->obj();
  EXPECT_EQ(out_.last("snapshot")->target, "late");
  EXPECT_EQ(snap.at("currentSongId"), "c");
  EXPECT_EQ(snap.at("beatsPerBar"), 6);
  EXPECT_EQ(snap.at("tempoBpm"), 200.0);
  EXPECT_EQ(song_ids(snap.at("setlist")), (strings{"a", "b", "c"}));
}

TEST_F(Setlist, ARestartKeepsTheSetlistAndTheCurrentSong) {
  load_three();
  send("lead", "select_song", R"({"sessionId":"band","songId":"b"})");
  make_service();  // a new process on the same store
  const auto& s = session("band");
  EXPECT_EQ(s.setlist().songs().size(), 3u);
  EXPECT_EQ(s.setlist().current_id(), "b");
  EXPECT_EQ(s.beats_per_bar(), 3);
  EXPECT_EQ(s.tempo(clock_.steady_us()), 150);
  ASSERT_EQ(s.setlist().songs()[1].sections.size(), 2u);  // derived again from the chart
  // shutdown and persist_all keep the songs too.
  store_.remove_session("band");
  ASSERT_TRUE(store_.find_setlist("band").empty());
  svc().persist_all();
  EXPECT_EQ(store_.find_setlist("band").size(), 3u);
  store_.remove_session("band");
  svc().shutdown();
  EXPECT_EQ(store_.find_setlist("band").size(), 3u);
  EXPECT_EQ(store_.find_session("band")->current_song_id, "b");
}

}  // namespace
}  // namespace bandsync::testing
