#pragma once
// Engine.IO v4 HTTP error answers: one enum, mapped to an HTTP status and
// the JSON body {"code":N,"message":"..."} in one place. Codes 0–5 and their
// messages are the reference server's (engine.io `Server.errors`); a refusal
// by policy is, as there, code 4 with 403 and its own message. The reference
// server has no session cap, no handshake limit and no descriptor reserve:
// those answers use codes 6 and 7, documented in docs/PROTOCOL.md.

#include <string>
#include <string_view>

namespace bandsync::engineio {

enum class http_error {
  unknown_transport,             // 0, 400 "Transport unknown"
  unknown_sid,                   // 1, 400 "Session ID unknown"
  bad_handshake_method,          // 2, 400 "Bad handshake method"
  bad_request,                   // 3, 400 "Bad request"
  forbidden,                     // 4, 403 "Forbidden"
  unsupported_protocol_version,  // 5, 400 "Unsupported protocol version"
  payload_too_large,             // 3, 413 "Payload too large" (a bad request, too big)
  origin_not_allowed,            // 4, 403 "Origin not allowed" (CORS_ORIGIN list)
  server_at_capacity,            // 6, 503 "Server at capacity" (sessions, descriptors)
  too_many_handshakes,           // 7, 429 "Too many handshakes" (per-address bucket)
  too_many_connections,          // 7, 429 "Too many connections" (per-address cap)
};

int http_error_code(http_error e);
std::string_view http_error_message(http_error e);
unsigned http_error_status(http_error e);
std::string http_error_body(http_error e);

}  // namespace bandsync::engineio
