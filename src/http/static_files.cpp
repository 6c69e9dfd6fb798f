#include "http/static_files.hpp"

#include "web/assets.hpp"

#include <algorithm>

namespace bandsync::http {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// q of one media range's parameters (RFC 9110 12.4.2): 0..1, 1 when absent;
// a malformed q counts as 0 (the range is ignored rather than trusted).
double quality(std::string_view params) {
  while (!params.empty()) {
    size_t semi = params.find(';');
    auto p = trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view{} : params.substr(semi + 1);
    if (p.size() < 2 || (p[0] != 'q' && p[0] != 'Q') || p[1] != '=') continue;
    auto v = p.substr(2);
    if (v.empty() || v.size() > 5 || (v[0] != '0' && v[0] != '1')) return 0;
    double q = v[0] - '0', scale = 0.1;
    if (v.size() > 1) {
      if (v[1] != '.') return 0;
      for (char c : v.substr(2)) {
        if (c < '0' || c > '9') return 0;
        q += (c - '0') * scale;
        scale /= 10;
      }
    }
    return q > 1 ? 0 : q;
  }
  return 1;
}

}  // namespace

bool etag_matches(std::string_view header, std::string_view etag) {
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

bool prefers_html(std::string_view accept) {
  double html = -1;
  int json_rank = 0;  // 3 application/json, 2 application/*, 1 */*
  double json = 0;
  size_t start = 0;
  // The header is bounded by the listener's header limit; one pass.
  while (start <= accept.size()) {
    size_t comma = accept.find(',', start);
    auto item = accept.substr(start, comma == std::string_view::npos ? accept.npos : comma - start);
    size_t semi = item.find(';');
    auto range = trim(item.substr(0, semi));
    double q = quality(semi == std::string_view::npos ? std::string_view{} : item.substr(semi + 1));
    if (iequals(range, "text/html")) {
      html = std::max(html, q);
    } else {
      int rank = iequals(range, "application/json") ? 3
                 : iequals(range, "application/*")  ? 2
                 : range == "*/*"                   ? 1
                                                    : 0;
      if (rank > json_rank) json_rank = rank, json = q;
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return html > 0 && html > json;
}

std::string page_csp(std::string_view host) {
  bool plain = !host.empty() && host.size() <= 255;
  for (char c : host)
    plain = plain && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '-' || c == ':' || c == '[' || c == ']');
  std::string connect = "connect-src 'self'";
  if (plain) connect += " ws://" + std::string(host) + " wss://" + std::string(host);
  return "default-src 'self';base-uri 'self';form-action 'self';frame-ancestors 'self';"
         "img-src 'self' data:;object-src 'none';script-src 'self';script-src-attr 'none';"
         "style-src 'self';manifest-src 'self';media-src 'self';" +
         connect;
}

void static_files::serve_page(const util::http_request& req, util::http_response& res) const {
  util::http_request page = req;
  page.path = "/app/index.html";
  serve(page, res);
  res.headers.emplace_back("Vary", "Accept");
}

bool static_files::serve(const util::http_request& req, util::http_response& res) const {
  if (req.method != "GET" && req.method != "HEAD") return false;
  if (!serve_client_ && req.path.starts_with("/socket.io/")) return false;
  for (const auto& a : web::assets()) {
    if (a.path != req.path) continue;
    res.headers.emplace_back("ETag", std::string(a.etag));
    res.headers.emplace_back("Cache-Control", "no-cache");
    if (a.content_type.starts_with("text/html"))
      res.headers.emplace_back("Content-Security-Policy", page_csp(req.header("host")));
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
