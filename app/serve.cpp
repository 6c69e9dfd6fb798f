#include "app/serve.hpp"

#include <array>
#include <chrono>
#include <csignal>

#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/serialize.hpp>

#include "bandsync/session_service.hpp"
#include "engineio/listener.hpp"
#include "engineio/server.hpp"
#include "http/rate_limiter.hpp"
#include "http/routes.hpp"
#include "socketio/server.hpp"
#include "store/memory_store.hpp"
#include "util/json_text.hpp"

namespace bandsync::app {
namespace {

namespace net = boost::asio;
using namespace std::chrono_literals;

// The domain's outbox on Socket.IO's main namespace: one room per session.
class socketio_outbox : public domain::outbox {
 public:
  explicit socketio_outbox(socketio::socket_namespace& ns) : ns_(ns) {}

  void emit_to(const std::string& conn_id, std::string_view event,
               const boost::json::value& payload) override {
    if (auto s = ns_.find(conn_id)) s->emit(event, boost::json::array{payload});
  }
  void emit_to_session(const std::string& session_id, std::string_view event,
                       const boost::json::value& payload) override {
    ns_.to(session_id).emit(event, boost::json::array{payload});
  }
  void join_room(const std::string& conn_id, const std::string& session_id) override {
    if (auto s = ns_.find(conn_id)) s->join(session_id);
  }
  void leave_room(const std::string& conn_id, const std::string& session_id) override {
    if (auto s = ns_.find(conn_id)) s->leave(session_id);
  }

 private:
  socketio::socket_namespace& ns_;
};

// Tick lag: how late the shared 100 ms scheduler fired, in ms buckets.
struct lag_histogram {
  static constexpr std::array<double, 8> bounds{0.5, 1, 2, 5, 10, 25, 50, 100};
  std::array<uint64_t, bounds.size()> counts{};
  uint64_t total = 0;
  double sum = 0;

  void observe(double ms) {
    for (size_t i = 0; i < bounds.size(); ++i)
      if (ms <= bounds[i]) ++counts[i];
    ++total;
    sum += ms;
  }
};

std::string prometheus_text(const domain::session_service& service, const engineio::server& eio,
                            const lag_histogram& lag, uint64_t rate_limited) {
  auto m = service.metrics();
  std::string out;
  auto line = [&](const std::string& s) {
    out += s;
    out += '\n';
  };
  line("# HELP bandsync_connections Open Engine.IO sessions.");
  line("# TYPE bandsync_connections gauge");
  line("bandsync_connections " + std::to_string(eio.session_count()));
  line("# HELP bandsync_connections_opened_total Engine.IO sessions opened since start.");
  line("# TYPE bandsync_connections_opened_total counter");
  line("bandsync_connections_opened_total " + std::to_string(eio.sessions_opened()));
  line("# HELP bandsync_sessions Band sessions in memory.");
  line("# TYPE bandsync_sessions gauge");
  line("bandsync_sessions " + std::to_string(m.sessions));
  line("# HELP bandsync_playing_sessions Band sessions currently playing.");
  line("# TYPE bandsync_playing_sessions gauge");
  line("bandsync_playing_sessions " + std::to_string(m.playing_sessions));
  line("# HELP bandsync_events_total Client events received, by name.");
  line("# TYPE bandsync_events_total counter");
  for (const auto& [name, n] : m.events_by_name)
    line("bandsync_events_total{event=\"" + name + "\"} " + std::to_string(n));
  line("# HELP bandsync_errors_total Error replies sent, by code.");
  line("# TYPE bandsync_errors_total counter");
  for (const auto& [code, n] : m.errors_by_code)
    line("bandsync_errors_total{code=\"" + code + "\"} " + std::to_string(n));
  line("# HELP bandsync_http_rate_limited_total Requests answered 429.");
  line("# TYPE bandsync_http_rate_limited_total counter");
  line("bandsync_http_rate_limited_total " + std::to_string(rate_limited));
  line("# HELP bandsync_tick_lag_ms How late the shared scroll tick fired.");
  line("# TYPE bandsync_tick_lag_ms histogram");
  for (size_t i = 0; i < lag.bounds.size(); ++i) {
    char le[32];
    std::snprintf(le, sizeof le, "%g", lag.bounds[i]);
    line(std::string("bandsync_tick_lag_ms_bucket{le=\"") + le + "\"} " +
         std::to_string(lag.counts[i]));
  }
  line("bandsync_tick_lag_ms_bucket{le=\"+Inf\"} " + std::to_string(lag.total));
  char sum[64];
  std::snprintf(sum, sizeof sum, "%.3f", lag.sum);
  line(std::string("bandsync_tick_lag_ms_sum ") + sum);
  line("bandsync_tick_lag_ms_count " + std::to_string(lag.total));
  return out;
}

// Calls `fn` every `period` on a fixed schedule (no drift: the next deadline
// is the previous deadline plus the period); `fn` gets the lateness in ms.
class periodic {
 public:
  periodic(net::io_context& ioc, std::chrono::steady_clock::duration period,
           std::function<void(double lag_ms)> fn)
      : timer_(ioc), period_(period), fn_(std::move(fn)) {}

  void start() {
    next_ = std::chrono::steady_clock::now() + period_;
    arm();
  }
  void stop() {
    stopped_ = true;
    timer_.cancel();
  }

 private:
  void arm() {
    timer_.expires_at(next_);
    timer_.async_wait([this](boost::system::error_code ec) {
      if (ec || stopped_) return;
      auto now = std::chrono::steady_clock::now();
      double lag = std::chrono::duration<double, std::milli>(now - next_).count();
      fn_(lag);
      next_ += period_;
      // After a stall, skip the missed deadlines rather than firing in a burst.
      if (next_ <= now) next_ = now + period_;
      arm();
    });
  }

