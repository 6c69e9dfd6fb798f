#pragma once
// CPU time and memory of another process (the server under test), read from
// /proc/PID/stat and /proc/PID/status, so that a run reports what the load
// cost the server and not only what the clients saw.

#include <cstdint>
#include <optional>

#include <boost/json/object.hpp>

namespace bandsync::bench {

struct process_sample {
  double wall_s = 0;  // steady clock, seconds
  double cpu_s = 0;   // user + system time of the process, seconds
  double user_s = 0;  // of which in user space (the rest: the kernel, softirqs run in its context)
  int64_t rss_kib = 0;  // VmRSS
  int64_t hwm_kib = 0;  // VmHWM, the peak RSS
};

class process_stats {
 public:
  explicit process_stats(int pid) : pid_(pid) {}

  int pid() const { return pid_; }
  // nullopt when the process is gone or /proc cannot be read.
  std::optional<process_sample> sample() const;

  // CPU use between two samples, in % of one core.
  static double cpu_percent(const process_sample& from, const process_sample& to);
  static boost::json::object to_json(const process_sample& s);

 private:
  int pid_;
};

}  // namespace bandsync::bench
