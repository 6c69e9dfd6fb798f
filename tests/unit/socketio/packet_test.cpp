// Socket.IO v5 packet codec, table-driven on raw wire strings (protocol spec,
// "Packet encoding"). The strings are the text of an Engine.IO message packet,
// i.e. without the leading '4' that the Engine.IO layer adds.
#include "socketio/packet.hpp"

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "engineio/packet.hpp"

namespace bandsync::socketio {

// Found by argument-dependent lookup, so gtest prints packets readably.
void PrintTo(const packet& p, std::ostream* os) {
  *os << "{type " << static_cast<int>(p.type) << ", nsp " << p.nsp;
  if (p.id) *os << ", id " << *p.id;
  *os << ", attachments " << p.attachments << ", data " << boost::json::serialize(p.data) << '}';
}

namespace {

using namespace std::string_literals;

boost::json::value json(std::string_view text) {
  return text.empty() ? boost::json::value() : boost::json::parse(text);
}

packet make(packet_type type, std::string nsp, std::optional<uint64_t> id, size_t attachments,
            std::string_view data) {
  return {type, std::move(nsp), id, attachments, json(data)};
}

struct valid_case {
  std::string wire;
  packet expected;
  // Canonical wire strings encode back to themselves.
  bool canonical = true;
};

void PrintTo(const valid_case& c, std::ostream* os) {
  *os << c.wire;
}

class decode_valid : public testing::TestWithParam<valid_case> {};

TEST_P(decode_valid, gives_the_expected_packet) {
  auto p = decode(GetParam().wire);
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(*p, GetParam().expected);
}

TEST_P(decode_valid, encode_of_decode_decodes_to_the_same_packet) {
  auto p = decode(GetParam().wire);
  ASSERT_TRUE(p) << p.error().message();
  std::string wire = encode(*p);
  if (GetParam().canonical) {
    EXPECT_EQ(wire, GetParam().wire);
  }
  auto again = decode(wire);
  ASSERT_TRUE(again) << again.error().message() << " for " << wire;
  EXPECT_EQ(*again, *p);
}

constexpr auto connect = packet_type::connect;
constexpr auto disconnect = packet_type::disconnect;
constexpr auto event = packet_type::event;
constexpr auto ack = packet_type::ack;
constexpr auto connect_error = packet_type::connect_error;
constexpr auto binary_event = packet_type::binary_event;
constexpr auto binary_ack = packet_type::binary_ack;

INSTANTIATE_TEST_SUITE_P(
    connect_and_disconnect, decode_valid,
    testing::Values(valid_case{"0", make(connect, "/", {}, 0, "")},
                    valid_case{"0/custom,", make(connect, "/custom", {}, 0, "")},
                    // A CONNECT without payload may omit the comma (sent by some clients).
                    valid_case{"0/custom", make(connect, "/custom", {}, 0, ""), false},
                    valid_case{R"(0{"token":"123"})",
                               make(connect, "/", {}, 0, R"({"token":"123"})")},
                    valid_case{R"(0/admin,{"a":1})", make(connect, "/admin", {}, 0, R"({"a":1})")},
                    valid_case{R"(0{"sid":"wZX3oN0bSVIhsaknAAAI"})",
                               make(connect, "/", {}, 0, R"({"sid":"wZX3oN0bSVIhsaknAAAI"})")},
                    valid_case{"0{}", make(connect, "/", {}, 0, "{}")},
                    valid_case{"0/a/b-c_d.e~f,", make(connect, "/a/b-c_d.e~f", {}, 0, "")},
                    // "/," is the main namespace spelt out.
                    valid_case{"0/,", make(connect, "/", {}, 0, ""), false},
                    valid_case{"1", make(disconnect, "/", {}, 0, "")},
                    valid_case{"1/custom,", make(disconnect, "/custom", {}, 0, "")},
                    valid_case{"1/custom", make(disconnect, "/custom", {}, 0, ""), false}));

INSTANTIATE_TEST_SUITE_P(
    event_and_ack, decode_valid,
    testing::Values(
        valid_case{R"(2["hello",1])", make(event, "/", {}, 0, R"(["hello",1])")},
        valid_case{R"(2["foo"])", make(event, "/", {}, 0, R"(["foo"])")},
        valid_case{R"(2/admin,["bar"])", make(event, "/admin", {}, 0, R"(["bar"])")},
        valid_case{R"(2/admin,13["x"])", make(event, "/admin", 13, 0, R"(["x"])")},
        valid_case{R"(212["foo"])", make(event, "/", 12, 0, R"(["foo"])")},
        valid_case{R"(20["foo"])", make(event, "/", 0, 0, R"(["foo"])")},
        valid_case{R"(2999999999999999["foo"])",
                   make(event, "/", 999999999999999u, 0, R"(["foo"])")},
        // Event names may be numbers (socket.io-parser accepts them).
        valid_case{"2[42]", make(event, "/", {}, 0, "[42]")},
        valid_case{R"(2["move",{"x":15,"y":-2,"tags":["a","b"],"ok":true,"n":null}])",
                   make(event, "/", {}, 0,
                        R"(["move",{"x":15,"y":-2,"tags":["a","b"],"ok":true,"n":null}])")},
        // Boost.JSON writes doubles in exponent form: still JSON, not the same text.
        valid_case{R"(2["seek",12.5,0.1,1e300])",
                   make(event, "/", {}, 0, R"(["seek",1.25E1,1E-1,1E300])"), false},
        valid_case{R"(2["\u00e9\n"])", make(event, "/", {}, 0, "[\"\xc3\xa9\\n\"]"), false},
        // A placeholder in a plain EVENT is just an object.
        valid_case{R"(2["a",{"_placeholder":true,"num":0}])",
                   make(event, "/", {}, 0, R"(["a",{"_placeholder":true,"num":0}])")},
        // Insignificant JSON whitespace is accepted and dropped on re-encoding.
        valid_case{R"(2[ "a" , 1 ])", make(event, "/", {}, 0, R"(["a",1])"), false},
        valid_case{R"(31["a"])", make(ack, "/", 1, 0, R"(["a"])")},
        valid_case{"312[]", make(ack, "/", 12, 0, "[]")},
        valid_case{R"(3/admin,13["bar"])", make(ack, "/admin", 13, 0, R"(["bar"])")},
        valid_case{"3007[]", make(ack, "/", 7, 0, "[]"), false}));

INSTANTIATE_TEST_SUITE_P(
    connect_error, decode_valid,
    testing::Values(
        valid_case{R"(4{"message":"Not authorized"})",
                   make(connect_error, "/", {}, 0, R"({"message":"Not authorized"})")},
        valid_case{R"(4/random,{"message":"Invalid namespace"})",
                   make(connect_error, "/random", {}, 0, R"({"message":"Invalid namespace"})")},
        valid_case{R"(4/admin,{"message":"no","data":{"code":3}})",
                   make(connect_error, "/admin", {}, 0, R"({"message":"no","data":{"code":3}})")},
        // Socket.IO v4 (protocol) sent a bare string.
        valid_case{R"(4"Invalid namespace")",
                   make(connect_error, "/", {}, 0, R"("Invalid namespace")")}));

INSTANTIATE_TEST_SUITE_P(
    binary, decode_valid,
    testing::Values(
        valid_case{R"(51-["img",{"_placeholder":true,"num":0}])",
                   make(binary_event, "/", {}, 1, R"(["img",{"_placeholder":true,"num":0}])")},
        valid_case{
            R"(52-/ns,7["file",{"_placeholder":true,"num":0},{"meta":{"_placeholder":true,"num":1}}])",
            make(
                binary_event, "/ns", 7, 2,
                R"(["file",{"_placeholder":true,"num":0},{"meta":{"_placeholder":true,"num":1}}])")},
        valid_case{
            R"(52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])",
            make(binary_event, "/admin", {}, 2,
                 R"(["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])")},
        // Placeholders in any order.
        valid_case{R"(52-["x",[{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}]])",
                   make(binary_event, "/", {}, 2,
                        R"(["x",[{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}]])")},
        valid_case{R"(51-14["foo",{"_placeholder":true,"num":0}])",
                   make(binary_event, "/", 14, 1, R"(["foo",{"_placeholder":true,"num":0}])")},
        // socket.io-parser emits a BINARY_EVENT with no attachments at once.
        valid_case{R"(50-["a"])", make(binary_event, "/", {}, 0, R"(["a"])")},
        valid_case{R"(61-/admin,456[{"_placeholder":true,"num":0}])",
                   make(binary_ack, "/admin", 456, 1, R"([{"_placeholder":true,"num":0}])")},
        valid_case{R"(61-15["bar",{"_placeholder":true,"num":0}])",
                   make(binary_ack, "/", 15, 1, R"(["bar",{"_placeholder":true,"num":0}])")},
        valid_case{R"(601-2[{"_placeholder":true,"num":0}])",
                   make(binary_ack, "/", 2, 1, R"([{"_placeholder":true,"num":0}])"), false}));

TEST(decode, attachment_limit_is_inclusive) {
  std::string data = R"(["a")";
  for (int i = 0; i < 64; ++i) data += R"(,{"_placeholder":true,"num":)" + std::to_string(i) + "}";
  data += "]";
  auto p = decode("564-" + data);
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(p->attachments, 64u);
  EXPECT_EQ(encode(*p), "564-" + data);

  auto small = decode("564-" + data, decode_limits{.max_attachments = 63});
  ASSERT_FALSE(small);
  EXPECT_EQ(small.error(), make_error_code(codec_errc::invalid_attachments));
}

TEST(decode, namespace_length_limit_is_inclusive) {
  std::string nsp = "/" + std::string(255, 'n');
  auto p = decode("2" + nsp + R"(,["a"])");
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(p->nsp, nsp);

  auto r = decode("2" + nsp + R"(x,["a"])");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(codec_errc::invalid_namespace));
  r = decode("0" + nsp + "x");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(codec_errc::invalid_namespace));
}

