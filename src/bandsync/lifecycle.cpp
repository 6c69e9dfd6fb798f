// The service's life around the events: start-up restore, the full rewrite
// after a store lost its data, the shutdown save and the idle sweep
// (EVENTS.md "Redis layout"; ARCHITECTURE.md "Persistence").

#include "bandsync/requests.hpp"
#include "bandsync/session_service.hpp"
#include "util/log.hpp"

namespace bandsync::domain {

namespace {

struct restore_count {
  size_t restored = 0;
  size_t skipped = 0;
  size_t dropped_songs = 0;
};

// Adds `records` not in the table yet (invalid ids and those beyond
// max_sessions skipped), paused and without members, and rewrites them so.
restore_count restore_records(service_core& core,
                              const std::vector<store::session_record>& records) {
  int64_t now_us = core.clk.steady_us();
  restore_count n;
  for (const auto& record : records) {
    if (!valid_session_id(record.id) || core.sessions.find(record.id) ||
        core.sessions.size() >= core.options.max_sessions) {
      ++n.skipped;
      continue;
    }
    size_t dropped = 0;
    session s = session::restore(record, core.options.max_members, &dropped);
    // The old server kept dead members on restore (EVENTS.md); clear them from
    // the store too, so that no reader sees a full session or a dead leader.
    for (const auto& m : record.members) core.store.remove_member(m.socket_id);
    core.store.set_ticking(record.id, false);
    core.store.save_session(s.to_record(now_us));
    // Songs that failed the domain's bounds were dropped: the key is rewritten
    // so that it matches what the band sees (an empty setlist deletes it).
    if (dropped > 0) core.store.save_setlist(s.id(), s.setlist().records());
    n.dropped_songs += dropped;
    core.sessions.insert(std::move(s), nullptr);
    ++n.restored;
  }
  core.restored_sessions += n.restored;
  if (n.dropped_songs > 0) {
    spdlog::warn("store: dropped {} stored songs outside the setlist bounds", n.dropped_songs);
  }
  return n;
}

}  // namespace

size_t session_service::restore(const std::vector<store::session_record>& records) {
  restore_count n = restore_records(core_, records);
  if (n.restored > 0 || n.skipped > 0) {
    spdlog::info("store: restored {} sessions (paused, without members), skipped {}", n.restored,
                 n.skipped);
  }
  // Read after load_sessions() returned: only then does a store know whether
  // it read everything.
  core_.loading = !core_.store.load_complete();
  if (core_.loading) {
    spdlog::warn("store: start-up load incomplete; new sessions are refused until it completes");
  }
  return n.restored;
}

void session_service::finish_load(const std::vector<store::session_record>& records) {
  if (!core_.loading) return;
  size_t present = 0;
  for (const auto& r : records) present += core_.sessions.find(r.id) != nullptr;
  restore_count n = restore_records(core_, records);
  core_.loading = false;
  spdlog::info("store: background load restored {} more sessions, skipped {}; new sessions allowed",
               n.restored, n.skipped - present);
}

bool session_service::adopt(const store::session_record& record) {
  if (!valid_session_id(record.id)) return false;
  evict(record.id);
  int64_t now_us = core_.clk.steady_us();
  std::optional<int64_t> anchor_us;
  if (record.anchor_server_ms) anchor_us = core_.clk.steady_us_at(*record.anchor_server_ms);
  session* s = core_.sessions.insert(
      session::adopt(record, core_.options.max_members, anchor_us, now_us), nullptr);
  if (!s) return false;
  for (const auto& m : s->members()) {
    core_.connections.add(m.socket_id);  // a member on another node
    auto* conn = core_.connections.find(m.socket_id);
    if (conn->session_id && *conn->session_id != s->id()) {
      // Bound elsewhere here (a stale copy): the adopted record wins.
      if (session* other = core_.sessions.find(*conn->session_id)) {
        other->remove_member(m.socket_id, now_us);
        if (other->empty()) core_.sessions.mark_empty(*other);
      }
      --core_.member_total;
    }
    if (conn->session_id != s->id()) ++core_.member_total;
    conn->session_id = s->id();
  }
  if (s->empty()) core_.sessions.mark_empty(*s);
  if (s->playing()) set_playing(core_, *s, true);
  spdlog::info("session {} adopted ({} members, {})", s->id(), s->member_count(),
               s->playing() ? "playing" : "paused");
  return true;
}

std::vector<std::string> session_service::evict(const std::string& session_id) {
  std::vector<std::string> members;
  session* s = core_.sessions.find(session_id);
  if (!s) return members;
  for (const auto& m : s->members()) {
    members.push_back(m.socket_id);
    auto* conn = core_.connections.find(m.socket_id);
    if (conn && conn->session_id == session_id) {
      conn->session_id.reset();
      --core_.member_total;
    }
  }
  core_.ticks.stop(session_id);
  core_.sessions.set_playing(session_id, false);
  core_.sessions.erase(session_id);
  spdlog::info("session {} released to another node ({} members)", session_id, members.size());
  return members;
}

void session_service::persist_all() {
  int64_t now_us = core_.clk.steady_us();
  size_t members = 0;
  core_.sessions.for_each([&](const session& s) {
    save(core_, s, now_us);  // first: a store may keep a ticker flag only for a known session
    core_.store.set_ticking(s.id(), s.playing());
    if (!s.setlist().empty()) core_.store.save_setlist(s.id(), s.setlist().records());
    for (const auto& m : s.members()) core_.store.save_member(s.id(), m);
    members += s.member_count();
  });
  spdlog::info("store: rewrote {} sessions (with their setlists) and {} members",
               core_.sessions.size(), members);
}

void session_service::shutdown() {
  if (core_.stopping) return;
  core_.stopping = true;
  int64_t now_us = core_.clk.steady_us();
  core_.sessions.for_each([&](const session& s) {
    store::session_record r = s.to_record(now_us);
    for (const auto& m : r.members) core_.store.remove_member(m.socket_id);
    r.members.clear();
    r.leader_socket_id.reset();
    r.is_playing = false;
    core_.store.save_session(r);
    core_.store.set_ticking(s.id(), false);
    // Each change already wrote the songs; written again so that the last
    // word before exit is complete even if a write was lost while the store
    // was down.
    if (!s.setlist().empty()) core_.store.save_setlist(s.id(), s.setlist().records());
  });
  spdlog::info("store: saved {} sessions for the next start (paused, without members)",
               core_.sessions.size());
}

size_t session_service::sweep() {
  int64_t cutoff = core_.clk.wall_ms() - core_.options.session_idle_ms;
  auto expired = core_.sessions.empty_before(cutoff);
  for (const auto& id : expired) {
    core_.ticks.stop(id);
    core_.sessions.erase(id);
    core_.store.remove_session(id);
    spdlog::info("session {} expired (idle, no members)", id);
  }
  if (!expired.empty()) {
    spdlog::info("sweep: removed {} sessions, {} left", expired.size(), core_.sessions.size());
  }
  return expired.size();
}

}  // namespace bandsync::domain
