// The domain on a real Socket.IO namespace, driven in process (no network):
// events reach the service, its answers reach the right sockets and rooms.
#include "glue/socketio_outbox.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <map>

#include "engineio/server.hpp"
#include "socketio/server.hpp"
#include "store/memory_store.hpp"
#include "test_support.hpp"

namespace bandsync::glue {
namespace {

namespace eio = bandsync::engineio;
namespace sio = bandsync::socketio;
using namespace std::chrono_literals;

class SocketioGlue : public ::testing::Test {
 protected:
  SocketioGlue()
      : io(ioc.get_executor(), sio::options{}),
        engine(ioc.get_executor(), eio_opts(), io),
        outbox(io.of("/")),
        service(clock, outbox, store) {
    attach(io.of("/"), service);
  }

  static eio::options eio_opts() {
    eio::options o;
    o.ping_interval = 10s;
    return o;
  }
  eio::session_ptr open() {
    auto s = engine.create_session(eio::transport_kind::polling, "127.0.0.1");
    s->start();
    io.on_open(s);
    return s;
  }
  void text(const eio::session_ptr& s, std::string t) {
    s->on_packet(eio::packet{eio::packet_type::message, false, std::move(t)});
  }
  // The Socket.IO EVENT packets queued for `s`, each as its JSON array
  // (name, payload, then the offset when stored).
  std::vector<boost::json::array> event_packets(const eio::session_ptr& s) {
    std::vector<boost::json::array> out;
    std::string payload = s->take_poll_payload();
    size_t start = 0;
    while (start <= payload.size()) {
      size_t end = payload.find('\x1e', start);
      auto part = payload.substr(start, end == std::string::npos ? std::string::npos : end - start);
      if (part.rfind("42", 0) == 0) out.push_back(boost::json::parse(part.substr(2)).as_array());
      if (end == std::string::npos) break;
      start = end + 1;
    }
    return out;
  }
  // The Socket.IO events queued for `s`, as (name, payload) pairs.
  std::vector<std::pair<std::string, boost::json::value>> events(const eio::session_ptr& s) {
    std::vector<std::pair<std::string, boost::json::value>> out;
    for (auto& v : event_packets(s))
      out.emplace_back(std::string(v.at(0).as_string()), v.size() > 1 ? v[1] : nullptr);
    return out;
  }
  std::string connect(const eio::session_ptr& s) {
    text(s, "0");
    auto payload = s->take_poll_payload();
    EXPECT_EQ(payload.rfind("40", 0), 0u) << payload;
    return std::string(boost::json::parse(payload.substr(2)).at("sid").as_string());
  }

  boost::asio::io_context ioc;
  sio::server io;
  eio::server engine;
  testing::fake_clock clock;
  store::memory_store store;
  socketio_outbox outbox;
  domain::session_service service;
};

TEST_F(SocketioGlue, EventsReachTheServiceAndAnswersTheRoom) {
  auto a = open(), b = open();
  auto ida = connect(a), idb = connect(b);
  ASSERT_TRUE(service.find_connection(ida));
  ASSERT_TRUE(service.find_connection(idb));

  text(a, R"(2["join_session",{"sessionId":"band","displayName":"Keys"}])");
  auto got = events(a);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].first, "snapshot");
  EXPECT_EQ(got[0].second.at("leaderSocketId"), boost::json::value(ida));
  EXPECT_EQ(got[1].first, "room_stats");
  EXPECT_EQ(got[2].first, "user_joined");
  EXPECT_TRUE(events(b).empty()) << "not in the room";

  text(b, R"(2["join_session",{"sessionId":"band","displayName":"Bass"}])");
  got = events(a);
  ASSERT_EQ(got.size(), 2u);  // the room's room_stats and user_joined
  EXPECT_EQ(got[1].first, "user_joined");
  EXPECT_EQ(got[1].second.at("memberCount"), 2);
  EXPECT_EQ(events(b).size(), 3u);

  text(b, R"(2["play",{"sessionId":"band"}])");
  got = events(b);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].first, "error");
  EXPECT_EQ(got[0].second.at("code"), "NOT_LEADER");
  EXPECT_TRUE(events(a).empty()) << "errors go to the sender only";
}

TEST_F(SocketioGlue, DisconnectLeavesTheSession) {
  auto a = open(), b = open();
  auto ida = connect(a), idb = connect(b);
  text(a, R"(2["join_session",{"sessionId":"band"}])");
  text(b, R"(2["join_session",{"sessionId":"band"}])");
  events(a);
  events(b);
  text(a, "1");  // Socket.IO DISCONNECT from the client
  EXPECT_FALSE(service.find_connection(ida));
  EXPECT_EQ(service.find_session("band")->leader(), idb);
  auto got = events(b);
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.back().first, "user_left");
  EXPECT_EQ(got.back().second.at("newLeader"), boost::json::value(idb));
}

