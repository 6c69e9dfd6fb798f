// What the service writes to its store over time: write-behind of the scroll
// clock (a playing session is saved at most once per persist_playing_ms, all
// playing sessions in one tick), the full rewrite after a store lost its data,
// and the restart that follows.

#include <map>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "bandsync/session_service.hpp"
#include "store/memory_store.hpp"
#include "test_support.hpp"

namespace bandsync::testing {
namespace {

// A memory_store that counts session writes, per session id.
class counting_store : public store::memory_store {
 public:
  void save_session(const store::session_record& record) override {
    ++saves[record.id];
    memory_store::save_session(record);
  }
  std::map<std::string, int> saves;
};

class Persistence : public ::testing::Test {
 protected:
  Persistence() { restart(); }

  // A new service on the same store, as after a process restart.
  void restart() {
    service_.reset();
    service_ = std::make_unique<domain::session_service>(clock_, out_, store_);
    service_->restore(store_.load_sessions());
  }

  void join(const std::string& conn, const std::string& session, const std::string& name) {
    service_->on_connect(conn);
    send(conn, "join_session", boost::json::object{{"sessionId", session}, {"displayName", name}});
  }
  void send(const std::string& conn, std::string_view event, boost::json::value payload) {
    service_->on_event(conn, event, args(std::move(payload)));
  }
  // `n` ticks of the 100 ms scheduler.
  void ticks(int n) {
    for (int i = 0; i < n; ++i) {
      clock_.advance_ms(100);
      service_->tick_due();
    }
  }

