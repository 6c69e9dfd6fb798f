#pragma once
// The embedded store used when no Redis is configured: the Redis layout of
// EVENTS.md kept in process memory. It survives nothing (load_sessions after a
// restart finds an empty store) but lets the domain run unchanged, and its
// accessors let tests check what the domain wrote. Thread-safe.

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "store/session_store.hpp"

namespace bandsync::store {

struct memory_store_limits {
  size_t max_sessions = 100000;
  size_t max_members = 800000;
};

class memory_store : public session_store {
 public:
  explicit memory_store(memory_store_limits limits = {});

  // Writes that would add a key beyond the limits are dropped and counted in
  // dropped_writes(); overwriting an existing key always succeeds.
  void save_session(const session_record& record) override;
  // A setlist is kept only for a stored session (as the ticker key), since
  // nothing else would ever remove it; otherwise dropped and counted.
  void save_setlist(const std::string& session_id, const std::vector<song_record>& songs) override;
  void remove_session(const std::string& session_id) override;
  void save_member(const std::string& session_id, const member_record& member) override;
  void remove_member(const std::string& socket_id) override;
  void set_ticking(const std::string& session_id, bool ticking) override;
  std::vector<session_record> load_sessions() override;

  std::optional<session_record> find_session(const std::string& session_id) const;
  std::optional<member_entry> find_member(const std::string& socket_id) const;
  bool is_ticking(const std::string& session_id) const;
  std::vector<song_record> find_setlist(const std::string& session_id) const;
  size_t session_count() const;
  size_t member_count() const;
  uint64_t dropped_writes() const;

 private:
  memory_store_limits limits_;
  mutable std::mutex mutex_;
  std::map<std::string, session_record> sessions_;
  std::map<std::string, member_entry> members_;
  std::set<std::string> ticking_;  // bounded: only ids present in sessions_
  std::map<std::string, std::vector<song_record>> setlists_;  // likewise
  uint64_t dropped_writes_ = 0;
};

}  // namespace bandsync::store
