#pragma once
// GET of the files compiled into the binary (src/web): /bandsync-client.js
// always, and the socket.io-client bundle under /socket.io/ (socket.io.js,
// .min.js, .esm.min.js and their source maps) unless SERVE_CLIENT is off, as
// socket.io's `serveClient` option. Strong ETag, If-None-Match → 304,
// Cache-Control: no-cache (the URLs are stable, the bytes change with the
// server version, so a client revalidates each time and gets a 304).
// Also the band page (src/web/page): /app/* always, and its HTML for a
// browser's GET / (prefers_html), with the page's own CSP (page_csp).

#include "util/http_types.hpp"

namespace bandsync::http {

class static_files {
 public:
  explicit static_files(bool serve_client) : serve_client_(serve_client) {}

  // Fills `res` (status, type, body, ETag and Cache-Control headers appended)
  // and returns true when `req` (a GET or HEAD) names an embedded file that is
  // enabled; returns false, leaving `res` untouched, otherwise.
  bool serve(const util::http_request& req, util::http_response& res) const;

  // The band page's HTML for `req` (GET / from a browser), with its CSP
  // (page_csp) and `Vary: Accept`; same ETag/304 handling as serve().
  void serve_page(const util::http_request& req, util::http_response& res) const;

 private:
  bool serve_client_;
};

// True when an If-None-Match header value matches `etag` (RFC 9110 13.1.2:
// `*`, or a comma-separated list compared weakly, so W/"x" matches "x").
bool etag_matches(std::string_view if_none_match, std::string_view etag);

// True when an Accept header value explicitly prefers text/html over JSON:
// `text/html` is listed by name with a q above that of the most specific range
// matching application/json (application/json, application/*, */*). So
// browsers (text/html first, */*;q=0.8) get the page, while a missing Accept,
// `*/*` (curl), `application/json` and ties (`text/html, application/json`)
// keep the JSON of GET /. `text/*` alone does not count: it is not a browser.
bool prefers_html(std::string_view accept);

// The page's Content-Security-Policy: everything from 'self', no inline
// script or style, and connect-src 'self' plus ws:// and wss:// of `host` (the
// request's Host, when it is a plain host[:port]) for browsers that do not
// yet let 'self' cover WebSocket URLs (CSP 3 does). No
// upgrade-insecure-requests (the common headers have it): a band opens the
// page over plain http on a LAN address, where upgrading every script and the
// WebSocket to https would break the page.
std::string page_csp(std::string_view host);

}  // namespace bandsync::http