// What JSON.stringify writes for a JavaScript string holding a lone surrogate
// (an emoji cut in half): valid JSON that Boost.JSON refuses. Each lone
// surrogate decodes as U+FFFD; pairs, other escapes and "\\u..." text stay.
TEST(decode, lone_surrogates_become_replacement_characters) {
  struct row {
    std::string wire;
    std::string first_string;  // args[1] as UTF-8
  };
  const std::string fffd = "\xEF\xBF\xBD";
  for (const auto& [wire, expected] : std::vector<row>{
           {R"(2["e","\ud83d"])", fffd},
           {R"(2["e","a\ud83db"])", "a" + fffd + "b"},
           {R"(2["e","\ude00x"])", fffd + "x"},
           {R"(2["e","\ud83d\ud83d\ude00"])", fffd + "\xF0\x9F\x98\x80"},
           {R"(2["e","\ude00\ud83d"])", fffd + fffd},
           {R"(2["e","\\ud83d\ud83d"])", "\\ud83d" + fffd},
           {R"(2["e","\"\ud83d\n"])", "\"" + fffd + "\n"},
       }) {
    auto p = decode(wire);
    ASSERT_TRUE(p) << wire << ": " << p.error().message();
    EXPECT_EQ(std::string_view(p->data.as_array()[1].as_string()), expected) << wire;
  }
  auto obj = decode(R"(2["join_session",{"displayName":"Keys \ud83d","sessionId":"b"}])");
  ASSERT_TRUE(obj);
  EXPECT_EQ(std::string_view(obj->data.as_array()[1].as_object().at("displayName").as_string()),
            "Keys " + fffd);
  // A surrogate escape does not excuse other faults.
  auto bad = decode(R"(2["e","\ud83d")");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), make_error_code(codec_errc::invalid_json));
}

