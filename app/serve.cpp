#include "app/serve.hpp"

#include <array>
#include <chrono>
#include <csignal>
#include <memory>

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
#include "store/redis_store.hpp"
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

// The Redis store's gauges and counters, appended to /metrics when Redis is
// configured.
std::string redis_metrics_text(const store::redis_store& redis) {
  auto c = redis.stats();
  std::string out;
  auto metric = [&](const char* name, const char* type, const char* help, uint64_t value) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" +
           name + " " + std::to_string(value) + "\n";
  };
  metric("bandsync_redis_up", "gauge", "1 while the Redis connection is ready.",
         redis.connected() ? 1 : 0);
  metric("bandsync_redis_pending_keys", "gauge",
         "Keys with a write not yet sent to Redis (the outage buffer).", c.pending_keys);
  metric("bandsync_redis_writes_total", "counter", "Key writes acknowledged by Redis.",
         c.ops_written);
  metric("bandsync_redis_writes_failed_total", "counter", "Key writes refused by Redis.",
         c.ops_failed);
  metric("bandsync_redis_writes_dropped_total", "counter",
         "Key writes dropped because the outage buffer was full.", c.ops_dropped);
  metric("bandsync_redis_resyncs_total", "counter",
         "Full rewrites of the live state after a reconnection.", c.resyncs);
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

// Drives the domain's tick schedule with one timer: it sleeps until the
// earliest due tick, and is woken earlier when a session starts playing.
class tick_driver {
 public:
  tick_driver(net::io_context& ioc, domain::session_service& service, lag_histogram& lag)
      : timer_(ioc), service_(service), lag_(lag) {}

  void start() {
    service_.set_tick_wakeup([this](int64_t due_us) { wake_at(due_us); });
    if (auto due = service_.next_tick_due_us()) wake_at(*due);
  }
  void stop() {
    stopped_ = true;
    service_.set_tick_wakeup(nullptr);
    timer_.cancel();
  }

 private:
  void wake_at(int64_t due_us) {
    if (stopped_ || (armed_ && due_us >= armed_due_us_)) return;
    armed_ = true;
    armed_due_us_ = due_us;
    timer_.expires_at(std::chrono::steady_clock::time_point(std::chrono::microseconds(due_us)));
    timer_.async_wait([this, generation = ++generation_](boost::system::error_code ec) {
      if (ec || stopped_ || generation != generation_) return;
      armed_ = false;
      service_.tick_due([this](int64_t lag_us) { lag_.observe(lag_us < 0 ? 0 : lag_us / 1000.0); });
      if (auto next = service_.next_tick_due_us()) wake_at(*next);
    });
  }

  net::steady_timer timer_;
  domain::session_service& service_;
  lag_histogram& lag_;
  bool stopped_ = false;
  bool armed_ = false;
  int64_t armed_due_us_ = 0;
  uint64_t generation_ = 0;
};

}  // namespace

int run_serve(const config& cfg) {
  net::io_context ioc(1);
  auto started = std::chrono::steady_clock::now();

  domain::system_clock_source clock;
  // REDIS_HOST selects Redis persistence; without it, the embedded store. The
  // Redis store's start-up load (inside the service constructor, below) is the
  // one blocking Redis call, made before the listener accepts.
  std::unique_ptr<store::memory_store> memory;
  std::unique_ptr<store::redis_store> redis;
  store::session_store* store = nullptr;
  if (cfg.redis_host) {
    store::redis_store_options ro;
    ro.connection.endpoint.host = *cfg.redis_host;
    ro.connection.endpoint.port = cfg.redis_port;
    ro.connection.endpoint.password = cfg.redis_password;
    ro.connection.endpoint.db = cfg.redis_db;
    redis = std::make_unique<store::redis_store>(ioc, ro);
    store = redis.get();
  } else {
    memory = std::make_unique<store::memory_store>();
    store = memory.get();
  }

  socketio::options so;
  so.connect_timeout = cfg.connect_timeout;
  socketio::server io(ioc.get_executor(), so);
  auto& main_ns = io.of("/");
  socketio_outbox outbox(main_ns);

  domain::service_options svc_opts;
  svc_opts.session_idle_ms = cfg.session_idle.count();
  svc_opts.creation.connection_burst = cfg.session_create_burst;
  svc_opts.creation.connection_per_minute = cfg.session_create_per_minute;
  svc_opts.creation.address_burst = cfg.session_create_address_burst;
  svc_opts.creation.address_per_minute = cfg.session_create_address_per_minute;
  domain::session_service service(clock, outbox, *store, svc_opts);
  if (redis) {
    // After an outage Redis may have lost keys (a restart without persistence,
    // TTL expiry): on every reconnection the live state is written again.
    redis->set_resync_handler([&service] { service.persist_all(); });
    // A start-up load that Redis did not answer in time completes later.
    redis->set_load_handler(
        [&service](std::vector<store::session_record> records) { service.finish_load(records); });
    redis->start();
  }

  main_ns.on_connection([&service](const socketio::socket_ptr& s) {
    service.on_connect(s->id(), s->remote_address());
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
  status.redis_up = [&] { return redis && redis->connected(); };
  status.metrics_text = [&] {
    auto text = prometheus_text(service, eio, lag, routes_ptr ? routes_ptr->rate_limited() : 0);
    if (redis) text += redis_metrics_text(*redis);
    return text;
  };
  status.wall_ms = [&] { return clock.wall_ms(); };
  status.uptime_s = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  http::rate_limiter health_limiter(60'000, cfg.health_rate_limit_max);
  http::routes routes(status, limiter, cfg.cors_origins, &health_limiter);
  routes.set_metrics_token(cfg.metrics_token);
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
  spdlog::info("BandSync listening on [{}]:{} (store: {})", cfg.host, listener.port(),
               redis ? "redis " + *cfg.redis_host + ":" + std::to_string(cfg.redis_port)
                     : std::string("memory"));

  // One scheduler for every playing session's ticks (ARCHITECTURE.md "Time").
  tick_driver ticker(ioc, service, lag);
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
  // packet, let the writes drain briefly, then leave the loop. The service
  // first saves every session as the next start restores it (paused, no
  // members); those writes get up to 1 s to reach a reachable Redis, and the
  // whole shutdown stays under 2 s.
  net::signal_set signals(ioc, SIGINT, SIGTERM);
  net::steady_timer drain(ioc);
  std::function<void()> wait_drained;
  auto deadline = std::chrono::steady_clock::time_point::max();
  auto store_deadline = deadline;
  wait_drained = [&] {
    auto now = std::chrono::steady_clock::now();
    bool store_done = !redis || redis->idle() || !redis->connected() || now >= store_deadline;
    // Drained when every close packet was delivered and only idle keep-alive
    // connections remain (they close with the process, as Node's
    // closeIdleConnections does).
    bool drained = listener.busy_connections() == 0 && eio.lingering_count() == 0;
    if ((drained && store_done) || now >= deadline) {
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
    service.shutdown();
    eio.close_all("server shutting down");
    deadline = std::chrono::steady_clock::now() + 1500ms;
    store_deadline = std::chrono::steady_clock::now() + 1000ms;
    wait_drained();
  });

  ioc.run();
  spdlog::info("BandSync stopped");
  return 0;
}

}  // namespace bandsync::app
