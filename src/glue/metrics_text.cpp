#include "glue/metrics_text.hpp"

#include "http/prometheus.hpp"

namespace bandsync::glue {

void lag_histogram::observe(double ms) {
  for (size_t i = 0; i < bounds.size(); ++i)
    if (ms <= bounds[i]) ++counts[i];
  ++total;
  sum += ms;
}

std::string metrics_text(const domain::session_service::counters& m,
                         const transport_figures& transport, const lag_histogram& lag) {
  http::prometheus_text p;
  p.gauge("bandsync_connections", "Open Engine.IO sessions.", transport.connections);
  p.counter("bandsync_connections_opened_total", "Engine.IO sessions opened since start.",
            transport.connections_opened);
  p.gauge("bandsync_sessions", "Band sessions in memory.", m.sessions);
  p.gauge("bandsync_playing_sessions", "Band sessions currently playing.", m.playing_sessions);
  p.labelled_counter("bandsync_events_total", "Client events received, by name.", "event",
                     m.events_by_name);
  p.labelled_counter("bandsync_errors_total", "Error replies sent, by code.", "code",
                     m.errors_by_code);
  p.counter("bandsync_http_rate_limited_total", "Requests answered 429.", transport.rate_limited);
  p.histogram("bandsync_tick_lag_ms", "How late the shared scroll tick fired.", lag.bounds,
              lag.counts, lag.total, lag.sum);
  return p.str();
}

std::string redis_metrics_text(bool connected, const store::redis_store::counters& c) {
  http::prometheus_text p;
  p.gauge("bandsync_redis_up", "1 while the Redis connection is ready.", connected ? 1 : 0);
  p.gauge("bandsync_redis_pending_keys",
          "Keys with a write not yet sent to Redis (the outage buffer).", c.pending_keys);
  p.counter("bandsync_redis_writes_total", "Key writes acknowledged by Redis.", c.ops_written);
  p.counter("bandsync_redis_writes_failed_total", "Key writes refused by Redis.", c.ops_failed);
  p.counter("bandsync_redis_writes_dropped_total",
            "Key writes dropped because the outage buffer was full.", c.ops_dropped);
  p.counter("bandsync_redis_resyncs_total", "Full rewrites of the live state after a reconnection.",
            c.resyncs);
  return p.str();
}

}  // namespace bandsync::glue
