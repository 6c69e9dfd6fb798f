// The clock requests' parsers: what is accepted, what is refused and why.

#include "bandsync/clock_requests.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "event_args.hpp"

namespace bandsync::domain {
namespace {

using bandsync::testing::payload_args;

constexpr double now = 1'795'627'303'502.25;  // a server time

template <class T, class R>
std::string error_of(const R& r) {
  auto* e = std::get_if<invalid_payload>(&r);
  return e ? e->message : "(accepted)";
}

boost::json::array with_at(std::string_view base, double at) {
  auto v = boost::json::parse(base);
  v.as_object()["at"] = at;
  return {v};
}

TEST(ClockRequests, TimeSyncEchoesT1AsSent) {
  auto r = parse_time_sync(payload_args(R"({"t1":12345.678})"));
  ASSERT_TRUE(std::get_if<time_sync_request>(&r));
  EXPECT_EQ(std::get<time_sync_request>(r).t1, boost::json::value(12345.678));
  r = parse_time_sync(payload_args(R"({"t1":1795627303502})"));
  EXPECT_TRUE(std::get<time_sync_request>(r).t1.is_int64());
  r = parse_time_sync(payload_args(R"({"t1":-3})"));  // any finite number: it is the client's clock
  EXPECT_TRUE(std::get_if<time_sync_request>(&r));
}

TEST(ClockRequests, TimeSyncRefusesWhatIsNotANumber) {
  for (const char* bad : {R"({})", R"({"t1":null})", R"({"t1":"1"})", R"({"t1":[1]})",
                          R"({"t1":true})", R"({"t1":{}})"}) {
    EXPECT_EQ(error_of<time_sync_request>(parse_time_sync(payload_args(bad))),
              "t1 must be a number")
        << bad;
  }
  EXPECT_EQ(error_of<time_sync_request>(parse_time_sync({})), "payload must be an object");
  EXPECT_EQ(error_of<time_sync_request>(parse_time_sync(payload_args("5"))),
            "payload must be an object");
}

TEST(ClockRequests, PlayWithoutSchedulingFieldsIsAsBefore) {
  auto r = parse_play(payload_args(R"({"sessionId":"band"})"), now);
  auto* p = std::get_if<play_request>(&r);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->session_id, "band");
  EXPECT_FALSE(p->at_ms);
  EXPECT_EQ(p->count_in_bars, 0);
  r = parse_play(payload_args(R"({"sessionId":"band","at":null,"countIn":null})"), now);
  EXPECT_FALSE(std::get<play_request>(r).at_ms);
  EXPECT_EQ(error_of<play_request>(parse_play(payload_args(R"({"sessionId":"a b"})"), now)),
            "sessionId must be 1-64 characters of [A-Za-z0-9_.-]");
}

TEST(ClockRequests, PlayAtBounds) {
  const std::string bad = "at must be a server time from 5000 ms ago to 60000 ms ahead";
  for (double at : {now, now + 60'000, now - 5'000, now + 0.001}) {
    auto r = parse_play(with_at(R"({"sessionId":"b"})", at), now);
    ASSERT_TRUE(std::get_if<play_request>(&r)) << at - now;
    EXPECT_EQ(std::get<play_request>(r).at_ms, at);
  }
  for (double at : {now + 60'000.01, now - 5'000.01, 0.0, -1.0, 1e300}) {
    EXPECT_EQ(error_of<play_request>(parse_play(with_at(R"({"sessionId":"b"})", at), now)), bad)
        << at - now;
  }
  EXPECT_EQ(
      error_of<play_request>(parse_play(payload_args(R"({"sessionId":"b","at":"soon"})"), now)),
      bad);
}

TEST(ClockRequests, PlayCountInIsAWholeNumberOfBarsUpToEight) {
  for (int n = 0; n <= 8; ++n) {
    boost::json::object o{{"sessionId", "b"}, {"countIn", n}};
    auto r = parse_play({o}, now);
    ASSERT_TRUE(std::get_if<play_request>(&r)) << n;
    EXPECT_EQ(std::get<play_request>(r).count_in_bars, n);
  }
  EXPECT_EQ(
      std::get<play_request>(parse_play(payload_args(R"({"sessionId":"b","countIn":2.0})"), now))
          .count_in_bars,
      2);
  for (const char* bad :
       {R"({"sessionId":"b","countIn":9})", R"({"sessionId":"b","countIn":-1})",
        R"({"sessionId":"b","countIn":1.5})", R"({"sessionId":"b","countIn":"2"})",
        R"({"sessionId":"b","countIn":1e10})"}) {
    EXPECT_EQ(error_of<play_request>(parse_play(payload_args(bad), now)),
              "countIn must be an integer from 0 to 8")
        << bad;
  }
}

TEST(ClockRequests, SeekAndTempoKeepTheirChecksAndReadAt) {
  auto s =
      parse_scheduled_seek(with_at(R"({"sessionId":"b","position":1234.5678})", now + 200), now);
  auto* sk = std::get_if<scheduled_seek_request>(&s);
  ASSERT_TRUE(sk);
  EXPECT_EQ(sk->session_id, "b");
  EXPECT_EQ(sk->position_us, 1'234'568);
  EXPECT_EQ(sk->at_ms, now + 200);
  EXPECT_FALSE(std::get<scheduled_seek_request>(
                   parse_scheduled_seek(payload_args(R"({"sessionId":"b","position":0})"), now))
                   .at_ms);
  EXPECT_EQ(error_of<scheduled_seek_request>(
                parse_scheduled_seek(payload_args(R"({"sessionId":"b","position":-1})"), now)),
            "position must be a number from 0 to 86400000");
  EXPECT_EQ(error_of<scheduled_seek_request>(parse_scheduled_seek(
                with_at(R"({"sessionId":"b","position":1})", now + 61'000), now)),
            "at must be a server time from 5000 ms ago to 60000 ms ahead");

  auto t = parse_scheduled_tempo(with_at(R"({"sessionId":"b","tempo":96.5})", now - 10), now);
  auto* tp = std::get_if<scheduled_tempo_request>(&t);
  ASSERT_TRUE(tp);
  EXPECT_EQ(tp->tempo, 96.5);
  EXPECT_EQ(tp->at_ms, now - 10);
  EXPECT_EQ(error_of<scheduled_tempo_request>(
                parse_scheduled_tempo(payload_args(R"({"sessionId":"b","tempo":301})"), now)),
            "tempo must be a number from 20 to 300");
  EXPECT_EQ(error_of<scheduled_tempo_request>(parse_scheduled_tempo(
                with_at(R"({"sessionId":"b","tempo":100})", now - 6'000), now)),
            "at must be a server time from 5000 ms ago to 60000 ms ahead");
}

TEST(ClockRequests, TimeSignature) {
  for (int n : {1, 3, 4, 7, 16}) {
    boost::json::object o{{"sessionId", "b"}, {"beatsPerBar", n}};
    auto r = parse_set_time_signature({o});
    ASSERT_TRUE(std::get_if<time_signature_request>(&r)) << n;
    EXPECT_EQ(std::get<time_signature_request>(r).beats_per_bar, n);
    EXPECT_EQ(std::get<time_signature_request>(r).session_id, "b");
  }
  for (const char* bad :
       {R"({"sessionId":"b"})", R"({"sessionId":"b","beatsPerBar":null})",
        R"({"sessionId":"b","beatsPerBar":0})", R"({"sessionId":"b","beatsPerBar":17})",
        R"({"sessionId":"b","beatsPerBar":3.5})", R"({"sessionId":"b","beatsPerBar":"4"})"}) {
    EXPECT_EQ(error_of<time_signature_request>(parse_set_time_signature(payload_args(bad))),
              "beatsPerBar must be an integer from 1 to 16")
        << bad;
  }
  EXPECT_EQ(error_of<time_signature_request>(
                parse_set_time_signature(payload_args(R"({"beatsPerBar":4})"))),
            "sessionId must be 1-64 characters of [A-Za-z0-9_.-]");
}

}  // namespace
}  // namespace bandsync::domain
