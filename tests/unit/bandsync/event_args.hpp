#pragma once
// The argument list of an event as the request parsers receive it: one
// payload, written as JSON text.

#include <string_view>

#include <boost/json.hpp>

namespace bandsync::testing {

inline boost::json::array payload_args(std::string_view json) {
  return {boost::json::parse(json)};
}

}  // namespace bandsync::testing
