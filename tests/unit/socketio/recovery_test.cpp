// Connection state recovery driven in process: real engineio::server
// sessions on a real io_context, no network (as server_test.cpp). A "lost
// connection" is the Engine.IO session closing with a recoverable reason.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include "engineio/server.hpp"
#include "socketio/server.hpp"

namespace eio = bandsync::engineio;
namespace sio = bandsync::socketio;
using namespace std::chrono_literals;

namespace {

class recovery_test : public ::testing::Test {
 protected:
  recovery_test() : io(ioc.get_executor(), make_opts()), engine(ioc.get_executor(), {}, io) {
    ns().on_connection([this](const sio::socket_ptr& s) {
      sockets[s->id()] = s;
      s->on_disconnect([this](const sio::socket_ptr& s, std::string_view why) {
        socket_disconnects.push_back(s->id() + ":" + std::string(why) + (s->held() ? ":held" : ""));
      });
      s->on_any([this](const sio::socket_ptr& s, std::string_view event, sio::message&,
                       sio::ack_fn) { received.push_back(s->id() + ":" + std::string(event)); });
    });
    ns().on_disconnect([this](const sio::socket_ptr& s, std::string_view why, bool held) {
      disconnects.push_back(s->id() + ":" + std::string(why) + (held ? ":held" : ""));
    });
    ns().on_recover([this](const sio::socket_ptr& s) { recovers.push_back(s->id()); });
    ns().on_expire([this](const sio::socket_ptr& s, std::string_view why) {
      expires.push_back(s->id() + ":" + std::string(why));
    });
  }

  static sio::options make_opts() {
    sio::options o;
    o.recovery.window = 200ms;
    o.recovery.max_packets_per_socket = 4;
    o.recovery.max_packets = 20;
    o.recovery.max_held = 3;
    return o;
  }

  sio::socket_namespace& ns() { return io.of("/"); }

  eio::session_ptr open() {
    auto s = engine.create_session(eio::transport_kind::polling, "127.0.0.1");
    s->start();
    io.on_open(s);
    return s;
  }
  void text(const eio::session_ptr& s, std::string t) {
    s->on_packet(eio::packet{eio::packet_type::message, false, std::move(t)});
  }
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
  // The CONNECT answer's data, from the last packet drained.
  static boost::json::object connect_answer(const std::vector<std::string>& packets) {
    EXPECT_FALSE(packets.empty());
    if (packets.empty()) return {};
    EXPECT_EQ(packets.back().rfind("40{", 0), 0u) << packets.back();
    return boost::json::parse(packets.back().substr(2)).as_object();
  }
  struct conn {
    eio::session_ptr session;
    std::string sid, pid;
  };
  conn connect(const std::string& auth = "") {
    conn c;
    c.session = open();
    text(c.session, "0" + auth);
    auto answer = connect_answer(drain(c.session));
    c.sid = std::string(answer.at("sid").as_string());
    if (auto pid = answer.if_contains("pid")) c.pid = std::string(pid->as_string());
    return c;
  }
  // connect() on another server than the fixture's.
  template <class Server>
  conn connect_on(Server& srv, const std::string& auth = "") {
    conn c;
    c.session = srv.open();
    text(c.session, "0" + auth);
    auto answer = connect_answer(drain(c.session));
    c.sid = std::string(answer.at("sid").as_string());
    c.pid = std::string(answer.at("pid").as_string());
    return c;
  }
  // The last argument of an EVENT packet ("42[...]").
  static std::string offset_of(const std::string& packet) {
    auto v = boost::json::parse(packet.substr(2)).as_array();
    return v.back().is_string() ? std::string(v.back().as_string()) : std::string();
  }
  static std::string auth(const conn& c, const std::string& offset) {
    boost::json::object o{{"pid", c.pid}};
    if (!offset.empty()) o["offset"] = offset;
    return boost::json::serialize(o);
  }

