#pragma once
// `bandsync conformance`: the reference server of the Socket.IO and Engine.IO
// protocol test suites (pingInterval 300, pingTimeout 200, maxPayload 1e6,
// connectTimeout 1000, CORS *).

#include <cstdint>
#include <string>

namespace bandsync::app {

struct conformance_options {
  std::string host = "::";
  uint16_t port = 3000;
  bool engineio_only = false;  // Engine.IO echo server on /engine.io/
  // The suite's values; slow machines may want longer ones.
  unsigned ping_interval_ms = 300;
  unsigned ping_timeout_ms = 200;
  // The suite's connectTimeout: a connection that sends no namespace CONNECT
  // within it is closed. Tests that connect many clients at once on a loaded
  // machine use socket.io's default (45 s) instead.
  unsigned connect_timeout_ms = 1000;
  // Connection state recovery is off here by default: the protocol suite
  // expects events without an offset. The recovery tests turn it on.
  unsigned recovery_window_ms = 0;
};

int run_conformance(const conformance_options& o);

}  // namespace bandsync::app
