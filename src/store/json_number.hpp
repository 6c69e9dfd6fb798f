#pragma once
// JSON numbers as JavaScript writes and reads them. The old Node server and its
// clients know one number type; Boost.JSON distinguishes int64/uint64/double and
// prints whole doubles as "1.2E2". These helpers keep whole values integers on
// the wire and accept any numeric kind on input.

#include <cstdint>
#include <optional>

#include <boost/json/value.hpp>

namespace bandsync::store {

// Returns an int64 value when `x` is whole and exactly representable (|x| <=
// 2^53), otherwise a double. Non-finite input (never produced by the callers)
// becomes null, since JSON has no NaN or Infinity.
boost::json::value json_number(double x);

// Returns the value of any JSON number kind as a double; std::nullopt for
// non-numbers and for non-finite doubles (which a parser never produces, but a
// value built in code might hold).
std::optional<double> number_of(const boost::json::value& v);

// Returns a JSON number as a whole int64 (rounded to nearest); std::nullopt for
// non-numbers, non-finite values and values outside +-2^53.
std::optional<int64_t> integer_of(const boost::json::value& v);

}  // namespace bandsync::store
