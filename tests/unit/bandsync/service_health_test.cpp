// latency_probe, heartbeat_response and heartbeat rounds, the performance /
// session_stats / metrics views, idle expiry and restoring from the store.

#include <set>

#include "service_fixture.hpp"

namespace bandsync::testing {
namespace {

using strings = std::vector<std::string>;

class Health : public service_test {};

TEST_F(Health, LatencyProbeAnswersAtOnceAndRecords) {
  join("a", "band", "A");
  clock_.advance_ms(1000);
  int64_t sent_at = clock_.wall_ms() - 40;
  send("a", "latency_probe", boost::json::value({{"timestamp", sent_at}, {"sessionId", "band"}}));
  EXPECT_EQ(out_.trace(), (strings{"to:a latency_response"}));
  EXPECT_EQ(boost::json::value(out_.last("latency_response")->obj()),
            boost::json::value(
                {{"clientTimestamp", sent_at}, {"serverTimestamp", clock_.server_time_ms()}}));
  EXPECT_EQ(svc().find_connection("a")->latency_ms, 40.0);
  // The member's lastPingAt follows, in memory and in the store.
  EXPECT_EQ(session("band").find_member("a")->last_ping_at, clock_.wall_ms());
  EXPECT_EQ(store_.find_member("a")->member.last_ping_at, clock_.wall_ms());
}

TEST_F(Health, ClientTimestampIsEchoedAsSent) {
  connect("a");
  send("a", "latency_probe", R"({"timestamp":1795627303000.75})");
  EXPECT_EQ(out_.last("latency_response")->obj().at("clientTimestamp"), 1795627303000.75);
}

TEST_F(Health, LatencyIsClamped) {
  connect("a");
  send("a", "latency_probe", boost::json::value({{"timestamp", clock_.wall_ms() + 5000}}));
  EXPECT_EQ(svc().find_connection("a")->latency_ms, 0.0);
  send("a", "heartbeat_response", R"({"timestamp":0})");
  EXPECT_EQ(svc().find_connection("a")->latency_ms, 60000.0);
}

TEST_F(Health, HeartbeatGoesToHealthyConnectionsOnly) {
  connect("fresh");  // never measured: healthy
  connect("fast");
  connect("slow");
  connect("edge");
  send("fast", "heartbeat_response", boost::json::value({{"timestamp", clock_.wall_ms() - 199}}));
  send("slow", "latency_probe", boost::json::value({{"timestamp", clock_.wall_ms() - 350}}));
  send("edge", "heartbeat_response", boost::json::value({{"timestamp", clock_.wall_ms() - 200}}));
  out_.clear();
  svc().heartbeat_round();
  auto beats = out_.named("heartbeat");
  std::vector<std::string> to;
  for (const auto* b : beats) {
    EXPECT_EQ(b->how, sent::kind::to);
    EXPECT_EQ(b->obj(), boost::json::object({{"timestamp", clock_.wall_ms()}}));
    to.push_back(b->target);
  }
  std::sort(to.begin(), to.end());
  EXPECT_EQ(to, (strings{"fast", "fresh"}));
  // Recovering restores the heartbeat.
  send("slow", "latency_probe", boost::json::value({{"timestamp", clock_.wall_ms() - 20}}));
  out_.clear();
  svc().heartbeat_round();
  EXPECT_EQ(out_.named("heartbeat").size(), 3u);
}

// The round in parts (as the app runs it, issue 12): every healthy
// connection gets exactly one heartbeat over all the parts, and while no
// connection comes or goes a round repeats the previous one.
TEST_F(Health, HeartbeatRoundInSlicesReachesEachHealthyConnectionOnce) {
  std::vector<std::string> ids;
  for (int i = 0; i < 40; ++i) {
    ids.push_back("c" + std::to_string(i));
    connect(ids.back());
  }
  send("c7", "latency_probe", boost::json::value({{"timestamp", clock_.wall_ms() - 350}}));
  constexpr size_t slices = 7;
  std::vector<std::vector<std::string>> rounds(2);
  for (auto& round : rounds) {
    for (size_t k = 0; k < slices; ++k) {
      out_.clear();
      svc().heartbeat_round(k, slices);
      for (const auto* b : out_.named("heartbeat")) round.push_back(std::to_string(k) + b->target);
    }
  }
  EXPECT_EQ(rounds[0], rounds[1]) << "same parts, same order, every round";
  std::vector<std::string> to;
  std::set<char> used;
  for (const auto& e : rounds[0]) {
    to.push_back(e.substr(1));
    used.insert(e[0]);
  }
  std::sort(to.begin(), to.end());
  std::vector<std::string> want;
  for (const auto& id : ids)
    if (id != "c7") want.push_back(id);
  std::sort(want.begin(), want.end());
  EXPECT_EQ(to, want) << "each healthy connection once, the slow one never";
  EXPECT_GT(used.size(), 1u) << "spread over several slices";
}

TEST_F(Health, PerformanceView) {
  auto p0 = svc().performance();
  EXPECT_EQ(boost::json::value(p0), boost::json::value({{"totalConnections", 0},
                                                        {"activeConnections", 0},
                                                        {"messagesPerSecond", 0},
                                                        {"averageLatency", 0.0},
                                                        {"lastResetTime", clock_.wall_ms()}}));
  connect("a");
  connect("b");
  connect("c");
  svc().on_disconnect("c");
  send("a", "latency_probe", boost::json::value({{"timestamp", clock_.wall_ms() - 10}}));
  send("b", "latency_probe", boost::json::value({{"timestamp", clock_.wall_ms() - 25}}));
  send("b", "nonsense_event", "{}");
  clock_.advance_ms(1000);  // the window of those 3 events completes
  auto p = svc().performance();
  EXPECT_EQ(p.at("totalConnections"), 3);
  EXPECT_EQ(p.at("activeConnections"), 2);
  EXPECT_EQ(p.at("messagesPerSecond"), 3);
  EXPECT_EQ(p.at("averageLatency"), 17.5);
  EXPECT_EQ(p.at("lastResetTime"), clock_.wall_ms());
  clock_.advance_ms(1500);
  p = svc().performance();
  EXPECT_EQ(p.at("messagesPerSecond"), 0);
  EXPECT_EQ(p.at("lastResetTime"), clock_.wall_ms() - 500);
  svc().on_disconnect("a");
  EXPECT_EQ(svc().performance().at("averageLatency"), 25.0);
}

TEST_F(Health, SessionStatsAndMetrics) {
  join("a", "one", "A");
  join("b", "one", "B");
  join("c", "two", "C");
  join("d", "three", "D");
  use("d", "three");  // kept when empty
  svc().on_disconnect("d");
  send("a", "play", R"({"sessionId":"one"})");
  send("b", "play", R"({"sessionId":"one"})");  // NOT_LEADER
  send("b", "made_up", "{}");
  send("b", "made_up_too", "{}");
  EXPECT_EQ(boost::json::value(svc().session_stats()), boost::json::value({{"totalSessions", 3},
                                                                           {"activeSessions", 2},
                                                                           {"playingSessions", 1},
                                                                           {"totalMembers", 3}}));
  auto m = svc().metrics();
  EXPECT_EQ(m.sessions, 3u);
  EXPECT_EQ(m.playing_sessions, 1u);
  EXPECT_EQ(m.connections, 3u);
  EXPECT_EQ(m.events_by_name.size(), 26u);  // bounded: unknown names share one counter
  EXPECT_EQ(m.events_by_name.at("join_session"), 4u);
  EXPECT_EQ(m.events_by_name.at("play"), 2u);
  EXPECT_EQ(m.events_by_name.at("unknown"), 2u);
  EXPECT_EQ(m.events_by_name.at("seek"), 0u);
  EXPECT_EQ(m.errors_by_code.at("NOT_LEADER"), 1u);
  EXPECT_EQ(m.errors_by_code.at("INVALID_PAYLOAD"), 0u);
}

TEST_F(Health, SweepExpiresOnlyIdleEmptySessions) {
  join("a", "busy", "A");
  join("b", "left-early", "B");
  join("c", "left-late", "C");
  use("b", "left-early");
  use("c", "left-late");
  svc().on_disconnect("b");
  clock_.advance_ms(10 * 60 * 1000);
  svc().on_disconnect("c");
  clock_.advance_ms(20 * 60 * 1000);  // left-early idle exactly 30 min: not yet
  EXPECT_EQ(svc().sweep(), 0u);
  clock_.advance_ms(1);
  EXPECT_EQ(svc().sweep(), 1u);
  EXPECT_FALSE(svc().find_session("left-early"));
  EXPECT_FALSE(store_.find_session("left-early"));
  EXPECT_TRUE(svc().find_session("left-late"));
  // A session with members is never swept, however long it is idle.
  clock_.advance_ms(24 * 60 * 60 * 1000LL);
  EXPECT_EQ(svc().sweep(), 1u);
  EXPECT_TRUE(svc().find_session("busy"));
  EXPECT_EQ(svc().session_stats().at("totalSessions"), 1);
}

TEST_F(Health, RejoinedSessionIsNotSwept) {
  join("a", "band", "A");
  use("a", "band");
  svc().on_disconnect("a");
  clock_.advance_ms(29 * 60 * 1000);
  join("b", "band", "B");
  svc().on_disconnect("b");
  clock_.advance_ms(29 * 60 * 1000);
  EXPECT_EQ(svc().sweep(), 0u);
  clock_.advance_ms(2 * 60 * 1000);
  EXPECT_EQ(svc().sweep(), 1u);
}

TEST_F(Health, IdleOptionIsHonoured) {
  make_service({.session_idle_ms = 1000});
  join("a", "band", "A");
  use("a", "band");
  svc().on_disconnect("a");
  clock_.advance_ms(1001);
  EXPECT_EQ(svc().sweep(), 1u);
}

TEST_F(Health, PerConnectionStateIsErasedOnDisconnect) {
  join("a", "band", "A");
  send("a", "latency_probe", boost::json::value({{"timestamp", clock_.wall_ms() - 500}}));
  svc().on_disconnect("a");
  EXPECT_FALSE(svc().find_connection("a"));
  EXPECT_EQ(svc().performance().at("averageLatency"), 0.0);
  EXPECT_FALSE(store_.find_member("a"));
}

class Restore : public service_test {};

TEST_F(Restore, SessionsComeBackPausedWithoutMembers) {
  auto old = store::session_from_json("example-band", boost::json::parse(R"(
      {"message":"Keys is leading","tempo":96,"position":42000,"isPlaying":true,
       "leaderSocketId":"sFi9k8dNrOz4Mq6PAAAA","tempoBpm":96,
       "members":[["sFi9k8dNrOz4Mq6PAAAA",{"socketId":"sFi9k8dNrOz4Mq6PAAAA","joinedAt":1795627303700,
                    "lastPingAt":1795627303700,"role":"leader","displayName":"Keys"}]],
       "createdAt":1795627303502,"lastActiveAt":1795627304714,"settings":{"maxMembers":8}})"));
  ASSERT_TRUE(old);
  store_.save_session(*old);
  store_.save_member("example-band", old->members[0]);
  store_.set_ticking("example-band", true);
  auto bad = *old;
  bad.id = "not a valid id";
  store_.save_session(bad);

  make_service();
  EXPECT_EQ(svc().restored_sessions(), 1u);
  const auto& s = session("example-band");
  EXPECT_EQ(s.message(), "Keys is leading");
  EXPECT_EQ(s.tempo(clock_.steady_us()), 96);
  EXPECT_FALSE(s.playing());
  EXPECT_TRUE(s.empty());
  EXPECT_FALSE(s.leader());
  EXPECT_EQ(s.created_at(), 1795627303502);
  EXPECT_EQ(s.last_active_at(), 1795627304714);
  clock_.advance_ms(5000);
  EXPECT_EQ(s.position_us(clock_.steady_us()), 42'000'000);
  // The store is cleaned as well.
  EXPECT_FALSE(store_.find_member("sFi9k8dNrOz4Mq6PAAAA"));
  EXPECT_FALSE(store_.is_ticking("example-band"));
  auto rec = store_.find_session("example-band");
  EXPECT_TRUE(rec->members.empty());
  EXPECT_FALSE(rec->leader_socket_id);
  EXPECT_FALSE(rec->is_playing);
  EXPECT_EQ(rec->position_ms, 42000);
  EXPECT_EQ(svc().session_stats().at("playingSessions"), 0);

  // Not full, no dead leader: the first joiner leads and finds the old state.
  join("new", "example-band", "Keys again");
  EXPECT_EQ(session("example-band").leader(), "new");
  EXPECT_EQ(session("example-band").member_count(), 1u);
  send("new", "play", R"({"sessionId":"example-band"})");
  clock_.advance_ms(100);  // its first tick is due one period after play
  out_.clear();
  svc().tick_due();
  EXPECT_EQ(out_.last("scroll_tick")->obj().at("positionMs"), 42100);
}

TEST_F(Restore, RestoredSessionsExpireByTheirStoredActivity) {
  store::session_record r;
  r.id = "stale";
  r.last_active_at = clock_.wall_ms() - 31 * 60 * 1000;
  store_.save_session(r);
  r.id = "recent";
  r.last_active_at = clock_.wall_ms() - 60 * 1000;
  store_.save_session(r);
  make_service();
  EXPECT_EQ(svc().sweep(), 1u);
  EXPECT_FALSE(svc().find_session("stale"));
  EXPECT_TRUE(svc().find_session("recent"));
}

TEST_F(Restore, AtMostMaxSessionsAreRestored) {
  for (int i = 0; i < 5; ++i) {
    store::session_record r;
    r.id = "s" + std::to_string(i);
    store_.save_session(r);
  }
  make_service({.max_sessions = 3});
  EXPECT_EQ(svc().restored_sessions(), 3u);
  EXPECT_EQ(svc().session_stats().at("totalSessions"), 3);
}

TEST_F(Restore, OutOfRangeStoredValuesFallBack) {
  store::session_record r;
  r.id = "odd";
  r.tempo = 5000;
  r.position_ms = -10;
  store_.save_session(r);
  make_service();
  EXPECT_EQ(session("odd").tempo(clock_.steady_us()), 120);
  EXPECT_EQ(session("odd").position_us(clock_.steady_us()), 0);
}

}  // namespace
}  // namespace bandsync::testing
