#pragma once
// The TCP listener and HTTP/WebSocket connections (Beast), behind a header
// without Beast: requests on the Engine.IO path go to the Engine.IO server
// (long-polling and WebSocket transports, spec "Transports" and "Upgrade");
// every other request goes to the plain HTTP handler set by the layer above.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/system/error_code.hpp>

#include "engineio/address_limits.hpp"
#include "util/http_types.hpp"

namespace boost::asio {
class io_context;
}

namespace bandsync::engineio {

using util::http_request;
using util::http_response;

class server;

struct listener_options {
  // "::" listens on every interface, IPv6 and IPv4 (dual stack), as Node does;
  // it falls back to 0.0.0.0 where IPv6 is unavailable.
  std::string host = "::";
  uint16_t port = 3001;
  size_t max_connections = 100000;
  size_t max_header_bytes = 16 * 1024;
  // A request header (or the next one on a keep-alive connection) must be
  // complete within this; slow senders are closed (slowloris).
  std::chrono::milliseconds header_timeout{10000};
  // Per-address handshake bucket and open-connection cap.
  address_limit_options limits;
  // Descriptors kept free below RLIMIT_NOFILE: within `fd_reserve` of the
  // limit new Engine.IO sessions are refused (503) while /health and the
  // sessions' own requests are still served; within a quarter of it every
  // new connection is closed at accept (what is left is for Redis and logs).
  size_t fd_reserve = 64;
};

class listener {
 public:
  using http_handler = std::function<http_response(const http_request&)>;

  listener(boost::asio::io_context& ioc, server& eio, listener_options opts);
  ~listener();

  void set_http_handler(http_handler h);
  // Headers added to every HTTP answer (security headers), Engine.IO's included.
  void set_common_headers(std::vector<std::pair<std::string, std::string>> headers);

  // Binds and starts accepting. Returns the bind/listen error, if any.
  boost::system::error_code start();
  uint16_t port() const;
  // Stops accepting new connections; open ones are left to the servers above.
  void stop();
  // Shutdown's first step: connections are still accepted, so that a polling
  // client whose next request needs a new connection (a pong, a GET after a
  // keep-alive closed) still collects its close packet, but new Engine.IO
  // sessions are refused (503 "Server at capacity", as near the descriptor
  // limit). stop() follows once the close packets are out.
  void drain();
  size_t open_connections() const;
  // Connections handling a request or carrying a WebSocket; the others are
  // idle keep-alive connections, safe to drop on shutdown.
  size_t busy_connections() const;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace bandsync::engineio
