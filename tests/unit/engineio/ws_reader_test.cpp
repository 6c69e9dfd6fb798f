// The WebSocket frame reader (src/engineio/ws_reader.hpp) on raw wire bytes,
// in both roles: the server reading masked client frames, the benchmark's
// client reading the unmasked frames the server's own encoder writes
// (encode_ws_header). Every stream is also fed split at every byte.
#include "engineio/ws_reader.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engineio/frame_writer.hpp"

using namespace bandsync::engineio;

namespace {

constexpr uint32_t test_key = 0x37fa213du;

// Any frame, by hand: `b0` is FIN/RSV/opcode; masked with `key` unless
// `masked` is false. `len_form` forces the 7-bit (0), 16-bit (126) or 64-bit
// (127) length form, for the non-minimal encodings a reader must refuse.
std::string raw_frame(uint8_t b0, std::string_view payload, bool masked = true,
                      uint32_t key = test_key, int len_form = -1) {
  std::string out(1, static_cast<char>(b0));
  const size_t n = payload.size();
  const uint8_t mask_bit = masked ? 0x80 : 0;
  int form = len_form >= 0 ? len_form : n < 126 ? 0 : n <= 0xffff ? 126 : 127;
  if (form == 0) {
    out += static_cast<char>(mask_bit | n);
  } else if (form == 126) {
    out += static_cast<char>(mask_bit | 126);
    out += static_cast<char>(n >> 8);
    out += static_cast<char>(n & 0xff);
  } else {
    out += static_cast<char>(mask_bit | 127);
    for (int s = 56; s >= 0; s -= 8) out += static_cast<char>((uint64_t{n} >> s) & 0xff);
  }
  if (!masked) return out + std::string(payload);
  const char k[4] = {static_cast<char>(key >> 24), static_cast<char>(key >> 16),
                     static_cast<char>(key >> 8), static_cast<char>(key)};
  out.append(k, 4);
  for (size_t i = 0; i < n; ++i) out += static_cast<char>(payload[i] ^ k[i % 4]);
  return out;
}

// A client frame as a real client writes it: FIN, masked.
std::string client_frame(std::string_view payload, ws_opcode op = ws_opcode::text,
                         uint32_t key = test_key) {
  std::string out;
  append_client_frame(out, op, payload, key);
  return out;
}

// A server frame: FIN, text or binary, unmasked, as BandSync writes it.
std::string server_frame(std::string_view payload, bool binary = false) {
  uint8_t h[ws_max_header];
  size_t n = encode_ws_header(binary, payload.size(), h);
  return std::string(reinterpret_cast<const char*>(h), n) + std::string(payload);
}

std::string close_payload(uint16_t code, std::string_view reason = {}) {
  std::string p{static_cast<char>(code >> 8), static_cast<char>(code & 0xff)};
  return p + std::string(reason);
}

struct seen {
  ws_opcode op;
  std::string payload;
  uint16_t code = 0;
  bool operator==(const seen&) const = default;
};

std::ostream& operator<<(std::ostream& os, const seen& s) {
  return os << "{op " << int(s.op) << ", " << s.payload.size() << " bytes, code " << s.code << "}";
}

struct outcome {
  std::vector<seen> messages;
  ws_reader::status status = ws_reader::status::ok;
};

// Feeds `chunks` one after the other (copied: the reader unmasks in place).
outcome feed_all(ws_reader& r, const std::vector<std::string>& chunks) {
  outcome out;
  for (auto c : chunks) {
    out.status = r.feed(c.data(), c.size(), [&](const ws_message& m) {
      out.messages.push_back({m.op, std::string(m.payload), m.close_code});
      return true;
    });
    if (out.status != ws_reader::status::ok) break;
  }
  return out;
}

// `stream` in two reads, for every cut; each must give `want` (and the same
// status): where a read ends never changes what is read.
void expect_every_split(ws_role role, size_t limit, const std::string& stream,
                        const std::vector<seen>& want,
                        ws_reader::status want_status = ws_reader::status::ok,
                        ws_error want_error = ws_error::none, size_t step_after = 0) {
  for (size_t cut = 0; cut <= stream.size(); cut += (step_after && cut >= step_after) ? 997 : 1) {
    ws_reader r(role, limit);
    auto got = feed_all(r, {stream.substr(0, cut), stream.substr(cut)});
    ASSERT_EQ(got.status, want_status) << "cut " << cut;
    ASSERT_EQ(got.messages, want) << "cut " << cut;
    ASSERT_EQ(r.error(), want_error) << "cut " << cut;
    if (want_status == ws_reader::status::ok) {
      EXPECT_EQ(r.buffered(), 0u) << "cut " << cut;
    }
  }
}

// ---- server role: client frames ----

TEST(ws_reader_server, one_masked_frame_unmasked_in_place) {
  std::string bytes = client_frame("42[\"hello\",{}]");
  ws_reader r(ws_role::server, 1000);
  std::vector<std::string> got;
  const char* inside = nullptr;
  auto s = r.feed(bytes.data(), bytes.size(), [&](const ws_message& m) {
    got.emplace_back(m.payload);
    inside = m.payload.data();
    return true;
  });
  EXPECT_EQ(s, ws_reader::status::ok);
  EXPECT_EQ(got, std::vector<std::string>{"42[\"hello\",{}]"});
  // A whole frame is handed out where it lies: no copy.
  EXPECT_EQ(inside, bytes.data() + 6);
  EXPECT_EQ(r.buffered(), 0u);
}

TEST(ws_reader_server, masking_every_length_and_key) {
  // Lengths around the eight-byte steps of the unmasking, two keys.
  for (uint32_t key : {test_key, 0xffffffffu, 0u}) {
    for (size_t n = 0; n < 40; ++n) {
      std::string payload;
      for (size_t i = 0; i < n; ++i) payload += static_cast<char>('a' + (i * 7) % 26);
      ws_reader r(ws_role::server, 1000);
      auto got = feed_all(r, {client_frame(payload, ws_opcode::binary, key)});
      ASSERT_EQ(got.status, ws_reader::status::ok);
      ASSERT_EQ(got.messages, (std::vector<seen>{{ws_opcode::binary, payload}})) << n;
    }
  }
}

TEST(ws_reader_server, several_frames_in_one_read) {
  std::string bytes = client_frame("3") + client_frame("") +
                      client_frame("\x01\x02", ws_opcode::binary) +
                      client_frame("ping!", ws_opcode::ping) + client_frame("", ws_opcode::pong) +
                      client_frame("40");
  ws_reader r(ws_role::server, 1000);
  auto got = feed_all(r, {bytes});
  EXPECT_EQ(got.status, ws_reader::status::ok);
  std::vector<seen> want{{ws_opcode::text, "3"},          {ws_opcode::text, ""},
                         {ws_opcode::binary, "\x01\x02"}, {ws_opcode::ping, "ping!"},
                         {ws_opcode::pong, ""},           {ws_opcode::text, "40"}};
  EXPECT_EQ(got.messages, want);
}

// Every cut of a stream with 7-, 16- and 64-bit lengths, a fragmented text
// message with a ping between its fragments, a code point split across
// fragments, and a close frame with a reason.
TEST(ws_reader_server, split_at_every_byte) {
  const std::string big16(300, 'a');
  const std::string big64(70000, 'b');
  const std::string head =
      client_frame("3") + client_frame(big16) +
      raw_frame(0x01, "42[\"caf\xc3") +                  // text, not FIN, a code point left open
      raw_frame(0x89, "hi", true, 0x01020304u) +         // a ping in the middle
      raw_frame(0x00, "\xa9\",1]", true, 0xa0b0c0d0u) +  // continuation
      raw_frame(0x80, "");                               // continuation, FIN, empty
  const std::string stream =
      head + client_frame(big64, ws_opcode::binary) + client_frame("2") +
      client_frame(close_payload(1001, "bye \xe2\x82\xac"), ws_opcode::close);
  const std::vector<seen> want{{ws_opcode::text, "3"},
                               {ws_opcode::text, big16},
                               {ws_opcode::ping, "hi"},
                               {ws_opcode::text, "42[\"caf\xc3\xa9\",1]"},
                               {ws_opcode::binary, big64},
                               {ws_opcode::text, "2"},
                               {ws_opcode::close, "bye \xe2\x82\xac", 1001}};
  ASSERT_EQ(static_cast<uint8_t>(stream[8]), 0x80 | 126);                // big16's length form
  ASSERT_EQ(static_cast<uint8_t>(stream[head.size() + 1]), 0x80 | 127);  // big64's
  // Every cut in the first 700 bytes, then one in 997 across the rest.
  expect_every_split(ws_role::server, 100000, stream, want, ws_reader::status::ok, ws_error::none,
                     700);
  // Every cut around the 64-bit header and across the frames after big64.
  auto split_ok = [&](size_t cut) {
    ws_reader r(ws_role::server, 100000);
    auto got = feed_all(r, {stream.substr(0, cut), stream.substr(cut)});
    EXPECT_EQ(got.messages, want) << "cut " << cut;
  };
  for (size_t cut = head.size(); cut <= head.size() + 20; ++cut) split_ok(cut);
  for (size_t cut = stream.size() - 60; cut <= stream.size(); ++cut) split_ok(cut);
  // Byte by byte, and in three reads cutting the 64-bit header twice.
  std::vector<std::string> bytes;
  for (char c : stream) bytes.emplace_back(1, c);
  ws_reader r1(ws_role::server, 100000);
  EXPECT_EQ(feed_all(r1, bytes).messages, want);
  ws_reader r2(ws_role::server, 100000);
  EXPECT_EQ(feed_all(r2, {stream.substr(0, head.size() + 1), stream.substr(head.size() + 1, 5),
                          stream.substr(head.size() + 6)})
                .messages,
            want);
}

TEST(ws_reader_server, close_frames) {
  struct row {
    std::string payload;
    seen want;
  } rows[] = {
      {"", {ws_opcode::close, "", 0}},
      {close_payload(1000), {ws_opcode::close, "", 1000}},
      {close_payload(1000, "done"), {ws_opcode::close, "done", 1000}},
      {close_payload(4999, std::string(123, 'r')), {ws_opcode::close, std::string(123, 'r'), 4999}},
  };
  for (const auto& [payload, want] : rows) {
    ws_reader r(ws_role::server, 1000);
    auto got = feed_all(r, {client_frame(payload, ws_opcode::close)});
    EXPECT_EQ(got.status, ws_reader::status::ok);
    EXPECT_EQ(got.messages, std::vector<seen>{want});
  }
  for (uint16_t code :
       {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 3000, 3999, 4000, 4999})
    EXPECT_TRUE(is_valid_close_code(code)) << code;
  for (uint16_t code : {0, 999, 1004, 1005, 1006, 1014, 1015, 1016, 1100, 2000, 2999, 5000, 65535})
    EXPECT_FALSE(is_valid_close_code(code)) << code;
}

// Each violation, its error and the close code that fails the connection;
// fed whole and split at every byte (the same error, nothing handed out
// after it), and nothing is read after an error.
TEST(ws_reader_server, protocol_errors_and_their_close_codes) {
  struct row {
    std::string bytes;
    ws_error want;
    uint16_t code;
    size_t before;  // messages handed out before the error
  } rows[] = {
      {raw_frame(0x81, "x", false), ws_error::unmasked_frame, 1002, 0},
      {client_frame("ok") + raw_frame(0x81, "x", false), ws_error::unmasked_frame, 1002, 1},
      {raw_frame(0xc1, "x"), ws_error::reserved_bits, 1002, 0},  // RSV1 (no permessage-deflate)
      {raw_frame(0xa1, "x"), ws_error::reserved_bits, 1002, 0},  // RSV2
      {raw_frame(0x91, "x"), ws_error::reserved_bits, 1002, 0},  // RSV3
      {raw_frame(0x83, "x"), ws_error::bad_opcode, 1002, 0},
      {raw_frame(0x87, "x"), ws_error::bad_opcode, 1002, 0},
      {raw_frame(0x8b, "x"), ws_error::bad_opcode, 1002, 0},
      {raw_frame(0x8f, "x"), ws_error::bad_opcode, 1002, 0},
      {raw_frame(0x09, "x"), ws_error::bad_control_frame, 1002, 0},  // ping without FIN
      {raw_frame(0x08, ""), ws_error::bad_control_frame, 1002, 0},   // close without FIN
      {raw_frame(0x89, std::string(126, 'p')), ws_error::bad_control_frame, 1002, 0},
      {raw_frame(0x8a, std::string(126, 'p')), ws_error::bad_control_frame, 1002, 0},
      {raw_frame(0x88, close_payload(1000, std::string(124, 'r'))), ws_error::bad_control_frame,
       1002, 0},
      {raw_frame(0x80, "x"), ws_error::unexpected_continuation, 1002, 0},
      {raw_frame(0x00, "x"), ws_error::unexpected_continuation, 1002, 0},
      {raw_frame(0x01, "a") + raw_frame(0x81, "b"), ws_error::interleaved_data, 1002, 0},
      {raw_frame(0x02, "a") + raw_frame(0x89, "") + raw_frame(0x02, "b"),
       ws_error::interleaved_data, 1002, 1},
      {raw_frame(0x81, "x", true, test_key, 126), ws_error::bad_length, 1002, 0},
      {raw_frame(0x81, std::string(200, 'x'), true, test_key, 127), ws_error::bad_length, 1002, 0},
      {std::string("\x82\xff\x80\0\0\0\0\0\0\0", 10), ws_error::bad_length, 1002, 0},  // 2^63
      {raw_frame(0x88, "\x03"), ws_error::bad_close_payload, 1002, 0},
      {raw_frame(0x88, close_payload(1005)), ws_error::bad_close_payload, 1002, 0},
      {raw_frame(0x88, close_payload(999)), ws_error::bad_close_payload, 1002, 0},
      {raw_frame(0x88, close_payload(2999)), ws_error::bad_close_payload, 1002, 0},
      {raw_frame(0x88, close_payload(1000, "\xff")), ws_error::invalid_utf8, 1007, 0},
      {raw_frame(0x81, "caf\xc3"), ws_error::invalid_utf8, 1007, 0},
      {raw_frame(0x81, "\xed\xa0\x80"), ws_error::invalid_utf8, 1007, 0},  // a surrogate
      // Fragmented: a bad byte fails at its fragment, before the message ends.
      {raw_frame(0x01, "ok") + raw_frame(0x00, "\xc0\xaf"), ws_error::invalid_utf8, 1007, 0},
      // A code point left open at the end of the message.
      {raw_frame(0x01, "ok\xe2\x82") + raw_frame(0x80, ""), ws_error::invalid_utf8, 1007, 0},
      {raw_frame(0x82, std::string(1001, 'x')), ws_error::message_too_big, 1009, 0},
      {raw_frame(0x02, std::string(600, 'a')) + raw_frame(0x80, std::string(401, 'b')),
       ws_error::message_too_big, 1009, 0},
  };
  for (const auto& [bytes, want, code, before] : rows) {
    SCOPED_TRACE(std::string(to_string(want)));
    EXPECT_EQ(close_code(want), code);
    ws_reader r(ws_role::server, 1000);
    auto got = feed_all(r, {bytes});
    EXPECT_EQ(got.status, ws_reader::status::error);
    EXPECT_EQ(r.error(), want);
    EXPECT_EQ(got.messages.size(), before);
    EXPECT_EQ(r.buffered(), 0u);
    // Nothing more is read after an error.
    std::string more = client_frame("2");
    EXPECT_EQ(r.feed(more.data(), more.size(), [](const ws_message&) { return true; }),
              ws_reader::status::error);
    for (size_t cut = 0; cut <= bytes.size(); ++cut) {
      ws_reader s(ws_role::server, 1000);
      auto split = feed_all(s, {bytes.substr(0, cut), bytes.substr(cut)});
      ASSERT_EQ(split.status, ws_reader::status::error) << "cut " << cut;
      ASSERT_EQ(s.error(), want) << "cut " << cut;
      ASSERT_EQ(split.messages.size(), before) << "cut " << cut;
    }
  }
}

TEST(ws_reader_server, binary_is_not_checked_for_utf8) {
  ws_reader r(ws_role::server, 1000);
  auto got = feed_all(r, {client_frame("\xff\xc0", ws_opcode::binary)});
  EXPECT_EQ(got.status, ws_reader::status::ok);
  EXPECT_EQ(got.messages, (std::vector<seen>{{ws_opcode::binary, "\xff\xc0"}}));
}

TEST(ws_reader_server, too_big_is_refused_before_it_is_buffered) {
  // Only the 4-byte header of a 1001-byte frame: refused at once.
  ws_reader r(ws_role::server, 1000);
  auto got = feed_all(r, {raw_frame(0x81, std::string(1001, 'x')).substr(0, 4)});
  EXPECT_EQ(got.status, ws_reader::status::error);
  EXPECT_EQ(r.error(), ws_error::message_too_big);
  // A 64-bit length of 2^40: refused from its header, nothing allocated.
  ws_reader h(ws_role::server, 1000);
  std::string huge("\x82\xff\0\0\x01\0\0\0\0\0", 10);
  EXPECT_EQ(feed_all(h, {huge}).status, ws_reader::status::error);
  EXPECT_EQ(h.error(), ws_error::message_too_big);
  // The second fragment's header pushes the message over: refused before its payload.
  ws_reader f(ws_role::server, 1000);
  auto frag = raw_frame(0x02, std::string(600, 'a')) + raw_frame(0x80, std::string(401, 'b'));
  EXPECT_EQ(feed_all(f, {frag.substr(0, 8 + 600 + 4)}).status, ws_reader::status::error);
  EXPECT_EQ(f.error(), ws_error::message_too_big);
  // At the limit exactly, whole or in fragments: fine.
  ws_reader g(ws_role::server, 1000);
  auto at = feed_all(
      g, {client_frame(std::string(1000, 'c')),
          raw_frame(0x01, std::string(500, 'd')) + raw_frame(0x80, std::string(500, 'e'))});
  EXPECT_EQ(at.status, ws_reader::status::ok);
  EXPECT_EQ(at.messages.size(), 2u);
  EXPECT_EQ(at.messages[1].payload, std::string(500, 'd') + std::string(500, 'e'));
}

TEST(ws_reader_server, a_split_frame_keeps_only_its_own_bytes) {
  // A frame split across reads is kept until its end; the frames after it in
  // the same read are parsed in place, and nothing stays once they are out.
  std::string stream = client_frame(std::string(5000, 'x')) + client_frame("3") + client_frame("2");
  ws_reader r(ws_role::server, 100000);
  std::string first = stream.substr(0, 100);
  std::vector<seen> got;
  auto collect = [&](const ws_message& m) {
    got.push_back({m.op, std::string(m.payload)});
    return true;
  };
  EXPECT_EQ(r.feed(first.data(), first.size(), collect), ws_reader::status::ok);
  EXPECT_EQ(r.buffered(), 100u);
  std::string rest = stream.substr(100);
  EXPECT_EQ(r.feed(rest.data(), rest.size(), collect), ws_reader::status::ok);
  EXPECT_EQ(got.size(), 3u);
  EXPECT_EQ(r.buffered(), 0u);
  // A fragmented message: its fragments so far, nothing once it is out.
  std::string a = raw_frame(0x01, "abc");
  EXPECT_EQ(r.feed(a.data(), a.size(), collect), ws_reader::status::ok);
  EXPECT_TRUE(r.in_message());
  EXPECT_EQ(r.buffered(), 3u);
  std::string b = raw_frame(0x80, "def");
  EXPECT_EQ(r.feed(b.data(), b.size(), collect), ws_reader::status::ok);
  EXPECT_FALSE(r.in_message());
  EXPECT_EQ(got.back(), (seen{ws_opcode::text, "abcdef"}));
  EXPECT_EQ(r.buffered(), 0u);
}

TEST(ws_reader_server, a_callback_returning_false_stops_the_reader) {
  ws_reader r(ws_role::server, 1000);
  int calls = 0;
  std::string bytes = client_frame("a") + client_frame("", ws_opcode::close) + client_frame("c") +
                      client_frame(std::string(300, 'd')).substr(0, 50);
  auto s = r.feed(bytes.data(), bytes.size(), [&](const ws_message& m) {
    ++calls;
    return m.op != ws_opcode::close;
  });
  EXPECT_EQ(s, ws_reader::status::stopped);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(r.buffered(), 0u);
  std::string more = client_frame("e");
  EXPECT_EQ(r.feed(more.data(), more.size(),
                   [&](const ws_message&) {
                     ++calls;
                     return true;
                   }),
            ws_reader::status::stopped);
  EXPECT_EQ(calls, 2);
}

// ---- client role: the benchmark reading BandSync's frames ----

const std::string tick_text =
    R"(42["scroll_tick",{"sessionId":"bench-abc-1","positionMs":12345,"tempoBpm":120,)"
    R"("serverTimestamp":1764650000123,"beat":3,"bar":7}])";

TEST(ws_reader_client, server_frames_split_at_every_byte) {
  const std::string big16(300, 'a');
  const std::string big64(70000, 'b');
  const std::string stream = server_frame(tick_text) + server_frame(big16) + server_frame("3") +
                             server_frame("bin", true) + server_frame(big64) +
                             server_frame(tick_text) + raw_frame(0x89, "", false) +
                             raw_frame(0x88, close_payload(1000), false);
  const std::vector<seen> want{{ws_opcode::text, tick_text}, {ws_opcode::text, big16},
                               {ws_opcode::text, "3"},       {ws_opcode::binary, "bin"},
                               {ws_opcode::text, big64},     {ws_opcode::text, tick_text},
                               {ws_opcode::ping, ""},        {ws_opcode::close, "", 1000}};
  expect_every_split(ws_role::client, 1 << 20, stream, want, ws_reader::status::ok, ws_error::none,
                     600);
}

TEST(ws_reader_client, fragmented_message_with_a_ping_between) {
  const std::string stream = raw_frame(0x01, "42[\"snap", false) + raw_frame(0x89, "hi", false) +
                             raw_frame(0x00, "shot\",", false) + raw_frame(0x80, "{}]", false) +
                             server_frame("2");
  expect_every_split(
      ws_role::client, 1 << 20, stream,
      {{ws_opcode::ping, "hi"}, {ws_opcode::text, "42[\"snapshot\",{}]"}, {ws_opcode::text, "2"}});
}

TEST(ws_reader_client, a_masked_server_frame_is_refused) {
  ws_reader r(ws_role::client, 1000);
  auto got = feed_all(r, {client_frame("x")});
  EXPECT_EQ(got.status, ws_reader::status::error);
  EXPECT_EQ(r.error(), ws_error::masked_frame);
  EXPECT_EQ(close_code(r.error()), 1002);
}

// ---- the client's writer, the UTF-8 checker ----

TEST(ws_client_frame, masked_with_the_right_length_form) {
  for (size_t n : {0u, 1u, 125u, 126u, 65535u, 65536u}) {
    std::string payload(n, 'q');
    for (size_t i = 0; i < n; ++i) payload[i] = static_cast<char>('a' + i % 26);
    std::string f;
    append_client_frame(f, ws_opcode::text, payload, 0x11223344u);
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
  append_client_frame(pong, ws_opcode::pong, "", 1);
  EXPECT_EQ(static_cast<uint8_t>(pong[0]), 0x8a);
}

TEST(utf8_checker, valid_and_invalid_sequences_split_anywhere) {
  struct row {
    std::string text;
    bool valid;
  } rows[] = {
      {"", true},
      {"plain ascii, longer than eight bytes", true},
      {"\xc2\x80", true},          // U+0080
      {"\xdf\xbf", true},          // U+07FF
      {"\xe0\xa0\x80", true},      // U+0800
      {"\xef\xbf\xbf", true},      // U+FFFF
      {"\xf0\x90\x80\x80", true},  // U+10000
      {"\xf4\x8f\xbf\xbf", true},  // U+10FFFF
      {"h\xc3\xa9llo w\xc3\xb6rld \xe2\x82\xac \xf0\x9f\x8e\xb5", true},
      {"\x80", false},              // a lone continuation byte
      {"\xc0\xaf", false},          // overlong '/'
      {"\xc1\xbf", false},          // overlong
      {"\xe0\x9f\xbf", false},      // overlong 3-byte
      {"\xf0\x8f\xbf\xbf", false},  // overlong 4-byte
      {"\xed\xa0\x80", false},      // U+D800, a surrogate
      {"\xed\xbf\xbf", false},      // U+DFFF
      {"\xf4\x90\x80\x80", false},  // U+110000
      {"\xf5\x80\x80\x80", false},
      {"\xff", false},
      {"\xc3", false},  // open at the end
      {"\xe2\x82", false},
      {"\xc3\x28", false},  // a continuation byte missing
      {"abcdefgh\xe2\x82\xacxyz\xc3", false},
  };
  for (const auto& [text, valid] : rows) {
    for (size_t cut = 0; cut <= text.size(); ++cut) {
      utf8_checker u;
      bool ok = u.feed(std::string_view(text).substr(0, cut)) &&
                u.feed(std::string_view(text).substr(cut)) && u.complete();
      EXPECT_EQ(ok, valid) << "row of " << text.size() << " bytes, cut " << cut;
    }
  }
}

}  // namespace
