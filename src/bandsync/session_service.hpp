#pragma once
// The BandSync service (EVENTS.md, all of it but HTTP and configuration):
// socket.io events in, state changes and messages out. It never sees a socket:
// the glue calls on_connect / on_event / on_disconnect and the timers, and the
// service answers through an outbox and persists through a session_store
// (write-through, fire-and-forget: it never waits on the store).
//
// Where things are: the event table (events.cpp), its handlers
// (membership.cpp, playback.cpp, health.cpp), every outgoing payload
// (payloads.cpp), the state they share (service_core.hpp), start-up restore,
// persistence and shutdown (lifecycle.cpp), the timers (timers.cpp) and the
// health/metrics views (service_metrics.cpp).
//
// Not thread-safe: the glue calls every member from one strand (or thread).

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "bandsync/service_core.hpp"
#include "store/session_record.hpp"

namespace bandsync::domain {

class session_service {
 public:
  // An empty service; restore() then adds what the store kept.
  session_service(clock& clk, outbox& out, store::session_store& store,
                  service_options options = {});
  session_service(const session_service&) = delete;
  session_service& operator=(const session_service&) = delete;

  // Start-up, before any event: adds the sessions the store kept (the app
  // reads them with store.load_sessions(); at most max_sessions, invalid ids
  // and duplicates skipped). Each keeps its tempo, position, message,
  // createdAt and lastActiveAt, loses its members and leader, and is paused at
  // the stored position; the cleaned records are written back and the stale
  // members removed from the store. Returns how many were restored. When the
  // store reports its load incomplete (store::session_store::load_complete),
  // the service is loading() until finish_load().
  size_t restore(const std::vector<store::session_record>& records);

  // The store finished, in the background, a start-up load that
  // load_sessions() could not complete (store::session_store::load_complete):
  // `records` are every stored session; those not restored yet are restored
  // as at start-up, and sessions may be created again. Until then a join for
  // a session not in memory is refused with SERVER_BUSY, so that no session
  // that might be stored is overwritten by a fresh one.
  void finish_load(const std::vector<store::session_record>& records);
  bool loading() const { return core_.loading; }

  // A socket connected on the main namespace, from `address` (the remote IP,
  // for the per-address session creation limit; empty = not limited by
  // address). A second call for the same id is ignored.
  void on_connect(const std::string& conn_id, const std::string& address = {});

  // It disconnected (any reason): leaves its session as leave_session does,
  // then forgets every per-connection state. Unknown ids are ignored.
  void on_disconnect(const std::string& conn_id);

  // Seats (EVENTS.md "Seats"; the glue calls these from connection state
  // recovery). The connection was lost but is held: its member stays,
  // marked disconnected (room_stats to the session); a leader keeps the lead
  // for leader_grace_ms (0: the lead passes at once). on_disconnect follows
  // when the hold ends without a return.
  void on_hold(const std::string& conn_id);
  // A held (or taken-over) connection is back: its member is connected again
  // (room_stats to the session when it had been marked disconnected; to the
  // connection alone after a takeover, since room_stats is never replayed).
  void on_recover(const std::string& conn_id);
  // Passes the lead of every session whose held leader's grace has ended
  // to the most senior connected member (election messages; the seat stays
  // as a follower). Returns how many sessions changed leader.
  size_t expire_leader_grace();

  // A client event of EVENTS.md "Client -> server"; `args` are the event's
  // arguments (args[0] is the payload). Every payload is validated before
  // anything else; a rejected event changes nothing and is answered with
  // `error { message, code }`. Unknown event names and events from
  // connections that never connected are ignored (counted). `ack` is the
  // client's ack callback, if it asked for one (only time_sync uses it).
  void on_event(const std::string& conn_id, std::string_view event, const boost::json::array& args,
                const ack_reply& ack = {});

