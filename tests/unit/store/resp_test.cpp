// RESP through hiredis, table-driven on raw wire strings: what format_command
// writes and what resp_reader makes of what Redis sends.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "store/redis_error.hpp"
#include "store/resp.hpp"

namespace bandsync::store {
namespace {

TEST(FormatCommand, BulkStringsBinarySafe) {
  struct row {
    std::vector<std::string_view> args;
    std::string wire;
  };
  const std::vector<row> rows = {
      {{"PING"}, "*1\r\n$4\r\nPING\r\n"},
      {{"SET", "session:a", "{}", "EX", "1800"},
       "*5\r\n$3\r\nSET\r\n$9\r\nsession:a\r\n$2\r\n{}\r\n$2\r\nEX\r\n$4\r\n1800\r\n"},
      {{"SET", "k", ""}, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n"},
      {{"SET", "k", "a\r\nb"}, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\na\r\nb\r\n"},
      {{"GET", std::string_view("z\0z", 3)}, std::string("*2\r\n$3\r\nGET\r\n$3\r\nz\0z\r\n", 22)},
  };
  for (const auto& r : rows) {
    EXPECT_EQ(format_command(std::span<const std::string_view>(r.args)), r.wire);
  }
}

std::vector<redis_reply> read_all(std::string_view wire, boost::system::error_code& ec,
                                  size_t chunk = 0) {
  resp_reader reader;
  std::vector<redis_reply> out;
  if (chunk == 0) chunk = wire.size();
  for (size_t i = 0; i < wire.size(); i += chunk) {
    reader.feed(wire.substr(i, chunk));
    while (auto r = reader.next(ec)) out.push_back(std::move(*r));
    if (ec) break;
  }
  return out;
}

TEST(RespReader, EveryReplyKind) {
  using k = redis_reply::kind;
  struct row {
    std::string wire;
    k type;
    std::string str;
    int64_t integer;
    size_t elements;
  };
  const std::vector<row> rows = {
      {"+OK\r\n", k::status, "OK", 0, 0},
      {"+QUEUED\r\n", k::status, "QUEUED", 0, 0},
      {"-ERR unknown command\r\n", k::error, "ERR unknown command", 0, 0},
      {":1800\r\n", k::integer, "", 1800, 0},
      {":-2\r\n", k::integer, "", -2, 0},
      {"$-1\r\n", k::nil, "", 0, 0},
      {"$0\r\n\r\n", k::string, "", 0, 0},
      {"$5\r\na\r\nbc\r\n", k::string, "a\r\nbc", 0, 0},
      {"*-1\r\n", k::nil, "", 0, 0},
      {"*0\r\n", k::array, "", 0, 0},
      {"*3\r\n+OK\r\n:1\r\n$-1\r\n", k::array, "", 0, 3},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.wire);
    for (size_t chunk : {size_t(0), size_t(1), size_t(3)}) {
      boost::system::error_code ec;
      auto replies = read_all(r.wire, ec, chunk);
      ASSERT_FALSE(ec);
      ASSERT_EQ(replies.size(), 1u);
      EXPECT_EQ(replies[0].type, r.type);
      EXPECT_EQ(replies[0].str, r.str);
      EXPECT_EQ(replies[0].integer, r.integer);
      EXPECT_EQ(replies[0].elements.size(), r.elements);
    }
  }
}

TEST(RespReader, PipelinedRepliesComeOutInOrder) {
  boost::system::error_code ec;
  auto replies = read_all("+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+OK\r\n:1\r\n", ec);
  ASSERT_FALSE(ec);
  ASSERT_EQ(replies.size(), 4u);
  EXPECT_TRUE(replies[0].is_status("OK"));
  EXPECT_TRUE(replies[1].is_status("QUEUED"));
  EXPECT_TRUE(replies[2].is_status("QUEUED"));
  ASSERT_EQ(replies[3].elements.size(), 2u);
  EXPECT_TRUE(replies[3].elements[0].is_status("OK"));
  EXPECT_EQ(replies[3].elements[1].integer, 1);
}

TEST(RespReader, NestedArrays) {
  boost::system::error_code ec;
  auto replies = read_all("*2\r\n$1\r\n0\r\n*2\r\n$9\r\nsession:a\r\n$9\r\nsession:b\r\n", ec);
  ASSERT_FALSE(ec);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].elements[0].str, "0");
  ASSERT_EQ(replies[0].elements[1].elements.size(), 2u);
  EXPECT_EQ(replies[0].elements[1].elements[1].str, "session:b");
}

TEST(RespReader, ProtocolErrorIsSticky) {
  resp_reader reader;
  boost::system::error_code ec;
  reader.feed("+OK\r\n!bogus\r\n");
  auto first = reader.next(ec);
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->is_status("OK"));
  EXPECT_FALSE(reader.next(ec));
  EXPECT_EQ(ec, redis_error::protocol_error);
  EXPECT_NE(reader.error_text(), "");
  EXPECT_FALSE(reader.feed("+OK\r\n"));
  EXPECT_FALSE(reader.next(ec));
  EXPECT_EQ(ec, redis_error::protocol_error);
}

TEST(RespReader, IncompleteInputWaitsForMore) {
  resp_reader reader;
  boost::system::error_code ec;
  reader.feed("$10\r\n01234");
  EXPECT_FALSE(reader.next(ec));
  EXPECT_FALSE(ec);
  reader.feed("56789\r\n");
  auto r = reader.next(ec);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->str, "0123456789");
}

}  // namespace
}  // namespace bandsync::store
