// Table-driven tests for the RFC 4648 base64 codec used by Engine.IO polling
// payloads ("b<base64>").
#include "util/base64.hpp"

#include <ostream>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace bandsync::util {
namespace {

using namespace std::string_literals;

struct vector_case {
  std::string bytes;
  std::string_view text;
};

void PrintTo(const vector_case& c, std::ostream* os) {
  *os << '"' << c.text << '"';
}

class base64_vectors : public testing::TestWithParam<vector_case> {};

TEST_P(base64_vectors, encodes_to_expected_text) {
  EXPECT_EQ(base64_encode(GetParam().bytes), GetParam().text);
}

TEST_P(base64_vectors, decodes_to_expected_bytes) {
  auto bytes = base64_decode(GetParam().text);
  ASSERT_TRUE(bytes.has_value());
  EXPECT_EQ(*bytes, GetParam().bytes);
}

// RFC 4648 section 10, plus binary bytes and the Engine.IO v4 spec example.
INSTANTIATE_TEST_SUITE_P(
    rfc4648, base64_vectors,
    testing::Values(vector_case{"", ""}, vector_case{"f", "Zg=="}, vector_case{"fo", "Zm8="},
                    vector_case{"foo", "Zm9v"}, vector_case{"foob", "Zm9vYg=="},
                    vector_case{"fooba", "Zm9vYmE="}, vector_case{"foobar", "Zm9vYmFy"},
                    vector_case{"\x01\x02\x03"s, "AQID"},
                    vector_case{"\x01\x02\x03\x04"s, "AQIDBA=="}, vector_case{"\0"s, "AA=="},
                    vector_case{"\0\0\0"s, "AAAA"}, vector_case{"\xff\xff\xff"s, "////"},
                    vector_case{"\xfb\xef\xbe"s, "++++"}, vector_case{"\xff\xfe"s, "//4="}));

TEST(base64, round_trips_every_byte_value_at_every_length_remainder) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (size_t len = 0; len <= all.size(); ++len) {
    std::string bytes = all.substr(all.size() - len);
    std::string text = base64_encode(bytes);
    EXPECT_EQ(text.size(), (len + 2) / 3 * 4);
    auto back = base64_decode(text);
    ASSERT_TRUE(back.has_value()) << "length " << len;
    EXPECT_EQ(*back, bytes) << "length " << len;
  }
}

class base64_invalid : public testing::TestWithParam<std::string> {};

TEST_P(base64_invalid, is_rejected) {
  EXPECT_FALSE(base64_decode(GetParam()).has_value());
}

INSTANTIATE_TEST_SUITE_P(
    malformed, base64_invalid,
    testing::Values("A"s, "AB"s, "ABC"s, "ABCDE"s,      // length not a multiple of 4
                    "Zg"s, "Zm8"s,                      // unpadded
                    "Zg="s, "Zg==="s,                   // wrong amount of padding
                    "===="s, "A==="s, "=AAA"s,          // padding in the first two places
                    "Zm=v"s,                            // padding before a data character
                    "Zg==Zg=="s, "Zm8=AAAA"s,           // padding before the last quantum
                    "Zm9v!A=="s, "Zm 9"s, "Zm9v\n"s,    // characters outside the alphabet
                    "Zm9-"s, "Zm9_"s,                   // base64url alphabet
                    "Zm\0v"s, "\x80\x80\x80\x80"s,      // NUL and high bytes
                    "Zh=="s, "QR=="s, "Zm9="s, "//5="s  // non-zero bits under the padding
                    ));

}  // namespace
}  // namespace bandsync::util
