// /metrics text from the layers' figures.
#include "glue/metrics_text.hpp"

#include <gtest/gtest.h>

namespace bandsync::glue {
namespace {

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

TEST(MetricsText, CarriesEveryFigure) {
  domain::session_service::counters c;
  c.events_by_name = {{"play", 4}, {"unknown", 1}};
  c.errors_by_code = {{"NOT_LEADER", 2}};
  c.sessions = 3;
  c.playing_sessions = 1;
  transport_figures t{5, 9, 7};
  lag_histogram lag;
  lag.observe(0.2);
  lag.observe(3);
  lag.observe(500);
  auto text = metrics_text(c, t, lag);
  for (const char* line : {
           "bandsync_connections 5",
           "bandsync_connections_opened_total 9",
           "bandsync_sessions 3",
           "bandsync_playing_sessions 1",
           "bandsync_events_total{event=\"play\"} 4",
           "bandsync_events_total{event=\"unknown\"} 1",
           "bandsync_errors_total{code=\"NOT_LEADER\"} 2",
           "bandsync_http_rate_limited_total 7",
           "# TYPE bandsync_tick_lag_ms histogram",
           "bandsync_tick_lag_ms_bucket{le=\"0.5\"} 1",
           "bandsync_tick_lag_ms_bucket{le=\"2\"} 1",
           "bandsync_tick_lag_ms_bucket{le=\"5\"} 2",
           "bandsync_tick_lag_ms_bucket{le=\"100\"} 2",
           "bandsync_tick_lag_ms_bucket{le=\"+Inf\"} 3",
           "bandsync_tick_lag_ms_sum 503.200",
           "bandsync_tick_lag_ms_count 3",
       }) {
    EXPECT_TRUE(has_line(text, line)) << line << "\n" << text;
  }
  EXPECT_EQ(text.rfind("# HELP bandsync_connections Open Engine.IO sessions.\n", 0), 0u);
}

TEST(MetricsText, RedisFigures) {
  store::redis_store::counters c;
  c.pending_keys = 2;
  c.ops_written = 10;
  c.ops_failed = 1;
  c.ops_dropped = 3;
  c.resyncs = 4;
  auto text = redis_metrics_text(true, c);
  for (const char* line : {
           "bandsync_redis_up 1",
           "bandsync_redis_pending_keys 2",
           "bandsync_redis_writes_total 10",
           "bandsync_redis_writes_failed_total 1",
           "bandsync_redis_writes_dropped_total 3",
           "bandsync_redis_resyncs_total 4",
       }) {
    EXPECT_TRUE(has_line(text, line)) << line << "\n" << text;
  }
  EXPECT_TRUE(has_line(redis_metrics_text(false, c), "bandsync_redis_up 0"));
}

}  // namespace
}  // namespace bandsync::glue
