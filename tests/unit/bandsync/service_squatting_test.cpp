// Session-table squatting (join/leave loops of new ids): creation limits per
// connection and per address, and never-used sessions dropped on last leave.

#include "service_fixture.hpp"

namespace bandsync::testing {
namespace {

class Squatting : public service_test {
 protected:
  void join_new(const std::string& conn, const std::string& session) {
    boost::json::object p{{"sessionId", session}};
    send(conn, "join_session", p);
  }
  void leave(const std::string& conn, const std::string& session) {
    boost::json::object p{{"sessionId", session}};
    send(conn, "leave_session", p);
  }
};

TEST_F(Squatting, APristineSessionIsDroppedWhenItsLastMemberLeaves) {
  join("a", "scratch", "A");
  join("b", "scratch", "B");
  leave("a", "scratch");
  EXPECT_TRUE(svc().find_session("scratch"));  // still a member
  svc().on_disconnect("b");
  EXPECT_FALSE(svc().find_session("scratch"));
  EXPECT_FALSE(store_.find_session("scratch"));
  EXPECT_EQ(svc().session_stats().at("totalSessions"), 0);
  // Joining it again creates it afresh, exactly as before.
  join("c", "scratch", "C");
  EXPECT_EQ(session("scratch").message(), "C is leading");
}

TEST_F(Squatting, ASessionABandUsedOutlivesItsMembers) {
  // Each change a band makes keeps its session until the idle sweep.
  struct change {
    const char* event;
    const char* payload;
  };
  for (auto [event, payload] :
       {change{"update_message", R"("message":"Set 2")"}, change{"set_tempo", R"("tempo":96)"},
        change{"seek", R"("position":1000)"}, change{"play", ""}, change{"stop", ""}}) {
    std::string id = std::string("used-") + event;
    join("a", id, "A");
    std::string json = R"({"sessionId":")" + id + "\"" + (*payload ? "," : "") + payload + "}";
    send("a", event, json);
    leave("a", id);
    ASSERT_TRUE(svc().find_session(id)) << event;
    EXPECT_TRUE(store_.find_session(id)) << event;
  }
  // Leadership and names alone do not.
  join("a", "named", "A");
  join("b", "named", "B");
  send("b", "set_role", R"({"sessionId":"named","role":"leader"})");
  leave("a", "named");
  leave("b", "named");
  EXPECT_FALSE(svc().find_session("named"));
}

TEST_F(Squatting, ARestoredSessionIsKeptAfterItsLastMemberLeaves) {
  store::session_record r;
  r.id = "restored";
  r.last_active_at = clock_.wall_ms();
  store_.save_session(r);
  make_service();
  join("a", "restored", "A");
  leave("a", "restored");
  EXPECT_TRUE(svc().find_session("restored"));
}

TEST_F(Squatting, JoinLeaveLoopIsBoundedPerConnection) {
  make_service({.creation = {.connection_burst = 5, .connection_per_minute = 6}});
  connect("loop");
  for (int i = 0; i < 5; ++i) {
    join_new("loop", "s" + std::to_string(i));
    leave("loop", "s" + std::to_string(i));
  }
  EXPECT_TRUE(out_.named("error").empty());
  out_.clear();
  join_new("loop", "s5");
  expect_only_error("loop", "RATE_LIMITED");
  EXPECT_FALSE(svc().find_session("s5"));
  EXPECT_EQ(svc().metrics().errors_by_code.at("RATE_LIMITED"), 1u);
  // The dropped sessions did not accumulate.
  EXPECT_EQ(svc().session_stats().at("totalSessions"), 0);
  // Existing sessions can still be joined; 10 s later one more may be created.
  join("other", "existing", "O");
  out_.clear();
  send("loop", "join_session", R"({"sessionId":"existing"})");
  EXPECT_TRUE(out_.named("error").empty());
  clock_.advance_ms(10'000);
  out_.clear();
  join_new("loop", "s6");
  EXPECT_TRUE(out_.named("error").empty());
  EXPECT_TRUE(svc().find_session("s6"));
  // A refused join changes nothing: the connection stays where it was.
  out_.clear();
  join_new("loop", "s7");
  expect_only_error("loop", "RATE_LIMITED");
  EXPECT_EQ(*svc().find_connection("loop")->session_id, "s6");
}

TEST_F(Squatting, NewConnectionsFromOneAddressShareItsBucket) {
  make_service({.creation = {.connection_burst = 100,
                             .connection_per_minute = 100,
                             .address_burst = 3,
                             .address_per_minute = 60}});
  for (int i = 0; i < 3; ++i) {
    std::string c = "c" + std::to_string(i);
    svc().on_connect(c, "198.51.100.7");
    join_new(c, "band" + std::to_string(i));
  }
  EXPECT_TRUE(out_.named("error").empty());
  svc().on_connect("c3", "198.51.100.7");
  out_.clear();
  join_new("c3", "band3");
  expect_only_error("c3", "RATE_LIMITED");
  // Another address is unaffected, and the address refills (1/s here).
  svc().on_connect("d", "203.0.113.9");
  out_.clear();
  join_new("d", "elsewhere");
  EXPECT_TRUE(out_.named("error").empty());
  clock_.advance_ms(1000);
  out_.clear();
  join_new("c3", "band3");
  EXPECT_TRUE(out_.named("error").empty());
}

TEST_F(Squatting, DefaultsAreGenerous) {
  const auto& l = svc().options().creation;
  EXPECT_GE(l.connection_burst, 10);
  EXPECT_GE(l.address_burst, 100);
  connect("phone");
  for (int i = 0; i < 10; ++i) join_new("phone", "song" + std::to_string(i));
  EXPECT_TRUE(out_.named("error").empty());
}

}  // namespace
}  // namespace bandsync::testing
