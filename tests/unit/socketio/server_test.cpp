// The Socket.IO server driven in process: real engineio::server sessions on a
// real io_context, no network. Frames are read back from the polling queue.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include "engineio/server.hpp"
#include "socketio/server.hpp"

namespace eio = bandsync::engineio;
namespace sio = bandsync::socketio;
using namespace std::chrono_literals;

namespace {

class server_test : public ::testing::Test {
 protected:
  server_test() : io(ioc.get_executor(), make_opts()), engine(ioc.get_executor(), eio_opts(), io) {}

  static sio::options make_opts() {
    sio::options o;
    o.connect_timeout = 200ms;
    o.max_rooms_per_socket = 3;
    o.max_pending_acks = 2;
    o.recovery.window = 0ms;  // exact frames without offsets; recovery_test.cpp covers it
    return o;
  }
  static eio::options eio_opts() {
    eio::options o;
    o.ping_interval = 10s;  // no pings in the way
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
  void binary(const eio::session_ptr& s, std::string b) {
    s->on_packet(eio::packet{eio::packet_type::message, true, std::move(b)});
  }
  // The packets queued for `s`, as polling would deliver them (noops dropped).
  std::vector<std::string> drain(const eio::session_ptr& s) {
    std::vector<std::string> out;
    std::string payload = s->take_poll_payload();
    size_t start = 0;
    while (true) {
      size_t end = payload.find('\x1e', start);
      auto part = payload.substr(start, end == std::string::npos ? std::string::npos : end - start);
      if (part != "6") out.push_back(part);
      if (end == std::string::npos) break;
      start = end + 1;
    }
    return out;
  }
  // Connects `s` to `nsp` and returns the socket id from the CONNECT answer.
  std::string connect(const eio::session_ptr& s, const std::string& nsp = "/") {
    text(s, nsp == "/" ? "0" : "0" + nsp + ",");
    auto packets = drain(s);
    EXPECT_FALSE(packets.empty());
    auto prefix = nsp == "/" ? std::string("40") : "40" + nsp + ",";
    EXPECT_EQ(packets[0].rfind(prefix, 0), 0u) << packets[0];
    auto v = boost::json::parse(packets[0].substr(prefix.size()));
    return std::string(v.at("sid").as_string());
  }

  boost::asio::io_context ioc;
  sio::server io;
  eio::server engine;
};

TEST_F(server_test, connect_answers_with_sid_and_runs_handler) {
  std::string seen;
  io.on_connection("/", [&](const sio::socket_ptr& s) { seen = s->id(); });
  auto s = open();
  auto id = connect(s);
  EXPECT_EQ(seen, id);
  EXPECT_EQ(id.size(), 20u);
}

TEST_F(server_test, unknown_namespace_gets_connect_error) {
  auto s = open();
  text(s, "0/nope,");
  EXPECT_EQ(drain(s), std::vector<std::string>{R"(44/nope,{"message":"Invalid namespace"})"});
  EXPECT_TRUE(s->is_open());
}

TEST_F(server_test, invalid_packet_closes_connection) {
  auto s = open();
  connect(s);
  text(s, "2{\"not\":\"array\"}");
  EXPECT_FALSE(s->is_open());
}

TEST_F(server_test, reserved_event_name_closes_connection) {
  auto s = open();
  connect(s);
  text(s, R"(2["disconnect"])");
  EXPECT_FALSE(s->is_open());
}

TEST_F(server_test, broadcast_reaches_exactly_the_room_minus_exceptions) {
  std::map<std::string, sio::socket_ptr> sockets;
  io.on_connection("/", [&](const sio::socket_ptr& s) { sockets[s->id()] = s; });
  auto a = open(), b = open(), c = open();
  auto ida = connect(a), idb = connect(b), idc = connect(c);
  sockets[ida]->join("band");
  sockets[idb]->join("band");
  sockets[idc]->join("other");
  EXPECT_EQ(io.to("band").emit("tick", boost::json::array{1}), 2u);
  EXPECT_EQ(drain(a), std::vector<std::string>{R"(42["tick",1])"});
  EXPECT_EQ(drain(b), std::vector<std::string>{R"(42["tick",1])"});
  EXPECT_TRUE(drain(c).empty());

  EXPECT_EQ(io.to("band").except(ida).emit("x"), 1u);
  EXPECT_TRUE(drain(a).empty());
  EXPECT_EQ(drain(b), std::vector<std::string>{R"(42["x"])"});

  // Two rooms with a shared member: sent once.
  sockets[ida]->join("other");
  EXPECT_EQ(io.of("/").to("band").to("other").emit("y"), 3u);
  EXPECT_EQ(drain(a).size(), 1u);

  // Leaving and disconnecting take sockets out of rooms.
  sockets[idb]->leave("band");
  text(c, "1");
  EXPECT_EQ(io.to("band").emit("z"), 1u);
  EXPECT_EQ(io.of("/").room_size("other"), 1u);
}

TEST_F(server_test, broadcast_shares_one_encoded_frame) {
  std::vector<sio::socket_ptr> sockets;
  io.on_connection("/", [&](const sio::socket_ptr& s) {
    s->join("r");
    sockets.push_back(s);
  });
  auto a = open(), b = open();
  connect(a);
  connect(b);
  io.to("r").emit("e", boost::json::array{"v"});
  ASSERT_TRUE(a->has_frames());
  ASSERT_TRUE(b->has_frames());
  EXPECT_EQ(a->front_frame().data.get(), b->front_frame().data.get());
}

TEST_F(server_test, room_limit_per_socket) {
  sio::socket_ptr sock;
  io.on_connection("/", [&](const sio::socket_ptr& s) { sock = s; });
  auto a = open();
  connect(a);
  EXPECT_TRUE(sock->join("1"));
  EXPECT_TRUE(sock->join("2"));
  EXPECT_TRUE(sock->join("3"));
  EXPECT_FALSE(sock->join("4"));
  EXPECT_EQ(sock->rooms().size(), 3u);
}

TEST_F(server_test, client_ack_and_binary_event) {
  io.on_connection("/", [&](const sio::socket_ptr& s) {
    s->on("echo", [](const sio::socket_ptr&, sio::message& m, sio::ack_fn ack) {
      ASSERT_TRUE(ack);
      ack(m);
      ack(m);  // a second call sends nothing
    });
  });
  auto a = open();
  connect(a);
  text(a, R"(27["echo",1,{"k":"v"}])");
  EXPECT_EQ(drain(a), std::vector<std::string>{R"(437[1,{"k":"v"}])"});

  text(a, R"(51-8["echo",{"_placeholder":true,"num":0}])");
  EXPECT_TRUE(drain(a).empty());  // waiting for the attachment
  binary(a, std::string("\x01\x02\x03", 3));
  auto out = drain(a);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], R"(461-8[{"_placeholder":true,"num":0}])");
  EXPECT_EQ(out[1], "bAQID");  // base64 of the attachment in a polling payload
}

