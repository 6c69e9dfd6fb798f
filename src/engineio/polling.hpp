#pragma once
// HTTP long-polling (spec "HTTP long-polling"), on plain request/response
// values: no Beast, no coroutine, so that every answer is unit-testable.
// The listener reads the request, calls `start`, and for a GET that has to
// wait it waits on the session's poll timer until `session::poll_should_wait`
// turns false, then calls `finish_get`.

#include <chrono>
#include <optional>
#include <string>

#include "engineio/address_limits.hpp"
#include "engineio/errors.hpp"
#include "engineio/session.hpp"
#include "util/cors.hpp"
#include "util/http_types.hpp"

namespace bandsync::engineio {

class server;

// An Engine.IO error as an HTTP answer (status + JSON body, errors.cpp).
util::http_response error_response(http_error e);

struct poll_step {
  std::optional<util::http_response> answer;  // the answer, now
  // Or: a GET on this session (poll_active is set). The caller waits while
  // `poll_should_wait()`, then answers with `finish_get`; if that answer
  // cannot be written, the session closes (its payload is lost).
  session_ptr get;
};

class polling {
 public:
  polling(server& eio, address_limits& limits) : eio_(eio), limits_(limits) {}

  // The first step of a request on the Engine.IO path that is not a
  // WebSocket upgrade. `new_sessions_allowed` false (descriptors near the
  // limit) refuses handshakes with 503.
  poll_step start(const util::http_request& req, address_limits::clock::time_point now,
                  bool new_sessions_allowed = true);
  // The answer of a waiting GET once released (data, noop, close packet).
  util::http_response finish_get(session& s);

 private:
  util::http_response handshake(const util::http_request& req,
                                address_limits::clock::time_point now, bool new_sessions_allowed);

  server& eio_;
  address_limits& limits_;
};

}  // namespace bandsync::engineio
