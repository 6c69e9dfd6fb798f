#include "store/json_number.hpp"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>
#include <boost/json.hpp>

namespace bandsync::store {
namespace {

TEST(JsonNumber, WholeValuesAreIntegers) {
  EXPECT_EQ(boost::json::serialize(json_number(120.0)), "120");
  EXPECT_EQ(boost::json::serialize(json_number(-3.0)), "-3");
  EXPECT_EQ(boost::json::serialize(json_number(0.0)), "0");
  EXPECT_TRUE(json_number(9007199254740992.0).is_int64());
}

TEST(JsonNumber, FractionsAndHugeValuesStayDoubles) {
  EXPECT_TRUE(json_number(96.5).is_double());
  EXPECT_DOUBLE_EQ(json_number(96.5).get_double(), 96.5);
  EXPECT_TRUE(json_number(1e300).is_double());
}

TEST(JsonNumber, NonFiniteBecomesNull) {
  EXPECT_TRUE(json_number(std::numeric_limits<double>::quiet_NaN()).is_null());
  EXPECT_TRUE(json_number(std::numeric_limits<double>::infinity()).is_null());
}

TEST(JsonNumber, NumberOfAcceptsEveryNumericKind) {
  EXPECT_EQ(number_of(boost::json::value(int64_t{-5})), -5.0);
  EXPECT_EQ(number_of(boost::json::value(uint64_t{7})), 7.0);
  EXPECT_EQ(number_of(boost::json::value(2.5)), 2.5);
  EXPECT_FALSE(number_of(boost::json::value("12")));
  EXPECT_FALSE(number_of(boost::json::value(nullptr)));
  EXPECT_FALSE(number_of(boost::json::value(true)));
  EXPECT_FALSE(number_of(boost::json::value(std::numeric_limits<double>::quiet_NaN())));
  EXPECT_FALSE(number_of(boost::json::value(-std::numeric_limits<double>::infinity())));
}

TEST(JsonNumber, IntegerOfRoundsAndBounds) {
  EXPECT_EQ(integer_of(boost::json::value(1795627303700.4)), 1795627303700);
  EXPECT_EQ(integer_of(boost::json::value(int64_t{42})), 42);
  EXPECT_FALSE(integer_of(boost::json::value(1e20)));
  EXPECT_FALSE(integer_of(boost::json::value(std::numeric_limits<uint64_t>::max())));
  EXPECT_FALSE(integer_of(boost::json::value("1")));
}

}  // namespace
}  // namespace bandsync::store
