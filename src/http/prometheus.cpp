#include "http/prometheus.hpp"

#include <cstdio>

namespace bandsync::http {

void prometheus_text::header(std::string_view name, std::string_view help, std::string_view type) {
  out_.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void prometheus_text::sample(std::string_view name, std::string_view labels,
                             std::string_view value) {
  out_.append(name).append(labels).append(" ").append(value).append("\n");
}

void prometheus_text::gauge(std::string_view name, std::string_view help, uint64_t value) {
  header(name, help, "gauge");
  sample(name, "", std::to_string(value));
}

void prometheus_text::counter(std::string_view name, std::string_view help, uint64_t value) {
  header(name, help, "counter");
  sample(name, "", std::to_string(value));
}

void prometheus_text::labelled_counter(std::string_view name, std::string_view help,
                                       std::string_view label,
                                       const std::map<std::string, uint64_t>& values) {
  header(name, help, "counter");
  for (const auto& [key, n] : values) {
    std::string labels = "{" + std::string(label) + "=\"" + key + "\"}";
    sample(name, labels, std::to_string(n));
  }
}

void prometheus_text::histogram(std::string_view name, std::string_view help,
                                std::span<const double> bounds,
                                std::span<const uint64_t> cumulative, uint64_t count, double sum) {
  header(name, help, "histogram");
  std::string bucket = std::string(name) + "_bucket";
  for (size_t i = 0; i < bounds.size() && i < cumulative.size(); ++i) {
    char le[32];
    std::snprintf(le, sizeof le, "%g", bounds[i]);
    sample(bucket, std::string("{le=\"") + le + "\"}", std::to_string(cumulative[i]));
  }
  sample(bucket, "{le=\"+Inf\"}", std::to_string(count));
  char total[64];
  std::snprintf(total, sizeof total, "%.3f", sum);
  sample(std::string(name) + "_sum", "", total);
  sample(std::string(name) + "_count", "", std::to_string(count));
}

}  // namespace bandsync::http
