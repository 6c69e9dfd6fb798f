// A start-up load the store could not complete (Redis hung): until the store
// hands over the rest, no session is created, so none that might be stored is
// overwritten by a fresh one.

#include "service_fixture.hpp"

namespace bandsync::testing {
namespace {

// A memory_store whose start-up load returns only `partial` and reports
// itself incomplete.
class incomplete_store : public store::memory_store {
 public:
  std::vector<store::session_record> partial;
  std::vector<store::session_record> load_sessions() override { return partial; }
  bool load_complete() const override { return false; }
};

store::session_record stored(const std::string& id, double tempo, const std::string& message) {
  store::session_record r;
  r.id = id;
  r.tempo = tempo;
  r.position_ms = 42000;
  r.message = message;
  return r;
}

class Loading : public service_test {
 protected:
  incomplete_store slow_;
  void make_loading_service() {
    service_ = std::make_unique<domain::session_service>(clock_, out_, slow_);
    service_->restore(slow_.load_sessions());  // as the app does at start-up
  }
};

TEST_F(Loading, NewSessionsAreRefusedUntilTheLoadCompletes) {
  slow_.partial = {stored("early", 90, "Loaded at start")};
  make_loading_service();
  EXPECT_TRUE(svc().loading());
  connect("a");
  send("a", "join_session", R"({"sessionId":"band"})");
  expect_only_error("a", "SERVER_BUSY",
                    "Sessions are still being restored from the store; retry shortly");
  EXPECT_FALSE(svc().find_session("band"));
  EXPECT_FALSE(slow_.find_session("band"));  // nothing written for it
  // A session the partial load returned can be joined.
  out_.clear();
  send("a", "join_session", R"({"sessionId":"early"})");
  EXPECT_TRUE(out_.named("error").empty());
  EXPECT_EQ(session("early").tempo(clock_.steady_us()), 90);

  // The rest arrives: the stored session comes back as stored, and the one
  // already in memory is not replaced by its older stored copy.
  svc().finish_load({stored("band", 97, "Bridge at bar 12"), stored("early", 60, "stale")});
  EXPECT_FALSE(svc().loading());
  EXPECT_EQ(session("early").tempo(clock_.steady_us()), 90);
  connect("b");
  out_.clear();
  send("b", "join_session", R"({"sessionId":"band"})");
  ASSERT_TRUE(out_.named("error").empty());
  const auto& snap = out_.named("snapshot")[0]->obj();
  EXPECT_EQ(snap.at("tempo"), 97.0);
  EXPECT_EQ(snap.at("position"), 42000.0);
  EXPECT_EQ(snap.at("message"), "Bridge at bar 12");
  EXPECT_EQ(slow_.find_session("band")->tempo, 97);
  // New sessions are allowed again.
  out_.clear();
  send("a", "join_session", R"({"sessionId":"fresh"})");
  EXPECT_TRUE(out_.named("error").empty());
  EXPECT_TRUE(svc().find_session("fresh"));
}

TEST_F(Loading, ACompleteLoadIsNotLoading) {
  EXPECT_FALSE(svc().loading());
  svc().finish_load({stored("late", 97, "x")});  // ignored: nothing was pending
  EXPECT_FALSE(svc().find_session("late"));
}

}  // namespace
}  // namespace bandsync::testing
