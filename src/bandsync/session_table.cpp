#include "bandsync/session_table.hpp"

namespace bandsync::domain {

session* session_table::find(const std::string& id) {
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : &it->second;
}

const session* session_table::find(const std::string& id) const {
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : &it->second;
}

bool session_table::can_insert() const {
  return sessions_.size() < max_sessions_ || !empty_.empty();
}

session* session_table::insert(session s, std::optional<std::string>* evicted) {
  if (sessions_.contains(s.id())) return nullptr;
  if (sessions_.size() >= max_sessions_) {
    if (empty_.empty()) return nullptr;
    std::string victim = empty_.begin()->second;
    erase(victim);
    if (evicted) *evicted = std::move(victim);
  }
  std::string id = s.id();
  auto [it, inserted] = sessions_.try_emplace(id, std::move(s));
  if (!inserted) return nullptr;
  if (it->second.empty()) mark_empty(it->second);
  return &it->second;
}

void session_table::erase(const std::string& id) {
  if (on_erase_ && sessions_.contains(id)) on_erase_(id);
  mark_occupied(id);
  playing_.erase(id);
  sessions_.erase(id);
}

void session_table::mark_empty(const session& s) {
  mark_occupied(s.id());
  empty_.emplace(s.last_active_at(), s.id());
  empty_since_.emplace(s.id(), s.last_active_at());
}

void session_table::mark_occupied(const std::string& id) {
  auto it = empty_since_.find(id);
  if (it == empty_since_.end()) return;
  empty_.erase({it->second, id});
  empty_since_.erase(it);
}

void session_table::set_playing(const std::string& id, bool playing) {
  if (playing) {
    playing_.insert(id);
  } else {
    playing_.erase(id);
  }
}

std::vector<std::string> session_table::empty_before(int64_t cutoff_wall_ms) const {
  std::vector<std::string> out;
  for (const auto& [since, id] : empty_) {
    if (since >= cutoff_wall_ms) break;
    out.push_back(id);
  }
  return out;
}

}  // namespace bandsync::domain
