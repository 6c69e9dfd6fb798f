// The generator's WebSocket frame reader and tick scanner (src/bench/wire.hpp)
// on raw bytes: server frames made by the server's own encoder
// (engineio::encode_ws_header), split across reads in every way.
#include "bench/wire.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "engineio/frame_writer.hpp"

using namespace bandsync::bench::wire;

namespace {

// A server frame: FIN, text or binary, unmasked, as BandSync writes it.
std::string server_frame(std::string_view payload, bool binary = false) {
  uint8_t h[bandsync::engineio::ws_max_header];
  size_t n = bandsync::engineio::encode_ws_header(binary, payload.size(), h);
  return std::string(reinterpret_cast<const char*>(h), n) + std::string(payload);
}

// Any frame, by hand: for what the server never sends (fragments, control
// frames, invalid bits).
std::string raw_frame(uint8_t b0, std::string_view payload, bool masked = false) {
  std::string out(1, static_cast<char>(b0));
  size_t n = payload.size();
  uint8_t mask_bit = masked ? 0x80 : 0;
  if (n < 126) {
    out += static_cast<char>(mask_bit | n);
  } else if (n <= 0xffff) {
    out += static_cast<char>(mask_bit | 126);
    out += static_cast<char>(n >> 8);
    out += static_cast<char>(n & 0xff);
  } else {
    out += static_cast<char>(mask_bit | 127);
    for (int s = 56; s >= 0; s -= 8) out += static_cast<char>((uint64_t{n} >> s) & 0xff);
  }
  if (masked) out += std::string(4, '\0');
  return out + std::string(payload);
}

struct seen {
  opcode op;
  std::string payload;
  bool operator==(const seen&) const = default;
};

// Feeds `chunks` one after the other; every message, and the last status.
std::pair<std::vector<seen>, frame_reader::status> feed_all(
    frame_reader& r, const std::vector<std::string>& chunks) {
  std::vector<seen> out;
  frame_reader::status s = frame_reader::status::ok;
  for (const auto& c : chunks) {
    s = r.feed(c, [&](const message& m) {
      out.push_back({m.op, std::string(m.payload)});
      return true;
    });
    if (s != frame_reader::status::ok) break;
  }
  return {out, s};
}

const std::string tick_text =
    R"(42["scroll_tick",{"sessionId":"bench-abc-1","positionMs":12345,"tempoBpm":120,)"
    R"("serverTimestamp":1764650000123,"beat":3,"bar":7}])";

TEST(bench_wire_reader, one_frame_one_read) {
  frame_reader r;
  auto [msgs, s] = feed_all(r, {server_frame(tick_text)});
  EXPECT_EQ(s, frame_reader::status::ok);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0], (seen{opcode::text, tick_text}));
  EXPECT_EQ(r.buffered(), 0u);
}

TEST(bench_wire_reader, several_frames_in_one_read) {
  frame_reader r;
  std::string bytes = server_frame("2") + server_frame(tick_text) + server_frame("") +
                      server_frame("bin", true) + server_frame("40{\"sid\":\"x\"}");
  auto [msgs, s] = feed_all(r, {bytes});
  EXPECT_EQ(s, frame_reader::status::ok);
  std::vector<seen> want{{opcode::text, "2"},
                         {opcode::text, tick_text},
                         {opcode::text, ""},
                         {opcode::binary, "bin"},
                         {opcode::text, "40{\"sid\":\"x\"}"}};
  EXPECT_EQ(msgs, want);
}

// Every split point of a stream (inside headers, inside payloads, between
// frames), including the extended 16- and 64-bit lengths.
TEST(bench_wire_reader, frames_split_across_reads_at_every_byte) {
  std::string big16(300, 'a');    // 126: 16-bit length
  std::string big64(70000, 'b');  // 127: 64-bit length
  std::string stream = server_frame(tick_text) + server_frame(big16) + server_frame("3") +
                       server_frame(big64) + server_frame(tick_text);
  std::vector<seen> want{{opcode::text, tick_text},
                         {opcode::text, big16},
                         {opcode::text, "3"},
                         {opcode::text, big64},
                         {opcode::text, tick_text}};
  ASSERT_EQ(stream[stream.find(big16) - 3], static_cast<char>(126));
  // Split points: all in the first 600 bytes, then a sample across the rest.
  for (size_t cut = 0; cut <= stream.size(); cut += cut < 600 ? 1 : 997) {
    frame_reader r;
    auto [msgs, s] = feed_all(r, {stream.substr(0, cut), stream.substr(cut)});
    EXPECT_EQ(s, frame_reader::status::ok) << "cut " << cut;
    EXPECT_EQ(msgs, want) << "cut " << cut;
    EXPECT_EQ(r.buffered(), 0u);
  }
  // Three reads with both cuts inside the 64-bit header.
  size_t at = stream.find(big64) - 10;
  frame_reader r;
  auto [msgs, s] =
      feed_all(r, {stream.substr(0, at + 1), stream.substr(at + 1, 5), stream.substr(at + 6)});
  EXPECT_EQ(msgs, want);
}

TEST(bench_wire_reader, byte_by_byte) {
  std::string stream = server_frame(tick_text) + server_frame(std::string(200, 'z'));
  std::vector<std::string> bytes;
  for (char c : stream) bytes.emplace_back(1, c);
  frame_reader r;
  auto [msgs, s] = feed_all(r, bytes);
  EXPECT_EQ(s, frame_reader::status::ok);
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0].payload, tick_text);
  EXPECT_EQ(msgs[1].payload, std::string(200, 'z'));
}

