#include "bench/band.hpp"

#include <algorithm>
#include <cmath>

#include <unistd.h>

#include "bench/time.hpp"
#include "util/json_text.hpp"

namespace bandsync::bench {
namespace {

namespace net = boost::asio;

constexpr auto probe_round_period = std::chrono::milliseconds(100);
// Distinct failure texts kept in the report (the rest are counted as "other").
constexpr size_t max_failure_kinds = 32;

const boost::json::string* string_at(const boost::json::value& v, std::string_view key) {
  const auto* o = v.if_object();
  const auto* f = o ? o->if_contains(key) : nullptr;
  return f ? f->if_string() : nullptr;
}

}  // namespace

band::band(net::io_context& ioc, const common_options& opts, std::vector<std::string> session_ids,
           size_t members)
    : ioc_(ioc),
      opts_(opts),
      members_per_session_(members),
      fleet_(ioc, *this, opts),
      probe_timer_(ioc) {
  for (auto& id : session_ids) sessions_.push_back(session_info{std::move(id), {}});
}

std::optional<std::string> band::prepare() {
  size_t count = sessions_.size() * members_per_session_;
  members_.resize(count);
  for (size_t i = 0; i < count; ++i) members_[i].session = i / members_per_session_;
  by_sid_.reserve(count);
  // Member m of every session on node m (mod the nodes): with several
  // nodes, each session has devices on all of them.
  fleet_.set_node_of([m = members_per_session_](size_t i) { return i % m; });
  return fleet_.prepare(count);
}

std::string band::run_tag() {
  auto t = static_cast<uint64_t>(wall_ms()) ^ (static_cast<uint64_t>(::getpid()) << 40);
  std::string s;
  for (int i = 0; i < 8; ++i, t /= 36) s += "0123456789abcdefghijklmnopqrstuvwxyz"[t % 36];
  return s;
}

size_t band::index_of(const std::string& sid) const {
  auto it = by_sid_.find(sid);
  return it == by_sid_.end() ? SIZE_MAX : it->second;
}

size_t band::leader_of(size_t s) const {
  size_t i = index_of(sessions_[s].leader_sid);
  if (i == SIZE_MAX || members_[i].closed) return SIZE_MAX;
  return i;
}

void band::on_open(device& d) {
  auto& m = members_[d.index()];
  by_sid_[d.sid()] = d.index();
  boost::json::object join;
  join["sessionId"] = sessions_[m.session].id;
  join["displayName"] = "Device " + std::to_string(d.index() + 1);
  d.emit("join_session", join);
}

void band::on_event(device& d, std::string_view name, const boost::json::value& payload,
                    double recv_ms) {
  size_t i = d.index();
  auto& m = members_[i];
  if (name == "scroll_tick") {
    ++events_;
    return record_latency(d, sync_.on_tick(m.sync, payload, d.arrival_ms(), recv_ms));
  }
  ++events_;
  if (logging_) m.log.emplace_back(std::string(name), payload);

  if (name == "snapshot" || name == "room_stats") {
    const auto* leader = string_at(payload, name == "snapshot" ? "leaderSocketId" : "leader");
    auto& s = sessions_[m.session];
    if (leader) s.leader_sid = std::string(*leader);
    m.is_leader = leader && *leader == d.sid();
    if (name == "snapshot" && !m.joined && !m.failed) {
      m.joined = true;
      ++joined_;
      join_us_.record(
          static_cast<int64_t>(std::llround((recv_ms - d.connect_started_ms()) * 1000)));
      settle(i, true);
    }
  } else if (name == "play") {
    sync_.on_play(m.sync, payload);
  } else if (name == "latency_response") {
    const auto* o = payload.if_object();
    const auto* ts = o ? o->if_contains("clientTimestamp") : nullptr;
    if (m.probe_ts && ts && ts->is_number() && ts->to_number<double>() == m.probe_ts) {
      probe_rtt_us_.record(static_cast<int64_t>(std::llround((recv_ms - m.probe_sent_ms) * 1000)));
      ++probes_answered_;
      m.probe_ts = 0;
    }
  } else if (name == "heartbeat") {
    const auto* o = payload.if_object();
    const auto* ts = o ? o->if_contains("timestamp") : nullptr;
    if (ts) {
      d.emit("heartbeat_response", boost::json::object{{"timestamp", *ts}});
      ++heartbeats_;
    }
  } else if (name == "error") {
    const auto* msg = string_at(payload, "message");
    std::string key = msg ? std::string(*msg) : util::to_json_text(payload);
    if (errors_.size() < max_failure_kinds || errors_.contains(key)) ++errors_[key];
    // A refused join (session at capacity, server busy) ends this device's setup.
    if (!m.joined && !m.failed) {
      m.failed = true;
      ++failed_;
      settle(i, false);
    }
  }
}

void band::on_tick(device& d, const wire::tick_fields& tick, double recv_ms) {
  ++events_;
  record_latency(d, sync_.on_tick(members_[d.index()].sync, tick.server_timestamp, tick.position_ms,
                                  tick.tempo_bpm, d.arrival_ms(), recv_ms));
}

void band::record_latency(device& d, double latency) {
  size_t i = d.index();
  auto& m = members_[i];
  if (latency < 0) return;
  sessions_[m.session].latency_sum_ms += latency;
  ++sessions_[m.session].latency_count;
  if (fleet_.node_count() > 1) {
    auto leader = by_sid_.find(sessions_[m.session].leader_sid);
    if (leader != by_sid_.end()) {
      bool same = fleet_.node_of(leader->second) == fleet_.node_of(i);
      (same ? leader_node_us_ : other_node_us_)
          .record(static_cast<int64_t>(std::llround(latency * 1000)));
    }
  }
}

void band::on_close(device& d, boost::system::error_code ec, std::string_view phase) {
  auto& m = members_[d.index()];
  m.closed = true;
  if (phase == "dropped") return;  // the scenario ended it
  std::string key = std::string(phase) + ": " + ec.message();
  if (failures_.size() < max_failure_kinds || failures_.contains(key)) ++failures_[key];
  if (m.joined) {
    ++closed_after_join_;
  } else if (!m.failed) {
    m.failed = true;
    ++failed_;
    settle(d.index(), false);
  }
}

void band::settle(size_t i, bool) {
  fleet_.settled(i);
}

void band::enrol_playing() {
  for (auto& m : members_)
    if (m.joined && !m.closed && m.sync.has_play) sync_.enrol(m.sync);
}

void band::start_probes(double interval_s) {
  probe_interval_s_ = interval_s;
  if (interval_s <= 0) return;
  probe_timer_.expires_after(probe_round_period);
  probe_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) probe_round();
  });
}