  net::steady_timer timer_;
  std::chrono::steady_clock::duration period_;
  std::function<void(double)> fn_;
  std::chrono::steady_clock::time_point next_;
  bool stopped_ = false;
};

}  // namespace

int run_serve(const config& cfg) {
  net::io_context ioc(1);
  auto started = std::chrono::steady_clock::now();

  domain::system_clock_source clock;
  store::memory_store store;
  if (cfg.redis_host)
    spdlog::warn(
        "REDIS_HOST={} is set, but this build has no Redis store yet: sessions are kept in "
        "memory and /health reports degraded",
        *cfg.redis_host);

  socketio::options so;
  so.connect_timeout = cfg.connect_timeout;
  socketio::server io(ioc.get_executor(), so);
  auto& main_ns = io.of("/");
  socketio_outbox outbox(main_ns);

  domain::service_options svc_opts;
  svc_opts.session_idle_ms = cfg.session_idle.count();
  domain::session_service service(clock, outbox, store, svc_opts);

  main_ns.on_connection([&service](const socketio::socket_ptr& s) {
    service.on_connect(s->id());
    s->on_any([&service](const socketio::socket_ptr& s, std::string_view event,
                         socketio::message& m,
                         socketio::ack_fn) { service.on_event(s->id(), event, m.args); });
    s->on_disconnect([&service](const socketio::socket_ptr& s, std::string_view) {
      service.on_disconnect(s->id());
    });
  });

  engineio::options eo;
  eo.ping_interval = cfg.ping_interval;
  eo.ping_timeout = cfg.ping_timeout;
  eo.max_payload = cfg.max_buffer_size;
  eo.cors_origins = cfg.cors_origins;
  engineio::server eio(ioc.get_executor(), eo, io);

  http::rate_limiter limiter(cfg.rate_limit_window_ms, cfg.rate_limit_max);
  lag_histogram lag;
  http::routes* routes_ptr = nullptr;
  http::status_source status;
  status.performance = [&] { return service.performance(); };
  status.session_stats = [&] { return service.session_stats(); };
  status.redis_configured = [&] { return cfg.redis_host.has_value(); };
  status.redis_up = [] { return false; };
  status.metrics_text = [&] {
    return prometheus_text(service, eio, lag, routes_ptr ? routes_ptr->rate_limited() : 0);
  };
  status.wall_ms = [&] { return clock.wall_ms(); };
  status.uptime_s = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  http::routes routes(status, limiter, cfg.cors_origins);
  routes_ptr = &routes;

  engineio::listener_options lo;
  lo.host = cfg.host;
  lo.port = cfg.port;
  engineio::listener listener(ioc, eio, lo);
  listener.set_common_headers(http::security_headers());
  listener.set_http_handler([&](const util::http_request& r) { return routes.handle(r); });
  listener.set_admission([&](const util::http_request& r) { return routes.admit_handshake(r); });
  if (auto ec = listener.start()) {
    spdlog::critical("cannot listen on [{}]:{}: {}", cfg.host, cfg.port, ec.message());
    return 1;
  }
  spdlog::info("BandSync listening on [{}]:{} (store: memory)", cfg.host, listener.port());

  // One scheduler for every playing session's ticks (ARCHITECTURE.md "Time").
  periodic ticker(ioc, 100ms, [&](double late_ms) {
    lag.observe(late_ms < 0 ? 0 : late_ms);
    service.tick();
  });
  periodic heartbeats(ioc, 30s, [&](double) { service.heartbeat_round(); });
  periodic sweeper(ioc, cfg.sweep_interval, [&](double) {
    if (auto n = service.sweep()) spdlog::info("sweep: removed {} idle sessions", n);
  });
  periodic metrics_log(ioc, cfg.metrics_interval, [&](double) {
    auto p = service.performance();
    auto m = service.metrics();
    spdlog::info(
        "metrics: connections={} sessions={} playing={} messagesPerSecond={} "
        "averageLatency={}",
        eio.session_count(), m.sessions, m.playing_sessions,
        util::to_json_text(p["messagesPerSecond"]), util::to_json_text(p["averageLatency"]));
  });
  ticker.start();
  heartbeats.start();
  sweeper.start();
  metrics_log.start();

  // Graceful shutdown: stop accepting, close every session with a close
  // packet, let the writes drain briefly, then leave the loop.
  net::signal_set signals(ioc, SIGINT, SIGTERM);
  net::steady_timer drain(ioc);
  std::function<void()> wait_drained;
  auto deadline = std::chrono::steady_clock::time_point::max();
  wait_drained = [&] {
    if (listener.open_connections() == 0 || std::chrono::steady_clock::now() >= deadline) {
      ioc.stop();
      return;
    }
    drain.expires_after(20ms);
    drain.async_wait([&](boost::system::error_code) { wait_drained(); });
  };
  signals.async_wait([&](boost::system::error_code ec, int sig) {
    if (ec) return;
    spdlog::info("received signal {}: shutting down", sig);
    listener.stop();
    ticker.stop();
    heartbeats.stop();
    sweeper.stop();
    metrics_log.stop();
    eio.close_all("server shutting down");
    deadline = std::chrono::steady_clock::now() + 1500ms;
    wait_drained();
  });

  ioc.run();
  spdlog::info("BandSync stopped");
  return 0;
}

}  // namespace bandsync::app
