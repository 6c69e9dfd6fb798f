#include "app/bench.hpp"

#include <map>
#include <string>

#include <CLI/CLI.hpp>

#include "bench/fanout.hpp"
#include "bench/floor.hpp"
#include "bench/idle.hpp"
#include "bench/rehearsal.hpp"
#include "bench/sync.hpp"

namespace bandsync::app {
namespace {

// Every scenario takes the same target and reporting options.
void add_common(CLI::App* sub, bench::common_options& c) {
  sub->add_option("--host", c.host, "Server address (loopback only)")->capture_default_str();
  sub->add_option("--port", c.port, "Server port")->capture_default_str();
  sub->add_option("--server-pid", c.server_pid,
                  "PID of the server: adds its CPU % and RSS (from /proc) to the report");
  sub->add_option("--json", c.json_file, "Write the whole report to this file as JSON");
  sub->add_option("--source-addresses", c.source_addresses,
                  "Loopback source addresses to spread connections over (127.0.0.2, ...; "
                  "0 = one per 5000 devices)")
      ->capture_default_str();
  sub->add_option("--max-in-flight", c.max_in_flight, "Devices connecting at once")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub->add_option("--connect-timeout", c.connect_timeout_s,
                  "Seconds a device may take to connect and join")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub->add_option("--progress-interval", c.progress_interval_s,
                  "Seconds between progress lines on stderr (0 = none)")
      ->capture_default_str();
  sub->add_option("--device-io", c.io,
                  "How devices read and write: wire (one epoll loop, the default) or beast "
                  "(the Beast WebSocket client it replaced, to compare the generator's cost)")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, bench::device_io>{{"wire", bench::device_io::wire},
                                                  {"beast", bench::device_io::beast}},
          CLI::ignore_case));
  sub->add_option("--poll-interval", c.poll_interval_ms,
                  "Wire devices: read the sockets every this many ms instead of as soon as "
                  "one is readable (0); fewer wake-ups of the generator, same kernel-stamped "
                  "tick latency")
      ->check(CLI::Range(0.0, 100.0))
      ->capture_default_str();
}

}  // namespace

