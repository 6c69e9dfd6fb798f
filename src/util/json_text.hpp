#pragma once
// JSON text as JavaScript's JSON.stringify writes it: doubles as ECMAScript's
// Number::toString does (the shortest digits that read back to the same
// double; "100000", "0.000001", "1e-7", "1e+21", -0 as "0"; not Boost's
// "1E5"), non-finite numbers as null, so a whole double needs no conversion
// to an integer first. Clients compare and display these
// values, so the server should write what the Node server wrote.

#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

namespace bandsync::util {

std::string to_json_text(const boost::json::value& v);
void append_json_text(std::string& out, const boost::json::value& v);

// One value each, as append_json_text writes it, without building a
// boost::json::value (a tick's payload is written straight from the
// session's numbers: bandsync/payloads.hpp scroll_tick_text).
void append_json_number(std::string& out, double d);
void append_json_number(std::string& out, int64_t i);
void append_json_string(std::string& out, std::string_view s);

}  // namespace bandsync::util
