#pragma once
// The state every part of the session service shares (handlers, lifecycle,
// timers, metrics), and the few steps they all take: reply with an error,
// check who may send an event to a session, write a change through the store
// and tell the session. Internal to src/bandsync: the glue only sees
// session_service.hpp.

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bandsync/clock.hpp"
#include "bandsync/connection_registry.hpp"
#include "bandsync/creation_limiter.hpp"
#include "bandsync/outbox.hpp"
#include "bandsync/rate_meter.hpp"
#include "bandsync/reply_error.hpp"
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
  int64_t persist_playing_ms = 1000;          // tick_due() saves playing sessions this often
  creation_limits creation = {};              // session creations per connection and per address
  int64_t tick_interval_ms = 100;             // scroll_tick period of a playing session
  // How far ahead a play without `at` starts (docs/EVENTS.md PLAY_LEAD_MS);
  // 0: at once, as the old contract.
  int64_t play_lead_ms = 0;
  // A leader whose connection is held keeps the lead this long (LEADER_GRACE);
  // 0 hands it over as soon as the connection drops.
  int64_t leader_grace_ms = 10'000;
  // How long a held seat is kept at most (SOCKET_RECOVERY_WINDOW: the socket
  // layer releases it then): the heldUntil that member_status and the member
  // objects announce. The domain never expires a seat by it.
  int64_t seat_hold_ms = 120'000;
  // Cluster mode (src/cluster): every saved record carries the clock anchor
  // (anchorServerMs, anchorBeat) so that another node can take over a playing
  // session. Off on a single node: the stored value stays as it was.
  bool persist_clock_anchor = false;
};

struct service_core {
  service_core(clock& clk, outbox& out, store::session_store& st, service_options opts,
               size_t event_kinds);

  clock& clk;
  outbox& out;
  store::session_store& store;
  service_options options;
  session_table sessions;
  connection_registry connections;
  rate_meter messages;                       // events received, for messagesPerSecond
  size_t member_total = 0;                   // members over all sessions
  size_t restored_sessions = 0;              // restore() kept this many
  int64_t last_persist_us = 0;               // when the playing sessions were last saved
  tick_schedule ticks;                       // the playing sessions' next scroll_tick
  std::function<void(int64_t)> tick_wakeup;  // told when a session starts playing
  bool stopping = false;                     // shutdown() was called
  bool loading = false;                      // the store's start-up load is incomplete
  creation_limiter creations;                // new sessions per connection and address
  std::vector<uint64_t> event_counts;        // by event table index; the last is "unknown"
  std::array<uint64_t, all_reply_errors.size()> error_counts{};
  // Sessions whose leader's connection is held, with when its grace ends
  // (steady µs); at most one entry per session.
  std::unordered_map<std::string, int64_t> leader_grace;
  // The connections of the heartbeat round under way (heartbeat_round with
  // slices), listed by its first slice.
  std::vector<std::string> heartbeat_round;
};

// One client event being handled, after its payload was validated and the
// sender authorized; the times are read once, when the handler starts.
struct event_call {
  const std::string& conn_id;
  connection_state& conn;
  std::string_view event;  // its name, for logs and error messages
  int64_t now_us;          // steady clock, when the event was seen
  int64_t now_wall_ms;     // Unix ms
  const ack_reply& ack;    // the client's ack callback; empty when not asked for
};

// `error { message, code }` to the sender, counted by code and logged once.
void send_error(service_core& core, const std::string& conn_id, std::string_view event,
                reply_error code, std::string message);

// Returns session `session_id` when the connection may send `event` to it;
// otherwise replies NO_SUCH_SESSION, NOT_A_MEMBER or NOT_LEADER (checked in
// that order) and returns nullptr.
session* authorize(service_core& core, const std::string& conn_id, const connection_state& conn,
                   std::string_view event, const std::string& session_id, bool leader_only);

// Writes the session record (members listed) / one member through the store.
void save(service_core& core, const session& s, int64_t now_us);
void save_member(service_core& core, const session& s, const std::string& socket_id);

// Keeps the playing index, the store's ticker flag and the tick schedule in
// step with `playing`; a session that starts playing wakes the tick driver.
void set_playing(service_core& core, const session& s, bool playing);

void emit_snapshot(service_core& core, const session& s, int64_t now_us, int64_t now_wall_ms);
void emit_room_stats(service_core& core, const session& s, int64_t now_us, int64_t now_wall_ms);

// The tail of an event that changed a session: it becomes active now, its
// record is saved, and the whole session gets a snapshot.
void commit(service_core& core, const event_call& call, session& s);

}  // namespace bandsync::domain