TEST_F(server_test, unexpected_attachment_closes_connection) {
  auto a = open();
  connect(a);
  binary(a, "x");
  EXPECT_FALSE(a->is_open());
}

TEST_F(server_test, server_ack_resolves_times_out_and_is_bounded) {
  sio::socket_ptr sock;
  io.on_connection("/", [&](const sio::socket_ptr& s) { sock = s; });
  auto a = open();
  connect(a);
  std::vector<std::string> results;
  auto record = [&](boost::system::error_code ec, sio::message m) {
    results.push_back(ec ? ec.message() : boost::json::serialize(m.args));
  };
  sock->emit_with_ack("q", {}, 50ms, record);
  EXPECT_EQ(drain(a), std::vector<std::string>{R"(420["q"])"});
  text(a, R"(30["answer"])");
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0], R"(["answer"])");

  sock->emit_with_ack("q", {}, 20ms, record);  // id 1: never answered
  sock->emit_with_ack("q", {}, 20ms, record);  // id 2
  sock->emit_with_ack("q", {}, 20ms, record);  // over max_pending_acks = 2
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[1], "too many acks pending");
  ioc.run_for(100ms);
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[2], "operation has timed out");
  EXPECT_EQ(results[3], "operation has timed out");
}

TEST_F(server_test, disconnect_reasons_reach_handlers) {
  std::vector<std::string> reasons;
  io.on_connection("/", [&](const sio::socket_ptr& s) {
    s->on_disconnect(
        [&](const sio::socket_ptr&, std::string_view why) { reasons.emplace_back(why); });
  });
  io.of("/custom");
  auto a = open(), b = open();
  connect(a);
  connect(b);
  connect(a, "/custom");
  text(a, "1");  // client leaves the main namespace; /custom stays
  EXPECT_TRUE(a->is_open());
  b->close("forced close");
  EXPECT_EQ(reasons, (std::vector<std::string>{"client namespace disconnect", "forced close"}));
}

TEST_F(server_test, connection_without_namespace_times_out) {
  auto a = open();
  ioc.run_for(400ms);
  EXPECT_FALSE(a->is_open());
}

}  // namespace

// A broadcast collects its recipients as raw pointers. A send that overflows
// a queue closes that session inside the broadcast, and its disconnect
// handler here disconnects every other recipient, which may come later in the
// same broadcast and which nobody else holds: the namespace must keep them
// alive until the broadcast ends (under ASan, a use after free otherwise).
TEST(broadcast_overflow, recipients_closed_mid_broadcast_are_kept_until_it_ends) {
  boost::asio::io_context ioc;
  sio::server io(ioc.get_executor(), sio::options{});
  eio::options eo;
  eo.ping_interval = 10s;
  eo.max_buffered_frames = 2;
  eio::server engine(ioc.get_executor(), eo, io);
  std::vector<std::weak_ptr<sio::socket>> sockets;
  size_t disconnects = 0;
  io.on_connection("/", [&](const sio::socket_ptr& s) {
    s->join("band");
    sockets.push_back(s);
    s->on_disconnect([&](const sio::socket_ptr&, std::string_view) {
      ++disconnects;
      for (const auto& w : sockets)
        if (auto other = w.lock()) other->disconnect(true);
    });
  });
  std::vector<eio::session_ptr> sessions;
  for (int i = 0; i < 3; ++i) {
    auto s = engine.create_session(eio::transport_kind::polling, "127.0.0.1");
    s->start();
    io.on_open(s);
    s->on_packet(eio::packet{eio::packet_type::message, false, "0"});
    sessions.push_back(s);
  }
  // The first keeps its CONNECT answer queued: the second tick overflows it.
  sessions[1]->take_poll_payload();
  sessions[2]->take_poll_payload();
  EXPECT_EQ(io.to("band").emit("tick"), 3u);
  EXPECT_TRUE(sessions[0]->is_open());
  EXPECT_EQ(io.to("band").emit("tick"), 3u);
  for (const auto& s : sessions) EXPECT_FALSE(s->is_open());
  EXPECT_EQ(disconnects, 3u);
  EXPECT_EQ(io.of("/").room_size("band"), 0u);
  EXPECT_EQ(io.of("/").size(), 0u);
  // Released once the broadcast ended.
  for (const auto& w : sockets) EXPECT_TRUE(w.expired());
}
