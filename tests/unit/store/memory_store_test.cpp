// memory_store specifics beyond the shared contract: its bounds.

#include "store/memory_store.hpp"

#include <gtest/gtest.h>

namespace bandsync::store {
namespace {

session_record named(std::string id) {
  session_record r;
  r.id = std::move(id);
  return r;
}

TEST(MemoryStore, SessionLimitDropsNewKeysButNotOverwrites) {
  memory_store s({.max_sessions = 2, .max_members = 10});
  s.save_session(named("a"));
  s.save_session(named("b"));
  s.save_session(named("c"));
  EXPECT_EQ(s.session_count(), 2u);
  EXPECT_FALSE(s.find_session("c"));
  EXPECT_EQ(s.dropped_writes(), 1u);
  auto a = named("a");
  a.message = "updated";
  s.save_session(a);
  EXPECT_EQ(s.find_session("a")->message, "updated");
  EXPECT_EQ(s.dropped_writes(), 1u);
  s.remove_session("b");
  s.save_session(named("c"));
  EXPECT_TRUE(s.find_session("c"));
}

TEST(MemoryStore, MemberLimit) {
  memory_store s({.max_sessions = 10, .max_members = 1});
  s.save_member("x", {"one", "1", member_role::leader, 0, 0});
  s.save_member("x", {"two", "2", member_role::follower, 0, 0});
  EXPECT_EQ(s.member_count(), 1u);
  EXPECT_FALSE(s.find_member("two"));
  EXPECT_EQ(s.dropped_writes(), 1u);
}

TEST(MemoryStore, TickingNeedsTheSession) {
  memory_store s;
  s.set_ticking("ghost", true);
  EXPECT_FALSE(s.is_ticking("ghost"));
  EXPECT_EQ(s.dropped_writes(), 1u);
}

TEST(MemoryStore, SetlistNeedsTheSession) {
  memory_store s;
  std::vector<song_record> songs = {{"s1", "One", 100, 4, {}, {}}};
  s.save_setlist("x", songs);  // no session: nothing would ever remove it
  EXPECT_TRUE(s.find_setlist("x").empty());
  EXPECT_EQ(s.dropped_writes(), 1u);
  s.save_session(named("x"));
  s.save_setlist("x", songs);
  EXPECT_EQ(s.find_setlist("x"), songs);
  EXPECT_TRUE(s.find_session("x")->setlist.empty());  // kept apart, as in Redis
  s.remove_session("x");
  EXPECT_TRUE(s.find_setlist("x").empty());
}

TEST(MemoryStore, WorksThroughTheInterface) {
  memory_store concrete;
  session_store& s = concrete;
  s.save_session(named("a"));
  s.save_member("a", {"m", "M", member_role::leader, 1, 1});
  ASSERT_EQ(s.load_sessions().size(), 1u);
  EXPECT_EQ(concrete.find_member("m")->session_id, "a");
}

}  // namespace
}  // namespace bandsync::store
