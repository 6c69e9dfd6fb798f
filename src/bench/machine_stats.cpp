#include "bench/machine_stats.hpp"

#include <unistd.h>

#include <cmath>
#include <fstream>
#include <string>

namespace bandsync::bench {

std::optional<machine_stats::sample> machine_stats::read() {
  std::ifstream f("/proc/stat");
  std::string cpu;
  sample s{};
  if (!(f >> cpu) || cpu != "cpu") return std::nullopt;
  for (auto& v : s)
    if (!(f >> v)) return std::nullopt;
  return s;
}

boost::json::object machine_stats::between(const sample& from, const sample& to) {
  std::array<double, 8> d{};
  double total = 0;
  for (size_t i = 0; i < d.size(); ++i) {
    d[i] = static_cast<double>(to[i] - from[i]);
    total += d[i];
  }
  auto pct = [&](double v) { return total > 0 ? std::round(1000 * v / total) / 10 : 0.0; };
  boost::json::object o;
  o["cores"] = sysconf(_SC_NPROCESSORS_ONLN);
  o["busy_pct"] = pct(total - d[3] - d[4]);
  o["user_pct"] = pct(d[0] + d[1]);
  o["system_pct"] = pct(d[2] + d[5]);
  o["softirq_pct"] = pct(d[6]);
  o["idle_pct"] = pct(d[3] + d[4]);
  o["steal_pct"] = pct(d[7]);
  return o;
}

double machine_stats::load_average() {
  std::ifstream f("/proc/loadavg");
  double l = 0;
  f >> l;
  return l;
}

}  // namespace bandsync::bench
