#include "store/write_buffer.hpp"

#include <utility>

namespace bandsync::store {

bool write_buffer::put(const std::string& group_name, const std::string& key, op_kind kind,
                       std::string value) {
  auto it = index_.find(key);
  if (it != index_.end()) {
    auto& ops = groups_[it->second];
    auto existing = ops.find(key);
    if (kind == op_kind::expire && existing->second.kind != op_kind::expire) return true;
    if (it->second != group_name) {
      ops.erase(existing);
      if (ops.empty()) groups_.erase(it->second);
      it->second = group_name;
    }
  } else {
    if (index_.size() >= max_keys_) {
      ++dropped_;
      return false;
    }
    index_.emplace(key, group_name);
  }
  groups_[group_name][key] = op{key, kind, std::move(value)};
  return true;
}

std::vector<write_buffer::group> write_buffer::take(size_t max_ops) {
  std::vector<group> out;
  size_t ops = 0;
  while (!groups_.empty()) {
    auto first = groups_.begin();
    size_t n = first->second.size();
    if (!out.empty() && ops + n > max_ops) break;
    group g{first->first, {}};
    g.ops.reserve(n);
    for (auto& [key, o] : first->second) {
      index_.erase(key);
      g.ops.push_back(std::move(o));
    }
    groups_.erase(first);
    ops += n;
    out.push_back(std::move(g));
  }
  return out;
}

void write_buffer::restore(std::vector<group>&& groups) {
  for (auto& g : groups) {
    for (auto& o : g.ops) {
      if (index_.contains(o.key)) continue;  // a newer operation wins
      index_.emplace(o.key, g.name);
      groups_[g.name][o.key] = std::move(o);
    }
  }
}

}  // namespace bandsync::store