  boost::asio::io_context ioc;
  sio::server io;
  eio::server engine;
  std::map<std::string, sio::socket_ptr> sockets;
  std::vector<std::string> socket_disconnects, disconnects, recovers, expires, received;
};

TEST_F(recovery_test, connect_answer_carries_a_pid_and_events_their_offset) {
  auto a = connect();
  ASSERT_EQ(a.pid.size(), 36u);
  EXPECT_EQ(a.pid.substr(0, 20), a.sid);
  auto& s = sockets.at(a.sid);
  EXPECT_EQ(s->pid(), a.pid);

  s->emit("one", boost::json::array{1});
  s->emit("two", boost::json::array{2});
  auto out = drain(a.session);
  ASSERT_EQ(out.size(), 2u);
  auto o1 = offset_of(out[0]), o2 = offset_of(out[1]);
  EXPECT_FALSE(o1.empty());
  EXPECT_NE(o1, o2);
  EXPECT_EQ(out[0], R"(42["one",1,")" + o1 + R"("])");

  // Not stored, so no offset: volatile (by call, by name), with an ack id.
  ns().mark_volatile("tick");
  s->emit("tick", boost::json::array{3});
  s->emit_volatile("v", boost::json::array{4});
  sio::broadcast(ns()).as_volatile().emit("bv", boost::json::array{5});
  s->emit_with_ack("q", {}, 1s, [](boost::system::error_code, sio::message) {});
  EXPECT_EQ(drain(a.session), (std::vector<std::string>{R"(42["tick",3])", R"(42["v",4])",
                                                        R"(42["bv",5])", R"(420["q"])"}));
  EXPECT_EQ(ns().stored_packets(), 2u);
}

TEST_F(recovery_test, a_broadcast_is_encoded_once_with_one_offset) {
  auto a = connect(), b = connect();
  sockets.at(a.sid)->join("band");
  sockets.at(b.sid)->join("band");
  EXPECT_EQ(ns().to("band").emit("e", boost::json::array{"v"}), 2u);
  ASSERT_TRUE(a.session->has_frames());
  ASSERT_TRUE(b.session->has_frames());
  EXPECT_EQ(a.session->front_frame().data.get(), b.session->front_frame().data.get());
  EXPECT_EQ(ns().stored_packets(), 1u);
}

TEST_F(recovery_test, lost_socket_is_held_and_recovers_with_missed_packets_before_connect) {
  auto a = connect(), b = connect();
  auto sa = sockets.at(a.sid);
  sa->join("band");
  sockets.at(b.sid)->join("band");
  sa->emit("seen", boost::json::array{0});
  auto offset = offset_of(drain(a.session).back());

  ns().to("band").emit("lost-in-transit", boost::json::array{1});  // queued, never read
  a.session->close("transport close");
  EXPECT_TRUE(sa->held());
  EXPECT_EQ(ns().held_count(), 1u);
  EXPECT_EQ(socket_disconnects, std::vector<std::string>{a.sid + ":transport close:held"});
  EXPECT_EQ(disconnects, std::vector<std::string>{a.sid + ":transport close:held"});
  EXPECT_EQ(ns().room_size("band"), 2u);  // still a member

  // While held: broadcasts and private emits are stored for it; volatile ones are not.
  ns().to("band").emit("while-away", boost::json::array{2});
  ns().find(a.sid)->emit("private", boost::json::array{3});
  ns().to("band").as_volatile().emit("volatile", boost::json::array{4});
  ns().to("band").except(a.sid).emit("not-for-a", boost::json::array{5});
  drain(b.session);

  auto back = open();
  text(back, "0" + auth(a, offset));
  auto out = drain(back);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].rfind(R"(42["lost-in-transit",1,)", 0), 0u) << out[0];
  EXPECT_EQ(out[1].rfind(R"(42["while-away",2,)", 0), 0u) << out[1];
  EXPECT_EQ(out[2].rfind(R"(42["private",3,)", 0), 0u) << out[2];
  auto answer = connect_answer(out);
  EXPECT_EQ(answer.at("sid").as_string(), a.sid);
  EXPECT_EQ(answer.at("pid").as_string(), a.pid);

  EXPECT_EQ(ns().find(a.sid), sa);  // the same socket, its handlers kept
  EXPECT_TRUE(sa->connected());
  EXPECT_TRUE(sa->recovered());
  EXPECT_EQ(ns().held_count(), 0u);
  EXPECT_EQ(recovers, std::vector<std::string>{a.sid});
  EXPECT_EQ(sa->session(), back);
  text(back, R"(2["hello"])");
  EXPECT_EQ(received, std::vector<std::string>{a.sid + ":hello"});
  ns().to("band").emit("after", boost::json::array{6});
  EXPECT_EQ(drain(back).size(), 1u);

  // From an offset in the middle, only what came after it.
  back->close("ping timeout");
  auto again = open();
  text(again, "0" + auth(a, offset_of(out[1])));
  out = drain(again);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].rfind(R"(42["private",3,)", 0), 0u) << out[0];
  EXPECT_EQ(out[1].rfind(R"(42["after",6,)", 0), 0u) << out[1];
  EXPECT_TRUE(expires.empty());
}

