#include "bench/sync_stats.hpp"

#include <algorithm>
#include <cmath>

#include "bench/report.hpp"

namespace bandsync::bench {
namespace {

// A JSON number as a double, or NaN when absent or not a number.
double number_at(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v) return std::nan("");
  if (v->is_int64()) return static_cast<double>(v->get_int64());
  if (v->is_uint64()) return static_cast<double>(v->get_uint64());
  if (v->is_double()) return v->get_double();
  return std::nan("");
}

}  // namespace

void sync_stats::start_window(double start_ms, double window_ms) {
  window_start_ms_ = start_ms;
  window_ms_ = window_ms;
}

void sync_stats::enrol(track& t) {
  if (t.measured) return;
  t.measured = true;
  ++enrolled_;
}

void sync_stats::on_play(track& t, const boost::json::value& payload) {
  const auto* o = payload.if_object();
  if (!o) return;
  double ts = number_at(*o, "serverTimestamp");
  double pos = number_at(*o, "position");
  if (std::isnan(ts) || std::isnan(pos)) return;
  t.has_play = true;
  t.play_ts = ts;
  t.play_pos = pos;
}

double sync_stats::on_tick(track& t, const boost::json::value& payload, double recv_ms,
                           double read_ms) {
  const auto* o = payload.if_object();
  double ts = o ? number_at(*o, "serverTimestamp") : std::nan("");
  double pos = o ? number_at(*o, "positionMs") : std::nan("");
  double tempo = o ? number_at(*o, "tempoBpm") : 0;
  return on_tick(t, ts, pos, tempo, recv_ms, read_ms);
}

double sync_stats::on_tick(track& t, double ts, double pos, double tempo, double recv_ms,
                           double read_ms) {
  ++ticks_total_;
  if (std::isnan(ts) || std::isnan(pos)) {
    ++malformed_;
    return -1;
  }
  t.last_tempo = tempo;
  if (!t.measured || window_ms_ <= 0 || ts < window_start_ms_) return -1;
  if (t.window_start < 0) {
    t.window_start = ts - tick_period_ms / 2;
    t.window_end = t.window_start + window_ms_;
  }
  if (ts < t.window_start || ts >= t.window_end) return -1;
  ++t.in_window;
  ++received_;
  double latency_ms = recv_ms - ts;
  latency_us_.record(static_cast<int64_t>(std::llround(latency_ms * 1000)));
  read_latency_us_.record(
      static_cast<int64_t>(std::llround(((read_ms < 0 ? recv_ms : read_ms) - ts) * 1000)));
  if (!t.has_play) {
    ++before_play_;
    return latency_ms;
  }
  double error = pos - (ts - t.play_ts + t.play_pos);
  abs_error_us_.record(static_cast<int64_t>(std::llround(std::abs(error) * 1000)));
  if (!std::isnan(error)) {
    if (n_ == 0) min_error_ms_ = max_error_ms_ = error;
    min_error_ms_ = std::min(min_error_ms_, error);
    max_error_ms_ = std::max(max_error_ms_, error);
    max_abs_error_ms_ = std::max(max_abs_error_ms_, std::abs(error));
    error_sum_ms_ += error;
    double x = (ts - t.play_ts) / 60000.0;
    n_ += 1;
    sx_ += x;
    sy_ += error;
    sxy_ += x * error;
    sxx_ += x * x;
    t.last_error_ms = error;
    t.has_error = true;
  }
  return latency_ms;
}

uint64_t sync_stats::expected() const {
  return enrolled_ * static_cast<uint64_t>(std::floor(window_ms_ / tick_period_ms));
}

double sync_stats::loss_percent() const {
  uint64_t e = expected();
  if (e == 0) return 0;
  double missing = static_cast<double>(e) - static_cast<double>(received_);
  return 100.0 * std::max(0.0, missing) / static_cast<double>(e);
}

double sync_stats::drift_ms_per_min() const {
  double d = n_ * sxx_ - sx_ * sx_;
  if (n_ < 2 || d <= 0) return 0;
  return (n_ * sxy_ - sx_ * sy_) / d;
}

void sync_stats::collect_final(const track& t) {
  if (!t.has_error) return;
  final_abs_error_us_.record(static_cast<int64_t>(std::llround(std::abs(t.last_error_ms) * 1000)));
  final_error_sum_ms_ += t.last_error_ms;
}

boost::json::object sync_stats::to_json() const {
  boost::json::object ticks;
  ticks["window_s"] = window_ms_ / 1000;
  ticks["devices_measured"] = enrolled_;
  ticks["expected"] = expected();
  ticks["received"] = received_;
  ticks["loss_pct"] = round3(loss_percent());
  ticks["received_total"] = ticks_total_;
  if (malformed_) ticks["malformed"] = malformed_;
  ticks["latency_ms"] = latency_us_.summary(1000);
  ticks["read_latency_ms"] = read_latency_us_.summary(1000);

  boost::json::object pos;
  uint64_t n = static_cast<uint64_t>(n_);
  pos["samples"] = n;
  pos["abs_error_ms"] = abs_error_us_.summary(1000);
  pos["mean_error_ms"] = n ? round3(error_sum_ms_ / n_) : 0.0;
  pos["min_error_ms"] = round3(min_error_ms_);
  pos["max_error_ms"] = round3(max_error_ms_);
  pos["drift_ms_per_min"] = round3(drift_ms_per_min());
  pos["final_abs_error_ms"] = final_abs_error_us_.summary(1000);
  if (before_play_) pos["ticks_before_play"] = before_play_;

  return {{"ticks", std::move(ticks)}, {"position", std::move(pos)}};
}

}  // namespace bandsync::bench
