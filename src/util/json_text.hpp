#pragma once
// JSON text as JavaScript's JSON.stringify writes it: numbers in the
// shortest form that reads back to the same double ("12.5", not Boost's
// "1.25E1"), non-finite numbers as null. Clients compare and display these
// values, so the server should write what the Node server wrote.

#include <string>

#include <boost/json/value.hpp>

namespace bandsync::util {

std::string to_json_text(const boost::json::value& v);
void append_json_text(std::string& out, const boost::json::value& v);

}  // namespace bandsync::util
