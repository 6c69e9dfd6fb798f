// The CORS policy shared by Engine.IO and the plain routes.
#include "util/cors.hpp"

#include <gtest/gtest.h>

namespace bandsync::util {
namespace {

http_request with_origin(std::string origin) {
  http_request r;
  r.method = "GET";
  if (!origin.empty()) r.headers.emplace_back("origin", std::move(origin));
  return r;
}

std::string header(const http_headers& h, std::string_view name) {
  for (const auto& [k, v] : h)
    if (k == name) return v;
  return "<none>";
}

TEST(Cors, StarAnswersStarWithoutCredentials) {
  cors_policy any;
  http_headers h;
  any.apply(with_origin("http://anywhere.example"), h);
  EXPECT_EQ(header(h, "Access-Control-Allow-Origin"), "*");
  EXPECT_EQ(header(h, "Access-Control-Allow-Credentials"), "<none>");
  EXPECT_TRUE(any.allows("http://anywhere.example"));
}

TEST(Cors, ListReflectsListedOriginsWithCredentials) {
  cors_policy list({"http://band.example", "https://app.example"});
  http_headers h;
  list.apply(with_origin("https://app.example"), h);
  EXPECT_EQ(header(h, "Access-Control-Allow-Origin"), "https://app.example");
  EXPECT_EQ(header(h, "Access-Control-Allow-Credentials"), "true");
  EXPECT_EQ(header(h, "Vary"), "Origin");

  http_headers other;
  list.apply(with_origin("http://evil.example"), other);
  EXPECT_TRUE(other.empty());
  EXPECT_FALSE(list.allows("http://evil.example"));
  EXPECT_TRUE(list.allows("http://band.example"));
  EXPECT_TRUE(list.allows(""));  // no Origin: not a browser
}

TEST(Cors, PreflightIs204WithMethodsAndRequestedHeaders) {
  cors_policy list({"http://band.example"});
  auto req = with_origin("http://band.example");
  req.method = "OPTIONS";
  req.headers.emplace_back("access-control-request-headers", "content-type");
  auto pre = list.preflight(req);
  EXPECT_EQ(pre.status, 204u);
  EXPECT_EQ(header(pre.headers, "Access-Control-Allow-Origin"), "http://band.example");
  EXPECT_EQ(header(pre.headers, "Access-Control-Allow-Headers"), "content-type");
  EXPECT_NE(header(pre.headers, "Access-Control-Allow-Methods").find("POST"), std::string::npos);
}

}  // namespace
}  // namespace bandsync::util
