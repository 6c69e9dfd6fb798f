#include "engineio/address_limits.hpp"

#include <algorithm>
#include <cmath>

namespace bandsync::engineio {

void address_limits::refill(entry& e, clock::time_point now) const {
  double elapsed = std::chrono::duration<double>(now - e.refilled).count();
  if (elapsed <= 0) return;
  e.tokens = std::min(opts_.handshake_burst, e.tokens + elapsed * opts_.handshake_rate);
  e.refilled = now;
}

void address_limits::purge(clock::time_point now) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    refill(it->second, now);
    if (it->second.connections == 0 && it->second.tokens >= opts_.handshake_burst)
      it = entries_.erase(it);
    else
      ++it;
  }
}

address_limits::entry* address_limits::find_or_add(std::string_view address,
                                                   clock::time_point now) {
  auto it = entries_.find(std::string(address));
  if (it != entries_.end()) {
    refill(it->second, now);
    return &it->second;
  }
  if (entries_.size() >= opts_.max_addresses) purge(now);
  if (entries_.size() >= opts_.max_addresses) return nullptr;
  return &entries_.emplace(std::string(address), entry{opts_.handshake_burst, now, 0})
              .first->second;
}

bool address_limits::take_handshake(std::string_view address, clock::time_point now,
                                    int& retry_after_s) {
  entry* e = find_or_add(address, now);
  if (e && e->tokens >= 1) {
    e->tokens -= 1;
    return true;
  }
  double missing = e ? 1 - e->tokens : 1;
  retry_after_s = opts_.handshake_rate > 0
                      ? std::max(1, static_cast<int>(std::ceil(missing / opts_.handshake_rate)))
                      : 60;
  return false;
}

bool address_limits::connection_opened(std::string_view address, clock::time_point now) {
  entry* e = find_or_add(address, now);
  if (!e || e->connections >= opts_.max_connections) return false;
  ++e->connections;
  return true;
}

void address_limits::connection_closed(std::string_view address) {
  auto it = entries_.find(std::string(address));
  if (it == entries_.end() || it->second.connections == 0) return;
  --it->second.connections;
  // Entries are dropped lazily (purge), when their bucket is full again.
}

size_t address_limits::connections_of(std::string_view address) const {
  auto it = entries_.find(std::string(address));
  return it == entries_.end() ? 0 : it->second.connections;
}

}  // namespace bandsync::engineio
