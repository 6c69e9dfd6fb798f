// The session_store contract, as one typed suite: every store implementation
// is added to store_types and must pass all of it.

#include <algorithm>
#include <memory>

#include <gtest/gtest.h>

#include "store/memory_store.hpp"

namespace bandsync::store {
namespace {

// What the contract suite needs beyond the interface: reading back single
// keys. Each store type provides these through a small adapter.
template <class Store>
struct store_traits;

template <>
struct store_traits<memory_store> {
  static std::unique_ptr<memory_store> make() { return std::make_unique<memory_store>(); }
  static std::optional<member_entry> member(memory_store& s, const std::string& id) {
    return s.find_member(id);
  }
  static bool ticking(memory_store& s, const std::string& id) { return s.is_ticking(id); }
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
  std::unique_ptr<Store> store_ = traits::make();
};

using store_types = ::testing::Types<memory_store>;
TYPED_TEST_SUITE(SessionStoreContract, store_types);

TYPED_TEST(SessionStoreContract, StartsEmpty) {
  EXPECT_TRUE(this->store_->load_sessions().empty());
}

TYPED_TEST(SessionStoreContract, SaveThenLoad) {
  this->store_->save_session(record("a"));
  this->store_->save_session(record("b"));
  EXPECT_EQ(sorted(this->store_->load_sessions()),
            (std::vector<session_record>{record("a"), record("b")}));
}

TYPED_TEST(SessionStoreContract, SaveOverwrites) {
  this->store_->save_session(record("a", "first"));
  this->store_->save_session(record("a", "second"));
  auto all = this->store_->load_sessions();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].message, "second");
}

TYPED_TEST(SessionStoreContract, RemoveSession) {
  this->store_->save_session(record("a"));
  this->store_->save_session(record("b"));
  this->store_->remove_session("a");
  this->store_->remove_session("never-saved");
  auto all = this->store_->load_sessions();
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

}  // namespace
}  // namespace bandsync::store
