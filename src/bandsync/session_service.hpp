#pragma once
// The BandSync service (EVENTS.md, all of it but HTTP and configuration):
// socket.io events in, state changes and messages out. It never sees a socket:
// the glue calls on_connect / on_event / on_disconnect and the three timers,
// and the service answers through an outbox and persists through a
// session_store (write-through, fire-and-forget: it never waits on the store).
//
// Not thread-safe: the glue calls every member from one strand (or thread).

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "bandsync/clock.hpp"
#include "bandsync/connection_registry.hpp"
#include "bandsync/creation_limiter.hpp"
#include "bandsync/outbox.hpp"
#include "bandsync/rate_meter.hpp"
#include "bandsync/reply_error.hpp"
#include "bandsync/requests.hpp"
#include "bandsync/session.hpp"
#include "bandsync/session_table.hpp"
#include "bandsync/tick_schedule.hpp"
#include "store/session_store.hpp"

namespace bandsync::domain {

struct service_options {
  size_t max_members = 8;                     // settings.maxMembers of every session
  int64_t session_idle_ms = 30 * 60 * 1000;   // sweep() removes empty sessions idle longer
  size_t max_sessions = 100000;               // session table bound
  double latency_warn_ms = 100;               // latency above this is logged (warn)
  double healthy_latency_ms = 200;            // heartbeat only below this (or unmeasured)
  int64_t latency_warn_interval_ms = 10'000;  // one high-latency log per connection per interval
  double max_latency_ms = 60'000;             // recorded latencies are clamped to [0, this]
  int64_t persist_playing_ms = 1000;
  creation_limits creation = {};   // session creations per connection and per address
  int64_t tick_interval_ms = 100;  // scroll_tick period of a playing session          // tick()
                                   // saves playing sessions this often
};

class session_service {
 public:
  // Loads the store's sessions (at most max_sessions): each keeps its tempo,
  // position, message, createdAt and lastActiveAt, loses its members and
  // leader, and is paused at the stored position; the cleaned records are
  // written back and the stale members removed from the store.
  session_service(clock& clk, outbox& out, store::session_store& store,
                  service_options options = {});
  session_service(const session_service&) = delete;
  session_service& operator=(const session_service&) = delete;

  // The store finished, in the background, a start-up load that
  // load_sessions() could not complete (store::session_store::load_complete):
  // `records` are every stored session; those not restored yet are restored
  // as at start-up, and sessions may be created again. Until then a join for
  // a session not in memory is refused with SERVER_BUSY, so that no session
  // that might be stored is overwritten by a fresh one.
  void finish_load(const std::vector<store::session_record>& records);
  bool loading() const { return loading_; }

  // A socket connected on the main namespace, from `address` (the remote IP,
  // for the per-address session creation limit; empty = not limited by
  // address). A second call for the same id is ignored.
  void on_connect(const std::string& conn_id, const std::string& address = {});

  // It disconnected (any reason): leaves its session as leave_session does,
  // then forgets every per-connection state. Unknown ids are ignored.
  void on_disconnect(const std::string& conn_id);

  // A client event of EVENTS.md "Client -> server"; `args` are the event's
  // arguments (args[0] is the payload). Every payload is validated before
  // anything else; a rejected event changes nothing and is answered with
  // `error { message, code }`. Unknown event names and events from
  // connections that never connected are ignored (counted).
  void on_event(const std::string& conn_id, std::string_view event, const boost::json::array& args);

  // Every 100 ms, from one app-wide timer: `scroll_tick` to every playing
  // session (only those are visited), one payload per session. Once per
  // persist_playing_ms it also saves every playing session, so that the
  // stored position (written by the domain only on changes) trails the clock
  // by at most that much: write-behind for the clock, one batch for all.
  void tick();

  // The production driver of the ticks: `scroll_tick` to every playing
  // session whose tick is due at the current steady time (each session ticks
  // every tick_interval_ms from when it started playing, so the sessions'
  // ticks spread over the period). Also does tick()'s write-behind. `on_lag`
  // gets each tick's lateness (µs) for the lag histogram. Returns the number
  // of ticks sent.
  size_t tick_due(const std::function<void(int64_t lag_us)>& on_lag = {});
  // When tick_due() should run next (steady µs), or nullopt when nothing plays:
  // the earliest session tick, or the write-behind of the playing sessions'
  // positions if that comes first (see persist_period_us()).
  std::optional<int64_t> next_tick_due_us() const;
  // Called with the new due time whenever a session starts playing, so the
  // driver can wake earlier than it planned.
  void set_tick_wakeup(std::function<void(int64_t due_us)> fn) { tick_wakeup_ = std::move(fn); }

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

