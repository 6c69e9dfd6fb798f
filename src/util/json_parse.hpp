#pragma once
// JSON parsing that reads numbers the way JavaScript's JSON.parse does.
//
// Boost.JSON 1.81 converts decimal text to double with a fast routine that
// is not correctly rounded: about one time in ten an epoch-milliseconds
// value such as 1764636000123.4567 comes back as its neighbouring double.
// Clients send such times (latency_probe's clientTimestamp, time_sync's t1)
// and match the server's echo against what they sent, as they can with the
// Node server, so every fractional number is re-read here with
// std::from_chars, which rounds correctly. Integers and everything else are
// exactly what boost::json::parse produces.

#include <string_view>

#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>

namespace bandsync::util {

// Parses one complete JSON text (trailing data is an error, as with
// boost::json::parse). On error returns null and sets `ec`.
boost::json::value parse_json(std::string_view text, boost::system::error_code& ec);

}  // namespace bandsync::util
