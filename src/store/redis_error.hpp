#pragma once
// Failures of the Redis client layer, as one error enum mapped onto
// boost::system::error_code (STYLE.md: error_code at every I/O boundary).
// Socket errors keep their own codes; these name what only this layer knows.

#include <boost/system/error_code.hpp>

namespace bandsync::store {

enum class redis_error {
  not_connected = 1,  // a request was offered while the connection was not ready
  queue_full,         // the bounded request queue would overflow
  connection_lost,    // the connection closed before the reply arrived
  protocol_error,     // the server sent bytes hiredis could not parse
  handshake_failed,   // AUTH or SELECT was refused
  timeout,            // connect + handshake, or a PING, took too long
  stopped,            // the client was stopped
};

const boost::system::error_category& redis_category();

boost::system::error_code make_error_code(redis_error e);

}  // namespace bandsync::store

template <>
struct boost::system::is_error_code_enum<bandsync::store::redis_error> : std::true_type {};
