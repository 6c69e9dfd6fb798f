#include "bandsync/connection_registry.hpp"

namespace bandsync::domain {

bool connection_registry::add(const std::string& id) {
  if (!connections_.try_emplace(id).second) return false;
  ++total_;
  return true;
}

bool connection_registry::remove(const std::string& id) {
  return connections_.erase(id) > 0;
}

connection_state* connection_registry::find(const std::string& id) {
  auto it = connections_.find(id);
  return it == connections_.end() ? nullptr : &it->second;
}

const connection_state* connection_registry::find(const std::string& id) const {
  auto it = connections_.find(id);
  return it == connections_.end() ? nullptr : &it->second;
}

bool connection_registry::healthy(const connection_state& c, double threshold_ms) {
  return !c.latency_ms || *c.latency_ms < threshold_ms;
}

double connection_registry::average_latency_ms() const {
  // Recomputed on demand (a few reads a minute) rather than kept as a running
  // sum, which would accumulate rounding error over millions of updates.
  double sum = 0;
  size_t n = 0;
  for (const auto& [id, c] : connections_) {
    if (c.latency_ms) {
      sum += *c.latency_ms;
      ++n;
    }
  }
  return n == 0 ? 0 : sum / static_cast<double>(n);
}

}  // namespace bandsync::domain
