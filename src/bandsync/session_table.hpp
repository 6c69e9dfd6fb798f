#pragma once
// Every session of the process, bounded by max_sessions, with two indexes the
// timers need: the playing sessions (the only ones the tick write-behind visits) and the empty
// sessions ordered by last activity (what sweep() expires and what a full
// table evicts), so neither timer scans the whole table.

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "bandsync/session.hpp"

namespace bandsync::domain {

class session_table {
 public:
  explicit session_table(size_t max_sessions) : max_sessions_(max_sessions) {}

  session* find(const std::string& id);
  const session* find(const std::string& id) const;

  // True when insert() would succeed: room is left, or an empty session can be
  // evicted to make some.
  bool can_insert() const;

  // Adds `s` (whose id must not be present). When the table is full, the least
  // recently active empty session is evicted first and its id stored in
  // `*evicted`. Returns nullptr (and changes nothing) when every session has
  // members. An empty `s` is indexed as empty at its last_active_at.
  session* insert(session s, std::optional<std::string>* evicted);

  void erase(const std::string& id);
  // Called with the id of every session about to be erased (erase() and an
  // eviction by insert()): whoever holds a pointer to it (the tick schedule)
  // lets go here.
  void on_erase(std::function<void(const std::string&)> fn) { on_erase_ = std::move(fn); }

  // Index maintenance, called by the service after membership changes:
  // `s` just lost its last member (its last_active_at is when) / gained one.
  void mark_empty(const session& s);
  void mark_occupied(const std::string& id);

  void set_playing(const std::string& id, bool playing);
  const std::set<std::string>& playing() const { return playing_; }

  // Ids of empty sessions last active strictly before `cutoff_wall_ms`, oldest
  // first.
  std::vector<std::string> empty_before(int64_t cutoff_wall_ms) const;

  // Calls `fn(const session&)` for every session, in no particular order;
  // `fn` must not insert or erase.
  template <class Fn>
  void for_each(Fn&& fn) const {
    for (const auto& [id, s] : sessions_) fn(s);
  }

  size_t size() const { return sessions_.size(); }
  size_t empty_count() const { return empty_.size(); }

 private:
  size_t max_sessions_;
  std::unordered_map<std::string, session> sessions_;
  std::set<std::string> playing_;
  std::set<std::pair<int64_t, std::string>> empty_;  // (empty since, id)
  std::unordered_map<std::string, int64_t> empty_since_;
  std::function<void(const std::string&)> on_erase_;
};

}  // namespace bandsync::domain
