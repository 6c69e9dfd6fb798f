// Engine.IO v4 packet and payload codec, table-driven on raw wire strings
// (protocol spec, "Packet encoding" and "Payload encoding"; examples from the spec
// and from engine.io-parser's v4 changelog).
#include "engineio/packet.hpp"

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace bandsync::engineio {
namespace {

using namespace std::string_literals;

// Printable form of a wire string: control and high bytes as \xNN.
std::string escaped(std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + '"';
}

packet text(packet_type t, std::string data = {}) {
  return {t, false, std::move(data)};
}
packet binary(std::string bytes) {
  return {packet_type::message, true, std::move(bytes)};
}

}  // namespace

// Found by argument-dependent lookup, so gtest prints packets readably.
void PrintTo(const packet& p, std::ostream* os) {
  *os << "{type " << static_cast<int>(p.type) << (p.binary ? ", binary " : ", text ")
      << escaped(p.data) << '}';
}

namespace {

// ---------------------------------------------------------------- decode_packet

struct packet_case {
  std::string wire;
  packet expected;
};

void PrintTo(const packet_case& c, std::ostream* os) {
  *os << escaped(c.wire);
}

class decode_packet_valid : public testing::TestWithParam<packet_case> {};

TEST_P(decode_packet_valid, as_websocket_text_frame) {
  auto p = decode_packet(GetParam().wire);
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(*p, GetParam().expected);
}

TEST_P(decode_packet_valid, as_polling_segment) {
  auto p = decode_packet(GetParam().wire, true);
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(*p, GetParam().expected);
}

TEST_P(decode_packet_valid, encodes_back_to_the_same_wire) {
  const auto& e = GetParam().expected;
  EXPECT_EQ(encode_packet(e.type, e.data), GetParam().wire);
}

INSTANTIATE_TEST_SUITE_P(
    every_type, decode_packet_valid,
    testing::Values(
        packet_case{
            R"(0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000})",
            text(
                packet_type::open,
                R"({"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000})")},
        packet_case{"0", text(packet_type::open)}, packet_case{"1", text(packet_type::close)},
        packet_case{"2", text(packet_type::ping)},
        packet_case{"2probe", text(packet_type::ping, "probe")},
        packet_case{"3", text(packet_type::pong)},
        packet_case{"3probe", text(packet_type::pong, "probe")},
        packet_case{"4", text(packet_type::message)},
        packet_case{"4hello", text(packet_type::message, "hello")},
        packet_case{"4\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac",
                    text(packet_type::message, "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac")},
        packet_case{R"(42["hello",1])", text(packet_type::message, R"(2["hello",1])")},
        packet_case{"4b", text(packet_type::message, "b")},
        packet_case{"4\0x"s, text(packet_type::message, "\0x"s)},
        packet_case{"5", text(packet_type::upgrade)}, packet_case{"6", text(packet_type::noop)},
        // The payload after the type is opaque, even another digit.
        packet_case{"66", text(packet_type::noop, "6")}));

struct error_case {
  std::string wire;
  codec_errc expected;
};

void PrintTo(const error_case& c, std::ostream* os) {
  *os << escaped(c.wire);
}

class decode_packet_invalid : public testing::TestWithParam<error_case> {};

TEST_P(decode_packet_invalid, as_websocket_text_frame) {
  auto p = decode_packet(GetParam().wire);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error(), make_error_code(GetParam().expected)) << p.error().message();
}

INSTANTIATE_TEST_SUITE_P(
    malformed, decode_packet_invalid,
    testing::Values(error_case{"", codec_errc::empty_packet},
                    error_case{"7", codec_errc::unknown_packet_type},
                    error_case{"9hello", codec_errc::unknown_packet_type},
                    error_case{"/", codec_errc::unknown_packet_type},
                    error_case{"-1", codec_errc::unknown_packet_type},
                    error_case{"a", codec_errc::unknown_packet_type},
                    error_case{" 4", codec_errc::unknown_packet_type},
                    error_case{"\x1e", codec_errc::unknown_packet_type},
                    error_case{"\0"s, codec_errc::unknown_packet_type},
                    error_case{"\xff", codec_errc::unknown_packet_type},
                    // "b<base64>" is for polling only; a WebSocket sends a binary frame.
                    error_case{"bAQID", codec_errc::unknown_packet_type},
                    error_case{"message", codec_errc::unknown_packet_type}));

TEST(decode_packet, base64_binary_message_in_polling) {
  auto p = decode_packet("bAQID", true);
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(*p, binary("\x01\x02\x03"));

  p = decode_packet("bAQIDBA==", true);
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(*p, binary("\x01\x02\x03\x04"));

  p = decode_packet("b", true);  // an empty binary message
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(*p, binary(""));
}

TEST(decode_packet, bad_base64_in_polling) {
  for (std::string_view wire :
       {"bAQI", "bAQIDBA=", "b====", "bAQ!D", "b AQID", "bAQID\n", "bQR==", "b4hello", "bb"}) {
    auto p = decode_packet(wire, true);
    ASSERT_FALSE(p) << escaped(wire);
    EXPECT_EQ(p.error(), make_error_code(codec_errc::invalid_base64)) << escaped(wire);
  }
}

// --------------------------------------------------------------- decode_payload

struct payload_case {
  std::string body;
  std::vector<packet> expected;
};

void PrintTo(const payload_case& c, std::ostream* os) {
  *os << escaped(c.body);
}

class decode_payload_valid : public testing::TestWithParam<payload_case> {};

TEST_P(decode_payload_valid, gives_every_packet_in_order) {
  auto packets = decode_payload(GetParam().body);
  ASSERT_TRUE(packets) << packets.error().message();
  EXPECT_EQ(*packets, GetParam().expected);
}

TEST_P(decode_payload_valid, reencodes_to_the_same_body) {
  std::string body;
  for (const auto& p : GetParam().expected)
    append_to_payload(body, p.binary ? make_binary_frame(p.data) : make_text_frame(p.type, p.data));
  EXPECT_EQ(escaped(body), escaped(GetParam().body));
}

INSTANTIATE_TEST_SUITE_P(
    spec_examples, decode_payload_valid,
    testing::Values(
        payload_case{"4hello", {text(packet_type::message, "hello")}},
        payload_case{"4hello\x1e"
                     "4\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac",
                     {text(packet_type::message, "hello"),
                      text(packet_type::message, "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac")}},
        payload_case{"4hello\x1e"
                     "bAQID",
                     {text(packet_type::message, "hello"), binary("\x01\x02\x03")}},
        payload_case{"2probe\x1e"
                     "4hello\x1e"
                     "1",
                     {text(packet_type::ping, "probe"), text(packet_type::message, "hello"),
                      text(packet_type::close)}},
        payload_case{R"(42["hello"])"
                     "\x1e"
                     R"(42["world"])",
                     {text(packet_type::message, R"(2["hello"])"),
                      text(packet_type::message, R"(2["world"])")}},
        payload_case{R"(451-["img",{"_placeholder":true,"num":0}])"
                     "\x1e"
                     "bAQIDBA==",
                     {text(packet_type::message, R"(51-["img",{"_placeholder":true,"num":0}])"),
                      binary("\x01\x02\x03\x04")}},
        payload_case{"b\x1e"
                     "b",
                     {binary(""), binary("")}},
        payload_case{"0\x1e"
                     "1\x1e"
                     "2\x1e"
                     "3\x1e"
                     "4\x1e"
                     "5\x1e"
                     "6",
                     {text(packet_type::open), text(packet_type::close), text(packet_type::ping),
                      text(packet_type::pong), text(packet_type::message),
                      text(packet_type::upgrade), text(packet_type::noop)}}));

struct payload_error_case {
  std::string body;
  codec_errc expected;
};

void PrintTo(const payload_error_case& c, std::ostream* os) {
  *os << escaped(c.body);
}

class decode_payload_invalid : public testing::TestWithParam<payload_error_case> {};

TEST_P(decode_payload_invalid, fails_as_a_whole) {
  auto packets = decode_payload(GetParam().body);
  ASSERT_FALSE(packets);
  EXPECT_EQ(packets.error(), make_error_code(GetParam().expected)) << packets.error().message();
}

INSTANTIATE_TEST_SUITE_P(malformed, decode_payload_invalid,
                         testing::Values(payload_error_case{"", codec_errc::empty_packet},
                                         payload_error_case{"\x1e", codec_errc::empty_packet},
                                         payload_error_case{"4a\x1e", codec_errc::empty_packet},
                                         payload_error_case{"\x1e"
                                                            "4a",
                                                            codec_errc::empty_packet},
                                         payload_error_case{"4a\x1e\x1e"
                                                            "4b",
                                                            codec_errc::empty_packet},
                                         payload_error_case{"4a\x1e"
                                                            "7b",
                                                            codec_errc::unknown_packet_type},
                                         payload_error_case{"9\x1e"
                                                            "4a",
                                                            codec_errc::unknown_packet_type},
                                         payload_error_case{"4a\x1e"
                                                            "bA=",
                                                            codec_errc::invalid_base64},
                                         payload_error_case{"bQR==\x1e"
                                                            "4a",
                                                            codec_errc::invalid_base64}));

TEST(decode_payload, packet_limit) {
  EXPECT_TRUE(decode_payload("4a", 1));
  EXPECT_TRUE(
      decode_payload("4a\x1e"
                     "4b",
                     2));
  auto r = decode_payload(
      "4a\x1e"
      "4b\x1e"
      "4c",
      2);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(codec_errc::too_many_packets));

  r = decode_payload("4a", 0);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(codec_errc::too_many_packets));
}

