// The parsers on their own: what a valid payload turns into.

#include "bandsync/requests.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "event_args.hpp"

namespace bandsync::domain {
namespace {

using bandsync::testing::payload_args;

TEST(Requests, JoinTrimsTheDisplayNameAndReadsTheRole) {
  auto r = parse_join_session(
      payload_args(R"({"sessionId":"b","displayName":"  Keys \t","role":"leader"})"));
  auto* j = std::get_if<join_request>(&r);
  ASSERT_TRUE(j);
  EXPECT_EQ(j->session_id, "b");
  EXPECT_EQ(j->display_name, "Keys");
  EXPECT_EQ(j->role, store::member_role::leader);
  r = parse_join_session(payload_args(R"({"sessionId":"b","displayName":"   "})"));
  EXPECT_FALSE(std::get<join_request>(r).display_name);
  EXPECT_FALSE(std::get<join_request>(r).role);
}

TEST(Requests, TrimmingHappensBeforeTheLengthCheck) {
  auto name = std::string(10, ' ') + std::string(64, 'k') + std::string(10, ' ');
  boost::json::object p{{"sessionId", "b"}, {"displayName", boost::json::string(name)}};
  auto r = parse_join_session({p});
  ASSERT_TRUE(std::get_if<join_request>(&r));
  EXPECT_EQ(std::get<join_request>(r).display_name->size(), 64u);
}

TEST(Requests, SeekKeepsMicroseconds) {
  auto r = parse_seek(payload_args(R"({"sessionId":"b","position":1234.5678})"));
  EXPECT_EQ(std::get<seek_request>(r).position_us, 1'234'568);
}

TEST(Requests, NumbersOfEveryKind) {
  EXPECT_EQ(
      std::get<tempo_request>(parse_set_tempo(payload_args(R"({"sessionId":"b","tempo":96.5})")))
          .tempo,
      96.5);
  boost::json::object p{{"sessionId", "b"}, {"tempo", uint64_t{200}}};
  EXPECT_EQ(std::get<tempo_request>(parse_set_tempo({p})).tempo, 200);
  auto hb = parse_heartbeat_response(payload_args(R"({"timestamp":1795627303502})"));
  EXPECT_EQ(std::get<heartbeat_response_request>(hb).timestamp_ms, 1795627303502.0);
}

TEST(Requests, SessionIdCharset) {
  EXPECT_TRUE(valid_session_id("a"));
  EXPECT_TRUE(valid_session_id("Band_2024.v-1"));
  EXPECT_TRUE(valid_session_id(std::string(64, 'z')));
  EXPECT_FALSE(valid_session_id(""));
  EXPECT_FALSE(valid_session_id(std::string(65, 'z')));
  for (const char* bad : {"a b", "a/b", "a:b", "a\"b", "a\\b", "a\nb", "\xC3\xA4", "a+b", "a#b"}) {
    EXPECT_FALSE(valid_session_id(bad)) << bad;
  }
}

TEST(Requests, ControlAndBrokenCharactersInText) {
  auto join = [](std::string name) {
    boost::json::object p{{"sessionId", "b"}, {"displayName", boost::json::string(name)}};
    return parse_join_session({p});
  };
  auto message = [](std::string text) {
    boost::json::object p{{"sessionId", "b"}, {"message", boost::json::string(text)}};
    return parse_update_message({p});
  };
  const std::string fffd = "\xEF\xBF\xBD";  // a lone surrogate after the packet decoder
  for (const std::string& bad :
       std::vector<std::string>{"a\x01z", "a\nz", "a\tz", "a\x7Fz", "a\xC2\x85z", "Keys " + fffd}) {
    auto r = join(bad);
    EXPECT_TRUE(std::get_if<invalid_payload>(&r)) << bad;
  }
  for (const std::string& bad :
       std::vector<std::string>{"a\x01z", "a\rz", "a\x1Bz", "a\x7Fz", "a\xC2\x9Fz", fffd + "x"}) {
    auto r = message(bad);
    ASSERT_TRUE(std::get_if<invalid_payload>(&r)) << bad;
    EXPECT_NE(std::get<invalid_payload>(r).message.find("message"), std::string::npos);
  }
  // Tab and newline are fine in a message; emoji and accents everywhere.
  for (const std::string& ok : std::vector<std::string>{
           "Verse 2\n\tthen chorus", "\xC3\xA4\xF0\x9F\x98\x80", "\xC2\xA0nbsp"}) {
    auto r = message(ok);
    EXPECT_TRUE(std::get_if<message_request>(&r)) << ok;
  }
  auto named = join("\xF0\x9F\x8E\xB8 Keys \xC3\xA4");
  EXPECT_TRUE(std::get_if<join_request>(&named));
}

TEST(Requests, MissingPayloadAndWrongShape) {
  for (const auto& args : {boost::json::array{}, boost::json::array{nullptr},
                           boost::json::array{boost::json::array{}}}) {
    auto r = parse_session_request(args);
    ASSERT_TRUE(std::get_if<invalid_payload>(&r));
    EXPECT_EQ(std::get<invalid_payload>(r).message, "payload must be an object");
  }
}

}  // namespace
}  // namespace bandsync::domain