  // Every 30 s: `heartbeat { timestamp }` to each healthy connection.
  void heartbeat_round();

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
    std::map<std::string, uint64_t> events_by_name;  // the 12 event names + "unknown"
    std::map<std::string, uint64_t> errors_by_code;  // every code, zeros included
    size_t sessions = 0;
    size_t playing_sessions = 0;
    size_t connections = 0;
  };
  counters metrics() const;

  // Read-only views (tests, diagnostics).
  const session* find_session(const std::string& session_id) const;
  const connection_state* find_connection(const std::string& conn_id) const;
  size_t restored_sessions() const { return restored_sessions_; }
  const service_options& options() const { return options_; }

 private:
  enum class event_kind : size_t {
    join_session,
    leave_session,
    update_message,
    set_role,
    set_tempo,
    play,
    pause,
    stop,
    seek,
    sync_request,
    latency_probe,
    heartbeat_response,
    unknown,
  };
  static constexpr size_t event_kinds = static_cast<size_t>(event_kind::unknown) + 1;
  static event_kind kind_of(std::string_view event);
  static std::string_view name_of(event_kind kind);

  using conn_ref = const std::string&;

  void handle_join(conn_ref conn_id, connection_state& conn, const boost::json::array& args);
  void rejoin(conn_ref conn_id, session& s, const join_request& req);
  void handle_leave(conn_ref conn_id, connection_state& conn, const boost::json::array& args);
  void handle_update_message(conn_ref conn_id, connection_state& conn,
                             const boost::json::array& args);
  void handle_set_role(conn_ref conn_id, connection_state& conn, const boost::json::array& args);
  void handle_set_tempo(conn_ref conn_id, connection_state& conn, const boost::json::array& args);
  void handle_transport(conn_ref conn_id, connection_state& conn, event_kind kind,
                        const boost::json::array& args);
  void handle_seek(conn_ref conn_id, connection_state& conn, const boost::json::array& args);
  void handle_sync_request(conn_ref conn_id, connection_state& conn,
                           const boost::json::array& args);
  void handle_latency_probe(conn_ref conn_id, connection_state& conn,
                            const boost::json::array& args);
  void handle_heartbeat_response(conn_ref conn_id, connection_state& conn,
                                 const boost::json::array& args);

  // Returns the request, or replies INVALID_PAYLOAD and returns nullptr.
  template <class T>
  const T* accept(conn_ref conn_id, event_kind kind, const parse_result<T>& parsed);

  // Returns session `session_id` when the connection may send `kind` to it;
  // otherwise replies NO_SUCH_SESSION, NOT_A_MEMBER or NOT_LEADER (in that
  // order of checks) and returns nullptr.
  session* authorize(conn_ref conn_id, const connection_state& conn, event_kind kind,
                     const std::string& session_id, bool leader_only);

  // Removes the connection from its session (leave_session or a disconnect):
  // election, store writes and the messages of EVENTS.md "Leaving".
  void leave_current(conn_ref conn_id, connection_state& conn, std::string_view why);

  // Records a latency sample for the connection and its member's lastPingAt.
  void record_latency(conn_ref conn_id, connection_state& conn, double latency_ms,
                      int64_t now_wall_ms);

  // Persists the session record (and its members listed) after a change.
  void save(const session& s, int64_t now_us);
  void save_member(const session& s, const std::string& socket_id);
  void set_playing(const session& s, bool playing);

  void send_error(conn_ref conn_id, event_kind kind, reply_error code, std::string message);
  void emit_snapshot_to_session(const session& s, int64_t now_us, int64_t now_wall_ms);
  void emit_room_stats(const session& s, int64_t now_us, int64_t now_wall_ms);

  clock& clock_;
  outbox& outbox_;
  store::session_store& store_;
  service_options options_;
  session_table sessions_;
  connection_registry connections_;
  rate_meter messages_;
  creation_limiter creations_;
  size_t member_total_ = 0;
  size_t restored_sessions_ = 0;
  int64_t last_persist_us_ = 0;  // when tick() last saved the playing sessions
  tick_schedule ticks_;
  std::function<void(int64_t)> tick_wakeup_;
  void emit_tick(const session& s, int64_t now_us, int64_t now_wall_ms);
  void persist_playing(int64_t now_us);
  // The write-behind period: persist_playing_ms less a margin for timer
  // lateness (50 ms, at most half the period), so that, driven by
  // next_tick_due_us(), consecutive saves of a playing session are never more
  // than persist_playing_ms apart. (Waiting for the next session tick instead
  // let jitter push the gap to persist_playing_ms + one tick interval.)
  int64_t persist_period_us() const;
  bool stopping_ = false;  // shutdown() was called
  bool loading_ = false;   // the store's start-up load is incomplete (finish_load)
  // Restores `records` not in the table yet; returns how many were skipped.
  size_t restore(const std::vector<store::session_record>& records);
  std::array<uint64_t, event_kinds> event_counts_{};
  std::array<uint64_t, all_reply_errors.size()> error_counts_{};
};

}  // namespace bandsync::domain
