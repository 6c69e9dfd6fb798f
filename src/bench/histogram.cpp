#include "bench/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace bandsync::bench {
namespace {

constexpr int value_bits = 63;

double rounded(double v) {
  return std::round(v * 1000) / 1000;
}

}  // namespace

histogram::histogram() : buckets_(index_of(INT64_MAX) + 1) {}

// Values below 2^sub_bits map to themselves; above, the top sub_bits bits
// after the leading one select the bucket within its power of two.
size_t histogram::index_of(int64_t value) {
  auto v = static_cast<uint64_t>(std::max<int64_t>(value, 0));
  if (v < (uint64_t{1} << sub_bits)) return v;
  int top = std::bit_width(v) - 1;  // >= sub_bits
  int shift = top - sub_bits;
  uint64_t sub = (v >> shift) & ((uint64_t{1} << sub_bits) - 1);
  return (static_cast<size_t>(shift + 1) << sub_bits) + sub;
}

int64_t histogram::upper_of(size_t index) {
  if (index < (size_t{1} << sub_bits)) return static_cast<int64_t>(index);
  int shift = static_cast<int>(index >> sub_bits) - 1;
  uint64_t sub = index & ((uint64_t{1} << sub_bits) - 1);
  uint64_t low = ((uint64_t{1} << sub_bits) | sub) << shift;
  uint64_t high = low + ((uint64_t{1} << shift) - 1);
  return static_cast<int64_t>(std::min<uint64_t>(high, (uint64_t{1} << value_bits) - 1));
}

void histogram::record(int64_t value) {
  value = std::max<int64_t>(value, 0);
  ++buckets_[index_of(value)];
  if (count_ == 0 || value < min_) min_ = value;
  if (value > max_) max_ = value;
  ++count_;
  sum_ += value;
}

void histogram::merge(const histogram& other) {
  if (other.count_ == 0) return;
  for (size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
  min_ = count_ ? std::min(min_, other.min_) : other.min_;
  max_ = std::max(max_, other.max_);
  count_ += other.count_;
  sum_ += other.sum_;
}

int64_t histogram::quantile(double q) const {
  if (count_ == 0) return 0;
  auto rank = static_cast<uint64_t>(std::ceil(std::clamp(q, 0.0, 1.0) * count_));
  rank = std::max<uint64_t>(rank, 1);
  uint64_t seen = 0;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= rank) return std::min(upper_of(i), max_);
  }
  return max_;
}

boost::json::object histogram::summary(double scale) const {
  boost::json::object o;
  o["count"] = count_;
  o["mean"] = rounded(mean() / scale);
  o["p50"] = rounded(quantile(0.50) / scale);
  o["p90"] = rounded(quantile(0.90) / scale);
  o["p99"] = rounded(quantile(0.99) / scale);
  o["p99_9"] = rounded(quantile(0.999) / scale);
  o["max"] = rounded(max() / scale);
  return o;
}

}  // namespace bandsync::bench
