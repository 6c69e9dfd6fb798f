#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include <boost/json/parse.hpp>

#include "util/json_text.hpp"

using bandsync::util::to_json_text;

namespace {

struct json_case {
  const char* input;
  const char* expected;  // what JSON.stringify(JSON.parse(input)) gives
};

class json_text : public testing::TestWithParam<json_case> {};

TEST_P(json_text, writes_as_javascript_does) {
  EXPECT_EQ(to_json_text(boost::json::parse(GetParam().input)), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    values, json_text,
    testing::Values(json_case{"12.5", "12.5"}, json_case{"-0.25", "-0.25"}, json_case{"0.1", "0.1"},
                    json_case{"2.0", "2"}, json_case{"-0.0", "0"}, json_case{"1e21", "1e+21"},
                    json_case{"120", "120"},
                    json_case{"18446744073709551615", "18446744073709551615"},
                    json_case{"-9223372036854775808", "-9223372036854775808"},
                    json_case{"3456.789", "3456.789"}, json_case{"true", "true"},
                    json_case{"null", "null"},
                    json_case{R"("a\"b\\c\n\u0001é")", R"("a\"b\\c\n\u0001é")"},
                    json_case{R"({"b":1,"a":[1,{"c":null}]})", R"({"b":1,"a":[1,{"c":null}]})"},
                    json_case{"[]", "[]"}, json_case{"{}", "{}"}));

TEST(json_text_special, non_finite_numbers_become_null) {
  EXPECT_EQ(to_json_text(boost::json::value(std::numeric_limits<double>::infinity())), "null");
  EXPECT_EQ(to_json_text(boost::json::value(std::nan(""))), "null");
}

}  // namespace
