#pragma once
// One BandSync node of a cluster on one Redis (docs/EVENTS.md "Cluster"):
// the node's heartbeat, the session leases, and the routing of Socket.IO
// traffic between nodes over pub/sub.
//
//   - A client event that names a session runs on the node holding the
//     session's lease; a node without it forwards the event to the owner's
//     channel with the origin node and socket id. Events that name no session
//     (time_sync, latency_probe, heartbeat_response) run where they arrive.
//   - The owner's outbox sends to its own sockets directly; a reply to a
//     socket elsewhere goes to that socket's node; a broadcast is encoded
//     once and published once on the session's channel, which every node
//     with sockets in the room subscribes to.
//   - The node holds one node lease (lease.hpp), renewed once per period for
//     all its sessions; a session's lease is valid while its owner's node
//     lease holds the epoch it was taken under.
//   - A session's first event on a node whose owner is unknown tries to take
//     the lease; the node that gets it loads the session from Redis. Nodes
//     with members of a session they do not own watch the owner's node
//     lease (one probe per owner node when it would expire, checked every
//     takeover_poll) and ask for the owner's sessions once it is gone, which
//     is how a dead owner is replaced within the node lease's TTL.
//   - Every state write of the owner is fenced by its session lease and its
//     node lease (redis_store::set_fencing); a node whose node lease lapsed
//     stops running every session before Redis can give them to another
//     node, and joins again under a new epoch.
//
// Single-threaded: everything runs on the io_context's thread. Bounded: the
// events waiting for an owner (per session and in total), the remote acks
// waiting for a reply, and the tables of remote sockets (by the owners'
// sessions' capacity).

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "bandsync/outbox.hpp"
#include "bandsync/session_service.hpp"
#include "cluster/lease.hpp"
#include "cluster/room_channels.hpp"
#include "cluster/wire.hpp"
#include "socketio/namespace.hpp"
#include "store/redis_options.hpp"
#include "store/redis_store.hpp"

namespace bandsync::store {
class redis_connection;
}

namespace bandsync::cluster {

struct node_options {
  std::string node_id;  // valid_node_id
  lease_timing lease;
  std::chrono::milliseconds heartbeat_interval{500};
  std::chrono::milliseconds node_ttl{1500};  // PX of `node:<id>`
  // How often the lease expiries of sessions with local members are checked.
  std::chrono::milliseconds takeover_poll{25};
  size_t max_pending_events = 64;  // per session, while its owner is being resolved
  size_t max_pending_sessions = 4096;
  size_t max_remote_acks = 4096;  // forwarded events awaiting an ack from the owner
  int fence_ttl_seconds = 86400;  // `fence:<id>` expiry
  // `lease:<id>` expiry (EX), refreshed every touch_interval while owned: a
  // dead node's session leases do not stay in Redis for ever.
  int lease_key_ttl_seconds = 600;
  std::chrono::milliseconds touch_interval{60000};
  store::redis_connection_options connection;
};

class node {
 public:
  node(boost::asio::io_context& ioc, node_options options, socketio::socket_namespace& ns,
       store::redis_store& store);
  ~node();
  node(const node&) = delete;
  node& operator=(const node&) = delete;

  // The outbox to construct the service with.
  domain::outbox& outbox() { return outbox_; }
  // Hooks the namespace's connections to `service` (instead of glue::attach)
  // and the store's fencing to the leases.
  void bind(domain::session_service& service);
  void start();
  void stop();

  const std::string& id() const { return options_.node_id; }
  // `cluster` of GET /health: { nodeId, peers: [ids], ownedSessions }.
  boost::json::object health() const;

  struct counters {
    uint64_t published = 0;   // PUBLISH commands
    uint64_t received = 0;    // messages from other nodes
    uint64_t forwarded = 0;   // client events sent to another node's owner
    uint64_t broadcasts = 0;  // room broadcasts published
    uint64_t leases_acquired = 0;
    uint64_t leases_lost = 0;     // not renewed in time, refused, or taken by another node
    uint64_t failovers = 0;       // leases taken by the takeover poll (the owner went away)
    uint64_t events_dropped = 0;  // waiting events over the bounds
    uint64_t hop_limited = 0;     // forwarded events refused at the hop limit
    uint64_t bad_messages = 0;
    uint64_t redis_commands = 0;  // of the cluster's own connections
  };
  counters stats() const;
  size_t peer_count() const { return peers_.size(); }
  size_t owned_sessions() const { return leases_.owned_count(); }

 private:
  class cluster_outbox : public domain::outbox {
   public:
    explicit cluster_outbox(node& n) : n_(n) {}
    void emit_to(const std::string& conn_id, std::string_view event,
                 const boost::json::value& payload) override;
    void emit_to_session(const std::string& session_id, std::string_view event,
                         const boost::json::value& payload) override;
    void join_room(const std::string& conn_id, const std::string& session_id) override;
    void leave_room(const std::string& conn_id, const std::string& session_id) override;

   private:
    void forward_room(wire_kind kind, const std::string& conn_id, const std::string& session_id);

    node& n_;
  };