TEST_F(recovery_test, without_an_offset_every_packet_since_connect_is_replayed) {
  auto a = connect();
  a.session->close("transport error");
  ns().find(a.sid)->emit("first", boost::json::array{1});
  auto back = open();
  text(back, "0" + auth(a, ""));
  auto out = drain(back);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].rfind(R"(42["first",1,)", 0), 0u) << out[0];
  EXPECT_EQ(connect_answer(out).at("sid").as_string(), a.sid);
}

TEST_F(recovery_test, recovery_that_cannot_be_honoured_is_a_new_connection) {
  auto a = connect();
  sockets.at(a.sid)->emit("x");
  auto offset = offset_of(drain(a.session).back());
  a.session->close("transport close");

  auto expect_new = [&](const std::string& auth_json) {
    auto c = connect(auth_json);
    EXPECT_NE(c.sid, a.sid) << auth_json;
    EXPECT_NE(c.pid, a.pid) << auth_json;
    EXPECT_FALSE(sockets.at(c.sid)->recovered());
  };
  expect_new(R"({"pid":"nope","offset":")" + offset + "\"}");
  expect_new(R"({"pid":")" + a.sid + R"(AAAAAAAAAAAAAAAA","offset":")" + offset + "\"}");
  expect_new(R"({"pid":")" + a.pid + R"(","offset":"made-up"})");
  expect_new(R"({"pid":")" + a.pid + R"(","offset":42})");
  EXPECT_TRUE(ns().find(a.sid)->held());  // none of those took it

  // Expired: the window passes, the held socket is released.
  ioc.run_for(350ms);
  EXPECT_EQ(expires, std::vector<std::string>{a.sid + ":recovery window expired"});
  EXPECT_EQ(ns().find(a.sid), nullptr);
  expect_new(auth(a, offset));
}

TEST_F(recovery_test, not_recoverable_reasons_close_for_good) {
  auto a = connect();
  sockets.at(a.sid)->join("band");
  text(a.session, "1");  // the client leaves the namespace
  EXPECT_EQ(disconnects, std::vector<std::string>{a.sid + ":client namespace disconnect"});
  EXPECT_EQ(ns().find(a.sid), nullptr);
  EXPECT_EQ(ns().room_size("band"), 0u);
  EXPECT_EQ(connect(auth(a, "")).sid == a.sid, false);

  auto b = connect();
  b.session->close("parse error");
  EXPECT_EQ(ns().find(b.sid), nullptr);
  EXPECT_EQ(ns().held_count(), 0u);
}

TEST_F(recovery_test, a_new_connection_takes_over_one_still_open) {
  auto a = connect();
  auto sa = sockets.at(a.sid);
  sa->join("band");
  sa->emit("seen");
  auto offset = offset_of(drain(a.session).back());
  // The link died but the server has not noticed: these go to the dead transport.
  ns().to("band").emit("stuck", boost::json::array{1});
  sa->emit("stuck-private", boost::json::array{2});

  auto back = open();
  text(back, "0" + auth(a, offset));
  auto out = drain(back);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].rfind(R"(42["stuck",1,)", 0), 0u) << out[0];
  EXPECT_EQ(out[1].rfind(R"(42["stuck-private",2,)", 0), 0u) << out[1];
  EXPECT_EQ(connect_answer(out).at("sid").as_string(), a.sid);

  EXPECT_FALSE(a.session->is_open());  // the old transport is closed
  EXPECT_TRUE(sa->connected());
  EXPECT_EQ(sa->session(), back);
  EXPECT_TRUE(socket_disconnects.empty());  // no disconnect for a takeover
  EXPECT_TRUE(disconnects.empty());
  EXPECT_EQ(recovers, std::vector<std::string>{a.sid});
  EXPECT_EQ(ns().room_size("band"), 1u);
}

