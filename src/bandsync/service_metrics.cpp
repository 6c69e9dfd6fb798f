// The service's health and metrics views (GET /, GET /health, GET /metrics).

#include <cmath>

#include "bandsync/events.hpp"
#include "bandsync/session_service.hpp"

namespace bandsync::domain {

boost::json::object session_service::performance() const {
  int64_t now_us = core_.clk.steady_us();
  int64_t now_wall = core_.clk.wall_ms();
  boost::json::object p;
  p["totalConnections"] = core_.connections.total();
  p["activeConnections"] = core_.connections.active();
  p["messagesPerSecond"] = core_.messages.last_window_count(now_us);
  p["averageLatency"] = std::round(core_.connections.average_latency_ms() * 100) / 100;
  p["lastResetTime"] = now_wall - (now_us - core_.messages.current_window_start_us(now_us)) / 1000;
  return p;
}

boost::json::object session_service::session_stats() const {
  boost::json::object s;
  s["totalSessions"] = core_.sessions.size();
  s["activeSessions"] = core_.sessions.size() - core_.sessions.empty_count();
  s["playingSessions"] = core_.sessions.playing().size();
  s["totalMembers"] = core_.member_total;
  return s;
}

session_service::counters session_service::metrics() const {
  counters c;
  auto table = event_table();
  for (size_t i = 0; i < table.size(); ++i) {
    c.events_by_name[std::string(table[i].name)] = core_.event_counts[i];
  }
  c.events_by_name["unknown"] = core_.event_counts[table.size()];
  for (auto code : all_reply_errors) {
    c.errors_by_code[std::string(code_name(code))] = core_.error_counts[static_cast<size_t>(code)];
  }
  c.sessions = core_.sessions.size();
  c.playing_sessions = core_.sessions.playing().size();
  c.connections = core_.connections.active();
  return c;
}

}  // namespace bandsync::domain
