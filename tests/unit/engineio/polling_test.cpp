// Long-polling on plain request/response values (src/engineio/polling.cpp):
// handshakes and their admission, the answers of GET and POST, the upgrade's
// rules (a GET released at once after the probe, nothing attaches after the
// upgrade), and the error bodies of errors.cpp.
#include "engineio/polling.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>

#include "engineio/server.hpp"

namespace bandsync::engineio {
namespace {

using util::http_request;
using clock = address_limits::clock;

struct recording_handler : handler {
  std::vector<std::string> messages;
  std::vector<std::string> closes;
  void on_open(const session_ptr&) override {}
  void on_message(const session_ptr& s, std::string_view text) override {
    messages.emplace_back(text);
    s->send(make_text_frame(packet_type::message, text));  // echo
  }
  void on_binary(const session_ptr&, std::string_view) override {}
  void on_close(const session_ptr&, std::string_view reason) override {
    closes.emplace_back(reason);
  }
};

struct fake_link : ws_link {
  int wakes = 0;
  void wake() override { ++wakes; }
  void shutdown() override {}
  // What try_write answers, and the frames it was offered.
  write_result answer = write_result::queue;
  std::vector<std::string> offered;
  write_result try_write(const frame& f) override {
    offered.push_back(*f.data);
    return answer;
  }
};

class PollingTest : public ::testing::Test {
 protected:
  boost::asio::io_context ioc;
  recording_handler upper;
  server eio{ioc.get_executor(), options{}, upper};
  address_limits limits{{.handshake_rate = 1, .handshake_burst = 2, .max_connections = 10}};
  polling poll{eio, limits};
  clock::time_point now = clock::time_point{} + std::chrono::hours(1);

  // The polling session moves to `link` (spec "Upgrade": probe, then "5").
  static void upgrade(session& s, const std::shared_ptr<fake_link>& link) {
    s.begin_upgrade();
    s.probe_received();
    s.complete_upgrade(link);
  }

  static http_request request(std::string method, std::string query, std::string body = "") {
    http_request r;
    r.method = std::move(method);
    r.path = "/socket.io/";
    r.query = std::move(query);
    r.target = r.path + "?" + r.query;
    r.body = std::move(body);
    r.remote_address = "198.51.100.4";
    return r;
  }

