#pragma once
// The Prometheus text exposition format (version 0.0.4), written by hand: a
// few metric families with HELP and TYPE lines, optional single labels and
// fixed-bucket histograms. Pure text building; the caller decides the values.

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>

namespace bandsync::http {

class prometheus_text {
 public:
  // `name value` with its HELP and TYPE (gauge / counter) lines.
  void gauge(std::string_view name, std::string_view help, uint64_t value);
  void counter(std::string_view name, std::string_view help, uint64_t value);

  // One counter family with one label: `name{label="key"} value` per entry,
  // in the map's order.
  void labelled_counter(std::string_view name, std::string_view help, std::string_view label,
                        const std::map<std::string, uint64_t>& values);

  // A histogram: cumulative `name_bucket{le="bound"}` lines (bounds printed
  // as %g), the +Inf bucket (= count), `name_sum` (3 decimals) and
  // `name_count`. `cumulative[i]` counts the observations <= bounds[i].
  void histogram(std::string_view name, std::string_view help, std::span<const double> bounds,
                 std::span<const uint64_t> cumulative, uint64_t count, double sum);

  const std::string& str() const { return out_; }

 private:
  void header(std::string_view name, std::string_view help, std::string_view type);
  void sample(std::string_view name, std::string_view labels, std::string_view value);

  std::string out_;
};

}  // namespace bandsync::http
