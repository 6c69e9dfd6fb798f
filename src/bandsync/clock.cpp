#include "bandsync/clock.hpp"

#include <chrono>

namespace bandsync::domain {

int64_t system_clock_source::steady_us() const {
  using namespace std::chrono;
  return duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count();
}

int64_t system_clock_source::wall_ms() const {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace bandsync::domain
