#include "util/json_parse.hpp"
#include "util/json_text.hpp"

#include <cstring>
#include <random>

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

namespace bandsync::util {
namespace {

bool same_bits(double a, double b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

// The case the server must get right: a client's epoch-ms time with a
// sub-millisecond fraction, written by JSON.stringify (shortest round-trip
// digits, which to_json_text reproduces), must read back to the same double.
// boost::json::parse (1.81) reads 994 of these 5,000 to a neighbouring double.
TEST(JsonParse, EpochMillisecondsReadBackBitForBit) {
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> dist(1.7e12, 1.9e12);
  for (int i = 0; i < 5000; ++i) {
    double t = dist(rng);
    std::string text = "[" + to_json_text(boost::json::value(t)) + "]";
    boost::system::error_code ec;
    auto v = parse_json(text, ec);
    ASSERT_FALSE(ec) << text;
    // About one in 4,096 of these is whole (the spacing of doubles here is
    // 2^-12 ms) and is written, and read, as an integer.
    const auto& got = v.as_array()[0];
    ASSERT_TRUE(same_bits(got.is_double() ? got.as_double() : double(got.as_int64()), t)) << text;
  }
}

TEST(JsonParse, SameValuesAsBoostForEverythingElse) {
  for (const char* text :
       {R"({"a":[1,-2,3.5,true,false,null,"x\u00e9"],"b":{"c":18446744073709551615}})", "-0", "0.1",
        "1e21", "1e-7", "-9223372036854775808", "123456789012345678901234567890",
        R"("\ud83c\udfb8")", "[[[]]]", "{}", "  42  "}) {
    boost::system::error_code ec1, ec2;
    auto mine = parse_json(text, ec1);
    auto theirs = boost::json::parse(text, ec2);
    ASSERT_FALSE(ec1) << text;
    ASSERT_FALSE(ec2) << text;
    EXPECT_EQ(mine, theirs) << text;
    EXPECT_EQ(mine.kind(), theirs.kind()) << text;
  }
}

TEST(JsonParse, ErrorsAsBoostDoes) {
  for (const char* text : {"", "[1,", "{\"a\":}", "[1] x", "01", "1.", "nul", "\"abc", "[1]]"}) {
    boost::system::error_code ec;
    auto v = parse_json(text, ec);
    EXPECT_TRUE(ec) << text;
    EXPECT_TRUE(v.is_null()) << text;
  }
}

TEST(JsonParse, NestingLimitAsBoostDefault) {
  std::string deep(100, '[');
  deep += std::string(100, ']');
  boost::system::error_code ec1, ec2;
  parse_json(deep, ec1);
  boost::json::parse(deep, ec2);
  EXPECT_TRUE(ec1);
  EXPECT_EQ(ec1, ec2);
}

}  // namespace
}  // namespace bandsync::util
