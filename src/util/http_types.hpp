#pragma once
// Plain HTTP request/response values that cross the boundary between the
// listener (Beast, in engineio) and the HTTP routes (src/http), so that
// routing, CORS and rate limiting are written and tested without Beast.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bandsync::util {

struct http_request {
  std::string method;                                        // "GET", "POST", ...
  std::string target;                                        // path + query, as sent
  std::string path;                                          // decoded path
  std::string query;                                         // raw query, without '?'
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string remote_address;

  // First value of header `name` (lower-case), or "" when absent.
  std::string_view header(std::string_view name) const {
    for (const auto& [k, v] : headers)
      if (k == name) return v;
    return {};
  }
};

struct http_response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

}  // namespace bandsync::util
