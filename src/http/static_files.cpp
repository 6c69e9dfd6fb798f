#include "http/static_files.hpp"

#include "web/assets.hpp"

namespace bandsync::http {

bool etag_matches(std::string_view header, std::string_view etag) {
  auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
  };
  size_t start = 0;
  while (start <= header.size()) {
    size_t comma = header.find(',', start);
    auto item =
        trim(header.substr(start, comma == std::string_view::npos ? header.npos : comma - start));
    if (item == "*") return true;
    if (item.starts_with("W/")) item.remove_prefix(2);
    if (!item.empty() && item == etag) return true;
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return false;
}

bool static_files::serve(const util::http_request& req, util::http_response& res) const {
  if (req.method != "GET" && req.method != "HEAD") return false;
  if (!serve_client_ && req.path.starts_with("/socket.io/")) return false;
  for (const auto& a : web::assets()) {
    if (a.path != req.path) continue;
    res.headers.emplace_back("ETag", std::string(a.etag));
    res.headers.emplace_back("Cache-Control", "no-cache");
    if (etag_matches(req.header("if-none-match"), a.etag)) {
      res.status = 304;
      res.content_type.clear();
      res.body.clear();
    } else {
      res.status = 200;
      res.content_type = std::string(a.content_type);
      res.body = std::string(a.body);
    }
    return true;
  }
  return false;
}

}  // namespace bandsync::http
