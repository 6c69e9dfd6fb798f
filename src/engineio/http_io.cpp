#include "engineio/http_io.hpp"

#include <sys/resource.h>

#include <cctype>

#include <spdlog/spdlog.h>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>

namespace bandsync::engineio {

namespace net = boost::asio;
namespace http = boost::beast::http;

boost::system::error_code open_acceptor(net::ip::tcp::acceptor& acceptor, const std::string& host,
                                        uint16_t port) {
  boost::system::error_code ec;
  auto addr = net::ip::make_address(host, ec);
  if (ec) return ec;
  net::ip::tcp::endpoint ep(addr, port);
  acceptor.open(ep.protocol(), ec);
  if (ec && addr.is_v6() && addr.to_v6().is_unspecified()) {
    // No IPv6 on this host: serve IPv4 on every interface instead.
    ep = net::ip::tcp::endpoint(net::ip::address_v4::any(), port);
    acceptor.open(ep.protocol(), ec);
  }
  if (ec) return ec;
  acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (ep.address().is_v6()) acceptor.set_option(net::ip::v6_only(false), ec);
  acceptor.bind(ep, ec);
  if (ec) return ec;
  acceptor.listen(net::socket_base::max_listen_connections, ec);
  return ec;
}

std::string address_text(const net::ip::tcp::endpoint& ep) {
  auto a = ep.address();
  if (a.is_v6() && a.to_v6().is_v4_mapped())
    return net::ip::make_address_v4(net::ip::v4_mapped, a.to_v6()).to_string();
  return a.to_string();
}

util::http_request to_plain(const http::request<http::string_body>& req,
                            const std::string& remote) {
  util::http_request r;
  r.method = std::string(req.method_string());
  r.target = std::string(req.target());
  auto q = r.target.find('?');
  r.path = r.target.substr(0, q);
  if (q != std::string::npos) r.query = r.target.substr(q + 1);
  for (const auto& f : req) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers.emplace_back(std::move(name), std::string(f.value()));
  }
  r.body = req.body();
  r.remote_address = remote;
  return r;
}

http::response<http::string_body> to_beast(const util::http_response& r, unsigned version,
                                           bool keep_alive, const header_list& common) {
  http::response<http::string_body> res{static_cast<http::status>(r.status), version};
  res.set(http::field::server, "bandsync");
  for (const auto& [k, v] : common) res.set(k, v);
  // A route's own value of a common header replaces it (the band page's
  // Content-Security-Policy replaces the API's).
  for (const auto& [k, v] : common)
    for (const auto& [rk, rv] : r.headers)
      if (boost::beast::iequals(k, rk)) res.erase(k);
  if (!r.content_type.empty()) res.set(http::field::content_type, r.content_type);
  // insert, not set: a name may repeat (Vary from CORS and from the route).
  for (const auto& [k, v] : r.headers) res.insert(k, v);
  res.body() = r.body;
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

descriptor_gauge::descriptor_gauge(size_t reserve) : reserve_(reserve) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
    limit_ = static_cast<size_t>(rl.rlim_cur);
}

void descriptor_gauge::log_pressure(int fd, const char* what) {
  auto now = std::chrono::steady_clock::now();
  if (now - last_log_ < std::chrono::seconds(10)) return;
  last_log_ = now;
  spdlog::warn(
      "listener: {} descriptors in use of the {} allowed (RLIMIT_NOFILE): {} (a reserve of {} is "
      "kept for /health and Redis; raise the limit or add capacity)",
      fd, limit_, what, reserve_);
}

}  // namespace bandsync::engineio