// ------------------------------------------------------------------- malformed

struct error_case {
  std::string wire;
  codec_errc expected;
};

void PrintTo(const error_case& c, std::ostream* os) {
  *os << c.wire;
}

class decode_invalid : public testing::TestWithParam<error_case> {};

TEST_P(decode_invalid, gives_a_specific_error) {
  auto p = decode(GetParam().wire);
  ASSERT_FALSE(p) << "decoded as " << testing::PrintToString(*p);
  EXPECT_EQ(p.error(), make_error_code(GetParam().expected)) << p.error().message();
}

INSTANTIATE_TEST_SUITE_P(type, decode_invalid,
                         testing::Values(error_case{"", codec_errc::empty_packet},
                                         error_case{"9", codec_errc::unknown_packet_type},
                                         error_case{R"(7["a"])", codec_errc::unknown_packet_type},
                                         error_case{R"(a["a"])", codec_errc::unknown_packet_type},
                                         error_case{R"(["a"])", codec_errc::unknown_packet_type},
                                         error_case{R"(/admin,["a"])",
                                                    codec_errc::unknown_packet_type},
                                         error_case{"\0"s, codec_errc::unknown_packet_type},
                                         error_case{"\xff", codec_errc::unknown_packet_type}));

INSTANTIATE_TEST_SUITE_P(
    payload_shape, decode_invalid,
    testing::Values(
        error_case{"2", codec_errc::invalid_payload},  // EVENT payload is mandatory
        error_case{"2/admin,", codec_errc::invalid_payload},
        error_case{"212", codec_errc::invalid_payload},
        error_case{R"(2{"a":1})", codec_errc::invalid_payload},
        error_case{"2[]", codec_errc::invalid_payload},
        error_case{"2[null]", codec_errc::invalid_payload},
        error_case{"2[true]", codec_errc::invalid_payload},
        error_case{R"(2[["a"]])", codec_errc::invalid_payload},
        error_case{R"(2[{"a":1}])", codec_errc::invalid_payload},
        error_case{R"(2"hello")", codec_errc::invalid_payload},
        error_case{"2null", codec_errc::invalid_payload},
        error_case{"3", codec_errc::invalid_payload},  // ACK payload is mandatory
        error_case{"31", codec_errc::invalid_payload},
        error_case{R"(31{"a":1})", codec_errc::invalid_payload},
        error_case{"0[]", codec_errc::invalid_payload},
        error_case{R"(0"token")", codec_errc::invalid_payload},
        error_case{"00", codec_errc::invalid_payload},  // CONNECT has no ack id
        error_case{R"(012{})", codec_errc::invalid_payload},
        error_case{"0null", codec_errc::invalid_payload},  // "null" is not "no payload"
        error_case{"0/admin,null", codec_errc::invalid_payload},
        error_case{"1{}", codec_errc::invalid_payload},  // DISCONNECT has no payload
        error_case{R"(1["a"])", codec_errc::invalid_payload},
        error_case{"1null", codec_errc::invalid_payload},
        error_case{"112", codec_errc::invalid_payload},
        error_case{"4", codec_errc::invalid_payload},  // CONNECT_ERROR payload is mandatory
        error_case{"4/admin,", codec_errc::invalid_payload},
        error_case{"4[]", codec_errc::invalid_payload},
        error_case{"41", codec_errc::invalid_payload},
        error_case{R"(47{"message":"x"})", codec_errc::invalid_payload},
        error_case{"4null", codec_errc::invalid_payload},
        error_case{R"(51-{"_placeholder":true,"num":0})", codec_errc::invalid_payload},
        error_case{R"(51-[{"_placeholder":true,"num":0}])", codec_errc::invalid_payload}));

