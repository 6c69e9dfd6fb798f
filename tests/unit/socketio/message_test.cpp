// encode_event / encode_ack write the Engine.IO frame's bytes directly: they
// must be exactly what the packet codec writes for the same packet.

#include "socketio/message.hpp"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

namespace bandsync::socketio {
namespace {

std::string via_codec(packet_type type, std::string nsp, std::optional<uint64_t> id,
                      size_t attachments, boost::json::value data) {
  packet p;
  p.type = type;
  p.nsp = std::move(nsp);
  p.id = id;
  p.attachments = attachments;
  p.data = std::move(data);
  return *engineio::make_text_frame(engineio::packet_type::message, encode(p)).data;
}

message args(std::string_view json, size_t attachments = 0) {
  message m;
  m.args = boost::json::parse(json).as_array();
  for (size_t i = 0; i < attachments; ++i)
    m.attachments.push_back(std::make_shared<const std::string>("bin" + std::to_string(i)));
  return m;
}

TEST(encode_event, same_bytes_as_the_packet_codec) {
  struct one {
    std::string nsp;
    std::string event;
    std::string args;
    std::optional<uint64_t> id;
  };
  for (
      const auto& c : std::vector<one>{
          {"/", "scroll_tick",
           R"([{"sessionId":"s-1","positionMs":125340,"tempoBpm":120.5,"serverTimestamp":1764612345678}])",
           std::nullopt},
          {"/", "noargs", "[]", std::nullopt},
          {"/admin", "multi", R"([1,"two",[3],{"four":null},true,-0.25])", 12},
          {"/", "quote\"and\\slash\u00e9", R"(["\u0001"])", 0},
      }) {
    auto m = args(c.args);
    boost::json::array data{boost::json::string(c.event)};
    for (const auto& a : m.args) data.push_back(a);
    auto p = encode_event(c.nsp, c.event, m, c.id);
    ASSERT_EQ(p.frames.size(), 1u);
    EXPECT_FALSE(p.frames[0].binary);
    EXPECT_EQ(*p.frames[0].data, via_codec(packet_type::event, c.nsp, c.id, 0, data)) << c.event;
  }
}

TEST(encode_event, one_value_without_an_array_gives_the_same_bytes) {
  for (
      std::string_view json :
      {R"({"sessionId":"s-1","positionMs":125340,"tempoBpm":120.5,"serverTimestamp":1764612345678})",
       R"([1,"two",null])", R"("text\u0001")", "null", "-0.25"}) {
    auto v = boost::json::parse(json);
    for (std::string_view nsp : {"/", "/admin"}) {
      auto one = encode_event(nsp, "scroll_tick", v);
      auto general = encode_event(nsp, "scroll_tick", message{boost::json::array{v}, {}});
      ASSERT_EQ(one.frames.size(), 1u);
      EXPECT_FALSE(one.frames[0].binary);
      EXPECT_EQ(*one.frames[0].data, *general.frames[0].data) << json;
      EXPECT_EQ(*one.frames[0].data,
                via_codec(packet_type::event, std::string(nsp), std::nullopt, 0,
                          boost::json::array{boost::json::string("scroll_tick"), v}))
          << json;
    }
  }
}

TEST(encode_event, binary_events_and_acks_match_too) {
  auto m = args(R"([{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])", 2);
  auto p = encode_event("/x", "file", m, 7);
  ASSERT_EQ(p.frames.size(), 3u);
  boost::json::array data{"file"};
  for (const auto& a : m.args) data.push_back(a);
  EXPECT_EQ(*p.frames[0].data, via_codec(packet_type::binary_event, "/x", 7, 2, data));
  EXPECT_TRUE(p.frames[1].binary);
  EXPECT_EQ(*p.frames[2].data, "bin1");

  auto ack = encode_ack("/", 3, args(R"(["ok",{"n":1}])"));
  EXPECT_EQ(*ack.frames[0].data, R"(433["ok",{"n":1}])");
  EXPECT_EQ(*ack.frames[0].data,
            via_codec(packet_type::ack, "/", 3, 0, boost::json::parse(R"(["ok",{"n":1}])")));
  EXPECT_EQ(*encode_ack("/", 4, {}).frames[0].data, "434[]");
  auto bin_ack = encode_ack("/", 5, args(R"([{"_placeholder":true,"num":0}])", 1));
  EXPECT_EQ(*bin_ack.frames[0].data,
            via_codec(packet_type::binary_ack, "/", 5, 1,
                      boost::json::parse(R"([{"_placeholder":true,"num":0}])")));
}

}  // namespace
}  // namespace bandsync::socketio
