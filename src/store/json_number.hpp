#pragma once
// JSON numbers as JavaScript writes and reads them. The old Node server and its
// clients know one number type; Boost.JSON distinguishes int64/uint64/double.
// util::to_json_text writes every kind as JavaScript does, so the wire needs no
// conversion; the Redis records (session_record.cpp) still store whole values
// as integers, so that a record read back is the same value the old server
// stored, whoever serializes it. number_of/integer_of accept any numeric kind
// on input.

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