  std::string handshake() {
    auto step = poll.start(request("GET", "EIO=4&transport=polling"), now);
    EXPECT_TRUE(step.answer);
    EXPECT_EQ(step.answer->status, 200u);
    auto body = step.answer->body;
    auto at = body.find("\"sid\":\"");
    return body.substr(at + 7, 20);
  }
};

TEST_F(PollingTest, HandshakeAnswersTheOpenPacket) {
  auto step = poll.start(request("GET", "EIO=4&transport=polling"), now);
  ASSERT_TRUE(step.answer);
  EXPECT_EQ(step.answer->status, 200u);
  EXPECT_EQ(step.answer->body.rfind("0{\"sid\":\"", 0), 0u);
  EXPECT_NE(step.answer->body.find("\"upgrades\":[\"websocket\"]"), std::string::npos);
  EXPECT_EQ(eio.session_count(), 1u);
}

TEST_F(PollingTest, HandshakeBucketRefusesWith429AndCode7) {
  handshake();
  handshake();
  auto step = poll.start(request("GET", "EIO=4&transport=polling"), now);
  ASSERT_TRUE(step.answer);
  EXPECT_EQ(step.answer->status, 429u);
  EXPECT_EQ(step.answer->body, R"({"code":7,"message":"Too many handshakes"})");
  ASSERT_EQ(step.answer->headers.size(), 1u);
  EXPECT_EQ(step.answer->headers[0].first, "Retry-After");
  EXPECT_EQ(eio.session_count(), 2u);
}

TEST_F(PollingTest, NoNewSessionsNearTheDescriptorLimit) {
  auto step = poll.start(request("GET", "EIO=4&transport=polling"), now, false);
  ASSERT_TRUE(step.answer);
  EXPECT_EQ(step.answer->status, 503u);
  EXPECT_EQ(step.answer->body, R"({"code":6,"message":"Server at capacity"})");
}

TEST_F(PollingTest, ProtocolErrorsUseTheReferenceCodes) {
  auto unknown_sid = poll.start(request("GET", "EIO=4&transport=polling&sid=nope"), now);
  ASSERT_TRUE(unknown_sid.answer);
  EXPECT_EQ(unknown_sid.answer->status, 400u);
  EXPECT_EQ(unknown_sid.answer->body, R"({"code":1,"message":"Session ID unknown"})");
  auto bad_transport = poll.start(request("GET", "EIO=4&transport=carrier-pigeon"), now);
  EXPECT_EQ(bad_transport.answer->body, R"({"code":0,"message":"Transport unknown"})");
  auto post_handshake = poll.start(request("POST", "EIO=4&transport=polling"), now);
  EXPECT_EQ(post_handshake.answer->body, R"({"code":2,"message":"Bad handshake method"})");
  auto v3 = poll.start(request("GET", "EIO=3&transport=polling"), now);
  EXPECT_EQ(v3.answer->body, R"({"code":5,"message":"Unsupported protocol version"})");
}

TEST_F(PollingTest, PostDeliversAndGetCollects) {
  auto sid = handshake();
  auto post = poll.start(request("POST", "EIO=4&transport=polling&sid=" + sid, "4hello"), now);
  ASSERT_TRUE(post.answer);
  EXPECT_EQ(post.answer->body, "ok");
  ASSERT_EQ(upper.messages, std::vector<std::string>{"hello"});
  auto get = poll.start(request("GET", "EIO=4&transport=polling&sid=" + sid), now);
  ASSERT_FALSE(get.answer);
  ASSERT_TRUE(get.get);
  EXPECT_FALSE(get.get->poll_should_wait());  // the echo is queued
  EXPECT_EQ(poll.finish_get(*get.get).body, "4hello");
  EXPECT_FALSE(get.get->poll_active());
}

TEST_F(PollingTest, AGetWaitingDuringTheUpgradeIsReleasedByTheProbe) {
  auto sid = handshake();
  auto s = eio.find(sid);
  s->begin_upgrade();
  // The GET that released the first one is sent before the client saw
  // "3probe": it must not wait once the probe arrived, or the client (which
  // waits for it before sending "5") stalls until the next ping.
  poll.finish_get(*s);  // the noop of begin_upgrade
  auto get = poll.start(request("GET", "EIO=4&transport=polling&sid=" + sid), now);
  ASSERT_TRUE(get.get);
  EXPECT_TRUE(get.get->poll_should_wait());
  s->probe_received();
  EXPECT_FALSE(get.get->poll_should_wait());
  EXPECT_EQ(poll.finish_get(*s).body, "6");
  // And the next one too, until "5".
  auto again = poll.start(request("GET", "EIO=4&transport=polling&sid=" + sid), now);
  EXPECT_FALSE(again.get->poll_should_wait());
  poll.finish_get(*s);
}

TEST_F(PollingTest, NothingAttachesAfterTheUpgrade) {
  auto sid = handshake();
  auto s = eio.find(sid);
  auto link = std::make_shared<fake_link>();
  upgrade(*s, link);
  auto get = poll.start(request("GET", "EIO=4&transport=polling&sid=" + sid), now);
  ASSERT_TRUE(get.answer);
  EXPECT_EQ(get.answer->status, 400u);
  EXPECT_EQ(get.answer->body, R"({"code":3,"message":"Bad request"})");
  auto post = poll.start(request("POST", "EIO=4&transport=polling&sid=" + sid, "4x"), now);
  EXPECT_EQ(post.answer->status, 400u);
  EXPECT_TRUE(upper.messages.empty());
  EXPECT_TRUE(s->is_open());
  EXPECT_TRUE(s->upgraded());
}

// send_mode::now: a frame goes to the link's try_write only when nothing is
// queued (nothing may overtake a queued frame); what the link does not take
// whole is queued, with a wake() only when the link asked for the turn's flush.
TEST_F(PollingTest, SendNowWritesThroughTheLinkOnlyWhenNothingIsQueued) {
  auto s = eio.find(handshake());
  auto link = std::make_shared<fake_link>();
  upgrade(*s, link);
  while (s->has_frames()) s->pop_frame();  // what the upgrade left (a noop)
  link->wakes = 0;

  link->answer = ws_link::write_result::written;
  EXPECT_EQ(s->send(make_text_frame(packet_type::message, "tick1"), send_mode::now),
            send_status::ok);
  EXPECT_EQ(link->offered, std::vector<std::string>{"4tick1"});
  EXPECT_FALSE(s->has_frames());
  EXPECT_EQ(link->wakes, 0);

  // The socket is full: the frame becomes the queue's head, the link waits
  // for writability by itself (no wake).
  link->answer = ws_link::write_result::waiting;
  s->send(make_text_frame(packet_type::message, "tick2"), send_mode::now);
  ASSERT_EQ(s->frame_count(), 1u);
  EXPECT_EQ(*s->front_frame().data, "4tick2");
  EXPECT_EQ(link->wakes, 0);

  // Something is queued: no direct write, queued behind it.
  link->answer = ws_link::write_result::written;
  s->send(make_text_frame(packet_type::message, "tick3"), send_mode::now);
  EXPECT_EQ(link->offered.size(), 2u);
  ASSERT_EQ(s->frame_count(), 2u);
  EXPECT_EQ(*s->frame_at(1).data, "4tick3");
  EXPECT_EQ(link->wakes, 1);

  // The link is busy (a close, a control frame): queued and woken.
  while (s->has_frames()) s->pop_frame();
  link->answer = ws_link::write_result::queue;
  s->send(make_text_frame(packet_type::message, "tick4"), send_mode::now);
  EXPECT_EQ(link->offered.size(), 3u);
  EXPECT_EQ(s->frame_count(), 1u);
  EXPECT_EQ(link->wakes, 2);

  // The default mode never writes through the link.
  while (s->has_frames()) s->pop_frame();
  link->answer = ws_link::write_result::written;
  s->send(make_text_frame(packet_type::message, "reply"));
  EXPECT_EQ(link->offered.size(), 3u);
  EXPECT_EQ(s->frame_count(), 1u);
}

TEST_F(PollingTest, OverlappingGetsCloseTheSession) {
  auto sid = handshake();
  auto first = poll.start(request("GET", "EIO=4&transport=polling&sid=" + sid), now);
  ASSERT_TRUE(first.get);
  auto second = poll.start(request("GET", "EIO=4&transport=polling&sid=" + sid), now);
  ASSERT_TRUE(second.answer);
  EXPECT_EQ(second.answer->status, 400u);
  EXPECT_FALSE(first.get->is_open());
  EXPECT_EQ(upper.closes, std::vector<std::string>{"multiple polling requests"});
}

// A server closing (SIGTERM) while no GET waits keeps the session until the
// client polls its close packet. A pong to a ping that crossed the close
// comes first, on a POST: it is accepted (and dropped), or the client would
// end on "transport error" rather than the close (integration.bandsync_http,
// "SIGTERM with 3 WebSocket and 1 polling client").
TEST_F(PollingTest, APostThatCrossedTheCloseIsAcceptedAndTheGetCollectsTheClose) {
  auto sid = handshake();
  eio.find(sid)->close("server shutting down");
  ASSERT_FALSE(eio.find(sid));
  ASSERT_EQ(eio.lingering_count(), 1u);
  auto post = poll.start(request("POST", "EIO=4&transport=polling&sid=" + sid, "3"), now);
  ASSERT_TRUE(post.answer);
  EXPECT_EQ(post.answer->status, 200u);
  EXPECT_EQ(post.answer->body, "ok");
  EXPECT_TRUE(upper.messages.empty());
  auto get = poll.start(request("GET", "EIO=4&transport=polling&sid=" + sid), now);
  ASSERT_TRUE(get.answer);
  EXPECT_EQ(get.answer->status, 200u);
  EXPECT_EQ(get.answer->body, "1");
  EXPECT_EQ(eio.lingering_count(), 0u);
  // Collected: the session is gone for good.
  auto late = poll.start(request("POST", "EIO=4&transport=polling&sid=" + sid, "3"), now);
  EXPECT_EQ(late.answer->status, 400u);
}

TEST(EngineIoErrors, DistinctCodesForOurOwnRefusals) {
  EXPECT_EQ(http_error_status(http_error::server_at_capacity), 503u);
  EXPECT_EQ(http_error_code(http_error::server_at_capacity), 6);
  EXPECT_EQ(http_error_status(http_error::origin_not_allowed), 403u);
  EXPECT_EQ(http_error_code(http_error::origin_not_allowed), 4);
  EXPECT_EQ(http_error_body(http_error::payload_too_large),
            R"({"code":3,"message":"Payload too large"})");
  EXPECT_EQ(http_error_status(http_error::payload_too_large), 413u);
}

}  // namespace
}  // namespace bandsync::engineio
