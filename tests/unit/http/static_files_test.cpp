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

}  // namespace
}  // namespace bandsync::http
