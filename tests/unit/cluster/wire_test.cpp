#include "cluster/wire.hpp"

#include <gtest/gtest.h>

namespace bandsync::cluster {
namespace {

TEST(ClusterWire, RoundTripsEveryKind) {
  for (auto kind : {wire_kind::forward, wire_kind::disconnect, wire_kind::emit, wire_kind::join,
                    wire_kind::leave, wire_kind::ack, wire_kind::broadcast, wire_kind::owner,
                    wire_kind::attach, wire_kind::hold, wire_kind::recover}) {
    wire_message m{kind, "node-a", "sid1", "S1", "play", 7, 3, "body\nwith newline", "::1", 2};
    auto back = decode(encode(m));
    ASSERT_TRUE(back) << kind_name(kind);
    EXPECT_EQ(*back, m);
  }
}

TEST(ClusterWire, BodyTravelsVerbatim) {
  std::string packet = "42[\"scroll_tick\",{\"position\":1.5,\"s\":\"\\u00e9\\n\"}]";
  wire_message m;
  m.kind = wire_kind::broadcast;
  m.from = "a";
  m.session = "S";
  m.version = 2;
  m.body = packet;
  std::string text = encode(m);
  EXPECT_EQ(text.substr(text.find('\n') + 1), packet);
  EXPECT_EQ(decode(text)->body, packet);
}

TEST(ClusterWire, OptionalFieldsStayAbsent) {
  wire_message m;
  m.kind = wire_kind::owner;
  m.from = "a";
  m.session = "S";
  auto text = encode(m);
  EXPECT_EQ(text, "{\"t\":\"owner\",\"f\":\"a\",\"r\":\"S\"}\n");
  auto back = decode(text);
  ASSERT_TRUE(back);
  EXPECT_FALSE(back->ack);
  EXPECT_EQ(back->version, 0u);
}

TEST(ClusterWire, RefusesMalformedMessages) {
  std::string error;
  EXPECT_FALSE(decode("no newline", &error));
  EXPECT_EQ(error, "no header line");
  EXPECT_FALSE(decode("[1]\n", &error));
  EXPECT_EQ(error, "header is not a JSON object");
  EXPECT_FALSE(decode("{\"t\":\"nope\",\"f\":\"a\"}\n", &error));
  EXPECT_EQ(error, "unknown kind 'nope'");
  EXPECT_FALSE(decode("{\"t\":\"emit\",\"f\":\"a\"}\n", &error));  // no sid
  EXPECT_EQ(error, "missing field for emit");
  EXPECT_FALSE(decode("{\"t\":\"ack\",\"f\":\"a\",\"s\":\"x\"}\n", &error));  // no ack id
  EXPECT_FALSE(decode("{\"t\":\"owner\",\"f\":\"a b\",\"r\":\"S\"}\n", &error));
  EXPECT_EQ(error, "invalid node id");
  EXPECT_FALSE(decode("{\"t\":\"owner\",\"f\":\"a\",\"r\":\"S\",\"v\":-1}\n", &error));
  EXPECT_FALSE(decode("{\"t\":\"owner\",\"f\":\"a\",\"r\":5}\n", &error));
  EXPECT_EQ(error, "r must be a string");
  std::string long_header =
      "{\"t\":\"owner\",\"f\":\"a\",\"r\":\"" + std::string(5000, 'x') + "\"}\n";
  EXPECT_FALSE(decode(long_header, &error));
  EXPECT_EQ(error, "header too long");
}

TEST(ClusterWire, HoldAndRecoverNameTheirSocket) {
  EXPECT_EQ(encode(wire_message{wire_kind::hold, "a", "sid1", "", "", 0, {}, "", "", 0}),
            "{\"t\":\"hold\",\"f\":\"a\",\"s\":\"sid1\"}\n");
  std::string error;
  EXPECT_FALSE(decode("{\"t\":\"hold\",\"f\":\"a\"}\n", &error));
  EXPECT_EQ(error, "missing field for hold");
  EXPECT_FALSE(decode("{\"t\":\"recover\",\"f\":\"a\"}\n", &error));
  EXPECT_EQ(error, "missing field for recover");
  auto back = decode("{\"t\":\"recover\",\"f\":\"a\",\"s\":\"x\"}\n");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->kind, wire_kind::recover);
}

// The hop count travels as "h", absent at 0 (the origin's own forward), and
// must be a whole number.
TEST(ClusterWire, HopCount) {
  wire_message m{wire_kind::forward, "a", "sid1", "S", "play", 0, {}, "[]", "", 0};
  auto text = encode(m);
  EXPECT_EQ(text.find("\"h\""), std::string::npos);
  m.hops = max_hops;
  auto back = decode(encode(m));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->hops, max_hops);
  std::string error;
  EXPECT_FALSE(decode(
      "{\"t\":\"fwd\",\"f\":\"a\",\"s\":\"x\",\"r\":\"S\",\"e\":\"play\",\"h\":-1}\n[]", &error));
  EXPECT_EQ(error, "h must be a whole number >= 0");
}

TEST(ClusterWire, NodeIds) {
  EXPECT_TRUE(valid_node_id("node-1.a_B"));
  EXPECT_TRUE(valid_node_id(std::string(64, 'a')));
  EXPECT_FALSE(valid_node_id(""));
  EXPECT_FALSE(valid_node_id(std::string(65, 'a')));
  EXPECT_FALSE(valid_node_id("a:b"));
  EXPECT_EQ(node_channel("n1"), "bs:n:n1");
  EXPECT_EQ(room_channel("S1"), "bs:r:S1");
}

}  // namespace
}  // namespace bandsync::cluster
