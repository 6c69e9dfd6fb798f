#pragma once
// Which session channels (`bs:r:<id>`) a node subscribes to, without I/O
// (node.cpp sends the SUBSCRIBE / UNSUBSCRIBE commands).
//
// A node needs a session's channel while it has sockets in the session, while
// events wait for the session's owner, while it owns the session, and for a
// while after one of its sockets sent an event to the session: a
// join_session forwarded to another owner is answered with `join` on the
// node's own channel and with broadcasts (room_stats, user_joined) on the
// session's, and until the `join` arrives the node has no socket in the room.
// An UNSUBSCRIBE in that gap loses those broadcasts (Redis does not keep
// them), so a channel stays `quiet_us` after its last local event
// (node_options: two heartbeat rounds).
//
// Single-threaded; the table holds one entry per subscribed session.

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

namespace bandsync::cluster {

class room_channels {
 public:
  explicit room_channels(int64_t quiet_us) : quiet_us_(quiet_us) {}

  // Asks for `session` (unconfirmed); returns false when it was already
  // asked for (subscribed, or its SUBSCRIBE in flight).
  bool add(const std::string& session);
  // Its SUBSCRIBE was answered: messages on it are heard from now on.
  // Returns false when the session was dropped meanwhile.
  bool confirm(const std::string& session);
  // Confirmed (not only asked for).
  bool subscribed(const std::string& session) const;
  bool contains(const std::string& session) const;
  // The subscribed connection was lost: every channel must be asked again.
  void unconfirm_all();
  // Every session asked for (to subscribe again after a reconnection).
  std::vector<std::string> sessions() const;

  // One of this node's sockets sent an event to `session` at `now_us` (before
  // or after the channel is asked for).
  void used(const std::string& session, int64_t now_us);

  // Removes and returns the confirmed channels that nothing needs any more:
  // no local event within quiet_us before `now_us`, and `needed(session)`
  // false (sockets here, events waiting, owned). Uses older than quiet_us of
  // channels never asked for are forgotten too (not returned).
  std::vector<std::string> take_idle(int64_t now_us,
                                     const std::function<bool(const std::string&)>& needed);

 private:
  struct channel {
    bool requested = false;
    bool confirmed = false;
    int64_t used_us = 0;  // last local event; 0 = none
    bool ever_used = false;
  };
  int64_t quiet_us_;
  std::unordered_map<std::string, channel> channels_;
};

}  // namespace bandsync::cluster