TEST(decode_payload, default_limit_bounds_a_body_of_separators) {
  std::string body = "6";
  for (int i = 1; i < 10000; ++i)
    body +=
        "\x1e"
        "6";
  auto r = decode_payload(body);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->size(), 10000u);

  body +=
      "\x1e"
      "6";
  r = decode_payload(body);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(codec_errc::too_many_packets));

  // A body of nothing but separators fails on its first empty packet.
  r = decode_payload(std::string(1 << 20, '\x1e'));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(codec_errc::empty_packet));
}

// ------------------------------------------------------------------ encode side

TEST(encode_packet, every_type) {
  EXPECT_EQ(encode_packet(packet_type::open, R"({"sid":"x"})"), R"(0{"sid":"x"})");
  EXPECT_EQ(encode_packet(packet_type::close), "1");
  EXPECT_EQ(encode_packet(packet_type::ping), "2");
  EXPECT_EQ(encode_packet(packet_type::ping, "probe"), "2probe");
  EXPECT_EQ(encode_packet(packet_type::pong, "probe"), "3probe");
  EXPECT_EQ(encode_packet(packet_type::message, R"(2["hello"])"), R"(42["hello"])");
  EXPECT_EQ(encode_packet(packet_type::message), "4");
  EXPECT_EQ(encode_packet(packet_type::upgrade), "5");
  EXPECT_EQ(encode_packet(packet_type::noop), "6");
}

