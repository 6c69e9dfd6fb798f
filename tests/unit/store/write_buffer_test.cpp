// The Redis store's pending writes: newest operation per key, whole session
// groups per batch, requeue after a failed batch, and the bound.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "store/write_buffer.hpp"

namespace bandsync::store {
namespace {

using kind = write_buffer::op_kind;

// "group key kind value" lines of everything taken, for compact checks.
std::vector<std::string> lines(const std::vector<write_buffer::group>& groups) {
  std::vector<std::string> out;
  for (const auto& g : groups) {
    for (const auto& o : g.ops) {
      const char* k = o.kind == kind::set ? "set" : o.kind == kind::del ? "del" : "expire";
      out.push_back(g.name + " " + o.key + " " + k + (o.value.empty() ? "" : " " + o.value));
    }
  }
  return out;
}

TEST(WriteBuffer, NewestOperationPerKeyWins) {
  write_buffer b(100);
  b.put("a", "session:a", kind::set, "v1");
  b.put("a", "session:a", kind::set, "v2");
  b.put("a", "member:x", kind::set, "m1");
  b.put("a", "member:x", kind::del);
  EXPECT_EQ(b.keys(), 2u);
  EXPECT_EQ(lines(b.take(100)), (std::vector<std::string>{"a member:x del", "a session:a set v2"}));
  EXPECT_TRUE(b.empty());
}

TEST(WriteBuffer, ExpireNeverOverridesASetOrADel) {
  write_buffer b(100);
  b.put("a", "session:a", kind::set, "v");
  b.put("a", "session:a", kind::expire);
  b.put("a", "member:x", kind::del);
  b.put("a", "member:x", kind::expire);
  b.put("a", "member:y", kind::expire);
  b.put("a", "member:y", kind::set, "y");  // but a set overrides an expire
  EXPECT_EQ(lines(b.take(100)),
            (std::vector<std::string>{"a member:x del", "a member:y set y", "a session:a set v"}));
}

TEST(WriteBuffer, AKeyMovesToItsNewestGroup) {
  write_buffer b(100);
  b.put("one", "member:x", kind::set, "in one");
  b.put("one", "session:one", kind::set, "s1");
  b.put("two", "member:x", kind::set, "in two");
  EXPECT_EQ(lines(b.take(100)),
            (std::vector<std::string>{"one session:one set s1", "two member:x set in two"}));
}

TEST(WriteBuffer, TakeKeepsGroupsWholeWithinTheOpBudget) {
  write_buffer b(100);
  for (const char* g : {"a", "b", "c"}) {
    b.put(g, std::string("session:") + g, kind::set, "s");
    b.put(g, std::string("member:") + g, kind::set, "m");
  }
  auto first = b.take(3);  // a (2 ops) fits; b would make 4
  EXPECT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].name, "a");
  auto rest = b.take(4);
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_TRUE(b.empty());

  // A group larger than the budget still goes, alone.
  for (int i = 0; i < 5; ++i) b.put("big", "member:" + std::to_string(i), kind::del);
  auto big = b.take(2);
  ASSERT_EQ(big.size(), 1u);
  EXPECT_EQ(big[0].ops.size(), 5u);
}

TEST(WriteBuffer, RestoreSkipsKeysWrittenSince) {
  write_buffer b(100);
  b.put("a", "session:a", kind::set, "old");
  b.put("a", "member:x", kind::set, "x");
  auto failed = b.take(100);
  b.put("a", "session:a", kind::set, "new");  // while the batch was in flight
  b.restore(std::move(failed));
  EXPECT_EQ(lines(b.take(100)),
            (std::vector<std::string>{"a member:x set x", "a session:a set new"}));
}

TEST(WriteBuffer, RestoringNewestFirstKeepsTheNewestValue) {
  write_buffer b(100);
  b.put("a", "session:a", kind::set, "1");
  auto batch1 = b.take(100);
  b.put("a", "session:a", kind::set, "2");
  auto batch2 = b.take(100);
  b.restore(std::move(batch2));
  b.restore(std::move(batch1));
  EXPECT_EQ(lines(b.take(100)), (std::vector<std::string>{"a session:a set 2"}));
}

TEST(WriteBuffer, NewKeysBeyondTheBoundAreDroppedAndCounted) {
  write_buffer b(2);
  EXPECT_TRUE(b.put("a", "k1", kind::set, "1"));
  EXPECT_TRUE(b.put("a", "k2", kind::set, "2"));
  EXPECT_FALSE(b.put("a", "k3", kind::set, "3"));
  EXPECT_TRUE(b.put("a", "k1", kind::del)) << "an existing key is always updated";
  EXPECT_EQ(b.keys(), 2u);
  EXPECT_EQ(b.dropped(), 1u);
}

}  // namespace
}  // namespace bandsync::store
