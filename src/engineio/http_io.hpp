#pragma once
// The listener's conversions between Beast's HTTP messages and the plain
// values of util/http_types.hpp, and its descriptor gauge. Internal to the
// listener (brings Beast): included by listener.cpp and http_io.cpp only.

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "util/http_types.hpp"

namespace bandsync::engineio {

using header_list = std::vector<std::pair<std::string, std::string>>;

// Opens, binds and listens. "::" serves IPv6 and IPv4 (dual stack), and
// falls back to 0.0.0.0 where IPv6 is unavailable.
boost::system::error_code open_acceptor(boost::asio::ip::tcp::acceptor& acceptor,
                                        const std::string& host, uint16_t port);

// The client's address as text; IPv4-mapped IPv6 addresses as plain IPv4.
std::string address_text(const boost::asio::ip::tcp::endpoint& ep);

util::http_request to_plain(const boost::beast::http::request<boost::beast::http::string_body>& req,
                            const std::string& remote);

// `r` as a Beast response: Server, the common headers, then r's own.
boost::beast::http::response<boost::beast::http::string_body> to_beast(const util::http_response& r,
                                                                       unsigned version,
                                                                       bool keep_alive,
                                                                       const header_list& common);

// How close the process is to its open-file limit. Descriptors are
// allocated lowest first, so a new socket's number is at least the count of
// descriptors open: a cheap, conservative gauge.
class descriptor_gauge {
 public:
  // Reads RLIMIT_NOFILE's soft limit (call after raising it).
  explicit descriptor_gauge(size_t reserve);
  // True when `fd` is within `margin` descriptors of the limit.
  bool within(int fd, size_t margin) const {
    return limit_ != 0 && static_cast<size_t>(fd) + margin >= limit_;
  }
  size_t limit() const { return limit_; }
  size_t reserve() const { return reserve_; }
  // One warning per 10 s at most, whatever the rate of refusals.
  void log_pressure(int fd, const char* what);

 private:
  size_t limit_ = 0;  // 0: unlimited or unknown
  size_t reserve_;
  std::chrono::steady_clock::time_point last_log_{};
};

}  // namespace bandsync::engineio