// Connection state recovery (on by default) under the domain: a lost
// connection keeps its seat, ticks are never stored for it, and its return is
// a recovery of the same socket and member.
TEST_F(SocketioGlue, ALostConnectionKeepsItsSeatAndComesBack) {
  auto a = open(), b = open();
  text(a, "0");
  auto ack = boost::json::parse(a->take_poll_payload().substr(2));
  std::string ida(ack.at("sid").as_string()), pid(ack.at("pid").as_string());
  auto idb = connect(b);
  text(b, R"(2["join_session",{"sessionId":"band"}])");
  text(a, R"(2["join_session",{"sessionId":"band"}])");
  text(b, R"(2["play",{"sessionId":"band"}])");
  events(a);
  events(b);

  a->close("transport close");
  ASSERT_TRUE(io.of("/").find(ida));
  EXPECT_TRUE(io.of("/").find(ida)->held());
  ASSERT_TRUE(service.find_connection(ida));
  const auto* band = service.find_session("band");
  EXPECT_EQ(band->member_count(), 2u);
  EXPECT_FALSE(band->connected(ida));
  auto got = events(b);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].first, "room_stats");
  EXPECT_EQ(got[0].second.at("connectedCount"), 1);
  // Which member: member_status (EVENTS.md "Seats").
  EXPECT_EQ(got[1].first, "member_status");
  EXPECT_EQ(got[1].second.at("socketId"), boost::json::value(ida));
  EXPECT_EQ(got[1].second.at("connected"), false);

  // Ticks are volatile: none is stored for the held socket.
  size_t stored = io.of("/").stored_packets();
  clock.advance_ms(500);
  EXPECT_GT(service.tick_due(), 0u);
  EXPECT_EQ(events(b).back().first, "scroll_tick");
  EXPECT_EQ(io.of("/").stored_packets(), stored);
  text(b, R"(2["update_message",{"sessionId":"band","message":"while away"}])");
  EXPECT_EQ(io.of("/").stored_packets(), stored + 1);

  auto a2 = open();
  text(a2, "0{\"pid\":\"" + pid + "\"}");
  auto replay = events(a2);
  // The replay (its own seat held, then the missed snapshot), then the fresh
  // room_stats and member_status the session gets when the seat is back.
  ASSERT_GE(replay.size(), 4u);
  EXPECT_EQ(replay[replay.size() - 4].first, "member_status");
  EXPECT_EQ(replay[replay.size() - 4].second.at("connected"), false);
  EXPECT_EQ(replay[replay.size() - 3].first, "snapshot");
  EXPECT_EQ(replay[replay.size() - 3].second.at("message"), "while away");
  EXPECT_EQ(replay[replay.size() - 2].first, "room_stats");
  EXPECT_EQ(replay[replay.size() - 2].second.at("connectedCount"), 2);
  EXPECT_EQ(replay.back().first, "member_status");
  EXPECT_EQ(replay.back().second.at("connected"), true);
  for (const auto& [name, payload] : replay) EXPECT_NE(name, "scroll_tick");
  EXPECT_TRUE(io.of("/").find(ida)->connected());
  EXPECT_TRUE(band->connected(ida));
  got = events(b);
  ASSERT_GE(got.size(), 2u);
  EXPECT_EQ(got[got.size() - 2].first, "room_stats");
  EXPECT_EQ(got[got.size() - 2].second.at("connectedCount"), 2);
  EXPECT_EQ(got.back().first, "member_status");
  EXPECT_EQ(got.back().second.at("socketId"), boost::json::value(ida));
  EXPECT_EQ(got.back().second.at("connected"), true);
  // The returning member acts as one.
  text(a2, R"(2["sync_request",{"sessionId":"band"}])");
  got = events(a2);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].first, "sync_response");
  (void)idb;
}

// EVENTS.md "Seats": scroll_tick, heartbeat, latency_response,
// time_sync_response and room_stats are volatile: sent without the offset
// argument and never stored; every other event is stored once, however many
// members get it, and carries its offset last.
TEST_F(SocketioGlue, VolatileEventsCarryNoOffsetAndAreNeverStored) {
  auto a = open(), b = open();
  connect(a);
  connect(b);
  auto& ns = io.of("/");
  text(a, R"(2["join_session",{"sessionId":"band"}])");
  a->take_poll_payload();
  size_t stored = ns.stored_packets();
  // b's snapshot and the session's user_joined are stored; room_stats is not.
  text(b, R"(2["join_session",{"sessionId":"band"}])");
  EXPECT_EQ(ns.stored_packets(), stored + 2);
  stored = ns.stored_packets();
  service.heartbeat_round();  // before the probe: a is still "healthy"
  text(a, R"(2["latency_probe",{"timestamp":1}])");
  text(a, R"(2["time_sync",{"t1":1}])");
  text(a, R"(2["play",{"sessionId":"band"}])");  // snapshot and play: stored
  clock.advance_ms(500);
  EXPECT_GT(service.tick_due(), 0u);
  EXPECT_EQ(ns.stored_packets(), stored + 2);

  // What a got since its join, by name: whether it carried an offset.
  std::map<std::string, bool> offset_of;
  for (const auto& v : event_packets(a))
    offset_of[std::string(v.at(0).as_string())] = v.size() == 3 && v[2].is_string();
  std::map<std::string, bool> want{{"user_joined", true},
                                   {"room_stats", false},
                                   {"heartbeat", false},
                                   {"latency_response", false},
                                   {"time_sync_response", false},
                                   {"snapshot", true},
                                   {"play", true},
                                   {"scroll_tick", false}};
  EXPECT_EQ(offset_of, want);
}

}  // namespace
}  // namespace bandsync::glue
