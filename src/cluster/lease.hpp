#pragma once
// Which sessions this node runs, as far as it can know without I/O
// (docs/EVENTS.md "Cluster", "Leases"). A lease is the Redis key
// `lease:<sessionId>` holding the owner's token "<nodeId>:<version>", set with
// SET NX PX and renewed by a script that checks the token; the version comes
// from INCR `fence:<sessionId>` on every acquisition, so tokens never repeat.
//
// This node believes it owns a session only until the time it sent its last
// confirmed acquire/renew plus the TTL minus a safety margin: a reply that
// comes late, or a process that was paused (SIGSTOP, swapping), finds the
// lease expired here before Redis can hand it to another node, and the node
// stops running the session. All times are steady µs passed in by the caller.
// Bounded by the caller: entries exist only for sessions it routes.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace bandsync::cluster {

struct lease_timing {
  int64_t ttl_ms = 600;     // PX of the lease key
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

class lease_table {
 public:
  lease_table(std::string self, lease_timing timing) : self_(std::move(self)), timing_(timing) {}

  enum class outcome {
    acquired,  // the token is ours: the caller loads the session and runs it
    foreign,   // another node holds it (now the known owner)
    invalid,   // not a token: nothing changes
  };
  // The lease key held `token` after an acquire attempt sent at `sent_us`.
  outcome on_acquired(const std::string& session, std::string_view token, int64_t sent_us);

  // The reply to a renewal of `token` sent at `sent_us`: still ours (ok) or
  // not. Returns false when the session is no longer owned by this node (the
  // caller stops running it). A reply for an older token is ignored (true if
  // still owned).
  bool on_renewed(const std::string& session, std::string_view token, bool ok, int64_t sent_us);

  // Owned and believed valid at `now_us`.
  bool owns(const std::string& session, int64_t now_us) const;
  // The token of an owned session (valid or not yet noticed as expired).
  std::optional<std::string> token(const std::string& session) const;
  std::optional<uint64_t> version(const std::string& session) const;
  // Owned sessions whose validity ended by `now_us` (the caller drops them).
  std::vector<std::string> expired(int64_t now_us) const;
  // (session, token) of every owned session, for one renewal round.
  std::vector<std::pair<std::string, std::string>> owned() const;
  // Forget the session (given up, lost, or removed).
  void drop(const std::string& session);

  // The owner this node last heard of for a session it does not own, while
  // that knowledge is younger than the TTL; nullopt otherwise.
  std::optional<std::string> owner(const std::string& session, int64_t now_us) const;
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
    std::string token;  // ours: our token
    std::string owner;  // not ours: the known owner
    uint64_t version = 0;
    int64_t valid_until_us = 0;  // ours: believed valid before this
    int64_t heard_us = 0;        // not ours: when the owner was heard of
  };
  std::string self_;
  lease_timing timing_;
  std::unordered_map<std::string, entry> entries_;
};

}  // namespace bandsync::cluster
