// The Prometheus text writer: exact lines, in order.
#include "http/prometheus.hpp"

#include <array>

#include <gtest/gtest.h>

namespace bandsync::http {
namespace {

TEST(Prometheus, GaugeAndCounterCarryHelpAndType) {
  prometheus_text p;
  p.gauge("a_items", "Items now.", 3);
  p.counter("a_total", "Items ever.", 12);
  EXPECT_EQ(p.str(),
            "# HELP a_items Items now.\n# TYPE a_items gauge\na_items 3\n"
            "# HELP a_total Items ever.\n# TYPE a_total counter\na_total 12\n");
}

TEST(Prometheus, LabelledCounterWritesOneSamplePerKeyInOrder) {
  prometheus_text p;
  p.labelled_counter("e_total", "By name.", "event", {{"play", 2}, {"join", 1}});
  EXPECT_EQ(p.str(),
            "# HELP e_total By name.\n# TYPE e_total counter\n"
            "e_total{event=\"join\"} 1\ne_total{event=\"play\"} 2\n");
}

TEST(Prometheus, HistogramWritesBucketsInfSumAndCount) {
  prometheus_text p;
  std::array<double, 3> bounds{0.5, 1, 25};
  std::array<uint64_t, 3> counts{1, 2, 2};
  p.histogram("lag_ms", "Lag.", bounds, counts, 3, 30.25);
  EXPECT_EQ(p.str(),
            "# HELP lag_ms Lag.\n# TYPE lag_ms histogram\n"
            "lag_ms_bucket{le=\"0.5\"} 1\nlag_ms_bucket{le=\"1\"} 2\n"
            "lag_ms_bucket{le=\"25\"} 2\nlag_ms_bucket{le=\"+Inf\"} 3\n"
            "lag_ms_sum 30.250\nlag_ms_count 3\n");
}

}  // namespace
}  // namespace bandsync::http
