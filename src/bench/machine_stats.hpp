#pragma once
// Where the machine's CPU time went during a window, from /proc/stat: the
// server, the generator and the kernel's loopback work (softirq, often run by
// ksoftirqd and so charged to neither process) share the same cores, along
// with whatever else runs there. A run whose machine was 100 % busy measured
// contention, not the server alone.

#include <array>
#include <cstdint>
#include <optional>

#include <boost/json/object.hpp>

namespace bandsync::bench {

class machine_stats {
 public:
  // Jiffies per state: user nice system idle iowait irq softirq steal.
  using sample = std::array<uint64_t, 8>;

  static std::optional<sample> read();
  // { cores, busy_pct, user_pct, system_pct, softirq_pct, idle_pct, steal_pct }
  // as % of all cores between two samples.
  static boost::json::object between(const sample& from, const sample& to);
  // 1-minute load average.
  static double load_average();
};

}  // namespace bandsync::bench