  struct pending_event {
    std::string origin;  // node id
    std::string sid;
    std::string event;
    boost::json::array args;
    domain::ack_reply local_ack;         // origin is this node
    std::optional<uint64_t> remote_ack;  // origin elsewhere: its ack id
    std::string address;                 // the socket's remote address
    uint64_t hops = 0;                   // times passed on by a node that did not own it
    bool relayed = false;                // came from another node (even if ours at origin)
  };

  int64_t now_us() const;
  void publish(const std::string& channel, const wire_message& m);
  void send(std::string commands, size_t count,
            std::function<void(bool ok, std::vector<store::redis_reply>&&)> done);

  void on_local_event(const std::string& sid, const std::string& address, std::string_view event,
                      boost::json::array args, domain::ack_reply ack);
  void on_local_disconnect(const std::string& sid);
  void route(pending_event e, const std::string& session);
  void deliver(pending_event e);
  void forward(pending_event e, const std::string& owner, const std::string& session);
  void queue(pending_event e, const std::string& session);
  void drain(const std::string& session);
  void resolve(const std::string& session);
  // Asks for the leases of `sessions` (sessions with local members whose
  // owner is unknown or gone); those it gets are loaded (failover).
  void acquire_batch(std::vector<std::string> sessions);
  void lose_node(std::string_view why);
  void load(const std::string& session, bool failover);
  void relinquish(const std::string& session, std::string_view why);
  void forget_remote(const std::string& sid);
  // A member of a session run here whose node is gone: held as a dropped
  // connection is, for the recovery window (on_disconnect when recovery is
  // off), so that its device can take its seat back from another node.
  void orphan(const std::string& sid);
  // A member heard from again (its node was only cut off): connected again.
  void adopt_orphan(const std::string& sid);
  // The owner's answer to the ack `id` of our socket `sid`'s forwarded event.
  void answer_ack(const std::string& sid, uint64_t id, const boost::json::value& payload);
  // Tells the owners this socket's events went to that it is held / back.
  void tell_owners(wire_kind kind, const std::string& sid);
  // One packet for a socket on node `to`: stored there too when `event` is
  // stored for connection state recovery.
  void emit_remote(const std::string& to, const std::string& sid, std::string_view event,
                   const boost::json::value& payload);
  // A packet from another node to local sockets (`room` or socket `sid`):
  // through the namespace's stored path when `event` is stored here (so a
  // held socket gets it on recovery, with this node's offset), else as it is.
  void deliver_packet(const std::string& room, const std::string& sid, const std::string& event,
                      std::string&& body);

  void ensure_subscribed(const std::string& session);
  bool subscribed(const std::string& session) const;
  void on_sub_state(bool ready);
  void on_push(std::string&& channel, std::string&& payload);
  void on_node_message(wire_message&& m);
  void on_room_message(wire_message&& m);
  void local_join(const std::string& sid, const std::string& session);
  void local_leave(const std::string& sid, const std::string& session);

  void arm(boost::asio::steady_timer& t, std::chrono::milliseconds every, void (node::*fn)());
  void renew_round();
  void join_node();
  void takeover_round();
  void heartbeat_round();

  boost::asio::io_context& ioc_;
  node_options options_;
  socketio::socket_namespace& ns_;
  store::redis_store& store_;
  domain::session_service* service_ = nullptr;
  cluster_outbox outbox_{*this};
  std::shared_ptr<store::redis_connection> cmd_;
  std::shared_ptr<store::redis_connection> sub_;
  lease_table leases_;
  boost::asio::steady_timer renew_timer_;
  boost::asio::steady_timer takeover_timer_;
  boost::asio::steady_timer heartbeat_timer_;
  bool stopped_ = false;

  room_channels channels_;
  std::unordered_map<std::string, std::deque<pending_event>> pending_;
  std::unordered_set<std::string> resolving_;            // an acquire is in flight
  std::unordered_set<std::string> loading_;              // acquired, the record being read
  std::unordered_map<std::string, std::string> remote_;  // remote socket id -> its node
  std::unordered_map<std::string, std::set<std::string>> local_rooms_;   // session -> local sids
  std::unordered_map<std::string, std::string> local_room_of_;           // local sid -> session
  std::unordered_map<std::string, std::set<std::string>> forwarded_to_;  // local sid -> owners
  std::unordered_map<std::string, int64_t> claim_deadline_;  // adopted session -> steady µs
  // Members whose node is gone -> when their held seat ends (steady µs);
  // bounded by the members of the sessions this node runs.
  std::unordered_map<std::string, int64_t> orphans_;
  // Owner node -> when its node lease may lapse (steady µs): probed then.
  std::unordered_map<std::string, int64_t> node_poll_;
  std::unordered_set<std::string> probing_;  // owner nodes with a probe in flight
  bool joining_ = false;                     // a node_join is in flight
  int64_t next_touch_us_ = 0;
  std::unordered_map<uint64_t, std::pair<std::string, domain::ack_reply>> acks_;  // id -> (sid, fn)
  std::deque<uint64_t> ack_order_;
  uint64_t next_ack_ = 0;
  std::set<std::string> peers_;
  bool peers_known_ = false;
  std::shared_ptr<int> life_ = std::make_shared<int>(0);
  counters counters_;
};

// "node-" and 12 random hex digits: the default node id.
std::string random_node_id();

// The cluster's lines of GET /metrics (Prometheus text).
std::string metrics_text(const node& n);

}  // namespace bandsync::cluster