TEST(bench_wire_reader, fragmented_message_with_a_control_frame_between) {
  std::string stream = raw_frame(0x01, "42[\"snap") +  // text, not FIN
                       raw_frame(0x89, "hi") +         // ping in the middle
                       raw_frame(0x00, "shot\",") +    // continuation
                       raw_frame(0x80, "{}]") +        // continuation, FIN
                       server_frame("2");
  std::vector<seen> want{
      {opcode::ping, "hi"}, {opcode::text, "42[\"snapshot\",{}]"}, {opcode::text, "2"}};
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    frame_reader r;
    auto [msgs, s] = feed_all(r, {stream.substr(0, cut), stream.substr(cut)});
    EXPECT_EQ(s, frame_reader::status::ok) << "cut " << cut;
    EXPECT_EQ(msgs, want) << "cut " << cut;
  }
}

TEST(bench_wire_reader, close_and_pong_frames_are_delivered) {
  frame_reader r;
  auto [msgs, s] = feed_all(r, {raw_frame(0x8a, "") + raw_frame(0x88, "\x03\xe8")});
  EXPECT_EQ(s, frame_reader::status::ok);
  std::vector<seen> want{{opcode::pong, ""}, {opcode::close, "\x03\xe8"}};
  EXPECT_EQ(msgs, want);
}

TEST(bench_wire_reader, protocol_errors) {
  struct row {
    std::string bytes;
    read_error want;
  } rows[] = {
      {raw_frame(0x81, "x", true), read_error::masked_frame},
      {raw_frame(0xc1, "x"), read_error::reserved_bits},
      {raw_frame(0x83, "x"), read_error::bad_opcode},
      {raw_frame(0x8b, "x"), read_error::bad_opcode},
      {raw_frame(0x09, "x"), read_error::bad_control_frame},  // ping without FIN
      {raw_frame(0x89, std::string(126, 'p')), read_error::bad_control_frame},
      {raw_frame(0x80, "x"), read_error::unexpected_continuation},
      {raw_frame(0x01, "a") + raw_frame(0x81, "b"), read_error::interleaved_data},
  };
  for (const auto& [bytes, want] : rows) {
    frame_reader r;
    auto [msgs, s] = feed_all(r, {bytes});
    EXPECT_EQ(s, frame_reader::status::error) << to_string(want);
    EXPECT_EQ(r.error(), want);
    // Nothing more is read after an error.
    EXPECT_EQ(r.feed(server_frame("2"), [](const message&) { return true; }),
              frame_reader::status::error);
  }
}

TEST(bench_wire_reader, too_big_is_refused_before_it_is_buffered) {
  frame_reader r(1000);
  std::string header = raw_frame(0x81, std::string(1001, 'x')).substr(0, 4);
  auto [msgs, s] = feed_all(r, {header});
  EXPECT_EQ(s, frame_reader::status::error);
  EXPECT_EQ(r.error(), read_error::message_too_big);
  EXPECT_LT(r.buffered(), 16u);
  // Fragments adding up to more than the limit.
  frame_reader f(1000);
  auto [m2, s2] =
      feed_all(f, {raw_frame(0x01, std::string(600, 'a')), raw_frame(0x80, std::string(600, 'b'))});
  EXPECT_EQ(s2, frame_reader::status::error);
  EXPECT_EQ(f.error(), read_error::message_too_big);
  // At the limit exactly: fine.
  frame_reader g(1000);
  auto [m3, s3] = feed_all(g, {server_frame(std::string(1000, 'c'))});
  EXPECT_EQ(s3, frame_reader::status::ok);
  EXPECT_EQ(m3.size(), 1u);
}

TEST(bench_wire_reader, a_callback_returning_false_stops_the_read) {
  frame_reader r;
  int calls = 0;
  auto s = r.feed(server_frame("a") + server_frame("b") + server_frame("c"),
                  [&](const message&) { return ++calls < 2; });
  EXPECT_EQ(s, frame_reader::status::stopped);
  EXPECT_EQ(calls, 2);
}

TEST(bench_wire_client_frame, masked_with_the_right_length_form) {
  for (size_t n : {0u, 1u, 125u, 126u, 65535u, 65536u}) {
    std::string payload(n, 'q');
    for (size_t i = 0; i < n; ++i) payload[i] = static_cast<char>('a' + i % 26);
    std::string f;
    append_client_frame(f, opcode::text, payload, 0x11223344u);
    ASSERT_GE(f.size(), 6u);
    EXPECT_EQ(static_cast<uint8_t>(f[0]), 0x81);
    auto b1 = static_cast<uint8_t>(f[1]);
    EXPECT_TRUE(b1 & 0x80) << "a client frame is masked";
    size_t header = (b1 & 0x7f) == 126 ? 4 : (b1 & 0x7f) == 127 ? 10 : 2;
    EXPECT_EQ(size_t{b1 & 0x7fu}, n < 126 ? n : n <= 0xffff ? size_t{126} : size_t{127});
    ASSERT_EQ(f.size(), header + 4 + n);
    const char key[4] = {0x11, 0x22, 0x33, 0x44};
    EXPECT_EQ(f.substr(header, 4), std::string(key, 4));
    std::string unmasked = f.substr(header + 4);
    for (size_t i = 0; i < n; ++i) unmasked[i] = static_cast<char>(unmasked[i] ^ key[i % 4]);
    EXPECT_EQ(unmasked, payload);
  }
  std::string pong;
  append_client_frame(pong, opcode::pong, "", 1);
  EXPECT_EQ(static_cast<uint8_t>(pong[0]), 0x8a);
}

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