INSTANTIATE_TEST_SUITE_P(
    nsp, decode_invalid,
    testing::Values(error_case{"2/admin", codec_errc::invalid_namespace},
                    error_case{R"(2/admin["a"])", codec_errc::invalid_namespace},
                    error_case{R"(3/admin1["a"])", codec_errc::invalid_namespace},
                    error_case{R"(4/admin{"message":"x"})", codec_errc::invalid_namespace},
                    error_case{"51-/admin", codec_errc::invalid_namespace},
                    error_case{"2/" + std::string(300, 'a') + R"(,["a"])",
                               codec_errc::invalid_namespace}));

INSTANTIATE_TEST_SUITE_P(
    ack_id, decode_invalid,
    testing::Values(error_case{"3[]", codec_errc::invalid_ack_id},  // ACK needs an id
                    error_case{R"(3/admin,["a"])", codec_errc::invalid_ack_id},
                    error_case{R"(61-[{"_placeholder":true,"num":0}])", codec_errc::invalid_ack_id},
                    error_case{R"(61-/admin,[{"_placeholder":true,"num":0}])",
                               codec_errc::invalid_ack_id},
                    // More digits than a JavaScript-safe integer may have.
                    error_case{R"(21234567890123456["a"])", codec_errc::invalid_ack_id},
                    error_case{"31234567890123456[]", codec_errc::invalid_ack_id},
                    error_case{"3" + std::string(25, '9') + "[]", codec_errc::invalid_ack_id},
                    error_case{"3" + std::string(10000, '1') + "[]", codec_errc::invalid_ack_id}));

