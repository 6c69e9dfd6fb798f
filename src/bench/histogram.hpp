#pragma once
// A log-linear histogram of non-negative integer samples (microseconds here)
// with bounded memory: exact below 2^sub_bits, then 2^sub_bits buckets per
// power of two (under 1 % relative error at sub_bits = 7). A benchmark of
// 20 000 devices ticking at 10 Hz for ten minutes records 120 million
// samples; keeping them all would cost a gigabyte, this costs 60 KiB.

#include <cstdint>
#include <vector>

#include <boost/json/object.hpp>

namespace bandsync::bench {

class histogram {
 public:
  histogram();

  void record(int64_t value);
  void merge(const histogram& other);

  uint64_t count() const { return count_; }
  int64_t min() const { return count_ ? min_ : 0; }
  int64_t max() const { return max_; }
  double mean() const { return count_ ? static_cast<double>(sum_) / count_ : 0.0; }
  // The smallest recorded bucket value v with at least q of the samples <= v
  // (q in [0, 1]); the bucket's upper bound, so never under the true
  // quantile; 0 when empty.
  int64_t quantile(double q) const;

  // { count, mean, p50, p90, p99, p99_9, max } with values divided by `scale`
  // (1000 turns microseconds into milliseconds).
  boost::json::object summary(double scale) const;

 private:
  static constexpr int sub_bits = 7;
  static size_t index_of(int64_t value);
  static int64_t upper_of(size_t index);

  std::vector<uint64_t> buckets_;
  uint64_t count_ = 0;
  int64_t sum_ = 0;
  int64_t min_ = 0;
  int64_t max_ = 0;
};

}  // namespace bandsync::bench