TEST_F(recovery_test, takeover_leaves_the_old_connections_other_namespaces_to_recover) {
  std::vector<std::string> custom;
  io.of("/custom").on_disconnect([&](const sio::socket_ptr&, std::string_view why, bool held) {
    custom.push_back(std::string(why) + (held ? ":held" : ""));
  });
  auto a = connect();
  text(a.session, "0/custom,");
  drain(a.session);
  auto back = open();
  text(back, "0" + auth(a, ""));
  EXPECT_EQ(connect_answer(drain(back)).at("sid").as_string(), a.sid);
  EXPECT_EQ(custom, std::vector<std::string>{"taken over:held"});
}

TEST_F(recovery_test, bounds_forget_the_oldest_and_refuse_recoveries_that_need_them) {
  auto a = connect();
  auto sa = sockets.at(a.sid);
  sa->emit("p", boost::json::array{0});
  auto first = offset_of(drain(a.session).back());
  for (int i = 1; i <= 5; ++i) sa->emit("p", boost::json::array{i});  // 4 kept per socket
  auto out = drain(a.session);
  auto recent = offset_of(out[1]);  // the 2nd of the 5: its successors are all kept
  EXPECT_EQ(sa->delivered().size(), 4u);
  a.session->close("transport close");

  auto c = connect(auth(a, first));  // packet 1 was forgotten: refused
  EXPECT_NE(c.sid, a.sid);
  auto back = open();
  text(back, "0" + auth(a, recent));
  out = drain(back);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].rfind(R"(42["p",3,)", 0), 0u) << out[0];
  EXPECT_EQ(connect_answer(out).at("sid").as_string(), a.sid);

  // Over the namespace's 20 packets the oldest go, for everyone.
  for (int i = 0; i < 30; ++i) ns().emit("flood");
  EXPECT_EQ(ns().stored_packets(), 20u);
}

TEST_F(recovery_test, held_sockets_are_bounded_oldest_released_first) {
  std::vector<conn> conns;
  for (int i = 0; i < 4; ++i) conns.push_back(connect());
  for (auto& c : conns) c.session->close("transport close");
  EXPECT_EQ(ns().held_count(), 3u);
  EXPECT_EQ(expires, std::vector<std::string>{conns[0].sid + ":too many held sockets"});
  EXPECT_EQ(ns().find(conns[0].sid), nullptr);
}

TEST_F(recovery_test, window_zero_turns_recovery_off) {
  sio::options o;
  o.recovery.window = 0ms;
  sio::server plain(ioc.get_executor(), o);
  eio::server e2(ioc.get_executor(), {}, plain);
  sio::socket_ptr sock;
  plain.on_connection("/", [&](const sio::socket_ptr& s) { sock = s; });
  auto s = e2.create_session(eio::transport_kind::polling, "127.0.0.1");
  plain.on_open(s);
  text(s, "0");
  auto answer = connect_answer(drain(s));
  EXPECT_FALSE(answer.contains("pid"));
  sock->emit("e", boost::json::array{1});
  EXPECT_EQ(drain(s), std::vector<std::string>{R"(42["e",1])"});
  s->close("transport close");
  EXPECT_FALSE(sock->held());
  EXPECT_EQ(plain.of("/").size(), 0u);
}

