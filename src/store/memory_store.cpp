#include "store/memory_store.hpp"

namespace bandsync::store {

memory_store::memory_store(memory_store_limits limits) : limits_(limits) {}

void memory_store::save_session(const session_record& record) {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(record.id);
  if (it != sessions_.end()) {
    it->second = record;
  } else if (sessions_.size() < limits_.max_sessions) {
    it = sessions_.emplace(record.id, record).first;
  } else {
    ++dropped_writes_;
    return;
  }
  it->second.setlist.clear();  // as in Redis: the songs have a key of their own
}

void memory_store::save_setlist(const std::string& session_id,
                                const std::vector<song_record>& songs) {
  std::lock_guard lock(mutex_);
  if (songs.empty()) {
    setlists_.erase(session_id);
  } else if (sessions_.contains(session_id)) {
    setlists_[session_id] = songs;
  } else {
    ++dropped_writes_;
  }
}

void memory_store::remove_session(const std::string& session_id) {
  std::lock_guard lock(mutex_);
  sessions_.erase(session_id);
  ticking_.erase(session_id);
  setlists_.erase(session_id);
}

void memory_store::save_member(const std::string& session_id, const member_record& member) {
  std::lock_guard lock(mutex_);
  auto it = members_.find(member.socket_id);
  if (it != members_.end()) {
    // Assigned in place: the strings keep their buffers (a member is saved
    // on every latency probe and heartbeat answer; issue 12).
    it->second.session_id = session_id;
    it->second.member = member;
  } else if (members_.size() < limits_.max_members) {
    members_.emplace(member.socket_id, member_entry{session_id, member});
  } else {
    ++dropped_writes_;
  }
}

void memory_store::remove_member(const std::string& socket_id) {
  std::lock_guard lock(mutex_);
  members_.erase(socket_id);
}

void memory_store::set_ticking(const std::string& session_id, bool ticking) {
  std::lock_guard lock(mutex_);
  if (!ticking) {
    ticking_.erase(session_id);
  } else if (sessions_.contains(session_id)) {
    ticking_.insert(session_id);
  } else {
    // A ticker key without its session would never be cleaned up by
    // remove_session, so it is not kept (Redis would expire it instead).
    ++dropped_writes_;
  }
}

std::vector<session_record> memory_store::load_sessions() {
  std::lock_guard lock(mutex_);
  std::vector<session_record> out;
  out.reserve(sessions_.size());
  for (const auto& [id, record] : sessions_) {
    out.push_back(record);
    if (auto it = setlists_.find(id); it != setlists_.end()) out.back().setlist = it->second;
  }
  return out;
}

std::vector<song_record> memory_store::find_setlist(const std::string& session_id) const {
  std::lock_guard lock(mutex_);
  auto it = setlists_.find(session_id);
  return it == setlists_.end() ? std::vector<song_record>{} : it->second;
}

std::optional<session_record> memory_store::find_session(const std::string& session_id) const {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) return std::nullopt;
  return it->second;
}

std::optional<member_entry> memory_store::find_member(const std::string& socket_id) const {
  std::lock_guard lock(mutex_);
  auto it = members_.find(socket_id);
  if (it == members_.end()) return std::nullopt;
  return it->second;
}

bool memory_store::is_ticking(const std::string& session_id) const {
  std::lock_guard lock(mutex_);
  return ticking_.contains(session_id);
}

size_t memory_store::session_count() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

size_t memory_store::member_count() const {
  std::lock_guard lock(mutex_);
  return members_.size();
}

uint64_t memory_store::dropped_writes() const {
  std::lock_guard lock(mutex_);
  return dropped_writes_;
}

}  // namespace bandsync::store
