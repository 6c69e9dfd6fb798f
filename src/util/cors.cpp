#include "util/cors.hpp"

#include <algorithm>

namespace bandsync::util {

cors_policy::cors_policy(std::vector<std::string> origins) : origins_(std::move(origins)) {
  any_ = std::find(origins_.begin(), origins_.end(), "*") != origins_.end();
}

bool cors_policy::allows(std::string_view origin) const {
  return origin.empty() || any_ ||
         std::find(origins_.begin(), origins_.end(), origin) != origins_.end();
}

void cors_policy::apply(const http_request& req, http_headers& headers) const {
  if (any_) {
    headers.emplace_back("Access-Control-Allow-Origin", "*");
    return;
  }
  auto origin = req.header("origin");
  if (origin.empty() || !allows(origin)) return;
  headers.emplace_back("Access-Control-Allow-Origin", std::string(origin));
  headers.emplace_back("Access-Control-Allow-Credentials", "true");
  headers.emplace_back("Vary", "Origin");
}

http_response cors_policy::preflight(const http_request& req) const {
  http_response pre{204, "", "", {}};
  apply(req, pre.headers);
  pre.headers.emplace_back("Access-Control-Allow-Methods", "GET,HEAD,PUT,PATCH,POST,DELETE");
  auto want = req.header("access-control-request-headers");
  if (!want.empty()) pre.headers.emplace_back("Access-Control-Allow-Headers", std::string(want));
  // Answers differ by requested headers (and by Origin, with a list).
  pre.headers.emplace_back("Vary", "Access-Control-Request-Headers");
  return pre;
}

}  // namespace bandsync::util
