#include "util/json_text.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string_view>

#include <boost/json/serialize.hpp>

#include "util/json_string.hpp"

namespace bandsync::util {

void append_json_string_body(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
}

namespace {

void append_string(std::string& out, boost::json::string_view s) {
  out += '"';
  append_json_string_body(out, std::string_view(s.data(), s.size()));
  out += '"';
}

template <class Int>
void append_int(std::string& out, Int v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<size_t>(end - buf));
}

// Number::toString (ECMAScript 2023, 6.1.6.1.20): the shortest digits that
// read back to the same double (what std::to_chars gives), laid out by where
// the decimal point falls: plain up to 21 integer digits, "0.000001" down to
// 1e-6, exponent form ("1e+21", "1.5e-7") beyond. No allocation: it runs for
// every number of every tick (issue 12).
void append_double(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  if (d == 0) {
    out += '0';  // JSON.stringify(-0) === "0"
    return;
  }
  // A whole number below 2^53 is its own shortest digits: written as an
  // integer, as the general path below would (n <= 21 and k <= n).
  if (std::fabs(d) < 9007199254740992.0 && d == std::trunc(d)) {
    append_int(out, static_cast<int64_t>(d));
    return;
  }
  if (d < 0) {
    out += '-';
    d = -d;
  }
  char buf[40];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  // buf is "D[.DDD]e±XX": collect the digits and the exponent.
  std::string_view sci(buf, static_cast<size_t>(end - buf));
  size_t e_at = sci.find('e');
  char digits[24];
  int k = 0;
  for (char c : sci.substr(0, e_at)) {
    if (c != '.') digits[k++] = c;
  }
  int exponent = 0;
  std::from_chars(sci.data() + e_at + (sci[e_at + 1] == '+' ? 2 : 1), sci.data() + sci.size(),
                  exponent);
  int n = exponent + 1;  // d = 0.digits * 10^n
  if (k <= n && n <= 21) {
    out.append(digits, static_cast<size_t>(k));
    out.append(static_cast<size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out.append(digits, static_cast<size_t>(n));
    out += '.';
    out.append(digits + n, static_cast<size_t>(k - n));
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<size_t>(-n), '0');
    out.append(digits, static_cast<size_t>(k));
  } else {
    out += digits[0];
    if (k > 1) {
      out += '.';
      out.append(digits + 1, static_cast<size_t>(k - 1));
    }
    out += 'e';
    out += n - 1 > 0 ? '+' : '-';
    append_int(out, std::abs(n - 1));
  }
}

}  // namespace

void append_json_text(std::string& out, const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null:
      out += "null";
      break;
    case boost::json::kind::bool_:
      out += v.get_bool() ? "true" : "false";
      break;
    case boost::json::kind::int64:
      append_int(out, v.get_int64());
      break;
    case boost::json::kind::uint64:
      append_int(out, v.get_uint64());
      break;
    case boost::json::kind::double_:
      append_double(out, v.get_double());
      break;
    case boost::json::kind::string:
      append_string(out, v.get_string());
      break;
    case boost::json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out += ',';
        first = false;
        append_json_text(out, e);
      }
      out += ']';
      break;
    }
    case boost::json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& kv : v.get_object()) {
        if (!first) out += ',';
        first = false;
        append_string(out, kv.key());
        out += ':';
        append_json_text(out, kv.value());
      }
      out += '}';
      break;
    }
  }
}

void append_json_number(std::string& out, double d) {
  append_double(out, d);
}

void append_json_number(std::string& out, int64_t i) {
  append_int(out, i);
}

void append_json_string(std::string& out, std::string_view s) {
  append_string(out, boost::json::string_view(s.data(), s.size()));
}

std::string to_json_text(const boost::json::value& v) {
  std::string out;
  append_json_text(out, v);
  return out;
}

}  // namespace bandsync::util