// A pong proves its client read everything queued before the ping it
// answers: the stored packets sent before that ping are confirmed, and one
// that every recipient confirmed (or gave up by closing) drops its frames at
// once instead of staying for the window. Packets sent after the ping, and
// recipients that have not answered, keep it stored; recovery still replays
// what was not confirmed.
TEST_F(recovery_test, confirmed_packets_are_released_before_the_window) {
  sio::options o;
  o.recovery.window = 60s;
  o.recovery.confirm_delay = 5ms;
  sio::server srv(ioc.get_executor(), o);
  eio::server e2(ioc.get_executor(), {}, srv);  // heartbeat every 25 s
  auto& ns2 = srv.of("/");
  std::map<std::string, sio::socket_ptr> socks;
  ns2.on_connection([&](const sio::socket_ptr& s) {
    socks[s->id()] = s;
    s->join("band");
  });
  auto open2 = [&] {
    auto s = e2.create_session(eio::transport_kind::polling, "127.0.0.1");
    s->start();
    srv.on_open(s);
    return s;
  };
  auto connect2 = [&](const std::string& a = "") {
    conn c;
    c.session = open2();
    text(c.session, "0" + a);
    auto answer = connect_answer(drain(c.session));
    c.sid = std::string(answer.at("sid").as_string());
    c.pid = std::string(answer.at("pid").as_string());
    return c;
  };
  auto pong = [&](const conn& c) {
    c.session->on_packet(eio::packet{eio::packet_type::pong, false, ""});
  };
  auto a = connect2(), b = connect2();

  ns2.to("band").emit("one", boost::json::array{1});
  const size_t one_bytes = ns2.stored_bytes();
  ASSERT_GT(one_bytes, 0u);
  ioc.run_for(30ms);  // the pings come within confirm_delay, not 25 s
  auto out_a = drain(a.session), out_b = drain(b.session);
  ASSERT_EQ(out_a.size(), 2u);
  EXPECT_EQ(out_a[1], "2");
  EXPECT_EQ(out_b.back(), "2");
  auto one = offset_of(out_a[0]);

  // Sent after the ping: its pong does not confirm it.
  ns2.to("band").emit("two", boost::json::array{2});
  pong(a);
  EXPECT_EQ(ns2.released_packets(), 0u);  // b has not confirmed "one"
  pong(b);
  EXPECT_EQ(ns2.released_packets(), 1u);
  EXPECT_EQ(ns2.find_stored(1), nullptr);
  ASSERT_NE(ns2.find_stored(2), nullptr);
  EXPECT_EQ(ns2.stored_bytes(), one_bytes);  // only "two" ("one"'s twin in size) is left
  EXPECT_EQ(socks.at(a.sid)->delivered().size(), 1u);

  // a is lost before confirming "two": its recovery replays it, from "one".
  a.session->close("transport close");
  ASSERT_TRUE(socks.at(a.sid)->held());
  auto back = open2();
  text(back, "0" + auth(a, one));
  auto replay = drain(back);
  ASSERT_EQ(replay.size(), 2u);
  EXPECT_EQ(replay[0].rfind(R"(42["two",2,)", 0), 0u) << replay[0];
  EXPECT_EQ(connect_answer(replay).at("sid").as_string(), a.sid);
  // b confirms "two"; a, back on a new transport, confirms it with its own ping.
  ioc.run_for(30ms);
  drain(b.session);
  pong(b);
  EXPECT_NE(ns2.find_stored(2), nullptr);
  EXPECT_EQ(drain(back).back(), "2");
  back->on_packet(eio::packet{eio::packet_type::pong, false, ""});
  EXPECT_EQ(ns2.find_stored(2), nullptr);
  EXPECT_EQ(ns2.stored_bytes(), 0u);

  // A recipient that closes for good gives its packets up.
  ns2.to("band").emit("three", boost::json::array{3});
  b.session->close("forced server close");  // not a recoverable reason
  EXPECT_NE(ns2.find_stored(3), nullptr);   // a has not confirmed it yet
  ioc.run_for(30ms);
  drain(back);
  back->on_packet(eio::packet{eio::packet_type::pong, false, ""});
  EXPECT_EQ(ns2.find_stored(3), nullptr);
  EXPECT_EQ(ns2.released_packets(), 3u);
}

