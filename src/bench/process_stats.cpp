#include "bench/process_stats.hpp"

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>

namespace bandsync::bench {

std::optional<process_sample> process_stats::sample() const {
  process_sample s;
  s.wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  std::ifstream stat("/proc/" + std::to_string(pid_) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return std::nullopt;
  // The command name (field 2) may hold spaces and parentheses: fields are
  // counted from the last ')'. utime and stime are fields 14 and 15.
  auto close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(line.substr(close + 1));
  std::string field;
  unsigned long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoul(field);
    if (i == 15) stime = std::stoul(field);
  }
  static const double ticks_per_s = static_cast<double>(sysconf(_SC_CLK_TCK));
  s.cpu_s = static_cast<double>(utime + stime) / ticks_per_s;
  s.user_s = static_cast<double>(utime) / ticks_per_s;

  std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
  while (std::getline(status, line)) {
    auto read_kib = [&](std::string_view key, int64_t& out) {
      if (line.rfind(key, 0) == 0) out = std::stoll(line.substr(key.size()));
    };
    read_kib("VmRSS:", s.rss_kib);
    read_kib("VmHWM:", s.hwm_kib);
  }
  return s;
}

double process_stats::cpu_percent(const process_sample& from, const process_sample& to) {
  double dt = to.wall_s - from.wall_s;
  if (dt <= 0) return 0;
  return 100.0 * (to.cpu_s - from.cpu_s) / dt;
}

boost::json::object process_stats::to_json(const process_sample& s) {
  return {{"cpu_s", s.cpu_s}, {"rss_kib", s.rss_kib}, {"hwm_kib", s.hwm_kib}};
}

}  // namespace bandsync::bench
