#include "app/serve.hpp"

#include <chrono>
#include <csignal>
#include <memory>

#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/serialize.hpp>

#include "bandsync/session_service.hpp"
#include "cluster/node.hpp"
#include "engineio/listener.hpp"
#include "engineio/server.hpp"
#include "glue/metrics_text.hpp"
#include "glue/socketio_outbox.hpp"
#include "glue/timers.hpp"
#include "http/rate_limiter.hpp"
#include "http/routes.hpp"
#include "socketio/server.hpp"
#include "store/memory_store.hpp"
#include "store/redis_store.hpp"
#include "util/json_text.hpp"

namespace bandsync::app {

namespace net = boost::asio;
using namespace std::chrono_literals;

int run_serve(const config& cfg) {
  // One thread runs the loop and no other thread touches its sockets: no
  // locking of the reactor's descriptor state (one mutex per I/O operation).
  net::io_context ioc(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO);
  auto started = std::chrono::steady_clock::now();

  domain::system_clock_source clock;
  // REDIS_HOST selects Redis persistence; without it, the embedded store. The
  // Redis store's start-up load (load_sessions, below) is the one blocking
  // Redis call, made before the listener accepts.
  std::unique_ptr<store::memory_store> memory;
  std::unique_ptr<store::redis_store> redis;
  store::session_store* store = nullptr;
  store::redis_store_options redis_options;
  if (cfg.redis_host) {
    store::redis_store_options& ro = redis_options;
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
  so.recovery.window = cfg.recovery_window;
  socketio::server io(ioc.get_executor(), so);
  auto& main_ns = io.of("/");
  glue::socketio_outbox outbox(main_ns);
  // Cluster mode (docs/EVENTS.md "Cluster"): the node routes the namespace's
  // traffic and owns the sessions through leases; sessions are read from
  // Redis when their lease is taken, not at start-up.
  std::unique_ptr<cluster::node> node;
  if (cfg.cluster && redis) {
    cluster::node_options no;
    no.node_id = cfg.node_id.empty() ? cluster::random_node_id() : cfg.node_id;
    no.connection = redis_options.connection;
    node = std::make_unique<cluster::node>(ioc, no, main_ns, *redis);
  }

  domain::service_options svc_opts;
  svc_opts.session_idle_ms = cfg.session_idle.count();
  svc_opts.play_lead_ms = cfg.play_lead.count();
  svc_opts.creation.connection_burst = cfg.session_create_burst;
  svc_opts.creation.connection_per_minute = cfg.session_create_per_minute;
  svc_opts.creation.address_burst = cfg.session_create_address_burst;
  svc_opts.creation.address_per_minute = cfg.session_create_address_per_minute;
  svc_opts.leader_grace_ms = cfg.leader_grace.count();
  svc_opts.seat_hold_ms = cfg.recovery_window.count();  // the socket layer's hold
  svc_opts.persist_clock_anchor = node != nullptr;
  domain::session_service service(clock, node ? node->outbox() : outbox, *store, svc_opts);
  if (!node) service.restore(store->load_sessions());
  if (redis) {
    // After an outage Redis may have lost keys (a restart without persistence,
    // TTL expiry): on every reconnection the live state is written again.
    redis->set_resync_handler([&service] { service.persist_all(); });
    // A start-up load that Redis did not answer in time completes later
    // (single node only: a cluster node reads a session when it takes it).
    if (!node) {
      redis->set_load_handler(
          [&service](std::vector<store::session_record> records) { service.finish_load(records); });
    }
    redis->start();
  }

  if (node) {
    node->bind(service);
    node->start();
  } else {
    glue::attach(main_ns, service);
  }

  engineio::options eo;
  eo.ping_interval = cfg.ping_interval;
  eo.ping_timeout = cfg.ping_timeout;
  eo.max_payload = cfg.max_buffer_size;
  eo.cors_origins = cfg.cors_origins;
  engineio::server eio(ioc.get_executor(), eo, io);

  http::rate_limiter limiter(cfg.rate_limit_window_ms, cfg.rate_limit_max);
  glue::lag_histogram lag;
  http::routes* routes_ptr = nullptr;
  http::status_source status;
  status.performance = [&] { return service.performance(); };
  status.session_stats = [&] { return service.session_stats(); };
  status.redis_configured = [&] { return cfg.redis_host.has_value(); };
  status.redis_up = [&] { return redis && redis->connected(); };
  status.metrics_text = [&] {
    glue::transport_figures t;
    t.connections = eio.session_count();
    t.connections_opened = eio.sessions_opened();
    t.rate_limited = routes_ptr ? routes_ptr->rate_limited() : 0;
    auto text = glue::metrics_text(service.metrics(), t, lag);
    if (redis) text += glue::redis_metrics_text(redis->connected(), redis->stats());
    if (node) text += cluster::metrics_text(*node);
    return text;
  };
  status.wall_ms = [&] { return clock.wall_ms(); };
  if (node) status.cluster = [&] { return node->health(); };
  status.uptime_s = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  http::rate_limiter health_limiter(60'000, cfg.health_rate_limit_max);
  http::routes routes(status, limiter, cfg.cors_origins, &health_limiter);
  routes.set_metrics_token(cfg.metrics_token);
  routes_ptr = &routes;
  http::static_files files(cfg.serve_client);
  routes.serve_files(&files);

  engineio::listener_options lo;
  lo.host = cfg.host;
  lo.port = cfg.port;
  lo.header_timeout = cfg.header_timeout;
  lo.limits.handshake_rate = cfg.handshake_rate;
  lo.limits.handshake_burst = cfg.handshake_burst;
  lo.limits.max_connections = cfg.max_connections_per_address;
  engineio::listener listener(ioc, eio, lo);
  listener.set_common_headers(http::security_headers());
  listener.set_http_handler([&](const util::http_request& r) { return routes.handle(r); });
  if (auto ec = listener.start()) {
    spdlog::critical("cannot listen on [{}]:{}: {}", cfg.host, cfg.port, ec.message());
    return 1;
  }
  spdlog::info("BandSync listening on [{}]:{} (store: {}{})", cfg.host, listener.port(),
               redis ? "redis " + *cfg.redis_host + ":" + std::to_string(cfg.redis_port)
                     : std::string("memory"),
               node ? ", cluster node " + node->id() : std::string());
  // Server time = steady clock + this offset (docs/EVENTS.md "Clock"): with it
  // a process on this machine reads the true server time from
  // CLOCK_MONOTONIC, which the accuracy harness (bench sync) needs.
  spdlog::info("server clock: server_offset_us {} (PLAY_LEAD_MS {})", clock.server_offset_us(),
               cfg.play_lead.count());

  // One scheduler for every playing session's ticks (ARCHITECTURE.md "Time").
  glue::tick_driver ticker(ioc, service, lag);
  // The 30 s heartbeat round in 300 slices, one every 100 ms: each connection
  // still gets one every 30 s, without one burst of every connection's
  // heartbeat and answer delaying the ticks due behind it (issue 12).
  constexpr size_t heartbeat_slices = 300;
  size_t heartbeat_slice = 0;
  glue::periodic heartbeats(ioc, std::chrono::milliseconds(30s) / heartbeat_slices, [&](double) {
    service.heartbeat_round(heartbeat_slice, heartbeat_slices);
    heartbeat_slice = (heartbeat_slice + 1) % heartbeat_slices;
  });
  glue::periodic sweeper(ioc, cfg.sweep_interval, [&](double) {
    if (auto n = service.sweep()) spdlog::info("sweep: removed {} idle sessions", n);
  });
  glue::periodic metrics_log(ioc, cfg.metrics_interval, [&](double) {
    auto p = service.performance();
    auto m = service.metrics();
    spdlog::info(
        "metrics: connections={} sessions={} playing={} messagesPerSecond={} "
        "averageLatency={}",
        eio.session_count(), m.sessions, m.playing_sessions,
        util::to_json_text(p["messagesPerSecond"]), util::to_json_text(p["averageLatency"]));
  });
  // A held leader's grace ends within 100 ms of LEADER_GRACE.
  glue::periodic grace(ioc, 100ms, [&](double) { service.expire_leader_grace(); });
  ticker.start();
  heartbeats.start();
  grace.start();
  sweeper.start();
  metrics_log.start();

  // Graceful shutdown: refuse new sessions, close every session with a close
  // packet, let the writes drain briefly, then stop accepting and leave the
  // loop. The service first saves every session as the next start restores
  // it (paused, no members); those writes get up to 1 s to reach a reachable
  // Redis, and the whole shutdown stays under 2 s.
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
      listener.stop();
      ioc.stop();
      return;
    }
    drain.expires_after(20ms);
    drain.async_wait([&](boost::system::error_code) { wait_drained(); });
  };
  signals.async_wait([&](boost::system::error_code ec, int sig) {
    if (ec) return;
    spdlog::info("received signal {}: shutting down", sig);
    // Accepting goes on until the close packets are out: a polling client may
    // need a new connection to collect its own (listener::drain).
    listener.drain();
    ticker.stop();
    heartbeats.stop();
    grace.stop();
    sweeper.stop();
    metrics_log.stop();
    // A node gives its leases back first: its sessions' members on other
    // nodes are taken over at once instead of after the lease's expiry.
    if (node) {
      node->stop();
    } else {
      service.shutdown();
    }
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