  // The scroll ticks: `scroll_tick` to every playing session whose tick is
  // due at the current steady time (each session ticks every
  // tick_interval_ms from when it started playing, so the sessions' ticks
  // spread over the period). Once per persist_playing_ms it also saves every
  // playing session, so that the stored position (written by the domain only
  // on changes) trails the clock by at most that much: write-behind for the
  // clock, one batch for all. `on_lag` gets each tick's lateness (µs).
  // Returns the number of ticks sent.
  size_t tick_due(const std::function<void(int64_t lag_us)>& on_lag = {});
  // When tick_due() should run next (steady µs), or nullopt when nothing plays:
  // the earliest session tick, or the write-behind of the playing sessions'
  // positions if that comes first (persist_period_us() in timers.cpp).
  std::optional<int64_t> next_tick_due_us() const;
  // The tick schedule's slot length (µs): sessions' due times fall on its
  // multiples, so a driver may wake with that period.
  int64_t tick_slot_us() const { return core_.ticks.slot_us(); }
  // Called with the new due time whenever a session starts playing, so the
  // driver can wake earlier than it planned.
  void set_tick_wakeup(std::function<void(int64_t due_us)> fn) {
    core_.tick_wakeup = std::move(fn);
  }

  // Saves every session, its members and its ticker flag through the store
  // again, as they are now. For a store that lost its data while the service
  // kept running (Redis restarted empty during an outage).
  void persist_all();

  // The process is exiting (SIGTERM): every session is saved as the next
  // process will restore it (paused at its current position, message kept,
  // without members or leader), member keys and ticker flags are removed, and
  // from then on events are ignored and disconnects only forget the
  // connection, so that closing every socket does not play out as members
  // leaving one by one (elections would rewrite the message and the leader).
  void shutdown();

  // Cluster mode (src/cluster; docs/EVENTS.md "Cluster"). This node took the
  // session's lease: `record` (read from the store) replaces any copy held
  // here (session::adopt: members, leader and a playing clock kept), and
  // every member gets a connection entry bound to it (members on other nodes
  // included, registered as connections). Nothing is sent; only a playing
  // session's ticker flag is written.
  // Returns false (nothing changes) for an invalid id or a full table.
  bool adopt(const store::session_record& record);
  // This node lost (or gave up) the session's lease: the session is
  // forgotten without writing or sending anything, and its members'
  // connection entries are unbound (they stay registered). Unknown ids are
  // ignored. Returns the member socket ids.
  std::vector<std::string> evict(const std::string& session_id);

  // Every 30 s: `heartbeat { timestamp }` to each healthy connection.
  // With `slices` > 1 the round is sent in parts: slice 0 lists the
  // connections, and slice k (called for 0, 1, ..., slices - 1, spread over
  // the 30 s) sends to the k-th part of that list, so each connection still
  // gets one per round, but the round is no longer one burst of every
  // connection's write and answer, which held up every tick due behind it
  // (issue 12: 4,000 heartbeats, then 4,000 answers, in one loop turn).
  void heartbeat_round(size_t slice = 0, size_t slices = 1);

  // Every 5 min: removes the sessions without members whose last activity is
  // more than session_idle_ms ago (and their store records). Returns how many.
  size_t sweep();

  // `performance` of GET / and GET /health: { totalConnections (ever),
  // activeConnections, messagesPerSecond (events received in the last complete
  // one-second window), averageLatency (ms, mean of the active connections'
  // last latencies), lastResetTime (Unix ms at which the current counting
  // window began) }.
  boost::json::object performance() const;

  // `sessionStats` of GET /health: { totalSessions, activeSessions (with
  // members), playingSessions, totalMembers }.
  boost::json::object session_stats() const;

  struct counters {
    std::map<std::string, uint64_t> events_by_name;  // every event name + "unknown"
    std::map<std::string, uint64_t> errors_by_code;  // every code, zeros included
    size_t sessions = 0;
    size_t playing_sessions = 0;
    size_t connections = 0;
  };
  counters metrics() const;

  // Read-only views (tests, diagnostics).
  const session* find_session(const std::string& session_id) const;
  const connection_state* find_connection(const std::string& conn_id) const;
  size_t restored_sessions() const { return core_.restored_sessions; }
  const service_options& options() const { return core_.options; }

 private:
  service_core core_;
};

}  // namespace bandsync::domain
