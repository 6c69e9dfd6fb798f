// append_json_number (no allocation, a whole-number fast path) against the
// reference layout of Number::toString it replaced, over many values:
// integers (to 2^53 and past it), fractions, server timestamps, tiny and
// huge magnitudes, random bit patterns.

#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>

#include <boost/json/value.hpp>

#include "util/json_text.hpp"

namespace {

// The layout as it was written before (digits from to_chars' shortest
// scientific form, placed by where the decimal point falls).
std::string reference(double d) {
  if (!std::isfinite(d)) return "null";
  if (d == 0) return "0";
  std::string out;
  if (d < 0) {
    out += '-';
    d = -d;
  }
  char buf[40];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string_view sci(buf, static_cast<size_t>(end - buf));
  size_t e_at = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e_at))
    if (c != '.') digits += c;
  int exponent = 0;
  std::from_chars(sci.data() + e_at + (sci[e_at + 1] == '+' ? 2 : 1), sci.data() + sci.size(),
                  exponent);
  int k = static_cast<int>(digits.size());
  int n = exponent + 1;
  if (k <= n && n <= 21) {
    out += digits;
    out.append(static_cast<size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out.append(digits, 0, static_cast<size_t>(n));
    out += '.';
    out.append(digits, static_cast<size_t>(n));
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<size_t>(-n), '0');
    out += digits;
  } else {
    out += digits[0];
    if (k > 1) {
      out += '.';
      out.append(digits, 1);
    }
    out += 'e';
    out += n - 1 > 0 ? '+' : '-';
    out += std::to_string(std::abs(n - 1));
  }
  return out;
}

std::string written(double d) {
  std::string out = "x";
  bandsync::util::append_json_number(out, d);
  return out.substr(1);
}

void check(double d) {
  ASSERT_EQ(written(d), reference(d)) << "value bits " << std::hexfloat << d;
  ASSERT_EQ(bandsync::util::to_json_text(boost::json::value(d)), reference(d));
}

TEST(json_number_text, integers_around_every_power_of_two_and_ten) {
  for (int e = 0; e <= 70; ++e) {
    double p = std::ldexp(1.0, e);
    for (double d : {p - 2, p - 1, p, p + 1, p + 2}) {
      check(d);
      check(-d);
    }
  }
  for (int e = 0; e <= 25; ++e) {
    double p = std::pow(10.0, e);
    for (double d : {p - 1, p, p + 1, p * 3, p * 7 + 5}) {
      check(d);
      check(-d);
    }
  }
  check(9007199254740991.0);
  check(9007199254740992.0);
  check(9007199254740993.0);
  check(std::numeric_limits<double>::max());
  check(-0.0);
  check(std::numeric_limits<double>::infinity());
  check(std::nan(""));
}

TEST(json_number_text, fractions_timestamps_and_tiny_values) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int64_t> us(0, int64_t{4'000'000'000'000'000});
  for (int i = 0; i < 20000; ++i) {
    int64_t t = us(rng);
    check(static_cast<double>(t) / 1000.0);                // serverTimestamp: ms with µs
    check(static_cast<double>(t % 100'000'000) / 1000.0);  // a position
    check(static_cast<double>(t % 1000) / 4.0);            // beats
    check(static_cast<double>(t % 1'000'000) / 1e9);       // tiny
  }
  for (double d : {0.1, 0.2, 0.30000000000000004, 1e-6, 1e-7, 1.5e-7, 5e-324, 1e21, 1.25e21, 1e20,
                   123456789012345680000.0, 96.5, 133.33333333333334, 0.001})
    check(d);
}

TEST(json_number_text, random_bit_patterns) {
  std::mt19937_64 rng(11);
  for (int i = 0; i < 200000; ++i) {
    uint64_t bits = rng();
    double d;
    std::memcpy(&d, &bits, sizeof d);
    check(d);
  }
}

TEST(json_number_text, integers_as_int64) {
  for (int64_t i : {int64_t{0}, int64_t{-1}, int64_t{42100}, std::numeric_limits<int64_t>::max(),
                    std::numeric_limits<int64_t>::min()}) {
    std::string out;
    bandsync::util::append_json_number(out, i);
    EXPECT_EQ(out, bandsync::util::to_json_text(boost::json::value(i)));
  }
}

}  // namespace