TEST(frames, text_frame_holds_the_whole_packet) {
  frame f = make_text_frame(packet_type::message, R"(2["a"])");
  EXPECT_FALSE(f.binary);
  ASSERT_TRUE(f.data);
  EXPECT_EQ(*f.data, R"(42["a"])");
  EXPECT_EQ(f.size(), 7u);
}

TEST(frames, binary_frame_holds_the_raw_bytes) {
  frame f = make_binary_frame("\x01\x02\x03");
  EXPECT_TRUE(f.binary);
  ASSERT_TRUE(f.data);
  EXPECT_EQ(*f.data, "\x01\x02\x03");
  EXPECT_EQ(f.size(), 3u);
  EXPECT_EQ(frame{}.size(), 0u);
}

TEST(append_to_payload, separates_packets_and_base64_encodes_binary) {
  std::string out;
  append_to_payload(out, make_text_frame(packet_type::message, "hello"));
  EXPECT_EQ(out, "4hello");
  append_to_payload(out, make_binary_frame("\x01\x02\x03"));
  EXPECT_EQ(out,
            "4hello\x1e"
            "bAQID");
  append_to_payload(out, make_binary_frame("\x01\x02\x03\x04"));
  append_to_payload(out, make_binary_frame(""));
  append_to_payload(out, make_text_frame(packet_type::noop));
  EXPECT_EQ(escaped(out), escaped("4hello\x1e"
                                  "bAQID\x1e"
                                  "bAQIDBA==\x1e"
                                  "b\x1e"
                                  "6"));

  auto packets = decode_payload(out);
  ASSERT_TRUE(packets) << packets.error().message();
  EXPECT_EQ(*packets,
            (std::vector<packet>{text(packet_type::message, "hello"), binary("\x01\x02\x03"),
                                 binary("\x01\x02\x03\x04"), binary(""), text(packet_type::noop)}));
}

TEST(append_to_payload, binary_frame_first) {
  std::string out;
  append_to_payload(out, make_binary_frame("\xff\xfe"));
  EXPECT_EQ(out, "b//4=");
}

TEST(append_to_payload, shares_one_frame_between_payloads) {
  frame f = make_binary_frame(std::string(1000, '\x7f'));
  std::string a = "4x", b;
  append_to_payload(a, f);
  append_to_payload(b, f);
  EXPECT_EQ(a, "4x\x1e" + b);
  auto packets = decode_payload(a);
  ASSERT_TRUE(packets) << packets.error().message();
  ASSERT_EQ(packets->size(), 2u);
  EXPECT_EQ((*packets)[1], binary(std::string(1000, '\x7f')));
}

// A frame without data adds nothing, not a lone separator (an empty packet that
// the client would reject as a parse error).
TEST(append_to_payload, frame_without_data_adds_nothing) {
  std::string out;
  append_to_payload(out, frame{});
  EXPECT_EQ(out, "");
  append_to_payload(out, make_text_frame(packet_type::message, "a"));
  append_to_payload(out, frame{});
  append_to_payload(out, frame{true, nullptr});
  EXPECT_EQ(out, "4a");
  EXPECT_TRUE(decode_payload(out));
}

TEST(codec_errors, have_a_category_and_distinct_messages) {
  EXPECT_STREQ(codec_category().name(), "engineio.codec");
  std::vector<std::string> messages;
  for (auto e : {codec_errc::empty_packet, codec_errc::unknown_packet_type,
                 codec_errc::invalid_base64, codec_errc::too_many_packets}) {
    boost::system::error_code ec = e;  // is_error_code_enum
    EXPECT_EQ(&ec.category(), &codec_category());
    EXPECT_TRUE(ec.failed());
    for (const auto& m : messages) EXPECT_NE(ec.message(), m);
    messages.push_back(ec.message());
  }
  EXPECT_FALSE(boost::system::error_code(0, codec_category()).failed());
}

}  // namespace
}  // namespace bandsync::engineio
