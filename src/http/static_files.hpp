#pragma once
// GET of the files compiled into the binary (src/web): /bandsync-client.js
// always, and the socket.io-client bundle under /socket.io/ (socket.io.js,
// .min.js, .esm.min.js and their source maps) unless SERVE_CLIENT is off, as
// socket.io's `serveClient` option. Strong ETag, If-None-Match → 304,
// Cache-Control: no-cache (the URLs are stable, the bytes change with the
// server version, so a client revalidates each time and gets a 304).

#include "util/http_types.hpp"

namespace bandsync::http {

class static_files {
 public:
  explicit static_files(bool serve_client) : serve_client_(serve_client) {}

  // Fills `res` (status, type, body, ETag and Cache-Control headers appended)
  // and returns true when `req` (a GET or HEAD) names an embedded file that is
  // enabled; returns false, leaving `res` untouched, otherwise.
  bool serve(const util::http_request& req, util::http_response& res) const;

 private:
  bool serve_client_;
};

// True when an If-None-Match header value matches `etag` (RFC 9110 13.1.2:
// `*`, or a comma-separated list compared weakly, so W/"x" matches "x").
bool etag_matches(std::string_view if_none_match, std::string_view etag);

}  // namespace bandsync::http