// A second server with its own recovery bounds (the fixture's are small
// packet counts), nothing confirmed (confirm_delay 0 and no heartbeat run):
// what is stored stays until a bound drops it.
struct bounded_server {
  explicit bounded_server(boost::asio::io_context& ioc, sio::recovery_options r)
      : srv(ioc.get_executor(), opts(r)), engine(ioc.get_executor(), {}, srv) {
    srv.of("/").on_connection([this](const sio::socket_ptr& s) { sockets[s->id()] = s; });
  }
  static sio::options opts(sio::recovery_options r) {
    sio::options o;
    o.recovery = r;
    return o;
  }
  sio::socket_namespace& ns() { return srv.of("/"); }
  eio::session_ptr open() {
    auto s = engine.create_session(eio::transport_kind::polling, "127.0.0.1");
    s->start();
    srv.on_open(s);
    return s;
  }
  sio::server srv;
  eio::server engine;
  std::map<std::string, sio::socket_ptr> sockets;
};

sio::recovery_options unconfirmed(sio::recovery_options r) {
  r.window = 60s;
  r.confirm_delay = 0ms;
  return r;
}

TEST_F(recovery_test,
       the_namespace_byte_bound_drops_the_oldest_and_refuses_recoveries_that_need_them) {
  sio::recovery_options r;
  r.max_bytes = 5000;
  bounded_server b(ioc, unconfirmed(r));
  auto a = connect_on(b);
  const std::string kib(1000, 'x');
  std::vector<std::string> offsets;
  for (int i = 0; i < 6; ++i) {
    b.ns().emit("big", sio::message{boost::json::array{kib}, {}});
    offsets.push_back(offset_of(drain(a.session).back()));
  }
  // ~1 040 bytes each: 6 are over 5 000, the two oldest went.
  EXPECT_LE(b.ns().stored_bytes(), 5000u);
  EXPECT_EQ(b.ns().stored_packets(), 4u);
  EXPECT_EQ(b.ns().find_stored(2), nullptr);
  EXPECT_NE(b.ns().find_stored(3), nullptr);

  a.session->close("transport close");
  ASSERT_TRUE(b.sockets.at(a.sid)->held());
  // From the 1st: the 2nd is gone, so an ordinary new connection.
  auto c = connect_on(b, auth(a, offsets[0]));
  EXPECT_NE(c.sid, a.sid);
  // From the 2nd: the 3rd to the 6th are all there.
  auto back = b.open();
  text(back, "0" + auth(a, offsets[1]));
  auto replay = drain(back);
  ASSERT_EQ(replay.size(), 5u);
  EXPECT_EQ(offset_of(replay[0]), offsets[2]);
  EXPECT_EQ(offset_of(replay[3]), offsets[5]);
  EXPECT_EQ(connect_answer(replay).at("sid").as_string(), a.sid);
}

TEST_F(recovery_test, a_replay_over_its_byte_or_frame_bound_is_a_new_connection) {
  for (bool by_frames : {false, true}) {
    SCOPED_TRACE(by_frames ? "max_replay_frames" : "max_replay_bytes");
    sio::recovery_options r;
    if (by_frames) {
      r.max_replay_frames = 2;
    } else {
      r.max_replay_bytes = 2500;
    }
    bounded_server b(ioc, unconfirmed(r));
    auto a = connect_on(b);
    std::vector<std::string> offsets;
    for (int i = 0; i < 3; ++i) {
      b.ns().emit("p", sio::message{boost::json::array{std::string(1000, 'x')}, {}});
      offsets.push_back(offset_of(drain(a.session).back()));
    }
    a.session->close("transport close");
    ASSERT_TRUE(b.sockets.at(a.sid)->held());
    // Everything since the connect: 3 frames, ~3 100 bytes: over the bound.
    auto c = connect_on(b, auth(a, ""));
    EXPECT_NE(c.sid, a.sid);
    // After the 1st: 2 frames, ~2 100 bytes: within it, replayed.
    auto back = b.open();
    text(back, "0" + auth(a, offsets[0]));
    auto replay = drain(back);
    ASSERT_EQ(replay.size(), 3u);
    EXPECT_EQ(offset_of(replay[0]), offsets[1]);
    EXPECT_EQ(connect_answer(replay).at("sid").as_string(), a.sid);
  }
}

}  // namespace
