// The setlist events' parsers: valid payloads and the refusal of each bad field.

#include "bandsync/setlist_requests.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "event_args.hpp"

namespace bandsync::domain {
namespace {

using bandsync::testing::payload_args;

template <class T>
std::string refusal(const setlist_result<T>& r) {
  auto* e = std::get_if<setlist_error>(&r);
  return e ? std::string(code_name(e->code)) + ": " + e->message : "(accepted)";
}

TEST(SetlistRequests, SetSetlist) {
  auto r = parse_set_setlist(payload_args(R"({"sessionId":"b","setlist":[
      {"title":"One"},
      {"id":"two","title":"Two","tempo":96.5,"beatsPerBar":3,"key":"Bb","chart":"[Verse]"},
      {"title":"Three","key":null,"chart":"","sections":"ignored"}]})"));
  auto* req = std::get_if<set_setlist_request>(&r);
  ASSERT_TRUE(req) << refusal(r);
  EXPECT_EQ(req->session_id, "b");
  ASSERT_EQ(req->songs.size(), 3u);
  EXPECT_FALSE(req->songs[0].id);
  EXPECT_FALSE(req->songs[0].tempo);
  EXPECT_EQ(req->songs[1].id, "two");
  EXPECT_EQ(req->songs[1].tempo, 96.5);
  EXPECT_EQ(req->songs[1].beats_per_bar, 3);
  EXPECT_EQ(req->songs[1].key, "Bb");
  EXPECT_EQ(req->songs[1].chart, "[Verse]");
  EXPECT_FALSE(req->songs[2].key);
  EXPECT_FALSE(req->songs[2].chart);

