#include "engineio/errors.hpp"

namespace bandsync::engineio {

std::string_view http_error_message(http_error e) {
  switch (e) {
    case http_error::unknown_transport:
      return "Transport unknown";
    case http_error::unknown_sid:
      return "Session ID unknown";
    case http_error::bad_handshake_method:
      return "Bad handshake method";
    case http_error::bad_request:
      return "Bad request";
    case http_error::forbidden:
      return "Forbidden";
    case http_error::unsupported_protocol_version:
      return "Unsupported protocol version";
  }
  return "Bad request";
}

unsigned http_error_status(http_error e) {
  return e == http_error::forbidden ? 403 : 400;
}

std::string http_error_body(http_error e) {
  std::string body = "{\"code\":";
  body += std::to_string(static_cast<int>(e));
  body += ",\"message\":\"";
  body += http_error_message(e);
  body += "\"}";
  return body;
}

}  // namespace bandsync::engineio
