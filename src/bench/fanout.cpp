#include "bench/fanout.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <random>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "bench/await.hpp"
#include "bench/band.hpp"
#include "bench/loop_lag.hpp"
#include "bench/machine_stats.hpp"
#include "bench/process_stats.hpp"
#include "bench/progress.hpp"
#include "bench/report.hpp"
#include "bench/time.hpp"

namespace bandsync::bench {
namespace {

namespace net = boost::asio;
using namespace std::chrono_literals;

// Late ticks stamped inside the window still count if they arrive this soon
// after it; later than that a band has long moved on.
constexpr auto grace = 1s;

// `total_commands_processed` of the Redis on 127.0.0.1:`port` (INFO stats),
// or nullopt. Blocking, once before and once after the window: a loopback
// round trip, well under a millisecond.
std::optional<uint64_t> redis_commands_processed(uint16_t port) {
  try {
    net::io_context ioc;
    net::ip::tcp::socket s(ioc);
    s.connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    net::write(s, net::buffer(std::string_view("*2\r\n$4\r\nINFO\r\n$5\r\nstats\r\n")));
    std::string in;
    char buf[4096];
    for (;;) {
      size_t n = s.read_some(net::buffer(buf));
      in.append(buf, n);
      auto eol = in.find("\r\n");
      if (eol == std::string::npos || in.size() > (1u << 20)) continue;
      if (in[0] != '$') return std::nullopt;
      size_t len = std::stoul(in.substr(1, eol - 1));
      if (in.size() < eol + 2 + len) continue;
      std::string body = in.substr(eol + 2, len);
      constexpr std::string_view key = "total_commands_processed:";
      auto at = body.find(key);
      if (at == std::string::npos) return std::nullopt;
      return std::stoull(body.substr(at + key.size()));
    }
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

class fanout_run {
 public:
  fanout_run(net::io_context& ioc, const common_options& c, const fanout_options& f)
      : ioc_(ioc),
        common_(c),
        opts_(f),
        band_(ioc, c, session_ids(f.sessions), f.members),
        server_(c.server_pid),
        self_(::getpid()),
        lag_(ioc),
        progress_(ioc, "fanout", c.progress_interval_s, [this] { return progress_text(); }),
        report_("fanout") {}

  net::awaitable<void> run() {
    if (auto err = band_.prepare()) {
      std::cerr << "bandsync bench fanout: " << *err << "\n";
      exit_code_ = 2;
      co_return;
    }
    auto& cfg = report_.section("config");
    cfg["server"] = band_.devices().target_text();
    if (!common_.node_ports.empty()) {
      boost::json::array ports{common_.port};
      for (auto p : common_.node_ports) ports.push_back(p);
      cfg["node_ports"] = std::move(ports);
    }
    cfg["sessions"] = opts_.sessions;
    cfg["members"] = opts_.members;
    cfg["devices"] = band_.size();
    cfg["duration_s"] = opts_.duration_s;
    cfg["warmup_s"] = opts_.warmup_s;
    cfg["probe_interval_s"] = opts_.probe_interval_s;
    cfg["play_spread_s"] = opts_.play_spread_s;
    cfg["started_at_ms"] = static_cast<int64_t>(wall_ms());

    auto server_before = sample_server();
    progress_.start();

    // Connect and join everyone.
    progress_.set_phase("connecting");
    double t0 = steady_s();
    band_.launch();
    auto connect_budget = ms_from_seconds(30 + 0.01 * band_.size() + common_.connect_timeout_s);
    co_await wait_until([&] { return band_.settled() == band_.size(); }, connect_budget, 20ms);
    double connect_s = steady_s() - t0;
    band_.start_probes(opts_.probe_interval_s);

    // Every session's leader plays, at its own random moment of the spread.
    progress_.set_phase("playing");
    size_t plays = 0;
    std::vector<std::pair<double, size_t>> order;  // (offset s, session)
    std::mt19937 rng(20240611);                    // fixed: runs are comparable
    std::uniform_real_distribution<double> offset(0, std::max(0.0, opts_.play_spread_s));
    for (size_t s = 0; s < band_.session_count(); ++s)
      order.emplace_back(opts_.play_spread_s > 0 ? offset(rng) : 0.0, s);
    std::sort(order.begin(), order.end());
    double play_t0 = steady_s();
    for (const auto& [at, s] : order) {
      double wait = at - (steady_s() - play_t0);
      if (wait > 0.001) co_await sleep_for(ms_from_seconds(wait));
      size_t leader = band_.leader_of(s);
      if (leader == SIZE_MAX) continue;
      if (band_.devices().at(leader).emit("play",
                                          boost::json::object{{"sessionId", band_.session(s).id}}))
        ++plays;
    }
    co_await wait_until(
        [&] {
          for (size_t i = 0; i < band_.size(); ++i) {
            const auto& m = band_.at(i);
            if (m.joined && !m.closed && !m.sync.has_play) return false;
          }
          return true;
        },
        10s, 20ms);
    progress_.set_phase("warming up");
    co_await sleep_for(ms_from_seconds(opts_.warmup_s));

    // The measured window.
    progress_.set_phase("measuring");
    auto server_start = sample_server();
    auto self_start = self_.sample();
    auto machine_start = machine_stats::read();
    uint64_t events_start = band_.events_received();
    auto redis_start =
        common_.redis_port ? redis_commands_processed(common_.redis_port) : std::nullopt;
    double window_t0 = steady_s();
    lag_.start();
    band_.sync().start_window(wall_ms(), opts_.duration_s * 1000);
    enrol_all_joined();
    co_await sleep_for(ms_from_seconds(opts_.duration_s));
    double window_s = steady_s() - window_t0;
    uint64_t events_end = band_.events_received();
    auto redis_end =
        common_.redis_port ? redis_commands_processed(common_.redis_port) : std::nullopt;
    auto server_end = sample_server();
    auto self_end = self_.sample();
    auto machine_end = machine_stats::read();
    double load = machine_stats::load_average();
    lag_.stop();
    progress_.set_phase("grace");
    co_await sleep_for(grace);
    band_.stop_probes();
    progress_.stop();

    for (size_t i = 0; i < band_.size(); ++i) band_.sync().collect_final(band_.at(i).sync);

    auto connect = band_.connect_json();
    connect["connect_phase_s"] = round3(connect_s);
    connect["plays_sent"] = plays;
    report_.root()["connect"] = std::move(connect);
    auto sync = band_.sync().to_json();
    report_.root()["ticks"] = std::move(sync["ticks"]);
    report_.root()["ticks"].as_object()["session_mean_latency_ms"] = band_.session_latency_json();
    if (band_.devices().node_count() > 1) {
      report_.root()["ticks"].as_object()["by_node"] = band_.nodes_latency_json();
    }
    if (redis_start && redis_end) {
      // Commands run inside Lua scripts count one each (Redis's own count).
      auto& r = report_.section("redis");
      double per_s = static_cast<double>(*redis_end - *redis_start) / window_s;
      r["commands_per_s"] = round3(per_s);
      r["commands_per_s_per_playing_session"] =
          round3(per_s / static_cast<double>(std::max<size_t>(1, band_.session_count())));
    }
    report_.root()["position"] = std::move(sync["position"]);
    report_.root()["probes"] = band_.probes_json();
    auto& msg = report_.section("messages");
    msg["received_in_window"] = events_end - events_start;
    msg["per_second"] = std::round((events_end - events_start) / window_s);
    add_process("server", server_before, server_start, server_end);
    if (server_start && server_end && band_.sync().received() > 0) {
      // What the server spent per tick delivered: the figure compared with
      // the raw-write floor (bench floor) in bench/compare.sh's table.
      const double ticks = static_cast<double>(band_.sync().received());
      auto& srv = report_.section("server");
      srv["cpu_us_per_tick"] = round3((server_end->cpu_s - server_start->cpu_s) * 1e6 / ticks);
      // The split: user space is what the server's own code costs per tick;
      // the rest is the kernel (the writes, mostly), which the floor measures.
      srv["user_us_per_tick"] = round3((server_end->user_s - server_start->user_s) * 1e6 / ticks);
    }
    if (self_start && self_end) {
      auto& g = report_.section("generator");
      g["cpu_pct"] = std::round(process_stats::cpu_percent(*self_start, *self_end) * 10) / 10;
      g["device_io"] = common_.io == device_io::wire ? "wire" : "beast";
      // What the generator spent per Socket.IO event received (ticks, mostly):
      // to compare with the server's cpu_us_per_tick (bench/README.md).
      if (events_end > events_start)
        g["cpu_us_per_message"] = round3((self_end->cpu_s - self_start->cpu_s) * 1e6 /
                                         static_cast<double>(events_end - events_start));
      g["rss_kib"] = self_end->rss_kib;
      g["loop_lag_ms"] = lag_.lag_us().summary(1000);
    }
    if (machine_start && machine_end) {
      auto m = machine_stats::between(*machine_start, *machine_end);
      m["load_average_1m"] = load;
      report_.root()["machine"] = std::move(m);
    }

    band_.devices().drop_all();
    co_await sleep_for(200ms);
    ioc_.stop();
  }

  void fail() { exit_code_ = 1; }

  int finish() {
    if (exit_code_ != 0) return exit_code_;
    report_.print(std::cout);
    if (!common_.json_file.empty() && !report_.write_json(common_.json_file)) return 1;
    return 0;
  }

 private:
  static std::vector<std::string> session_ids(size_t n) {
    std::string tag = band::run_tag();
    std::vector<std::string> ids;
    for (size_t s = 0; s < n; ++s) ids.push_back("bench-" + tag + "-" + std::to_string(s));
    return ids;
  }

  // A joined device without `play` is measured too: its missing ticks are loss.
  void enrol_all_joined() {
    for (size_t i = 0; i < band_.size(); ++i) {
      auto& m = band_.at(i);
      if (m.joined && !m.closed) band_.sync().enrol(m.sync);
    }
  }

  std::optional<process_sample> sample_server() {
    if (server_.pid() <= 0) return std::nullopt;
    return server_.sample();
  }

  void add_process(const char* name, const std::optional<process_sample>& before,
                   const std::optional<process_sample>& start,
                   const std::optional<process_sample>& end) {
    if (!before || !start || !end) return;
    auto& s = report_.section(name);
    s["pid"] = server_.pid();
    s["cpu_pct"] = std::round(process_stats::cpu_percent(*start, *end) * 10) / 10;
    s["rss_before_kib"] = before->rss_kib;
    s["rss_end_kib"] = end->rss_kib;
    s["hwm_kib"] = end->hwm_kib;
    size_t joined = band_.joined();
    if (joined)
      s["rss_per_device_kib"] =
          round3(static_cast<double>(end->rss_kib - before->rss_kib) / joined);
  }

  std::string progress_text() {
    char buf[160];
    const auto& lat = band_.sync().latency_us();
    std::snprintf(buf, sizeof buf, ", ticks %llu, window p99 %.2f ms",
                  static_cast<unsigned long long>(band_.sync().ticks_total()),
                  lat.quantile(0.99) / 1000.0);
    return band_.progress() + buf;
  }

  net::io_context& ioc_;
  common_options common_;
  fanout_options opts_;
  band band_;
  process_stats server_;
  process_stats self_;
  loop_lag lag_;
  progress progress_;
  report report_;
  int exit_code_ = 0;
};

}  // namespace

int run_fanout(const common_options& common, const fanout_options& opts) {
  net::io_context ioc(1);
  fanout_run run(ioc, common, opts);
  run_scenario(
      ioc, run.run(), [&] { run.fail(); }, "fanout");
  return run.finish();
}

}  // namespace bandsync::bench
