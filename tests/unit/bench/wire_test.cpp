// The generator's tick scanner (src/bench/wire.hpp) on raw Socket.IO text.
// (Its WebSocket frames are engineio's codec: tests/unit/engineio/ws_reader_test.cpp.)
#include "bench/wire.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

using namespace bandsync::bench::wire;

namespace {

const std::string tick_text =
    R"(42["scroll_tick",{"sessionId":"bench-abc-1","positionMs":12345,"tempoBpm":120,)"
    R"("serverTimestamp":1764650000123,"beat":3,"bar":7}])";

TEST(bench_wire_scan_tick, the_servers_tick) {
  tick_fields t;
  ASSERT_TRUE(scan_tick(tick_text, t));
  EXPECT_EQ(t.server_timestamp, 1764650000123.0);
  EXPECT_EQ(t.position_ms, 12345.0);
  EXPECT_EQ(t.tempo_bpm, 120.0);
}

TEST(bench_wire_scan_tick, any_key_order_and_values_skipped_over) {
  tick_fields t;
  ASSERT_TRUE(scan_tick(
      R"(42["scroll_tick",{"beat":1,"nested":{"a":[1,{"b":"}]\""}],"serverTimestamp":2},)"
      R"("sessionId":"we\"ird}]","serverTimestamp":1764650000000.5,"positionMs":-1.5e2,"x":null}])",
      t));
  EXPECT_EQ(t.server_timestamp, 1764650000000.5);
  EXPECT_EQ(t.position_ms, -150.0);
  EXPECT_TRUE(std::isnan(t.tempo_bpm)) << "absent";
  ASSERT_TRUE(scan_tick(
      "42[\"scroll_tick\",{ \"positionMs\" : 5 , \"serverTimestamp\":\t7 ,\"tempoBpm\":\"x\"} ] ",
      t));
  EXPECT_EQ(t.position_ms, 5.0);
  EXPECT_EQ(t.server_timestamp, 7.0);
  EXPECT_TRUE(std::isnan(t.tempo_bpm)) << "not a number";
}

TEST(bench_wire_scan_tick, everything_else_is_left_to_the_full_parse) {
  const char* others[] = {
      "2",
      "3",
      "40{\"sid\":\"abc\"}",
      "0{\"sid\":\"x\",\"pingInterval\":25000}",
      R"(42["snapshot",{"serverTimestamp":1,"positionMs":2}])",
      R"(42["heartbeat",{"timestamp":1}])",
      R"(42["latency_response",{"clientTimestamp":1,"serverTimestamp":2}])",
      R"(421["scroll_tick",{"serverTimestamp":1,"positionMs":2}])",        // an ack id
      R"(42/admin,["scroll_tick",{"serverTimestamp":1,"positionMs":2}])",  // a namespace
      R"(42["scroll_tick",{"serverTimestamp":1,"positionMs":2},3])",       // a second argument
      R"(42["scroll_tick",{"positionMs":2}])",                             // no timestamp
      R"(42["scroll_tick",{"serverTimestamp":1}])",                        // no position
      R"(42["scroll_tick",{"serverTimestamp":"1","positionMs":2}])",       // a string
      R"(42["scroll_tick",{"server\u0054imestamp":1,"positionMs":2}])",    // an escaped key
      R"(42["scroll_tick",{"serverTimestamp":1,"positionMs":2}]x)",        // trailing bytes
      R"(42["scroll_tick",{"serverTimestamp":1,"positionMs":2})",          // cut short
      R"(42["scroll_tick",{"serverTimestamp":1,"positionMs":2)",
      R"(42["scroll_tick",{"serverTimestamp":1e999,"positionMs":2}])",
      R"(42["scroll_tick",{}])",
      R"(42["scroll_tick",{"a":"unterminated}])",
      R"(42["scroll_tick",{"serverTimestamp":12abc,"positionMs":2}])",
      "",
  };
  for (const char* text : others) {
    tick_fields t;
    EXPECT_FALSE(scan_tick(text, t)) << text;
  }
}

}  // namespace
