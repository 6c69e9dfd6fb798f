#pragma once
// Engine.IO v4 HTTP error answers (spec "Handshake" / the reference server's
// error codes): one enum, mapped to an HTTP status and the JSON body
// {"code":N,"message":"..."} in one place.

#include <string>
#include <string_view>

namespace bandsync::engineio {

enum class http_error {
  unknown_transport = 0,
  unknown_sid = 1,
  bad_handshake_method = 2,
  bad_request = 3,
  forbidden = 4,
  unsupported_protocol_version = 5,
};

std::string_view http_error_message(http_error e);
unsigned http_error_status(http_error e);
std::string http_error_body(http_error e);

}  // namespace bandsync::engineio
