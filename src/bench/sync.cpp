#include "bench/sync.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>

#include "bench/report.hpp"

extern char** environ;

namespace bandsync::bench {
namespace {

// A harness report is one JSON line of a few KiB; anything past this is not one.
constexpr size_t max_output_bytes = 1 << 20;

struct shape {
  double delay_ms = 0;
  double jitter_ms = 0;
  std::string name;
};

std::optional<shape> parse_shape(const std::string& s) {
  auto x = s.find('x');
  if (x == std::string::npos) return std::nullopt;
  try {
    size_t used = 0;
    shape r;
    r.delay_ms = std::stod(s.substr(0, x), &used);
    if (used != x) return std::nullopt;
    std::string j = s.substr(x + 1);
    r.jitter_ms = std::stod(j, &used);
    if (used != j.size()) return std::nullopt;
    if (!(r.delay_ms >= 0 && r.delay_ms <= 1000 && r.jitter_ms >= 0 && r.jitter_ms <= 1000))
      return std::nullopt;
    r.name = s;
    return r;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string self_path() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return {};
  return std::string(buf, static_cast<size_t>(n));
}

std::string load_averages() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return a + " " + b + " " + c;
}

// Nearest-rank percentile of a sorted, non-empty vector.
double percentile(const std::vector<double>& sorted, double p) {
  size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

boost::json::object summary(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  boost::json::object o;
  o["count"] = v.size();
  if (v.empty()) return o;
  o["p50"] = round3(percentile(v, 0.5));
  o["p99"] = round3(percentile(v, 0.99));
  o["max"] = round3(v.back());
  return o;
}

// Runs `argv` with stdout captured, in its own process group (the harness's
// server child is in it too, so a deadline ends both). The captured stdout,
// or an error.
struct child_result {
  std::string out;
  std::string error;  // empty on success (exit status 0)
};

child_result run_child(const std::vector<std::string>& args, double timeout_s) {
  child_result r;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    r.error = std::string("pipe: ") + std::strerror(errno);
    return r;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, argv[0], &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    r.error = "cannot start " + args[0] + ": " + std::strerror(rc);
    return r;
  }
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
  bool timed_out = false;
  char buf[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    int n = poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 1000)));
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) continue;
    ssize_t got = read(fds[0], buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;  // EOF: the child closed stdout (it is exiting)
    if (r.out.size() + static_cast<size_t>(got) > max_output_bytes) {
      r.error = "harness output past 1 MiB";
      break;
    }
    r.out.append(buf, static_cast<size_t>(got));
  }
  close(fds[0]);
  if (timed_out || !r.error.empty()) {
    // The group: the harness and the server it started.
    kill(-pid, SIGTERM);
  }
  int status = 0;
  // A child that closed stdout exits within moments; one that was told to
  // stop gets 5 s before SIGKILL.
  auto stop_by = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) break;
    if (std::chrono::steady_clock::now() > stop_by) {
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    usleep(20'000);
  }
  if (timed_out) {
    r.error = "harness did not finish within " + std::to_string(timeout_s) + " s";
  } else if (r.error.empty() && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
    r.error = "harness failed (" +
              (WIFEXITED(status) ? "exit " + std::to_string(WEXITSTATUS(status))
                                 : "signal " + std::to_string(WTERMSIG(status))) +
              ")";
  }
  return r;
}

std::vector<double> numbers(const boost::json::value* v) {
  std::vector<double> out;
  if (!v || !v->is_array()) return out;
  for (const auto& e : v->get_array())
    if (e.is_number()) out.push_back(e.to_number<double>());
  return out;
}

double number(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_number() ? v->to_number<double>() : std::nan("");
}

}  // namespace

