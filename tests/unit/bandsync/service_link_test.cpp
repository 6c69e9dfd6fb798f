// link_report and the members' `link` (docs/EVENTS.md "Link quality"): bounds,
// who may send it, the once-a-second limit, and what the band sees.

#include <string>
#include <vector>

#include "service_fixture.hpp"

namespace bandsync::testing {
namespace {

using strings = std::vector<std::string>;

class Link : public service_test {
 protected:
  Link() {
    join("lead", "band", "Keys");
    join("f", "band", "Bass");
  }

  double server_now() const { return clock_.server_time_ms(); }

  // The member object of `socket_id` in the session's current snapshot.
  boost::json::object member_in_snapshot(const std::string& socket_id) {
    out_.clear();
    send("f", "update_message", R"({"sessionId":"band","message":"x"})");
    const auto* snap = out_.last("snapshot");
    EXPECT_NE(snap, nullptr);
    if (!snap) return {};
    for (const auto& m : snap->obj().at("members").as_array()) {
      if (m.as_object().at("socketId") == boost::json::value(socket_id)) return m.as_object();
    }
    ADD_FAILURE() << socket_id << " not in the snapshot";
    return {};
  }
};

TEST_F(Link, AReportGoesToTheSessionAsMemberLink) {
  clock_.advance_us(250);
  send("f", "link_report", R"({"sessionId":"band","rttMs":12.5,"jitterMs":1.25})");
  EXPECT_EQ(out_.trace(), (strings{"session:band member_link"}));
  const auto& o = out_.last("member_link")->obj();
  EXPECT_EQ(o.at("sessionId"), "band");
  EXPECT_EQ(o.at("socketId"), "f");
  const auto& link = o.at("link").as_object();
  EXPECT_EQ(link.size(), 3u);
  EXPECT_EQ(link.at("rttMs"), 12.5);
  EXPECT_EQ(link.at("jitterMs"), 1.25);
  EXPECT_EQ(link.at("at"), server_now());
}

TEST_F(Link, SnapshotMembersCarryTheirLinkOrNull) {
  auto before = member_in_snapshot("f");
  ASSERT_TRUE(before.contains("link"));
  EXPECT_TRUE(before.at("link").is_null());
  // The existing member fields are all still there.
  for (const char* key : {"socketId", "displayName", "role", "joinedAt", "lastPingAt"}) {
    EXPECT_TRUE(before.contains(key)) << key;
  }
  send("f", "link_report", R"({"sessionId":"band","rttMs":40})");
  double at = server_now();
  clock_.advance_ms(5);
  auto after = member_in_snapshot("f");
  const auto& link = after.at("link").as_object();
  EXPECT_EQ(link.at("rttMs"), 40.0);
  EXPECT_TRUE(link.at("jitterMs").is_null());  // not sent: unknown
  EXPECT_EQ(link.at("at"), at);                // when it was received, not now
  EXPECT_TRUE(member_in_snapshot("lead").at("link").is_null());
}

TEST_F(Link, BadPayloadsAreRefusedWithInvalidPayload) {
  const char* bad[] = {
      R"("band")",
      R"({"sessionId":"band"})",
      R"({"sessionId":"band","rttMs":"12"})",
      R"({"sessionId":"band","rttMs":-0.5})",
      R"({"sessionId":"band","rttMs":60000.5})",
      R"({"sessionId":"band","rttMs":true})",
      R"({"sessionId":"band","rttMs":10,"jitterMs":-1})",
      R"({"sessionId":"band","rttMs":10,"jitterMs":1e9})",
      R"({"sessionId":"band","rttMs":10,"jitterMs":"1"})",
      R"({"sessionId":"bad id","rttMs":10})",
      R"({"rttMs":10})",
  };
  for (const char* json : bad) {
    out_.clear();
    send("f", "link_report", json);
    expect_only_error("f", "INVALID_PAYLOAD");
  }
  out_.clear();
  send("f", "link_report", R"({"sessionId":"band","rttMs":1e6})");
  expect_only_error("f", "INVALID_PAYLOAD", "rttMs must be a number from 0 to 60000");
  out_.clear();
  send("f", "link_report", R"({"sessionId":"band","rttMs":1,"jitterMs":-2})");
  expect_only_error("f", "INVALID_PAYLOAD", "jitterMs must be a number from 0 to 60000");
  EXPECT_EQ(session("band").link("f"), nullptr);
}

TEST_F(Link, TheBoundsAreInclusiveAndNullJitterIsUnknown) {
  send("f", "link_report", R"({"sessionId":"band","rttMs":0,"jitterMs":null})");
  ASSERT_NE(session("band").link("f"), nullptr);
  EXPECT_EQ(session("band").link("f")->rtt_ms, 0);
  EXPECT_FALSE(session("band").link("f")->jitter_ms);
  clock_.advance_ms(1000);
  send("f", "link_report", R"({"sessionId":"band","rttMs":60000,"jitterMs":60000})");
  EXPECT_EQ(session("band").link("f")->rtt_ms, 60000);
  EXPECT_EQ(*session("band").link("f")->jitter_ms, 60000);
}

TEST_F(Link, OnlyMembersOfThatSession) {
  connect("stranger");
  send("stranger", "link_report", R"({"sessionId":"band","rttMs":10})");
  expect_only_error("stranger", "NOT_A_MEMBER");
  out_.clear();
  send("f", "link_report", R"({"sessionId":"nowhere","rttMs":10})");
  expect_only_error("f", "NO_SUCH_SESSION");
}

TEST_F(Link, AtMostOneReportPerSecondPerMember) {
  send("f", "link_report", R"({"sessionId":"band","rttMs":10})");
  out_.clear();
  clock_.advance_ms(999);
  send("f", "link_report", R"({"sessionId":"band","rttMs":99})");
  expect_only_error("f", "RATE_LIMITED", "link_report at most once per second");
  EXPECT_EQ(session("band").link("f")->rtt_ms, 10);  // the refused one changed nothing
  // Another member has its own budget.
  out_.clear();
  send("lead", "link_report", R"({"sessionId":"band","rttMs":5})");
  EXPECT_EQ(out_.trace(), (strings{"session:band member_link"}));
  out_.clear();
  clock_.advance_ms(1);
  send("f", "link_report", R"({"sessionId":"band","rttMs":20})");
  EXPECT_EQ(out_.trace(), (strings{"session:band member_link"}));
  EXPECT_EQ(session("band").link("f")->rtt_ms, 20);
}

TEST_F(Link, TheReportLeavesWithTheMember) {
  send("f", "link_report", R"({"sessionId":"band","rttMs":10})");
  ASSERT_NE(session("band").link("f"), nullptr);
  send("f", "leave_session", R"({"sessionId":"band"})");
  EXPECT_EQ(session("band").link("f"), nullptr);
  join("f", "band", "Bass");
  EXPECT_TRUE(member_in_snapshot("f").at("link").is_null());
  // A fresh member's first report is never "too soon".
  out_.clear();
  send("f", "link_report", R"({"sessionId":"band","rttMs":11})");
  EXPECT_EQ(out_.trace(), (strings{"session:band member_link"}));
}

TEST_F(Link, AHeldSeatKeepsItsLastReport) {
  send("f", "link_report", R"({"sessionId":"band","rttMs":30})");
  svc().on_hold("f");
  ASSERT_NE(session("band").link("f"), nullptr);
  auto held = member_in_snapshot("f");
  EXPECT_EQ(held.at("connected"), false);
  EXPECT_EQ(held.at("link").at("rttMs"), 30.0);  // ages into "stale" on the page
}

TEST_F(Link, AReclaimedSeatIsMeasuredAgain) {
  connect("old");
  send("old", "join_session",
       R"({"sessionId":"band","clientId":"device-drums","displayName":"Drums"})");
  send("old", "link_report", R"({"sessionId":"band","rttMs":30})");
  ASSERT_NE(session("band").link("old"), nullptr);
  clock_.advance_ms(1);
  out_.clear();
  connect("new");
  send("new", "join_session", R"({"sessionId":"band","clientId":"device-drums"})");
  const auto* replaced = out_.last("member_replaced");
  ASSERT_NE(replaced, nullptr) << ::testing::PrintToString(out_.trace());
  EXPECT_TRUE(replaced->obj().at("member").at("link").is_null());
  EXPECT_EQ(session("band").link("old"), nullptr);
  EXPECT_EQ(session("band").link("new"), nullptr);
  // The new connection's first report is accepted at once.
  out_.clear();
  send("new", "link_report", R"({"sessionId":"band","rttMs":8})");
  EXPECT_EQ(out_.trace(), (strings{"session:band member_link"}));
}

TEST_F(Link, TheSessionKeepsNoReportOfANonMember) {
  domain::session s("x", 0, 2);
  EXPECT_EQ(s.set_link("ghost", {1, std::nullopt, 0}), domain::session::link_result::not_a_member);
  EXPECT_EQ(s.link("ghost"), nullptr);
}

}  // namespace
}  // namespace bandsync::testing
