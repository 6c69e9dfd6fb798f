#include "bench/idle.hpp"

#include <unistd.h>

#include <cmath>
#include <iostream>

#include <boost/asio/co_spawn.hpp>

#include "bench/await.hpp"
#include "bench/band.hpp"
#include "bench/process_stats.hpp"
#include "bench/progress.hpp"
#include "bench/report.hpp"
#include "bench/time.hpp"

namespace bandsync::bench {
namespace {

namespace net = boost::asio;
using namespace std::chrono_literals;

std::vector<std::string> session_ids(size_t devices, size_t members) {
  std::string tag = band::run_tag();
  std::vector<std::string> ids;
  for (size_t s = 0; s < (devices + members - 1) / members; ++s)
    ids.push_back("idle-" + tag + "-" + std::to_string(s));
  return ids;
}

class idle_run {
 public:
  idle_run(net::io_context& ioc, const common_options& c, const idle_options& o)
      : ioc_(ioc),
        common_(c),
        opts_(o),
        band_(ioc, c, session_ids(o.devices, o.members), o.members),
        server_(c.server_pid),
        progress_(ioc, "idle", c.progress_interval_s, [this] { return band_.progress(); }),
        report_("idle") {}

  net::awaitable<void> run() {
    if (auto err = band_.prepare()) {
      std::cerr << "bandsync bench idle: " << *err << "\n";
      exit_code_ = 2;
      co_return;
    }
    auto& cfg = report_.section("config");
    cfg["server"] = band_.devices().target_text();
    cfg["devices"] = band_.size();
    cfg["members"] = opts_.members;
    cfg["duration_s"] = opts_.duration_s;

    auto before = sample();
    progress_.start();
    progress_.set_phase("connecting");
    double t0 = steady_s();
    band_.launch();
    co_await wait_until([&] { return band_.settled() == band_.size(); },
                        ms_from_seconds(30 + 0.01 * band_.size() + common_.connect_timeout_s),
                        20ms);
    double connect_s = steady_s() - t0;

    progress_.set_phase("settling");
    co_await sleep_for(ms_from_seconds(opts_.settle_s));
    auto connected = sample();
    progress_.set_phase("holding");
    co_await sleep_for(ms_from_seconds(opts_.duration_s));
    auto held = sample();
    progress_.stop();

    auto c = band_.connect_json();
    c["connect_phase_s"] = round3(connect_s);
    report_.root()["connect"] = std::move(c);
    auto& h = report_.section("hold");
    h["heartbeats_answered"] = band_.heartbeats_answered();
    uint64_t pings = 0;
    for (size_t i = 0; i < band_.size(); ++i) pings += band_.devices().at(i).pings_answered();
    h["pings_answered"] = pings;
    h["still_connected"] = band_.joined() - band_.closed_after_join();
    if (before && connected && held) {
      auto& s = report_.section("server");
      s["pid"] = server_.pid();
      s["rss_before_kib"] = before->rss_kib;
      s["rss_connected_kib"] = connected->rss_kib;
      s["rss_end_kib"] = held->rss_kib;
      s["hwm_kib"] = held->hwm_kib;
      s["cpu_pct_holding"] = std::round(process_stats::cpu_percent(*connected, *held) * 10) / 10;
      size_t n = band_.joined();
      if (n) {
        // The later of the two samples: a garbage-collected server may grow
        // while holding; a fair per-connection cost includes that.
        int64_t rss = std::max(connected->rss_kib, held->rss_kib);
        s["rss_per_device_kib"] = round3(static_cast<double>(rss - before->rss_kib) / n);
      }
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
  std::optional<process_sample> sample() {
    if (server_.pid() <= 0) return std::nullopt;
    return server_.sample();
  }

  net::io_context& ioc_;
  common_options common_;
  idle_options opts_;
  band band_;
  process_stats server_;
  progress progress_;
  report report_;
  int exit_code_ = 0;
};

}  // namespace

int run_idle(const common_options& common, const idle_options& opts) {
  net::io_context ioc(1);
  idle_run run(ioc, common, opts);
  run_scenario(
      ioc, run.run(), [&] { run.fail(); }, "idle");
  return run.finish();
}

}  // namespace bandsync::bench