INSTANTIATE_TEST_SUITE_P(
    json_text, decode_invalid,
    testing::Values(error_case{R"(2["a")", codec_errc::invalid_json},
                    error_case{R"(2["a"]])", codec_errc::invalid_json},
                    error_case{R"(2["a"]x)", codec_errc::invalid_json},
                    error_case{R"(2["a"]["b"])", codec_errc::invalid_json},
                    error_case{R"(2["a",])", codec_errc::invalid_json},
                    error_case{R"(2['a'])", codec_errc::invalid_json},
                    error_case{R"(2["a" // c)", codec_errc::invalid_json},
                    error_case{R"(2[a])", codec_errc::invalid_json},
                    error_case{"2[\"\xff\"]", codec_errc::invalid_json},  // not UTF-8
                    error_case{"2[\"a\nb\"]", codec_errc::invalid_json},  // raw control char
                    error_case{"2[\"a\"]\0"s, codec_errc::invalid_json},
                    error_case{R"(2-["a"])", codec_errc::invalid_json},
                    error_case{R"(2x["a"])", codec_errc::invalid_json},
                    error_case{R"(0{"a":})", codec_errc::invalid_json},
                    error_case{"0{", codec_errc::invalid_json},
                    error_case{"0 ", codec_errc::invalid_json},
                    // An ack id runs into the payload: "44/random,..." is the
                    // Engine.IO framed packet, not a Socket.IO one.
                    error_case{R"(44/random,{"message":"Invalid namespace"})",
                               codec_errc::invalid_json},
                    error_case{R"(2["a",NaN])", codec_errc::invalid_json},
                    error_case{R"(2["a",Infinity])", codec_errc::invalid_json},
                    // Out of double range: Boost.JSON would re-encode it as Infinity.
                    error_case{R"(2["a",1e999])", codec_errc::invalid_json},
                    error_case{R"(2["a",{"b":[-1e400]}])", codec_errc::invalid_json},
                    error_case{R"(0{"n":1e309})", codec_errc::invalid_json},
                    // Nesting deeper than the JSON parser's limit.
                    error_case{"2[\"a\"," + std::string(100, '[') + std::string(100, ']') + "]",
                               codec_errc::invalid_json},
                    error_case{"2[\"a\"," + std::string(100000, '['), codec_errc::invalid_json}));

INSTANTIATE_TEST_SUITE_P(
    attachments, decode_invalid,
    testing::Values(
        error_case{"5", codec_errc::invalid_attachments},
        error_case{"51", codec_errc::invalid_attachments},
        error_case{R"(5["a"])", codec_errc::invalid_attachments},
        error_case{R"(51["a",{"_placeholder":true,"num":0}])", codec_errc::invalid_attachments},
        error_case{R"(5-["a",{"_placeholder":true,"num":0}])", codec_errc::invalid_attachments},
        error_case{"5x-", codec_errc::invalid_attachments},
        error_case{R"(5x-["a"])", codec_errc::invalid_attachments},
        error_case{R"(5+1-["a",{"_placeholder":true,"num":0}])", codec_errc::invalid_attachments},
        error_case{R"(5 1-["a",{"_placeholder":true,"num":0}])", codec_errc::invalid_attachments},
        error_case{R"(5/admin,-["a"])", codec_errc::invalid_attachments},
        error_case{R"(51-1-["a",{"_placeholder":true,"num":0}])", codec_errc::invalid_json},
        error_case{R"(6-1[])", codec_errc::invalid_attachments},
        error_case{R"(565-["a"])", codec_errc::invalid_attachments},  // over the limit of 64
        error_case{R"(51234567-["a"])", codec_errc::invalid_attachments},
        error_case{"5" + std::string(30, '9') + R"(-["a"])", codec_errc::invalid_attachments},
        // Count does not match the placeholders.
        error_case{R"(51-["a"])", codec_errc::invalid_attachments},
        error_case{R"(52-["a",{"_placeholder":true,"num":0}])", codec_errc::invalid_attachments},
        // num out of range, duplicated, or not an integer.
        error_case{R"(51-["a",{"_placeholder":true,"num":1}])", codec_errc::invalid_attachments},
        error_case{R"(51-["a",{"_placeholder":true,"num":-1}])", codec_errc::invalid_attachments},
        error_case{R"(52-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":0}])",
                   codec_errc::invalid_attachments},
        error_case{R"(52-["a",{"_placeholder":true,"num":1},{"b":{"_placeholder":true,"num":1}}])",
                   codec_errc::invalid_attachments},
        error_case{R"(51-["a",{"_placeholder":true,"num":"0"}])", codec_errc::invalid_attachments},
        error_case{R"(51-["a",{"_placeholder":true,"num":0.0}])", codec_errc::invalid_attachments},
        error_case{R"(51-["a",{"_placeholder":true,"num":18446744073709551615}])",
                   codec_errc::invalid_attachments},
        error_case{R"(51-["a",{"_placeholder":true}])", codec_errc::invalid_attachments},
        error_case{R"(51-["a",{"_placeholder":"true","num":0}])", codec_errc::invalid_attachments},
        error_case{R"(61-1[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])",
                   codec_errc::invalid_attachments}));

