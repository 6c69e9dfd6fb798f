#pragma once
// Settings of the Redis store (EVENTS.md "Configuration": REDIS_HOST,
// REDIS_PORT, REDIS_PASSWORD, REDIS_DB) and the bounds and timings that are
// not configuration variables but that tests shorten.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace bandsync::store {

struct redis_endpoint {
  std::string host = "127.0.0.1";
  uint16_t port = 6379;
  std::string password;  // non-empty: AUTH <password> on every connection
  int db = 0;            // non-zero: SELECT <db> on every connection
};

struct redis_connection_options {
  redis_endpoint endpoint;
  // From the start of a connection attempt until AUTH/SELECT/PING answered.
  std::chrono::milliseconds connect_timeout{2000};
  // A PING every interval while connected; one still unanswered at the next
  // interval means the server hangs, and the connection is dropped.
  std::chrono::milliseconds ping_interval{2000};
  // Reconnect delay: initial, doubled after each failed attempt, capped.
  std::chrono::milliseconds backoff_initial{100};
  std::chrono::milliseconds backoff_max{5000};
  // The request queue (written but unanswered, plus not yet written): beyond
  // either bound send() refuses with redis_error::queue_full.
  size_t max_queued_requests = 4096;
  size_t max_queued_bytes = 64 * 1024 * 1024;
};

struct redis_store_options {
  redis_connection_options connection;
  int ttl_seconds = 1800;  // every key (EVENTS.md "Redis layout")
  // How often, at most, one session's write also refreshes the expiry of its
  // other keys (members, ticker); SET ... EX refreshes the written key itself.
  std::chrono::milliseconds refresh_interval{60000};
  // Outage buffer: distinct keys with a pending write (newest wins per key).
  // A write to a new key beyond it is dropped and counted: a dropped SET is
  // rewritten by the resync after reconnection, a dropped DEL is healed by
  // the key's TTL.
  size_t max_pending_keys = 1'000'000;
  size_t max_batch_ops = 512;       // commands per MULTI/EXEC (whole sessions)
  size_t max_inflight_batches = 8;  // MULTI/EXEC blocks awaiting EXEC replies
  // Start-up load (blocking, before the listener accepts).
  std::chrono::milliseconds load_timeout{5000};
  size_t max_load_sessions = 100000;
};

}  // namespace bandsync::store