  fake_clock clock_;
  recording_outbox out_;
  counting_store store_;
  std::unique_ptr<domain::session_service> service_;
};

TEST_F(Persistence, PlayingSessionsAreSavedOncePerSecondTogether) {
  join("lead", "band", "Keys");
  join("other", "quiet", "Bass");  // paused: only its changes are written
  send("lead", "play", boost::json::object{{"sessionId", "band"}});
  store_.saves.clear();

  ticks(9);
  EXPECT_EQ(store_.saves["band"], 0) << "nothing before a whole second";
  ticks(1);
  EXPECT_EQ(store_.saves["band"], 1);
  EXPECT_EQ(store_.find_session("band")->position_ms, 1000);
  EXPECT_TRUE(store_.find_session("band")->is_playing);

  ticks(20);
  EXPECT_EQ(store_.saves["band"], 3) << "at most once per second";
  EXPECT_EQ(store_.find_session("band")->position_ms, 3000);
  EXPECT_EQ(store_.saves["quiet"], 0);
}

// The stored position of a playing session never trails its clock by more
// than persist_playing_ms (1 s: README "Restart", "at most 1 s behind after a
// crash"), with the production driver (tick_due at next_tick_due_us) waking a
// little late each time, as a real timer does.
TEST_F(Persistence, StoredPositionNeverTrailsTheClockByMoreThanOneSecond) {
  struct timed_store : store::memory_store {
    fake_clock* clock = nullptr;
    std::vector<int64_t> saved_at;
    void save_session(const store::session_record& record) override {
      if (record.id == "band" && record.is_playing) saved_at.push_back(clock->steady_us());
      memory_store::save_session(record);
    }
  } timed;
  timed.clock = &clock_;
  domain::session_service svc(clock_, out_, timed);
  svc.on_connect("lead");
  svc.on_event("lead", "join_session", args(boost::json::object{{"sessionId", "band"}}));
  clock_.advance_ms(37);  // play at an arbitrary phase of the write-behind
  svc.on_event("lead", "play", args(boost::json::object{{"sessionId", "band"}}));
  uint32_t jitter = 12345;
  for (int i = 0; i < 600; ++i) {
    auto due = svc.next_tick_due_us();
    ASSERT_TRUE(due);
    jitter = jitter * 1103515245u + 12345u;
    int64_t late_us = (jitter >> 8) % 20'000;  // 0-20 ms late
    int64_t wake = std::max(*due, clock_.steady_us()) + late_us;
    clock_.advance_us(wake - clock_.steady_us());
    svc.tick_due();
  }
  ASSERT_GE(timed.saved_at.size(), 40u);
  int64_t worst = 0;
  for (size_t i = 1; i < timed.saved_at.size(); ++i)
    worst = std::max(worst, timed.saved_at[i] - timed.saved_at[i - 1]);
  EXPECT_LE(worst, 1'000'000) << "longest gap between two saves of the playing session (µs)";
  EXPECT_GE(worst, 900'000) << "still about once per second, not more often";
}

TEST_F(Persistence, PausedSessionsAreNotRewrittenByTheClock) {
  join("lead", "band", "Keys");
  send("lead", "play", boost::json::object{{"sessionId", "band"}});
  ticks(5);
  send("lead", "pause", boost::json::object{{"sessionId", "band"}});
  store_.saves.clear();
  ticks(30);
  EXPECT_EQ(store_.saves["band"], 0);
  EXPECT_EQ(store_.find_session("band")->position_ms, 500)
      << "the pause itself was written at once";
}

TEST_F(Persistence, PersistAllRewritesSessionsMembersAndTickers) {
  join("lead", "band", "Keys");
  join("f", "band", "Bass");
  send("lead", "play", boost::json::object{{"sessionId", "band"}});
  join("solo", "other", "Drums");
  // The store loses everything (a Redis restarted empty).
  for (const char* id : {"band", "other"}) store_.remove_session(id);
  for (const char* id : {"lead", "f", "solo"}) store_.remove_member(id);
  ASSERT_EQ(store_.session_count(), 0u);

  clock_.advance_ms(250);
  service_->persist_all();
  auto band = store_.find_session("band");
  ASSERT_TRUE(band);
  EXPECT_EQ(band->members.size(), 2u);
  EXPECT_EQ(band->leader_socket_id, "lead");
  EXPECT_EQ(band->position_ms, 250);
  EXPECT_TRUE(store_.is_ticking("band"));
  EXPECT_FALSE(store_.is_ticking("other"));
  EXPECT_EQ(store_.find_member("f")->session_id, "band");
  EXPECT_EQ(store_.find_member("solo")->session_id, "other");
  EXPECT_EQ(store_.member_count(), 3u);
}

// A restart while playing: the new process finds the position the clock
// write-behind last saved, and restores the session PAUSED there, without
// members (their sockets died with the old process); the first to rejoin
// leads. Pausing is deliberate: nobody is connected to follow a running
// clock, and the band resumes from where it was, not from wherever the clock
// would have run to during the downtime.
TEST_F(Persistence, RestartRestoresAPlayingSessionPausedWhereItWas) {
  join("lead", "band", "Keys");
  send("lead", "set_tempo", boost::json::object{{"sessionId", "band"}, {"tempo", 97}});
  send("lead", "play", boost::json::object{{"sessionId", "band"}});
  ticks(25);  // saved at 1 s and 2 s; the process dies at 2.5 s
  restart();
  clock_.advance_ms(10'000);

  const auto* s = service_->find_session("band");
  ASSERT_NE(s, nullptr);
  EXPECT_FALSE(s->playing());
  EXPECT_EQ(s->position_us(clock_.steady_us()), 2'000'000);
  EXPECT_EQ(s->tempo(clock_.steady_us()), 97);
  EXPECT_TRUE(s->empty());
  join("again", "band", "Keys");
  EXPECT_EQ(service_->find_session("band")->leader(), "again");
}

// The first to rejoin a restored session leads, but the band's message is
// not replaced by "<name> is leading": it finds the session as it left it.
// Later leadership changes set the message as usual.
TEST_F(Persistence, TheFirstRejoinerLeadsAndKeepsTheStoredMessage) {
  join("lead", "band", "Keys");
  send("lead", "update_message",
       boost::json::object{{"sessionId", "band"}, {"message", "Bridge at bar 12"}});
  restart();
  join("again", "band", "Bass");
  const auto* s = service_->find_session("band");
  EXPECT_EQ(s->leader(), "again");
  EXPECT_EQ(s->message(), "Bridge at bar 12");
  EXPECT_EQ(out_.last("snapshot")->obj().at("message"), "Bridge at bar 12");
  join("third", "band", "Drums");
  send("third", "set_role", boost::json::object{{"sessionId", "band"}, {"role", "leader"}});
  EXPECT_EQ(service_->find_session("band")->message(), "Drums is leading");
}

// SIGTERM: the sessions are stored as the next process restores them, and the
// sockets closing afterwards do not play out as members leaving (no election
// rewrites the message or the stored state).
TEST_F(Persistence, ShutdownStoresSessionsReadyForTheNextStart) {
  join("lead", "band", "Keys");
  join("f", "band", "Bass");
  send("lead", "update_message",
       boost::json::object{{"sessionId", "band"}, {"message", "Chorus twice"}});
  send("lead", "play", boost::json::object{{"sessionId", "band"}});
  clock_.advance_ms(1234);
  out_.clear();

  service_->shutdown();
  auto rec = store_.find_session("band");
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->position_ms, 1234);
  EXPECT_FALSE(rec->is_playing);
  EXPECT_TRUE(rec->members.empty());
  EXPECT_FALSE(rec->leader_socket_id);
  EXPECT_EQ(rec->message, "Chorus twice");
  EXPECT_FALSE(store_.find_member("lead"));
  EXPECT_FALSE(store_.is_ticking("band"));

  store_.saves.clear();
  service_->on_disconnect("lead");
  service_->on_disconnect("f");
  send("f", "set_tempo", boost::json::object{{"sessionId", "band"}, {"tempo", 90}});
  EXPECT_EQ(store_.saves["band"], 0);
  EXPECT_TRUE(out_.log.empty());
  EXPECT_EQ(store_.find_session("band")->message, "Chorus twice");
}

}  // namespace
}  // namespace bandsync::testing
