#include "http/routes.hpp"
#include "util/json_text.hpp"

#include <algorithm>
#include <ctime>

#include <spdlog/spdlog.h>
#include <boost/json/serialize.hpp>

namespace bandsync::http {

std::vector<std::pair<std::string, std::string>> security_headers() {
  return {
      {"Content-Security-Policy",
       "default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action "
       "'self';frame-ancestors 'self';img-src 'self' data:;object-src 'none';script-src "
       "'self';script-src-attr 'none';style-src 'self' https: 'unsafe-inline';"
       "upgrade-insecure-requests"},
      {"Cross-Origin-Opener-Policy", "same-origin"},
      {"Cross-Origin-Resource-Policy", "same-origin"},
      {"Origin-Agent-Cluster", "?1"},
      {"Referrer-Policy", "no-referrer"},
      {"Strict-Transport-Security", "max-age=31536000; includeSubDomains"},
      {"X-Content-Type-Options", "nosniff"},
      {"X-DNS-Prefetch-Control", "off"},
      {"X-Download-Options", "noopen"},
      {"X-Frame-Options", "SAMEORIGIN"},
      {"X-Permitted-Cross-Domain-Policies", "none"},
      {"X-XSS-Protection", "0"},
  };
}

std::string iso8601(int64_t wall_ms) {
  std::time_t secs = static_cast<std::time_t>(wall_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(wall_ms % 1000));
  return buf;
}

routes::routes(status_source src, rate_limiter& limiter, std::vector<std::string> cors_origins,
               rate_limiter* health_limiter)
    : src_(std::move(src)),
      limiter_(limiter),
      cors_(std::move(cors_origins)),
      health_limiter_(health_limiter) {}

std::optional<http_response> routes::limit(
    rate_limiter& limiter, const http_request& req,
    std::vector<std::pair<std::string, std::string>>& headers) {
  int64_t now = src_.wall_ms();
  auto d = limiter.hit(req.remote_address, now);
  headers.emplace_back("RateLimit-Limit", std::to_string(d.limit));
  headers.emplace_back("RateLimit-Remaining", std::to_string(d.remaining));
  int64_t reset_s = std::max<int64_t>(0, (d.reset_ms - now + 999) / 1000);
  headers.emplace_back("RateLimit-Reset", std::to_string(reset_s));
  if (d.allowed) return std::nullopt;
  ++rate_limited_;
  spdlog::warn("http: rate limit reached for {} ({} {})", req.remote_address, req.method, req.path);
  http_response r{
      429, "application/json",
      R"({"error":"Too many requests, please try again later.","code":"RATE_LIMITED","retryAfter":)" +
          std::to_string(reset_s) + "}",
      headers};
  r.headers.emplace_back("Retry-After", std::to_string(reset_s));
  return r;
}

bool routes::metrics_authorized(const http_request& req) const {
  if (metrics_token_.empty()) return true;
  std::string_view auth = req.header("authorization");
  constexpr std::string_view scheme = "Bearer ";
  if (auth.size() != scheme.size() + metrics_token_.size() || auth.substr(0, 7) != scheme)
    return false;
  // Constant time in the token's content: no early exit on the first mismatch.
  unsigned diff = 0;
  for (size_t i = 0; i < metrics_token_.size(); ++i)
    diff |= static_cast<unsigned char>(auth[scheme.size() + i]) ^
            static_cast<unsigned char>(metrics_token_[i]);
  return diff == 0;
}

http_response routes::handle(const http_request& req) {
  std::vector<std::pair<std::string, std::string>> headers;
  // /health is outside RATE_LIMIT_*: a monitor polling it must not be locked
  // out with everyone behind its address (nor lock them out). It has its own,
  // generous per-IP limit.
  bool health = req.path == "/health";
  if (!health || health_limiter_) {
    if (auto refused = limit(health ? *health_limiter_ : limiter_, req, headers)) {
      cors_.apply(req, refused->headers);
      return *refused;
    }
  }
  http_response res;
  res.headers = std::move(headers);
  bool get = req.method == "GET" || req.method == "HEAD";
  if (req.method == "OPTIONS") {
    auto pre = cors_.preflight(req);
    pre.headers.insert(pre.headers.begin(), res.headers.begin(), res.headers.end());
    return pre;
  } else if (get && req.path == "/" && assets_ && prefers_html(req.header("accept"))) {
    assets_->serve_page(req, res);  // a browser: the band page
  } else if (get && req.path == "/") {
    // Caches must not hand the page to an API client or the JSON to a browser.
    if (assets_) res.headers.emplace_back("Vary", "Accept");
    boost::json::object body;
    body["ok"] = true;
    body["timestamp"] = iso8601(src_.wall_ms());
    body["performance"] = src_.performance();
    res.body = util::to_json_text(body);
  } else if (get && req.path == "/health") {
    bool configured = src_.redis_configured();
    bool up = configured && src_.redis_up();
    boost::json::object body;
    body["status"] = (configured && !up) ? "degraded" : "healthy";
    body["redis"] = up;
    body["performance"] = src_.performance();
    body["sessionStats"] = src_.session_stats();
    body["uptime"] = src_.uptime_s();
    if (src_.cluster) body["cluster"] = src_.cluster();
    res.body = util::to_json_text(body);
  } else if (get && req.path == "/metrics" && !metrics_authorized(req)) {
    res.status = 401;
    res.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"metrics\"");
    res.body = R"({"error":"Unauthorized","code":"UNAUTHORIZED"})";
    spdlog::info("http: /metrics without a valid bearer token from {}", req.remote_address);
  } else if (get && req.path == "/metrics") {
    res.content_type = "text/plain; version=0.0.4; charset=utf-8";
    res.body = src_.metrics_text();
  } else if (get && assets_ && assets_->serve(req, res)) {  // filled in by serve()
  } else {
    res.status = 404;
    boost::json::object body;
    body["error"] = "Not Found";
    body["path"] = req.path;
    res.body = util::to_json_text(body);
  }
  if (req.method == "HEAD") res.body.clear();
  cors_.apply(req, res.headers);
  return res;
}

}  // namespace bandsync::http
