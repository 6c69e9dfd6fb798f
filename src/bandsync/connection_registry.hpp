#pragma once
// Per-connection state of the main namespace: which session the connection is
// a member of and its latest measured latency (EVENTS.md `latency_probe`,
// `heartbeat_response`). An entry lives from on_connect to on_disconnect
// (a held connection keeps it), so the table is bounded by the network
// layer's connection limit and the recovery layer's held-socket bound.

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

namespace bandsync::domain {

struct connection_state {
  std::optional<std::string> session_id;  // set exactly while a session member
  std::optional<double> latency_ms;       // last measurement, clamped
  std::optional<int64_t> last_warn_us;    // last high-latency log (rate limit)
  std::string address;                    // remote address (creation_limiter), may be empty
  bool held = false;  // lost but recoverable (socket.io connection state recovery)
};

class connection_registry {
 public:
  // Returns false (and changes nothing) if `id` is already registered.
  bool add(const std::string& id);

  // Returns false if `id` was not registered.
  bool remove(const std::string& id);

  connection_state* find(const std::string& id);
  const connection_state* find(const std::string& id) const;

  // Healthy (EVENTS.md `heartbeat`): last latency below `threshold_ms`, or no
  // measurement yet.
  static bool healthy(const connection_state& c, double threshold_ms);

  // Calls f(id, state) for every connection, in no particular order.
  template <class F>
  void for_each(F&& f) const {
    for (const auto& [id, state] : connections_) f(id, state);
  }

  uint64_t total() const { return total_; }  // ever registered
  size_t active() const { return connections_.size(); }

  // Mean of the active connections' last latencies (those measured); 0 when
  // none has been measured.
  double average_latency_ms() const;

 private:
  std::unordered_map<std::string, connection_state> connections_;
  uint64_t total_ = 0;
};

}  // namespace bandsync::domain