  EXPECT_TRUE(std::get_if<set_setlist_request>(&r));
  auto empty = parse_set_setlist(payload_args(R"({"sessionId":"b","setlist":[]})"));
  EXPECT_TRUE(std::get<set_setlist_request>(empty).songs.empty());
}

TEST(SetlistRequests, SetSetlistRefusals) {
  struct row {
    const char* json;
    const char* refusal;
  };
  const row rows[] = {
      {R"([])", "INVALID_PAYLOAD: payload must be an object"},
      {R"({"setlist":[]})", "INVALID_PAYLOAD: sessionId must be 1-64 characters of [A-Za-z0-9_.-]"},
      {R"({"sessionId":"b"})", "INVALID_PAYLOAD: setlist must be an array of songs"},
      {R"({"sessionId":"b","setlist":{}})", "INVALID_PAYLOAD: setlist must be an array of songs"},
      {R"({"sessionId":"b","setlist":[5]})", "INVALID_PAYLOAD: setlist[0]: song must be an object"},
      {R"({"sessionId":"b","setlist":[{"title":"ok"},{}]})",
       "INVALID_PAYLOAD: setlist[1]: song title must be 1-200 characters without control "
       "characters"},
      {R"({"sessionId":"b","setlist":[{"title":"t","id":5}]})",
       "INVALID_PAYLOAD: setlist[0]: song id must be 1-64 characters of [A-Za-z0-9_-]"},
      {R"({"sessionId":"b","setlist":[{"title":"t","id":"a b"}]})",
       "INVALID_PAYLOAD: setlist[0]: song id must be 1-64 characters of [A-Za-z0-9_-]"},
      {R"({"sessionId":"b","setlist":[{"title":"t","tempo":"fast"}]})",
       "INVALID_PAYLOAD: setlist[0]: song tempo must be a number from 20 to 300"},
      {R"({"sessionId":"b","setlist":[{"title":"t","tempo":301}]})",
       "INVALID_PAYLOAD: setlist[0]: song tempo must be a number from 20 to 300"},
      {R"({"sessionId":"b","setlist":[{"title":"t","beatsPerBar":3.5}]})",
       "INVALID_PAYLOAD: setlist[0]: song beatsPerBar must be a whole number from 1 to 16"},
      {R"({"sessionId":"b","setlist":[{"title":"t","beatsPerBar":1e300}]})",
       "INVALID_PAYLOAD: setlist[0]: song beatsPerBar must be a whole number from 1 to 16"},
      {R"({"sessionId":"b","setlist":[{"title":"t","key":7}]})",
       "INVALID_PAYLOAD: setlist[0]: song key must be a string"},
      {R"({"sessionId":"b","setlist":[{"title":"t","chart":[]}]})",
       "INVALID_PAYLOAD: setlist[0]: song chart must be a string"},
  };
  for (const auto& r : rows)
    EXPECT_EQ(refusal(parse_set_setlist(payload_args(r.json))), r.refusal) << r.json;

  boost::json::array songs;
  for (int i = 0; i < 101; ++i) songs.push_back(boost::json::object{{"title", "t"}});
  boost::json::object p{{"sessionId", "b"}, {"setlist", songs}};
  EXPECT_EQ(refusal(parse_set_setlist({p})), "SETLIST_FULL: a setlist holds at most 100 songs");
  boost::json::object big{{"title", "t"}, {"chart", std::string(max_chart_bytes + 1, 'x')}};
  p["setlist"] = boost::json::array{big};
  EXPECT_EQ(refusal(parse_set_setlist({p})),
            "INVALID_PAYLOAD: setlist[0]: song chart must be at most 32768 bytes of UTF-8");
}

TEST(SetlistRequests, AddSong) {
  auto r = parse_add_song(payload_args(R"({"sessionId":"b","song":{"title":"New"},"index":2})"));
  ASSERT_TRUE(std::get_if<add_song_request>(&r)) << refusal(r);
  EXPECT_EQ(std::get<add_song_request>(r).song.title, "New");
  EXPECT_EQ(std::get<add_song_request>(r).index, 2u);
  r = parse_add_song(payload_args(R"({"sessionId":"b","song":{"title":"New"},"index":null})"));
  EXPECT_FALSE(std::get<add_song_request>(r).index);
  EXPECT_EQ(refusal(parse_add_song(payload_args(R"({"sessionId":"b"})"))),
            "INVALID_PAYLOAD: song must be an object");
  for (const char* index : {"-1", "1.5", "\"1\"", "1e9", "true"}) {
    auto json = std::string(R"({"sessionId":"b","song":{"title":"t"},"index":)") + index + "}";
    EXPECT_EQ(refusal(parse_add_song(payload_args(json))),
              "INVALID_PAYLOAD: index must be a whole number from 0")
        << index;
  }
}

TEST(SetlistRequests, UpdateSong) {
  auto r = parse_update_song(payload_args(
      R"({"sessionId":"b","songId":"s1","song":{"tempo":100,"key":null,"chart":"","id":"x"}})"));
  auto* req = std::get_if<update_song_request>(&r);
  ASSERT_TRUE(req) << refusal(r);
  EXPECT_EQ(req->song_id, "s1");
  EXPECT_FALSE(req->changes.title);
  EXPECT_EQ(req->changes.tempo, 100);
  EXPECT_FALSE(req->changes.beats_per_bar);
  ASSERT_TRUE(req->changes.key);  // present: cleared
  EXPECT_FALSE(*req->changes.key);
  ASSERT_TRUE(req->changes.chart);
  EXPECT_FALSE(*req->changes.chart);

  r = parse_update_song(payload_args(R"({"sessionId":"b","songId":"s1","song":{"key":"G"}})"));
  EXPECT_EQ(std::get<update_song_request>(r).changes.key, std::optional<std::string>("G"));
  EXPECT_FALSE(std::get<update_song_request>(r).changes.chart);

  EXPECT_EQ(refusal(parse_update_song(payload_args(R"({"sessionId":"b","song":{}})"))),
            "INVALID_PAYLOAD: songId must be 1-64 characters of [A-Za-z0-9_-]");
  EXPECT_EQ(refusal(parse_update_song(payload_args(R"({"sessionId":"b","songId":"s"})"))),
            "INVALID_PAYLOAD: song must be an object of the fields to change");
  EXPECT_EQ(refusal(parse_update_song(
                payload_args(R"({"sessionId":"b","songId":"s","song":{"title":""}})"))),
            "INVALID_PAYLOAD: song title must be 1-200 characters without control characters");
  EXPECT_EQ(refusal(parse_update_song(
                payload_args(R"({"sessionId":"b","songId":"s","song":{"title":1}})"))),
            "INVALID_PAYLOAD: song title must be 1-200 characters without control characters");
  EXPECT_EQ(refusal(parse_update_song(
                payload_args(R"({"sessionId":"b","songId":"s","song":{"key":"123456789"}})"))),
            "INVALID_PAYLOAD: song key must be 1-8 characters without control characters");
}

TEST(SetlistRequests, SongIdEvents) {
  auto rm = parse_remove_song(payload_args(R"({"sessionId":"b","songId":"s1"})"));
  EXPECT_EQ(std::get<song_request>(rm).song_id, "s1");
  EXPECT_EQ(refusal(parse_remove_song(payload_args(R"({"sessionId":"b","songId":""})"))),
            "INVALID_PAYLOAD: songId must be 1-64 characters of [A-Za-z0-9_-]");

  auto mv = parse_move_song(payload_args(R"({"sessionId":"b","songId":"s1","index":0})"));
  EXPECT_EQ(std::get<move_song_request>(mv).index, 0u);
  EXPECT_EQ(refusal(parse_move_song(payload_args(R"({"sessionId":"b","songId":"s1"})"))),
            "INVALID_PAYLOAD: index must be a whole number from 0");

  auto sel = parse_select_song(payload_args(R"({"sessionId":"b","songId":"s1","continue":true})"));
  EXPECT_TRUE(std::get<select_song_request>(sel).keep_playing);
  sel = parse_select_song(payload_args(R"({"sessionId":"b","songId":"s1"})"));
  EXPECT_FALSE(std::get<select_song_request>(sel).keep_playing);
  EXPECT_EQ(
      refusal(parse_select_song(payload_args(R"({"sessionId":"b","songId":"s1","continue":1})"))),
      "INVALID_PAYLOAD: continue must be a boolean");

  auto step = parse_step_song(payload_args(R"({"sessionId":"b","continue":false})"));
  EXPECT_FALSE(std::get<step_song_request>(step).keep_playing);
  step = parse_step_song(payload_args(R"({"sessionId":"b","continue":true})"));
  EXPECT_TRUE(std::get<step_song_request>(step).keep_playing);
  EXPECT_EQ(refusal(parse_step_song(payload_args(R"({"sessionId":"b","continue":"yes"})"))),
            "INVALID_PAYLOAD: continue must be a boolean");
}

TEST(SetlistRequests, ImportChart) {
  auto r = parse_import_chart(
      payload_args(R"({"sessionId":"b","text":"{title: X}","index":1,"id":"x"})"));
  auto* req = std::get_if<import_chart_request>(&r);
  ASSERT_TRUE(req) << refusal(r);
  EXPECT_EQ(req->text, "{title: X}");
  EXPECT_EQ(req->index, 1u);
  EXPECT_EQ(req->id, "x");
  EXPECT_EQ(refusal(parse_import_chart(payload_args(R"({"sessionId":"b","text":""})"))),
            "INVALID_PAYLOAD: text must be a string of 1 to 65536 bytes");
  EXPECT_EQ(refusal(parse_import_chart(payload_args(R"({"sessionId":"b","text":"x","id":"a/b"})"))),
            "INVALID_PAYLOAD: id must be 1-64 characters of [A-Za-z0-9_-]");
  boost::json::object p{{"sessionId", "b"}, {"text", std::string(max_import_bytes + 1, 'x')}};
  EXPECT_EQ(refusal(parse_import_chart({p})),
            "INVALID_PAYLOAD: text must be a string of 1 to 65536 bytes");
}

TEST(SetlistRequests, Cue) {
  auto r = parse_cue(payload_args(R"({"sessionId":"b","text":"repeat chorus"})"));
  EXPECT_EQ(std::get<cue_request>(r).text, "repeat chorus");
  EXPECT_FALSE(std::get<cue_request>(r).section);
  r = parse_cue(payload_args(R"({"sessionId":"b","section":"Chorus","text":null})"));
  EXPECT_EQ(std::get<cue_request>(r).section, "Chorus");
  EXPECT_FALSE(std::get<cue_request>(r).text);
  EXPECT_EQ(refusal(parse_cue(payload_args(R"({"sessionId":"b"})"))),
            "INVALID_PAYLOAD: a cue needs a text, a section or both");
  EXPECT_EQ(refusal(parse_cue(payload_args(R"({"sessionId":"b","text":"line\nbreak"})"))),
            "INVALID_PAYLOAD: text must be 1-140 characters without control characters");
  boost::json::object p{{"sessionId", "b"}, {"text", std::string(141, 'x')}};
  EXPECT_EQ(refusal(parse_cue({p})),
            "INVALID_PAYLOAD: text must be 1-140 characters without control characters");
  EXPECT_EQ(refusal(parse_cue(payload_args(R"({"sessionId":"b","section":""})"))),
            "INVALID_PAYLOAD: section must be a section name of 1-64 characters");
}

}  // namespace
}  // namespace bandsync::domain
