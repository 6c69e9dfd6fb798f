#pragma once
// The plain HTTP routes that share the listener with Socket.IO (EVENTS.md
// "HTTP"): GET /, GET /health, GET /metrics, 404 JSON for the rest; the
// Helmet-default security headers; CORS from the policy shared with the
// Engine.IO listener (util/cors.hpp); the per-IP request limit
// (RATE_LIMIT_*), which does not apply to Engine.IO (the listener has its
// own handshake and connection limits) nor to GET /health, which has its own
// per-IP limit (monitors poll it; it must keep answering when an address is
// limited); GET /metrics may require a bearer token.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>

#include "http/rate_limiter.hpp"
#include "http/static_files.hpp"
#include "util/cors.hpp"
#include "util/http_types.hpp"

namespace bandsync::http {

using util::http_request;
using util::http_response;

// What the routes report; filled in by the app from the live service.
struct status_source {
  std::function<boost::json::object()> performance;
  std::function<boost::json::object()> session_stats;
  std::function<bool()> redis_configured;
  std::function<bool()> redis_up;
  std::function<std::string()> metrics_text;  // Prometheus exposition format
  std::function<int64_t()> wall_ms;
  std::function<double()> uptime_s;
  // Cluster mode only: the `cluster` object of GET /health (node id, peers).
  std::function<boost::json::object()> cluster;
};

// The headers Helmet 7 sends by default.
std::vector<std::pair<std::string, std::string>> security_headers();

class routes {
 public:
  // `health_limiter` limits /health (and /health only); null = not limited.
  routes(status_source src, rate_limiter& limiter, std::vector<std::string> cors_origins,
         rate_limiter* health_limiter = nullptr);

  // Non-empty: GET /metrics requires `Authorization: Bearer <token>` and
  // answers 401 JSON otherwise (METRICS_TOKEN).
  void set_metrics_token(std::string token) { metrics_token_ = std::move(token); }

  // Answers a request that is not on the Engine.IO path.
  http_response handle(const http_request& req);

  uint64_t rate_limited() const { return rate_limited_; }

  // The embedded files (static_files.hpp), answered after the JSON routes;
  // none when unset. `files` must outlive the routes.
  void serve_files(const static_files* files) { assets_ = files; }

 private:
  std::optional<http_response> limit(rate_limiter& limiter, const http_request& req,
                                     std::vector<std::pair<std::string, std::string>>& headers);
  bool metrics_authorized(const http_request& req) const;

  status_source src_;
  rate_limiter& limiter_;
  util::cors_policy cors_;
  rate_limiter* health_limiter_;
  std::string metrics_token_;
  uint64_t rate_limited_ = 0;
  const static_files* assets_ = nullptr;
};

// ISO 8601 UTC with milliseconds, as JavaScript's Date.prototype.toISOString.
std::string iso8601(int64_t wall_ms);

}  // namespace bandsync::http
