#pragma once
// Which sessions this node runs, as far as it can know without I/O
// (docs/EVENTS.md "Cluster", "Leases"). Two levels of lease:
//
//   - the node's own lease `nodelease:<nodeId>`, holding the node's epoch (a
//     number from INCR `bs:epoch`, new every time the node (re)joins), set
//     with PX and renewed by one script per renewal period for the whole
//     node, whatever the number of sessions it runs;
//   - per session `lease:<sessionId>`, holding "<nodeId>:<version>@<epoch>":
//     the owner's token (the version from INCR `fence:<sessionId>` on every
//     acquisition, so tokens never repeat) and the epoch it was taken under.
//     A session lease is valid exactly while its owner's node lease still
//     holds that epoch: when a node dies, all its sessions lapse together
//     with its node lease; a node whose node lease lapsed gets a new epoch,
//     and its old sessions are free for anyone, itself included.
//
// This node believes its node lease (and so every session lease) only until
// the time it sent its last confirmed node renewal plus the TTL minus a
// safety margin: a reply that comes late, or a process that was paused
// (SIGSTOP, swapping), finds its leases expired here before Redis can hand
// them to another node, and the node stops running them. All times are
// steady µs passed in by the caller. Bounded by the caller: entries exist
// only for sessions it routes.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace bandsync::cluster {

struct lease_timing {
  int64_t ttl_ms = 600;     // PX of the node lease
  int64_t renew_ms = 200;   // renewal period (three renewals per TTL)
  int64_t margin_ms = 100;  // stop believing this long before Redis would expire it
};

std::string make_token(std::string_view node_id, uint64_t version);

struct token_parts {
  std::string node;
  uint64_t version = 0;
};
// "<node>:<version>" with a valid node id and a version >= 1; else nullopt.
std::optional<token_parts> parse_token(std::string_view token);

// A session lease's value: "<token>@<epoch>" (epoch: decimal digits).
struct lease_value {
  std::string token;
  std::string epoch;
  token_parts parts;
};
std::optional<lease_value> parse_lease_value(std::string_view value);

class lease_table {
 public:
  lease_table(std::string self, lease_timing timing) : self_(std::move(self)), timing_(timing) {}

  // The node lease: taken (a new epoch) or renewed by a request sent at
  // `sent_us`. A new epoch replaces the old one: sessions taken under the
  // old epoch are no longer owned (the caller gives them up first).
  void on_node_lease(const std::string& epoch, int64_t sent_us);
  // The node lease is gone (a renewal found another value or none): nothing
  // is owned any more; the caller joins again.
  void lose_node();
  const std::string& epoch() const { return epoch_; }
  bool node_valid(int64_t now_us) const { return !epoch_.empty() && now_us < valid_until_us_; }

  enum class outcome {
    acquired,  // the lease is ours: the caller loads the session and runs it
    foreign,   // another node holds it (now the known owner)
    invalid,   // not a lease value (or ours under another epoch): nothing changes
  };
  // The session's lease key held `value` after an acquire attempt.
  outcome on_acquired(const std::string& session, std::string_view value, int64_t now_us);

  // Owned and believed valid at `now_us`.
  bool owns(const std::string& session, int64_t now_us) const;
  // The lease value of an owned session (valid or not yet noticed as expired).
  std::optional<std::string> token(const std::string& session) const;
  std::optional<uint64_t> version(const std::string& session) const;
  // Owned sessions whose validity ended by `now_us` (the caller drops them).
  std::vector<std::string> expired(int64_t now_us) const;
  // (session, lease value) of every owned session.
  std::vector<std::pair<std::string, std::string>> owned() const;
  // Forget the session (given up, lost, or removed).
  void drop(const std::string& session);

  // The owner this node last heard of for a session it does not own, while
  // that knowledge is younger than the TTL; nullopt otherwise.
  std::optional<std::string> owner(const std::string& session, int64_t now_us) const;
  // The last owner heard of, however old, and its epoch ("" when heard of
  // only through a broadcast): whose node lease to watch for a takeover.
  std::optional<std::pair<std::string, std::string>> last_owner(const std::string& session) const;
  // Heard from an owner (a broadcast, an ownership message): kept unless an
  // owner with a higher version is already known. Ignored for our own id.
  void note_owner(const std::string& session, std::string_view node, uint64_t version,
                  int64_t now_us);

  size_t owned_count() const;
  const lease_timing& timing() const { return timing_; }
  const std::string& self() const { return self_; }

 private:
  struct entry {
    bool ours = false;
    std::string value;  // ours: our lease value
    std::string owner;  // not ours: the known owner
    std::string owner_epoch;
    uint64_t version = 0;
    int64_t heard_us = 0;  // not ours: when the owner was heard of
  };
  std::string self_;
  lease_timing timing_;
  std::string epoch_;  // empty: no node lease
  int64_t valid_until_us_ = 0;
  std::unordered_map<std::string, entry> entries_;
};

}  // namespace bandsync::cluster
