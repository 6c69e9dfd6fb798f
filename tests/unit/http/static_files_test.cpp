// The embedded-file routes without a listener: If-None-Match matching
// (RFC 9110 13.1.2) and what static_files answers for each kind of request.

#include "http/static_files.hpp"
#include "web/assets.hpp"

#include <gtest/gtest.h>

namespace bandsync::http {
namespace {

util::http_request get(std::string path, std::string if_none_match = "") {
  util::http_request r;
  r.method = "GET";
  r.path = std::move(path);
  if (!if_none_match.empty()) r.headers.emplace_back("if-none-match", std::move(if_none_match));
  return r;
}

std::string_view header(const util::http_response& r, std::string_view name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return {};
}

TEST(EtagMatches, ListsWildcardAndWeakComparison) {
  const std::string_view tag = "\"abc\"";
  struct row {
    std::string_view header;
    bool match;
  };
  for (auto [h, want] :
       {row{"\"abc\"", true}, row{"W/\"abc\"", true}, row{"*", true}, row{"\"x\", \"abc\"", true},
        row{" \"x\" ,\t\"abc\" ", true}, row{"\"abcd\"", false}, row{"abc", false}, row{"", false},
        row{",,", false}, row{"\"x\"", false}, row{"W/", false}}) {
    EXPECT_EQ(etag_matches(h, tag), want) << "If-None-Match: " << h;
  }
}

TEST(StaticFiles, EveryEmbeddedFileIsServedWithItsTypeAndTag) {
  static_files files(true);
  ASSERT_GE(web::assets().size(), 7u);
  for (const auto& a : web::assets()) {
    util::http_response res;
    ASSERT_TRUE(files.serve(get(std::string(a.path)), res)) << a.path;
    EXPECT_EQ(res.status, 200u);
    EXPECT_EQ(res.content_type, a.content_type);
    EXPECT_EQ(res.body, a.body);
    EXPECT_EQ(header(res, "ETag"), a.etag);
    EXPECT_EQ(header(res, "Cache-Control"), "no-cache");
    EXPECT_EQ(a.etag.size(), 34u);
  }
}

TEST(StaticFiles, MatchingTagIs304WithoutBody) {
  static_files files(true);
  const auto& a = web::assets().front();
  util::http_response res;
  ASSERT_TRUE(files.serve(get(std::string(a.path), std::string(a.etag)), res));
  EXPECT_EQ(res.status, 304u);
  EXPECT_TRUE(res.body.empty());
  EXPECT_TRUE(res.content_type.empty());
  EXPECT_EQ(header(res, "ETag"), a.etag);
}

TEST(StaticFiles, ServeClientOffLeavesOnlyTheLibrary) {
  static_files files(false);
  util::http_response res;
  EXPECT_FALSE(files.serve(get("/socket.io/socket.io.js"), res));
  EXPECT_EQ(res.status, 200u);  // untouched
  EXPECT_TRUE(res.body.empty());
  EXPECT_TRUE(files.serve(get("/bandsync-client.js"), res));
}

TEST(StaticFiles, OtherMethodsAndPathsAreNotServed) {
  static_files files(true);
  util::http_response res;
  auto post = get("/bandsync-client.js");
  post.method = "POST";
  EXPECT_FALSE(files.serve(post, res));
  EXPECT_FALSE(files.serve(get("/bandsync-client.js/"), res));
  EXPECT_FALSE(files.serve(get("/socket.io/"), res));
  EXPECT_FALSE(files.serve(get("/"), res));
}

TEST(PrefersHtml, BrowsersGetThePageApiClientsTheJson) {
  struct row {
    std::string_view accept;
    bool html;
  };
  for (auto [accept, want] : {
           // Chromium, Firefox and Safari navigations.
           row{"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
               "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
               true},
           row{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", true},
           row{"TEXT/HTML", true},
           row{" text/html ; q=0.5 , application/json;q=0.4", true},
           row{"application/json;q=0.5, text/html", true},
           // API clients: none, curl, the app, monitors, ties, refusals.
           row{"", false},
           row{"*/*", false},
           row{"application/json", false},
           row{"application/json, text/plain, */*", false},
           row{"text/html, application/json", false},
           row{"text/html;q=0.8, */*", false},
           row{"text/html;q=0.8, application/*", false},
           row{"text/html;q=0, */*;q=0.1", false},
           row{"text/*", false},
           row{"text/html;q=abc", false},
           row{"text/html;q=1.5", false},
           row{"text/html;q=0.9, application/json;q=0.95, */*;q=0.1", false},
           row{",,;;,", false},
       }) {
    EXPECT_EQ(prefers_html(accept), want) << "Accept: " << accept;
  }
}

TEST(PageCsp, SelfOnlyWithTheHostsWebSocketAndNoInlineCode) {
  auto csp = page_csp("192.168.1.20:3001");
  EXPECT_NE(csp.find("script-src 'self';"), std::string::npos) << csp;
  EXPECT_NE(csp.find("style-src 'self';"), std::string::npos) << csp;
  EXPECT_NE(csp.find("connect-src 'self' ws://192.168.1.20:3001 wss://192.168.1.20:3001"),
            std::string::npos)
      << csp;
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("upgrade-insecure-requests"), std::string::npos) << csp;
  // A Host that is not a plain host[:port] is not reflected into the policy.
  for (std::string_view bad : {"", "a b", "evil;script-src *", "x'", "h\r\nX: y"}) {
    auto c = page_csp(bad);
    EXPECT_TRUE(c.ends_with("connect-src 'self'")) << bad << " → " << c;
  }
}

TEST(StaticFiles, ThePageCarriesItsCspAndVaryAccept) {
  static_files files(false);  // the page does not need SERVE_CLIENT
  auto req = get("/");
  req.headers.emplace_back("host", "localhost:3001");
  util::http_response res;
  files.serve_page(req, res);
  EXPECT_EQ(res.status, 200u);
  EXPECT_EQ(res.content_type, "text/html; charset=utf-8");
  EXPECT_NE(res.body.find("<script type=\"module\" src=\"/app/app.js\">"), std::string::npos);
  EXPECT_EQ(header(res, "Content-Security-Policy"), page_csp("localhost:3001"));
  EXPECT_EQ(header(res, "Vary"), "Accept");
  for (auto path :
       {"/app/app.js", "/app/app.css", "/app/socket.io.esm.min.js", "/bandsync-client.js"})
    EXPECT_TRUE(files.serve(get(path), res)) << path;
}

}  // namespace
}  // namespace bandsync::http
