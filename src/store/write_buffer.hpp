#pragma once
// The Redis store's pending writes: the newest operation per key, grouped by
// session so that a session's keys always travel in the same MULTI/EXEC
// block. While Redis is reachable it holds the writes of one event-loop turn;
// during an outage it is the outage buffer, holding the latest state of every
// key changed meanwhile (deletions included), bounded by max_keys.
//
// No I/O: the store turns taken groups into commands.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

namespace bandsync::store {

class write_buffer {
 public:
  enum class op_kind {
    set,     // SET key value EX ttl
    del,     // DEL key
    expire,  // EXPIRE key ttl: a refresh, never overrides a pending set or del
  };
  struct op {
    std::string key;
    op_kind kind = op_kind::set;
    std::string value;  // set only
  };
  // The pending operations of one session id (its name), at most one per key.
  struct group {
    std::string name;
    std::vector<op> ops;
  };

  explicit write_buffer(size_t max_keys) : max_keys_(max_keys) {}

  // Records `kind` (with `value` for set) as the newest operation on `key`, in
  // group `group_name`, replacing any pending operation on the key (which
  // moves to the new group). An expire is ignored when the key already has a
  // pending set or del. Returns false when the key is new and max_keys keys
  // are already pending: nothing is recorded and dropped() grows.
  bool put(const std::string& group_name, const std::string& key, op_kind kind,
           std::string value = {});

  // Removes and returns whole groups, in group-name order, until at least one
  // group is taken and adding the next would exceed `max_ops` operations.
  std::vector<group> take(size_t max_ops);

  // Puts back the operations of groups that failed to reach Redis, except on
  // keys that got a newer operation meanwhile. Call it for failed batches
  // newest first, so that an older failure never shadows a newer one. May
  // exceed max_keys by the restored keys (they were counted when first put).
  void restore(std::vector<group>&& groups);

  bool empty() const { return index_.empty(); }
  size_t keys() const { return index_.size(); }
  uint64_t dropped() const { return dropped_; }

 private:
  using op_map = std::map<std::string, op>;  // key -> op

  size_t max_keys_;
  std::map<std::string, op_map> groups_;                // group name -> its ops
  std::unordered_map<std::string, std::string> index_;  // key -> group name
  uint64_t dropped_ = 0;
};

}  // namespace bandsync::store
