#pragma once
// Engine.IO server options. Defaults are socket.io 4's, except the bounds that
// Node leaves unbounded (sessions, queued bytes), which are ours.

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace bandsync::engineio {

struct options {
  std::string path = "/socket.io/";  // always begins and ends with '/'
  std::chrono::milliseconds ping_interval{25000};
  std::chrono::milliseconds ping_timeout{20000};
  std::chrono::milliseconds upgrade_timeout{10000};
  size_t max_payload = 1000000;  // bytes: a polling POST body, a WebSocket message
  bool allow_upgrades = true;
  // "*" (any origin, no credentials) or a list of origins (reflected, with
  // credentials; other origins' WebSockets refused): util/cors.hpp.
  std::vector<std::string> cors_origins{"*"};
  size_t max_sessions = 100000;
  // Outbound bytes queued for one session; a client that falls this far behind
  // is closed ("transport buffer full") rather than grow memory without end.
  size_t max_buffered_bytes = 4 * 1024 * 1024;
  size_t max_buffered_frames = 16384;
};

}  // namespace bandsync::engineio