// ---------------------------------------------------------------------- encode

TEST(encode, builds_each_packet_type) {
  EXPECT_EQ(encode(make(connect, "/", {}, 0, "")), "0");
  EXPECT_EQ(encode(make(connect, "/admin", {}, 0, "")), "0/admin,");
  EXPECT_EQ(encode(make(connect, "/admin", {}, 0, R"({"sid":"oSO0OpakMV_3jnilAAAA"})")),
            R"(0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"})");
  EXPECT_EQ(encode(make(disconnect, "/", {}, 0, "")), "1");
  EXPECT_EQ(encode(make(disconnect, "/admin", {}, 0, "")), "1/admin,");
  EXPECT_EQ(encode(make(event, "/", {}, 0, R"(["foo"])")), R"(2["foo"])");
  EXPECT_EQ(encode(make(event, "/admin", 13, 0, R"(["foo"])")), R"(2/admin,13["foo"])");
  EXPECT_EQ(encode(make(ack, "/", 12, 0, "[]")), "312[]");
  EXPECT_EQ(encode(make(connect_error, "/", {}, 0, R"({"message":"Not authorized"})")),
            R"(4{"message":"Not authorized"})");
  EXPECT_EQ(encode(make(binary_event, "/", 14, 1, R"(["foo",{"_placeholder":true,"num":0}])")),
            R"(51-14["foo",{"_placeholder":true,"num":0}])");
  EXPECT_EQ(encode(make(binary_ack, "/", 15, 1, R"(["bar",{"_placeholder":true,"num":0}])")),
            R"(61-15["bar",{"_placeholder":true,"num":0}])");
  EXPECT_EQ(encode(make(binary_event, "/", {}, 0, R"(["a"])")), R"(50-["a"])");
}

TEST(encode, default_packet_is_an_event_on_the_main_namespace) {
  packet p;
  p.data = json(R"(["tick",{"position":12.5}])");
  EXPECT_EQ(encode(p), R"(2["tick",{"position":12.5}])");
}

// ------------------------------------------------------- through Engine.IO framing

struct framed_case {
  std::string eio_wire;  // a WebSocket text frame or one polling segment
  packet expected;
  std::string reencoded = {};  // when it differs from eio_wire
};

void PrintTo(const framed_case& c, std::ostream* os) {
  *os << c.eio_wire;
}

class engineio_framed : public testing::TestWithParam<framed_case> {};

TEST_P(engineio_framed, decodes_inside_an_engineio_message) {
  auto eio = engineio::decode_packet(GetParam().eio_wire);
  ASSERT_TRUE(eio) << eio.error().message();
  ASSERT_EQ(eio->type, engineio::packet_type::message);
  auto p = decode(eio->data);
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(*p, GetParam().expected);
  const auto& c = GetParam();
  EXPECT_EQ(*engineio::make_text_frame(engineio::packet_type::message, encode(*p)).data,
            c.reencoded.empty() ? c.eio_wire : c.reencoded);
}

