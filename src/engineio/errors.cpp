#include "engineio/errors.hpp"

namespace bandsync::engineio {

namespace {

struct error_info {
  int code;
  unsigned status;
  std::string_view message;
};

error_info info(http_error e) {
  switch (e) {
    case http_error::unknown_transport:
      return {0, 400, "Transport unknown"};
    case http_error::unknown_sid:
      return {1, 400, "Session ID unknown"};
    case http_error::bad_handshake_method:
      return {2, 400, "Bad handshake method"};
    case http_error::bad_request:
      return {3, 400, "Bad request"};
    case http_error::forbidden:
      return {4, 403, "Forbidden"};
    case http_error::unsupported_protocol_version:
      return {5, 400, "Unsupported protocol version"};
    case http_error::payload_too_large:
      return {3, 413, "Payload too large"};
    case http_error::origin_not_allowed:
      return {4, 403, "Origin not allowed"};
    case http_error::server_at_capacity:
      return {6, 503, "Server at capacity"};
    case http_error::too_many_handshakes:
      return {7, 429, "Too many handshakes"};
    case http_error::too_many_connections:
      return {7, 429, "Too many connections"};
  }
  return {3, 400, "Bad request"};
}

}  // namespace

int http_error_code(http_error e) {
  return info(e).code;
}

std::string_view http_error_message(http_error e) {
  return info(e).message;
}

unsigned http_error_status(http_error e) {
  return info(e).status;
}

std::string http_error_body(http_error e) {
  auto i = info(e);
  std::string body = "{\"code\":";
  body += std::to_string(i.code);
  body += ",\"message\":\"";
  body += i.message;
  body += "\"}";
  return body;
}

}  // namespace bandsync::engineio
