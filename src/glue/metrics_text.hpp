#pragma once
// GET /metrics: the server's figures in the Prometheus text format, from the
// domain's counters, the transport's and the HTTP layer's figures, the tick
// lag histogram and (when configured) the Redis store's counters.

#include <array>
#include <cstdint>
#include <string>

#include "bandsync/session_service.hpp"
#include "store/redis_store.hpp"

namespace bandsync::glue {

// Tick lag: how late the shared scheduler fired, in ms buckets.
struct lag_histogram {
  static constexpr std::array<double, 8> bounds{0.5, 1, 2, 5, 10, 25, 50, 100};
  std::array<uint64_t, bounds.size()> counts{};  // cumulative: <= bounds[i]
  uint64_t total = 0;
  double sum = 0;

  void observe(double ms);
};

struct transport_figures {
  size_t connections = 0;           // open Engine.IO sessions
  uint64_t connections_opened = 0;  // since start
  uint64_t rate_limited = 0;        // HTTP requests answered 429
};

std::string metrics_text(const domain::session_service::counters& service,
                         const transport_figures& transport, const lag_histogram& lag);

// The Redis store's gauges and counters, appended when Redis is configured.
std::string redis_metrics_text(bool connected, const store::redis_store::counters& c);

}  // namespace bandsync::glue
