// The session_store contract, as one typed suite: every store implementation
// is added to store_types and must pass all of it. The Redis store runs
// against a real redis-server (redis_test_env.hpp); its writes are
// asynchronous, so reads settle it first (run its io_context until Redis
// acknowledged every write).

#include <algorithm>
#include <memory>

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include "redis_test_env.hpp"
#include "store/memory_store.hpp"
#include "store/redis_store.hpp"

namespace bandsync::store {
namespace {

// What the contract suite needs beyond the interface: reading back single
// keys. Each store type provides these through a small adapter.
template <class Store>
struct store_traits;

template <>
struct store_traits<memory_store> {
  static std::string missing() { return {}; }
  static std::string start_error() { return {}; }
  static std::unique_ptr<memory_store> make() { return std::make_unique<memory_store>(); }
  static void settle(memory_store&) {}
  static std::optional<member_entry> member(memory_store& s, const std::string& id) {
    return s.find_member(id);
  }
  static bool ticking(memory_store& s, const std::string& id) { return s.is_ticking(id); }
};

template <>
struct store_traits<redis_store> {
  using env = bandsync::testing::redis_test_env;
  static std::string missing() { return env::get().missing(); }
  static std::string start_error() { return env::get().start_error(); }
  static std::unique_ptr<redis_store> make() { return env::get().fresh_store(); }
  static void settle(redis_store& s) {
    ASSERT_TRUE(env::get().settle(s)) << "Redis never caught up";
  }
  static std::optional<member_entry> member(redis_store& s, const std::string& id) {
    settle(s);
    auto text = env::get().server().get("member:" + id);
    if (!text) return std::nullopt;
    return member_entry_from_json(boost::json::parse(*text));
  }
  static bool ticking(redis_store& s, const std::string& id) {
    settle(s);
    return env::get().server().command({"EXISTS", "interval:" + id}) == "1";
  }
};

session_record record(std::string id, std::string message = "hello") {
  session_record r;
  r.id = std::move(id);
  r.message = std::move(message);
  r.tempo = 100;
  r.position_ms = 1500.25;
  r.leader_socket_id = "leader-socket";
  r.members = {{"leader-socket", "Lead", member_role::leader, 1, 2}};
  r.created_at = 1000;
  r.last_active_at = 2000;
  return r;
}

std::vector<session_record> sorted(std::vector<session_record> v) {
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return v;
}

template <class Store>
class SessionStoreContract : public ::testing::Test {
 protected:
  using traits = store_traits<Store>;

  void SetUp() override {
    if (!traits::missing().empty()) GTEST_SKIP() << traits::missing();
    ASSERT_EQ(traits::start_error(), "");
  }

  // Everything stored, once the store has caught up with its writes.
  std::vector<session_record> load() {
    traits::settle(*store_);
    return store_->load_sessions();
  }

  std::unique_ptr<Store> store_ = traits::make();
};

using store_types = ::testing::Types<memory_store, redis_store>;
TYPED_TEST_SUITE(SessionStoreContract, store_types);

TYPED_TEST(SessionStoreContract, StartsEmpty) {
  EXPECT_TRUE(this->load().empty());
}

TYPED_TEST(SessionStoreContract, SaveThenLoad) {
  this->store_->save_session(record("a"));
  this->store_->save_session(record("b"));
  EXPECT_EQ(sorted(this->load()), (std::vector<session_record>{record("a"), record("b")}));
}

TYPED_TEST(SessionStoreContract, SaveOverwrites) {
  this->store_->save_session(record("a", "first"));
  this->store_->save_session(record("a", "second"));
  auto all = this->load();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].message, "second");
}

TYPED_TEST(SessionStoreContract, RemoveSession) {
  this->store_->save_session(record("a"));
  this->store_->save_session(record("b"));
  this->store_->remove_session("a");
  this->store_->remove_session("never-saved");
  auto all = this->load();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].id, "b");
}

TYPED_TEST(SessionStoreContract, Members) {
  using traits = typename TestFixture::traits;
  member_record m{"sock", "Bass", member_role::follower, 5, 6};
  this->store_->save_member("band", m);
  auto e = traits::member(*this->store_, "sock");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->session_id, "band");
  EXPECT_EQ(e->member, m);
  m.role = member_role::leader;
  this->store_->save_member("band", m);
  EXPECT_EQ(traits::member(*this->store_, "sock")->member.role, member_role::leader);
  this->store_->remove_member("sock");
  EXPECT_FALSE(traits::member(*this->store_, "sock"));
  this->store_->remove_member("sock");  // twice is harmless
}

TYPED_TEST(SessionStoreContract, TickingFlag) {
  using traits = typename TestFixture::traits;
  this->store_->save_session(record("a"));
  EXPECT_FALSE(traits::ticking(*this->store_, "a"));
  this->store_->set_ticking("a", true);
  EXPECT_TRUE(traits::ticking(*this->store_, "a"));
  this->store_->set_ticking("a", false);
  EXPECT_FALSE(traits::ticking(*this->store_, "a"));
  this->store_->set_ticking("a", true);
  this->store_->remove_session("a");
  EXPECT_FALSE(traits::ticking(*this->store_, "a"));
}

std::vector<song_record> songs() {
  return {{"s1", "Opener", 132, 4, "E", "[Intro]\n[E] [A]"}, {"s2", "Waltz", 90, 3, {}, {}}};
}

TYPED_TEST(SessionStoreContract, SetlistIsLoadedWithItsSession) {
  auto r = record("a");
  r.current_song_id = "s2";
  r.beats_per_bar = 3;
  this->store_->save_session(r);
  this->store_->save_setlist("a", songs());
  this->store_->save_session(record("b"));
  auto all = sorted(this->load());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].setlist, songs());
  EXPECT_EQ(all[0].current_song_id, "s2");
  EXPECT_EQ(all[0].beats_per_bar, 3);
  EXPECT_TRUE(all[1].setlist.empty());
}

TYPED_TEST(SessionStoreContract, SessionWritesLeaveTheSetlistAlone) {
  this->store_->save_session(record("a"));
  this->store_->save_setlist("a", songs());
  auto r = record("a", "later");
  r.setlist = {song_record{"other", "Not written", 100, 4, {}, {}}};
  this->store_->save_session(r);  // e.g. the position write-behind
  auto all = this->load();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].message, "later");
  EXPECT_EQ(all[0].setlist, songs());
}

TYPED_TEST(SessionStoreContract, EmptySetlistAndRemovedSessionDropTheSongs) {
  this->store_->save_session(record("a"));
  this->store_->save_setlist("a", songs());
  this->store_->save_setlist("a", {});
  auto all = this->load();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_TRUE(all[0].setlist.empty());

  this->store_->save_setlist("a", songs());
  this->store_->remove_session("a");
  this->store_->save_session(record("a"));  // a new session under the same id
  all = this->load();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_TRUE(all[0].setlist.empty());
}

}  // namespace
}  // namespace bandsync::store