void band::stop_probes() {
  probe_interval_s_ = 0;
  probe_timer_.cancel();
}

// Each round probes one slice of the devices, so that probes are spread
// evenly over the interval instead of arriving at the server all at once.
void band::probe_round() {
  if (probe_interval_s_ <= 0) return;
  size_t slots = std::max<size_t>(
      1, static_cast<size_t>(std::llround(probe_interval_s_ * 1000 / probe_round_period.count())));
  size_t slot = probe_slot_++ % slots;
  double now = wall_ms();
  auto ts = static_cast<int64_t>(now);  // Date.now(), as the app sends it
  for (size_t i = slot; i < members_.size(); i += slots) {
    auto& m = members_[i];
    if (!m.joined || m.closed) continue;
    if (m.probe_ts) ++probes_unanswered_;  // the previous one never came back
    boost::json::object probe;
    probe["timestamp"] = ts;
    probe["sessionId"] = sessions_[m.session].id;
    if (fleet_.at(i).emit("latency_probe", probe)) {
      m.probe_ts = ts;
      m.probe_sent_ms = now;
      ++probes_sent_;
    }
  }
  start_probes(probe_interval_s_);
}

boost::json::object band::connect_json() const {
  boost::json::object o;
  o["devices"] = members_.size();
  o["sessions"] = sessions_.size();
  o["joined"] = joined_;
  o["failed"] = failed_;
  o["success_pct"] = members_.empty() ? 0.0 : std::round(1e5 * joined_ / members_.size()) / 1000;
  o["closed_after_join"] = closed_after_join_;
  o["source_addresses"] = fleet_.source_address_count();
  o["join_ms"] = join_us_.summary(1000);
  if (!failures_.empty()) {
    boost::json::object f;
    for (const auto& [k, n] : failures_) f[k] = n;
    o["failures"] = std::move(f);
  }
  if (!errors_.empty()) {
    boost::json::object e;
    for (const auto& [k, n] : errors_) e[k] = n;
    o["error_events"] = std::move(e);
  }
  return o;
}

boost::json::object band::probes_json() const {
  boost::json::object o;
  o["sent"] = probes_sent_;
  o["answered"] = probes_answered_;
  o["unanswered"] = probes_unanswered_;
  o["rtt_ms"] = probe_rtt_us_.summary(1000);
  o["heartbeats_answered"] = heartbeats_;
  return o;
}

boost::json::object band::nodes_latency_json() const {
  boost::json::object out;
  out["nodes"] = fleet_.node_count();
  out["leader_node_ms"] = leader_node_us_.summary(1000);
  out["other_nodes_ms"] = other_node_us_.summary(1000);
  return out;
}

boost::json::object band::session_latency_json() const {
  histogram h;
  for (const auto& s : sessions_)
    if (s.latency_count)
      h.record(static_cast<int64_t>(std::llround(1000 * s.latency_sum_ms / s.latency_count)));
  auto o = h.summary(1000);
  o["min"] = std::round(static_cast<double>(h.min())) / 1000;
  return o;
}

std::string band::progress() const {
  return "joined " + std::to_string(joined_) + "/" + std::to_string(members_.size()) + " failed " +
         std::to_string(failed_) + " dropped-after-join " + std::to_string(closed_after_join_) +
         " events " + std::to_string(events_);
}

}  // namespace bandsync::bench