bench_command::bench_command(CLI::App& cli) {
  bench_ = cli.add_subcommand(
      "bench",
      "Load and sync benchmark: simulated band devices (Socket.IO over WebSocket) against a "
      "running server on this machine");
  bench_->require_subcommand(1);

  rehearsal_ = bench_->add_subcommand(
      "rehearsal",
      "A small band end to end: join, latency probes, play, 20 quick tempo changes, the "
      "leader drops and the earliest joiner takes over. PASS/FAIL per criterion; exit 0 only "
      "if all pass");
  add_common(rehearsal_, common_);
  rehearsal_->add_option("--devices", rehearsal_opts_.devices, "Devices in the session")
      ->check(CLI::Range(2, 8))
      ->capture_default_str();
  rehearsal_->add_option("--play", rehearsal_opts_.play_s, "Seconds of ticks measured")
      ->check(CLI::Range(1.0, 600.0))
      ->capture_default_str();

  fanout_ = bench_->add_subcommand(
      "fanout",
      "S sessions of M devices, all playing: tick latency and loss, position error "
      "and drift, probe round trips, messages per second");
  add_common(fanout_, common_);
  fanout_->add_option("--sessions", fanout_opts_.sessions, "Sessions")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  fanout_->add_option("--members", fanout_opts_.members, "Devices per session")
      ->check(CLI::Range(1, 8))
      ->capture_default_str();
  fanout_->add_option("--duration", fanout_opts_.duration_s, "Seconds measured")
      ->check(CLI::Range(1.0, 3600.0))
      ->capture_default_str();
  fanout_->add_option("--warmup", fanout_opts_.warmup_s, "Seconds of play before measuring")
      ->check(CLI::Range(0.0, 600.0))
      ->capture_default_str();
  fanout_
      ->add_option("--probe-interval", fanout_opts_.probe_interval_s,
                   "Seconds between latency probes of a device (0 = none)")
      ->check(CLI::Range(0.0, 600.0))
      ->capture_default_str();
  fanout_
      ->add_option("--node-port", common_.node_ports,
                   "Port of another node of the same cluster (repeatable): member m of every "
                   "session connects to node m mod N (--port is node 0); the report splits "
                   "tick latency by the session leader's node and the other nodes")
      ->check(CLI::Range(1, 65535));
  fanout_
      ->add_option("--redis-port", common_.redis_port,
                   "Port of the Redis on 127.0.0.1 the server(s) use: adds Redis commands per "
                   "second (and per playing session) over the window, from INFO stats")
      ->check(CLI::Range(1, 65535));
  fanout_
      ->add_option("--play-spread", fanout_opts_.play_spread_s,
                   "Seconds over which the sessions' leaders press play, each at a random "
                   "moment, as independent bands do (0 = all at once)")
      ->check(CLI::Range(0.0, 60.0))
      ->capture_default_str();

  floor_ = bench_->add_subcommand(
      "floor",
      "The raw-write floor: N loopback TCP connections (read by a forked process), the "
      "same pre-framed ~120-byte scroll_tick WebSocket frame written to each at 10 Hz with "
      "plain send(); the writer's CPU per write, to compare with a server's CPU per "
      "delivered tick");
  floor_->add_option("--json", common_.json_file, "Write the whole report to this file as JSON");
  floor_->add_option("--sockets", floor_opts_.sockets, "Connections written to")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  floor_->add_option("--duration", floor_opts_.duration_s, "Seconds measured")
      ->check(CLI::Range(1.0, 600.0))
      ->capture_default_str();
  floor_->add_option("--warmup", floor_opts_.warmup_s, "Seconds of writing before measuring")
      ->check(CLI::Range(0.0, 60.0))
      ->capture_default_str();
  floor_->add_option("--rate", floor_opts_.rate_hz, "Writes per connection per second")
      ->check(CLI::Range(1.0, 1000.0))
      ->capture_default_str();
  floor_
      ->add_option("--slots", floor_opts_.slots,
                   "A period's writes are spread over this many equal slots (1 = one burst)")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();

  sync_ = bench_->add_subcommand(
      "sync",
      "Clock accuracy: per network shape, fresh servers (this executable) with N devices "
      "behind delay-and-jitter proxies estimating the server time with bandsync-client "
      "(the Node harness tests/integration/lib/sync_harness.mjs, run as a child); per-device "
      "|estimate - true server time| p50/p99/max and the devices' position spread");
  sync_->add_option("--json", common_.json_file, "Write the whole report to this file as JSON");
  sync_
      ->add_option("--shape", sync_opts_.shapes,
                   "Network shapes DELAYxJITTER (ms, each direction, uniform jitter)")
      ->capture_default_str();
  sync_->add_option("--devices", sync_opts_.devices, "Devices per run")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  sync_->add_option("--count", sync_opts_.count, "time_sync exchanges per burst")
      ->check(CLI::Range(1, 512))
      ->capture_default_str();
  sync_
      ->add_option("--first-count", sync_opts_.first_count,
                   "time_sync exchanges in a device's first burst (bandsync-client: 32)")
      ->check(CLI::Range(1, 512))
      ->capture_default_str();
  sync_->add_option("--bursts", sync_opts_.bursts, "Bursts per device before the comparison")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  sync_
      ->add_option("--burst-interval", sync_opts_.burst_interval_s,
                   "Seconds from one burst's start to the next (bandsync-client: 15; 0 = back "
                   "to back)")
      ->check(CLI::Range(0.0, 600.0))
      ->capture_default_str();
  sync_->add_option("--repeats", sync_opts_.repeats, "Runs per shape (fresh server, seed 1..N)")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  sync_->add_option("--node", sync_opts_.node, "The Node executable")->capture_default_str();
  sync_->add_option("--harness", sync_opts_.harness,
                    "sync_harness.mjs (default: the source tree's)");
  sync_->add_option("--server", sync_opts_.server,
                    "The bandsync executable the harness starts (default: this one)");
  sync_->add_option("--run-timeout", sync_opts_.run_timeout_s, "Seconds one run may take")
      ->check(CLI::Range(5.0, 3600.0))
      ->capture_default_str();

  idle_ = bench_->add_subcommand(
      "idle", "N joined, idle devices held for D seconds: server memory per connection");
  add_common(idle_, common_);
  idle_->add_option("--devices", idle_opts_.devices, "Devices (in sessions of 8)")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  idle_->add_option("--duration", idle_opts_.duration_s, "Seconds held")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
}

bool bench_command::parsed() const {
  return bench_->parsed();
}

int bench_command::run() const {
  if (rehearsal_->parsed()) return bench::run_rehearsal(common_, rehearsal_opts_);
  if (fanout_->parsed()) return bench::run_fanout(common_, fanout_opts_);
  if (floor_->parsed()) return bench::run_floor(common_, floor_opts_);
  if (sync_->parsed()) return bench::run_sync(common_, sync_opts_);
  return bench::run_idle(common_, idle_opts_);
}

}  // namespace bandsync::app
