// Cluster mode's domain entry points (src/cluster): a session saved with its
// clock anchor by one service is adopted by another (members, leader, message
// kept; a playing clock continues exactly), and evict() forgets a session
// without writing or sending anything.

#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "bandsync/session_service.hpp"
#include "store/memory_store.hpp"
#include "test_support.hpp"

namespace bandsync::testing {
namespace {

class Takeover : public ::testing::Test {
 protected:
  Takeover() {
    domain::service_options o;
    o.persist_clock_anchor = true;
    a_ = std::make_unique<domain::session_service>(clock_, out_a_, store_, o);
    b_ = std::make_unique<domain::session_service>(clock_, out_b_, store_, o);
  }

  void join(domain::session_service& svc, const std::string& conn, const std::string& name) {
    svc.on_connect(conn);
    svc.on_event(conn, "join_session",
                 args(boost::json::object{{"sessionId", "S"}, {"displayName", name}}));
  }

  fake_clock clock_;
  recording_outbox out_a_;
  recording_outbox out_b_;
  store::memory_store store_;
  std::unique_ptr<domain::session_service> a_;
  std::unique_ptr<domain::session_service> b_;
};

TEST_F(Takeover, TheRecordCarriesTheClockAnchor) {
  join(*a_, "c1", "Keys");
  auto r = store_.find_session("S");
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->anchor_server_ms);
  EXPECT_DOUBLE_EQ(*r->anchor_server_ms, clock_.server_ms_at(clock_.steady_us()));
  auto json = store::to_json(*r);
  EXPECT_TRUE(json.contains("anchorServerMs"));
  auto back = store::session_from_json("S", json);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->anchor_server_ms, r->anchor_server_ms);
}

TEST_F(Takeover, WithoutTheOptionTheRecordIsUnchanged) {
  domain::session_service plain(clock_, out_a_, store_);
  plain.on_connect("c1");
  plain.on_event("c1", "join_session", args(boost::json::object{{"sessionId", "P"}}));
  auto r = store_.find_session("P");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->anchor_server_ms);
  EXPECT_FALSE(store::to_json(*r).contains("anchorServerMs"));
}

TEST_F(Takeover, APlayingSessionContinuesExactlyOnTheAdoptingService) {
  join(*a_, "c1", "Keys");
  join(*a_, "c2", "Bass");
  a_->on_event("c1", "set_tempo", args(boost::json::object{{"sessionId", "S"}, {"tempo", 90}}));
  a_->on_event("c1", "play", args(boost::json::object{{"sessionId", "S"}}));
  clock_.advance_ms(1234);
  a_->tick_due();  // the write-behind saves the playing session
  clock_.advance_ms(321);
  int64_t now = clock_.steady_us();
  int64_t expected = a_->find_session("S")->position_us(now);
  double expected_beat = a_->find_session("S")->beat(now);

  auto r = store_.find_session("S");
  ASSERT_TRUE(r);
  ASSERT_TRUE(b_->adopt(*r));
  const auto* s = b_->find_session("S");
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(s->playing());
  EXPECT_NEAR(static_cast<double>(s->position_us(now)), static_cast<double>(expected), 2.0);
  EXPECT_NEAR(s->beat(now), expected_beat, 1e-6);
  EXPECT_DOUBLE_EQ(s->tempo(now), 90);
  ASSERT_EQ(s->member_count(), 2u);
  EXPECT_EQ(s->leader(), std::optional<std::string>("c1"));
  EXPECT_EQ(s->message(), a_->find_session("S")->message());
  // Members on other nodes got connection entries bound to the session.
  ASSERT_NE(b_->find_connection("c2"), nullptr);
  EXPECT_EQ(b_->find_connection("c2")->session_id, std::optional<std::string>("S"));
  EXPECT_EQ(b_->session_stats().at("totalMembers"), boost::json::value(2));
  // It ticks on the adopting service, and sends nothing else.
  EXPECT_TRUE(out_b_.log.empty());
  clock_.advance_ms(100);
  EXPECT_GE(b_->tick_due(), 1u);
}

TEST_F(Takeover, AMemberOnADeadNodeLeavesAsOnADisconnect) {
  join(*a_, "c1", "Keys");
  join(*a_, "c2", "Bass");
  ASSERT_TRUE(b_->adopt(*store_.find_session("S")));
  b_->on_disconnect("c1");  // the leader was on the dead node: an election
  const auto* s = b_->find_session("S");
  ASSERT_EQ(s->member_count(), 1u);
  EXPECT_EQ(s->leader(), std::optional<std::string>("c2"));
  EXPECT_EQ(store_.find_session("S")->members.size(), 1u);
}

TEST_F(Takeover, EvictForgetsWithoutWritingOrSending) {
  join(*a_, "c1", "Keys");
  a_->on_event("c1", "play", args(boost::json::object{{"sessionId", "S"}}));
  auto before = store_.find_session("S");
  out_a_.clear();
  auto members = a_->evict("S");
  EXPECT_EQ(members, std::vector<std::string>{"c1"});
  EXPECT_EQ(a_->find_session("S"), nullptr);
  EXPECT_FALSE(a_->find_connection("c1")->session_id);
  EXPECT_EQ(a_->session_stats().at("totalMembers"), boost::json::value(0));
  clock_.advance_ms(2000);
  EXPECT_EQ(a_->tick_due(), 0u);
  EXPECT_TRUE(out_a_.log.empty());
  EXPECT_EQ(store_.find_session("S"), before);
  a_->on_disconnect("c1");  // only forgets the connection
  EXPECT_EQ(store_.find_session("S"), before);
  EXPECT_TRUE(a_->evict("S").empty());
}

TEST_F(Takeover, AdoptReplacesAStaleCopy) {
  join(*a_, "c1", "Keys");
  join(*b_, "c9", "Stale");  // b's own old copy of S
  join(*a_, "c2", "Bass");
  ASSERT_TRUE(b_->adopt(*store_.find_session("S")));
  const auto* s = b_->find_session("S");
  ASSERT_EQ(s->member_count(), 2u);
  EXPECT_EQ(s->members()[0].socket_id, "c1");
  EXPECT_FALSE(b_->find_connection("c9")->session_id);
}

}  // namespace
}  // namespace bandsync::testing
