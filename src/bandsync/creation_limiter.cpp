#include "bandsync/creation_limiter.hpp"

#include <algorithm>
#include <iterator>

namespace bandsync::domain {

void creation_limiter::refill(bucket& b, double burst, double per_minute, int64_t now_us) {
  if (now_us > b.updated_us) {
    b.tokens = std::min(
        burst, b.tokens + static_cast<double>(now_us - b.updated_us) * per_minute / 60'000'000.0);
  }
  b.updated_us = std::max(b.updated_us, now_us);
}

void creation_limiter::drop_full_addresses(int64_t now_us) {
  for (auto it = addresses_.begin(); it != addresses_.end();) {
    refill(it->second, limits_.address_burst, limits_.address_per_minute, now_us);
    it = it->second.tokens >= limits_.address_burst ? addresses_.erase(it) : std::next(it);
  }
}

bool creation_limiter::try_create(const std::string& conn_id, const std::string& address,
                                  int64_t now_us) {
  auto conn_it = connections_.find(conn_id);
  bucket conn =
      conn_it != connections_.end() ? conn_it->second : bucket{limits_.connection_burst, now_us};
  refill(conn, limits_.connection_burst, limits_.connection_per_minute, now_us);
  if (conn.tokens < 1) {
    if (conn_it != connections_.end()) conn_it->second = conn;
    return false;
  }

  if (!address.empty()) {
    auto addr_it = addresses_.find(address);
    if (addr_it == addresses_.end()) {
      if (addresses_.size() >= limits_.max_addresses) drop_full_addresses(now_us);
      if (addresses_.size() >= limits_.max_addresses) return false;
      addr_it = addresses_.emplace(address, bucket{limits_.address_burst, now_us}).first;
    }
    refill(addr_it->second, limits_.address_burst, limits_.address_per_minute, now_us);
    if (addr_it->second.tokens < 1) return false;
    addr_it->second.tokens -= 1;
  }
  conn.tokens -= 1;
  connections_[conn_id] = conn;
  return true;
}

}  // namespace bandsync::domain
