#include "store/json_number.hpp"

#include <cmath>

namespace bandsync::store {
namespace {

// Beyond 2^53 a double no longer holds every integer, so JavaScript cannot
// round-trip it either; such values stay doubles.
constexpr double max_exact = 9007199254740992.0;

}  // namespace

boost::json::value json_number(double x) {
  if (!std::isfinite(x)) return nullptr;
  if (std::trunc(x) == x && std::fabs(x) <= max_exact) {
    return static_cast<int64_t>(x);
  }
  return x;
}

std::optional<double> number_of(const boost::json::value& v) {
  double d = 0;
  if (v.is_int64()) {
    d = static_cast<double>(v.get_int64());
  } else if (v.is_uint64()) {
    d = static_cast<double>(v.get_uint64());
  } else if (v.is_double()) {
    d = v.get_double();
  } else {
    return std::nullopt;
  }
  if (!std::isfinite(d)) return std::nullopt;
  return d;
}

std::optional<int64_t> integer_of(const boost::json::value& v) {
  auto d = number_of(v);
  if (!d || std::fabs(*d) > max_exact) return std::nullopt;
  return static_cast<int64_t>(std::llround(*d));
}

}  // namespace bandsync::store
