#pragma once
// CORS for every HTTP answer of the server (Engine.IO polling and the plain
// routes alike), and the Origin check of WebSocket upgrades:
// - with "*" (the default), `Access-Control-Allow-Origin: *` and no
//   credentials, as socket.io's and Express cors()'s defaults;
// - with a list, a listed Origin is reflected with `Vary: Origin` and
//   `Access-Control-Allow-Credentials: true`; any other origin gets no CORS
//   header (the browser blocks the read) and its WebSocket upgrades are
//   refused (a WebSocket is not subject to CORS: without this check any page
//   a band member visits could open one).

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/http_types.hpp"

namespace bandsync::util {

using http_headers = std::vector<std::pair<std::string, std::string>>;

class cors_policy {
 public:
  explicit cors_policy(std::vector<std::string> origins = {"*"});

  bool any() const { return any_; }
  // True when a request with this Origin header value ("" when absent) may
  // proceed: no Origin (not a browser), "*", or a listed origin.
  bool allows(std::string_view origin) const;
  // Adds the CORS answer headers for `req` to `headers`.
  void apply(const http_request& req, http_headers& headers) const;
  // The 204 answer to a preflight (OPTIONS), CORS headers included.
  http_response preflight(const http_request& req) const;

 private:
  std::vector<std::string> origins_;
  bool any_ = false;
};

}  // namespace bandsync::util
