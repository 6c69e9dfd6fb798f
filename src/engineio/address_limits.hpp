#pragma once
// Per-address admission for the listener, shaped for reconnect storms (a
// venue's phones behind one NAT address reconnecting together after a Wi-Fi
// outage) rather than for request floods:
// - a token bucket per address for new Engine.IO sessions (polling handshakes
//   and WebSockets without a sid): `burst` at once, then `rate` per second;
// - a cap on the TCP connections one address holds open.
// The HTTP request limit (RATE_LIMIT_*) is separate and does not apply here.
//
// No I/O and no clock of its own: callers pass the time, so it unit-tests.

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>

namespace bandsync::engineio {

struct address_limit_options {
  double handshake_rate = 100;     // new sessions per second per address (refill)
  double handshake_burst = 1000;   // bucket size: sessions admitted at once
  size_t max_connections = 10000;  // open TCP connections per address
  // Addresses tracked at once. An entry is dropped when its address holds no
  // connection and its bucket is full again; with the table full of live
  // entries a new address is refused (fail closed, never grow).
  size_t max_addresses = 100000;
};

class address_limits {
 public:
  using clock = std::chrono::steady_clock;

  explicit address_limits(address_limit_options o = {}) : opts_(o) {}

  const address_limit_options& opts() const { return opts_; }

  // Takes one handshake token for `address`. False: refused (no token left);
  // `retry_after_s` then says when one will be.
  bool take_handshake(std::string_view address, clock::time_point now, int& retry_after_s);

  // A TCP connection from `address` opens. False: over the per-address cap
  // (or the table is full); nothing is counted then.
  bool connection_opened(std::string_view address, clock::time_point now);
  void connection_closed(std::string_view address);

  size_t tracked() const { return entries_.size(); }
  size_t connections_of(std::string_view address) const;

 private:
  struct entry {
    double tokens;
    clock::time_point refilled;
    size_t connections = 0;
  };
  entry* find_or_add(std::string_view address, clock::time_point now);
  void refill(entry& e, clock::time_point now) const;
  void purge(clock::time_point now);

  address_limit_options opts_;
  std::unordered_map<std::string, entry> entries_;
};

}  // namespace bandsync::engineio
