#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include <boost/json/parse.hpp>

#include "util/json_string.hpp"
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

// Number::toString: 1e5 and 1.7e12 are written out, 1e-6 is the last plain
// small number, 1e-7 and 1e21 take exponents; 0.1 + 0.2 keeps all 17 digits.
TEST(json_text_numbers, formats_doubles_as_ecmascript_does) {
  auto text = [](double d) { return to_json_text(boost::json::value(d)); };
  EXPECT_EQ(text(1e5), "100000");
  EXPECT_EQ(text(1.7e12), "1700000000000");
  EXPECT_EQ(text(1e-6), "0.000001");
  EXPECT_EQ(text(1e-7), "1e-7");
  EXPECT_EQ(text(1.5e-7), "1.5e-7");
  EXPECT_EQ(text(1e21), "1e+21");
  EXPECT_EQ(text(1.25e21), "1.25e+21");
  EXPECT_EQ(text(1e20), "100000000000000000000");
  EXPECT_EQ(text(123456789012345680000.0), "123456789012345680000");
  EXPECT_EQ(text(-0.0), "0");
  EXPECT_EQ(text(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(text(-1e5), "-100000");
  EXPECT_EQ(text(-2.5e-8), "-2.5e-8");
  EXPECT_EQ(text(96.5), "96.5");
  EXPECT_EQ(text(120.0), "120");
  EXPECT_EQ(text(0.001), "0.001");
  EXPECT_EQ(text(5e-324), "5e-324");
  EXPECT_EQ(text(1.7976931348623157e308), "1.7976931348623157e+308");
  EXPECT_EQ(text(std::numeric_limits<double>::quiet_NaN()), "null");
  EXPECT_EQ(text(-std::numeric_limits<double>::infinity()), "null");
}

// The escaper JSON lines share with the text writer: JSON.stringify's escapes,
// control characters as \u00XX, UTF-8 as it is.
TEST(json_string, escapes_as_json_stringify_does) {
  std::string out;
  bandsync::util::append_json_string_body(
      out, std::string_view("a\"b\\c\n\t\r\b\f\x01\x1f\x7f \xc3\xa9", 16));
  EXPECT_EQ(out, "a\\\"b\\\\c\\n\\t\\r\\b\\f\\u0001\\u001f\x7f \xc3\xa9");
  // The same escapes as a string value written by to_json_text.
  EXPECT_EQ(to_json_text(boost::json::value("a\"\n\x01")), "\"a\\\"\\n\\u0001\"");
}

}  // namespace
