#pragma once
// What the devices of a playing session see of the scroll clock (EVENTS.md,
// `play` and `scroll_tick`): how late each tick arrives, how many arrive of
// those that real time calls for, and how far `positionMs` is from where the
// song really is.
//
// Latency is one-way: receive time minus `serverTimestamp`, both read from
// this host's wall clock. The stamp is whole milliseconds, so a latency is
// over-stated by up to 1 ms (0.5 ms on average). The receive time is the
// kernel's (when the tick reached the device's socket); the time the
// generator read it, later by the generator's own backlog, gives the read
// latency, kept apart.
//
// Position error: positionMs - (serverTimestamp - play.serverTimestamp +
// play.position), i.e. against the real time elapsed since the `play` the
// device received. Drift is the slope of that error over time.
//
// Loss: each device measures over its own window of `window_ms`, opened by
// its first tick stamped at or after the measurement start and placed half a
// period before that tick, so a window holds exactly window_ms / 100 tick
// instants whatever the session's tick phase. Ticks stamped in the window
// count; expected = window_ms / 100 per measured device.

#include <cstdint>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "bench/histogram.hpp"

namespace bandsync::bench {

class sync_stats {
 public:
  static constexpr double tick_period_ms = 100;

  // Per-device state, kept by the scenario (one per device).
  struct track {
    bool has_play = false;
    double play_ts = 0;   // play.serverTimestamp
    double play_pos = 0;  // play.position
    bool measured = false;
    double window_start = -1;  // serverTimestamp bounds of this device's window
    double window_end = -1;
    uint32_t in_window = 0;
    double last_error_ms = 0;
    bool has_error = false;
    double last_tempo = 0;
  };

  // Ticks stamped from `start_ms` on, over `window_ms`, are measured.
  void start_window(double start_ms, double window_ms);
  bool window_started() const { return window_ms_ > 0; }
  double window_ms() const { return window_ms_; }
  // The device counts toward "expected" (it was joined and playing when the
  // window started).
  void enrol(track& t);

  void on_play(track& t, const boost::json::value& payload);
  // The tick's one-way latency in ms when it was measured (stamped in the
  // device's window), else a negative number.
  // `read_ms` (when the generator read it; < 0: same as recv_ms) feeds the
  // read latency.
  double on_tick(track& t, const boost::json::value& payload, double recv_ms, double read_ms = -1);
  // The same from the tick's fields (NaN = absent or not a number), as the
  // wire device scans them without a JSON value.
  double on_tick(track& t, double server_ts, double position_ms, double tempo_bpm, double recv_ms,
                 double read_ms = -1);

  uint64_t expected() const;
  uint64_t received() const { return received_; }
  uint64_t ticks_total() const { return ticks_total_; }
  double loss_percent() const;
  const histogram& latency_us() const { return latency_us_; }
  const histogram& abs_error_us() const { return abs_error_us_; }
  double max_abs_error_ms() const { return max_abs_error_ms_; }
  // ms of position error per minute of play (least-squares slope).
  double drift_ms_per_min() const;

  // Final error per device (the last measured tick), aggregated.
  void collect_final(const track& t);

  boost::json::object to_json() const;

 private:
  double window_start_ms_ = 0;
  double window_ms_ = 0;
  uint64_t enrolled_ = 0;
  uint64_t received_ = 0;
  uint64_t ticks_total_ = 0;
  uint64_t malformed_ = 0;
  uint64_t before_play_ = 0;
  histogram latency_us_;
  histogram read_latency_us_;
  histogram abs_error_us_;
  double error_sum_ms_ = 0;
  double max_abs_error_ms_ = 0;
  double min_error_ms_ = 0;
  double max_error_ms_ = 0;
  // Least squares of error (ms) against minutes since play.
  double n_ = 0, sx_ = 0, sy_ = 0, sxy_ = 0, sxx_ = 0;
  histogram final_abs_error_us_;
  double final_error_sum_ms_ = 0;
};

}  // namespace bandsync::bench