int run_sync(const common_options& common, const sync_options& opts) {
  std::vector<shape> shapes;
  for (const auto& s : opts.shapes) {
    auto p = parse_shape(s);
    if (!p) {
      std::cerr << "bench sync: bad --shape " << s << " (DELAYxJITTER in ms, e.g. 20x10)\n";
      return 2;
    }
    shapes.push_back(*p);
  }
  std::string server = opts.server.empty() ? self_path() : opts.server;
  std::string harness = opts.harness.empty() ? std::string(BANDSYNC_SOURCE_DIR) +
                                                   "/tests/integration/lib/sync_harness.mjs"
                                             : opts.harness;
  if (access(harness.c_str(), R_OK) != 0) {
    std::cerr << "bench sync: no harness at " << harness << " (--harness)\n";
    return 2;
  }

  report rep("sync");
  auto& cfg = rep.section("config");
  cfg["devices"] = opts.devices;
  cfg["exchanges_per_burst"] = opts.count;
  cfg["exchanges_first_burst"] = opts.first_count;
  cfg["bursts"] = opts.bursts;
  cfg["burst_interval_s"] = opts.burst_interval_s;
  cfg["repeats"] = opts.repeats;
  cfg["server"] = server;
  cfg["harness"] = harness;
  cfg["truth"] = "exact: CLOCK_MONOTONIC (process.hrtime) + the server's logged server_offset_us";
  bool failed = false;
  for (const auto& sh : shapes) {
    std::vector<double> errors;
    std::vector<double> spreads;
    std::vector<double> rtts;
    double late_max = 0;
    boost::json::array runs;
    for (size_t i = 1; i <= opts.repeats; ++i) {
      std::string load_before = load_averages();
      std::cerr << "bench sync: " << opts.devices << " devices, " << sh.delay_ms << " ± "
                << sh.jitter_ms << " ms, run " << i << " (load " << load_before << ")\n";
      auto res =
          run_child({opts.node,
                     harness,
                     "--bin",
                     server,
                     "--devices",
                     std::to_string(opts.devices),
                     "--delay",
                     std::to_string(sh.delay_ms),
                     "--jitter",
                     std::to_string(sh.jitter_ms),
                     "--count",
                     std::to_string(opts.count),
                     "--first-count",
                     std::to_string(opts.first_count),
                     "--bursts",
                     std::to_string(opts.bursts),
                     "--burst-interval-ms",
                     std::to_string(opts.burst_interval_s * 1000),
                     "--seed",
                     std::to_string(i),
                     "--estimator",
                     "client"},
                    opts.run_timeout_s + static_cast<double>(opts.bursts) * opts.burst_interval_s);
      boost::json::object run;
      run["run"] = i;
      run["load_average"] = load_before;
      if (!res.error.empty()) {
        std::cerr << "bench sync: " << res.error << '\n';
        run["error"] = res.error;
        runs.push_back(std::move(run));
        failed = true;
        continue;
      }
      boost::system::error_code ec;
      auto parsed = boost::json::parse(res.out, ec);
      if (ec || !parsed.is_object()) {
        std::cerr << "bench sync: the harness printed no JSON report\n";
        run["error"] = "no JSON report";
        runs.push_back(std::move(run));
        failed = true;
        continue;
      }
      const auto& r = parsed.get_object();
      auto errs = numbers(r.if_contains("errorsMs"));
      auto trips = numbers(r.if_contains("roundTripsMs"));
      double spread = number(r, "positionSpreadMs");
      errors.insert(errors.end(), errs.begin(), errs.end());
      rtts.insert(rtts.end(), trips.begin(), trips.end());
      spreads.push_back(spread);
      boost::json::array e;
      for (double x : errs) e.push_back(round3(x));
      run["errors_ms"] = std::move(e);
      run["max_error_ms"] = round3(number(r, "maxErrorMs"));
      run["position_spread_ms"] = round3(spread);
      if (const auto* late = r.if_contains("proxyMaxLateMs"); late && late->is_number()) {
        late_max = std::max(late_max, late->to_number<double>());
        run["proxy_max_late_ms"] = round3(late->to_number<double>());
      }
      run["proxy_mean_late_ms"] = round3(number(r, "proxyMeanLateMs"));
      // The exact truth against a direct loopback burst's estimate (whose own
      // error is within ± bound): a wrong truth would show here.
      if (const auto* c = r.if_contains("referenceCheck"); c && c->is_object()) {
        run["reference_check_ms"] = round3(number(c->get_object(), "directMinusExactMs"));
        run["reference_check_bound_ms"] = round3(number(c->get_object(), "boundMs"));
      }
      runs.push_back(std::move(run));
    }
    auto& s = rep.section(sh.name == "0x0" ? "loopback" : "jitter_" + sh.name);
    s["delay_ms"] = sh.delay_ms;
    s["jitter_ms"] = sh.jitter_ms;
    s["error_ms"] = summary(errors);
    s["position_spread_ms"] = summary(spreads);
    s["best_round_trip_ms"] = summary(rtts);
    s["proxy_max_late_ms"] = round3(late_max);
    s["runs"] = std::move(runs);
    boost::json::array loads;
    for (const auto& run : s["runs"].get_array())
      loads.push_back(run.get_object().at("load_average"));
    s["load_averages"] = std::move(loads);
  }
  rep.print(std::cout);
  if (!common.json_file.empty() && !rep.write_json(common.json_file)) return 1;
  return failed ? 1 : 0;
}

}  // namespace bandsync::bench
