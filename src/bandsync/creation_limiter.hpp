#pragma once
// Bounds how fast sessions can be created (join_session for an id that does
// not exist yet), so that one client cannot fill the session table by joining
// and leaving new ids in a loop: a token bucket per connection and one per
// remote address (phones behind one NAT share the latter, hence its larger
// burst). A creation takes one token from both buckets or from neither.
//
// The address table is bounded: full buckets carry no state (an absent
// address starts full) and are dropped when the table is full; if every entry
// is still refilling, a new address is refused (fail closed rather than grow).

#include <cstdint>
#include <string>
#include <unordered_map>

namespace bandsync::domain {

struct creation_limits {
  double connection_burst = 20;       // creations a fresh connection may make at once
  double connection_per_minute = 10;  // then this many per minute
  double address_burst = 1000;        // creations one address may make at once
  double address_per_minute = 600;    // then this many per minute
  size_t max_addresses = 100000;      // address table bound
};

class creation_limiter {
 public:
  explicit creation_limiter(creation_limits limits = {}) : limits_(limits) {}

  // Takes a token for `conn_id` and one for `address` (an empty address has no
  // address bucket) at steady time `now_us`. Returns false, taking nothing,
  // when either bucket is empty or the address table is full.
  bool try_create(const std::string& conn_id, const std::string& address, int64_t now_us);

  // The connection closed: its bucket is dropped.
  void forget_connection(const std::string& conn_id) { connections_.erase(conn_id); }

  size_t tracked_connections() const { return connections_.size(); }
  size_t tracked_addresses() const { return addresses_.size(); }
  const creation_limits& limits() const { return limits_; }

 private:
  struct bucket {
    double tokens;
    int64_t updated_us;
  };
  // Refills `b` up to `burst` at `per_minute` for the time since it was updated.
  static void refill(bucket& b, double burst, double per_minute, int64_t now_us);
  void drop_full_addresses(int64_t now_us);

  creation_limits limits_;
  std::unordered_map<std::string, bucket> connections_;
  std::unordered_map<std::string, bucket> addresses_;
};

}  // namespace bandsync::domain