INSTANTIATE_TEST_SUITE_P(
    spec_examples, engineio_framed,
    testing::Values(
        framed_case{"40", make(connect, "/", {}, 0, "")},
        framed_case{"40/custom,", make(connect, "/custom", {}, 0, "")},
        framed_case{"40/custom", make(connect, "/custom", {}, 0, ""), "40/custom,"},
        framed_case{R"(40{"token":"123"})", make(connect, "/", {}, 0, R"({"token":"123"})")},
        framed_case{R"(40/admin,{"a":1})", make(connect, "/admin", {}, 0, R"({"a":1})")},
        framed_case{"41", make(disconnect, "/", {}, 0, "")},
        framed_case{"41/custom,", make(disconnect, "/custom", {}, 0, "")},
        framed_case{R"(42["hello",1])", make(event, "/", {}, 0, R"(["hello",1])")},
        framed_case{R"(42/admin,13["x"])", make(event, "/admin", 13, 0, R"(["x"])")},
        framed_case{R"(431["a"])", make(ack, "/", 1, 0, R"(["a"])")},
        framed_case{R"(44/random,{"message":"Invalid namespace"})",
                    make(connect_error, "/random", {}, 0, R"({"message":"Invalid namespace"})")},
        framed_case{R"(451-["img",{"_placeholder":true,"num":0}])",
                    make(binary_event, "/", {}, 1, R"(["img",{"_placeholder":true,"num":0}])")},
        framed_case{R"(461-/admin,456[{"_placeholder":true,"num":0}])",
                    make(binary_ack, "/admin", 456, 1, R"([{"_placeholder":true,"num":0}])")}));

// ---------------------------------------------------------- count_placeholders

TEST(count_placeholders, counts_nested_placeholders) {
  EXPECT_EQ(count_placeholders(json(R"(["a",1,"b"])"), 0), 0);
  EXPECT_EQ(count_placeholders(json("null"), 3), 0);
  EXPECT_EQ(count_placeholders(json(R"({"_placeholder":true,"num":0})"), 1), 1);
  EXPECT_EQ(
      count_placeholders(
          json(
              R"(["a",{"x":[{"_placeholder":true,"num":2}],"y":{"_placeholder":true,"num":0}},{"_placeholder":true,"num":1}])"),
          3),
      3);
  // Fewer placeholders than attachments is a count, not an error.
  EXPECT_EQ(count_placeholders(json(R"(["a",{"_placeholder":true,"num":1}])"), 3), 1);
}

TEST(count_placeholders, objects_that_are_not_placeholders) {
  EXPECT_EQ(count_placeholders(json(R"([{"_placeholder":false,"num":0}])"), 1), 0);
  EXPECT_EQ(count_placeholders(json(R"([{"_placeholder":"true","num":0}])"), 1), 0);
  EXPECT_EQ(count_placeholders(json(R"([{"_placeholder":1,"num":0}])"), 1), 0);
  EXPECT_EQ(count_placeholders(json(R"([{"num":0}])"), 1), 0);
}

TEST(count_placeholders, rejects_bad_num) {
  EXPECT_EQ(count_placeholders(json(R"([{"_placeholder":true,"num":0}])"), 0), -1);
  EXPECT_EQ(count_placeholders(json(R"([{"_placeholder":true,"num":1}])"), 1), -1);
  EXPECT_EQ(count_placeholders(json(R"([{"_placeholder":true,"num":-1}])"), 1), -1);
  EXPECT_EQ(count_placeholders(json(R"([{"_placeholder":true,"num":0.5}])"), 1), -1);
  EXPECT_EQ(count_placeholders(json(R"([{"_placeholder":true,"num":null}])"), 1), -1);
  EXPECT_EQ(count_placeholders(json(R"([{"_placeholder":true}])"), 1), -1);
  EXPECT_EQ(count_placeholders(
                json(R"([{"_placeholder":true,"num":0},{"a":{"_placeholder":true,"num":0}}])"), 2),
            -1);
}

TEST(codec_errors, have_a_category_and_distinct_messages) {
  EXPECT_STREQ(codec_category().name(), "socketio.codec");
  std::vector<std::string> messages;
  for (auto e :
       {codec_errc::empty_packet, codec_errc::unknown_packet_type, codec_errc::invalid_attachments,
        codec_errc::invalid_namespace, codec_errc::invalid_ack_id, codec_errc::invalid_json,
        codec_errc::invalid_payload}) {
    boost::system::error_code ec = e;  // is_error_code_enum
    EXPECT_EQ(&ec.category(), &codec_category());
    for (const auto& m : messages) EXPECT_NE(ec.message(), m);
    messages.push_back(ec.message());
  }
}

}  // namespace
}  // namespace bandsync::socketio
