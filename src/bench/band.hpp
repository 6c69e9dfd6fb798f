#pragma once
// The simulated band devices of a run, doing what the band app does
// (EVENTS.md): once connected, `join_session { sessionId, displayName }`;
// `latency_probe { timestamp }` every probe interval; `heartbeat` answered
// with `heartbeat_response { timestamp }`; `play` and `scroll_tick` fed to
// the sync statistics. Scenarios add what is specific to them (who plays,
// when to measure) on top.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "bench/device.hpp"
#include "bench/fleet.hpp"
#include "bench/histogram.hpp"
#include "bench/options.hpp"
#include "bench/sync_stats.hpp"

namespace bandsync::bench {

class band : public device_observer {
 public:
  struct member {
    size_t session = 0;
    bool joined = false;
    bool failed = false;  // never joined: connect failure or refused join
    bool closed = false;
    bool is_leader = false;  // as the last snapshot / room_stats said
    sync_stats::track sync;
    int64_t probe_ts = 0;  // timestamp of the unanswered probe, 0 = none
    double probe_sent_ms = 0;
    // Rehearsal only: every event but ticks, in arrival order.
    std::vector<std::pair<std::string, boost::json::value>> log;
  };

  struct session_info {
    std::string id;
    std::string leader_sid;
    // Measured ticks of its devices: a server that sends every session's
    // tick in one burst shows a steady per-session offset (its place in the
    // burst); one that spreads them does not.
    double latency_sum_ms = 0;
    uint64_t latency_count = 0;
  };

  // `session_ids` names the sessions; device i joins session i / members.
  band(boost::asio::io_context& ioc, const common_options& opts,
       std::vector<std::string> session_ids, size_t members);

  // Creates the devices (count = sessions * members); error text on failure.
  std::optional<std::string> prepare();
  fleet& devices() { return fleet_; }
  member& at(size_t i) { return members_[i]; }
  size_t size() const { return members_.size(); }
  session_info& session(size_t s) { return sessions_[s]; }
  size_t session_count() const { return sessions_.size(); }
  sync_stats& sync() { return sync_; }

  // Connect every device (at most max_in_flight unsettled at once).
  void launch() { fleet_.launch(); }
  // Connect device i now (scripted scenarios).
  void launch_one(size_t i) { fleet_.launch_one(i); }
  // A tag that keeps the session ids of one run apart from earlier runs'.
  static std::string run_tag();
  // The device index whose socket id is `sid`, or SIZE_MAX.
  size_t index_of(const std::string& sid) const;
  // The session's leader device, or SIZE_MAX when unknown / not connected.
  size_t leader_of(size_t s) const;

  // Probes every `interval_s`, spread evenly over the devices; 0 stops them.
  void start_probes(double interval_s);
  void stop_probes();
  void set_logging(bool on) { logging_ = on; }

  size_t joined() const { return joined_; }
  size_t failed() const { return failed_; }
  size_t settled() const { return joined_ + failed_; }
  size_t closed_after_join() const { return closed_after_join_; }
  uint64_t events_received() const { return events_; }
  uint64_t heartbeats_answered() const { return heartbeats_; }

  // Enrols every joined device that has received `play` in the window.
  void enrol_playing();
  // The connect / probe / message sections of the report.
  boost::json::object connect_json() const;
  boost::json::object probes_json() const;
  // Mean tick latency per session, summarized over the sessions.
  boost::json::object session_latency_json() const;
  // Several nodes: the tick latency of devices on their session leader's
  // node (the node that runs the session, which took its lease with the
  // first join) and on the other nodes (each tick relayed through Redis).
  boost::json::object nodes_latency_json() const;
  // A short progress text ("joined 3998/4000 ...").
  std::string progress() const;

  void on_open(device& d) override;
  void on_event(device& d, std::string_view name, const boost::json::value& payload,
                double recv_ms) override;
  void on_close(device& d, boost::system::error_code ec, std::string_view phase) override;
  void on_tick(device& d, const wire::tick_fields& tick, double recv_ms) override;

 private:
  // A tick's latency as sync_stats::on_tick returned it (< 0: not measured).
  void record_latency(device& d, double latency);
  void settle(size_t i, bool ok);
  void probe_round();

  boost::asio::io_context& ioc_;
  common_options opts_;
  std::vector<session_info> sessions_;
  size_t members_per_session_;
  std::vector<member> members_;
  fleet fleet_;
  sync_stats sync_;
  std::unordered_map<std::string, size_t> by_sid_;
  histogram join_us_;
  histogram probe_rtt_us_;
  histogram leader_node_us_;                  // ticks of devices on the leader's node
  histogram other_node_us_;                   // ticks of devices on another node
  std::map<std::string, uint64_t> failures_;  // "phase: message" -> count
  std::map<std::string, uint64_t> errors_;    // `error` events by message
  size_t joined_ = 0;
  size_t failed_ = 0;
  size_t closed_after_join_ = 0;
  uint64_t events_ = 0;
  uint64_t heartbeats_ = 0;
  uint64_t probes_sent_ = 0;
  uint64_t probes_answered_ = 0;
  uint64_t probes_unanswered_ = 0;
  bool logging_ = false;
  boost::asio::steady_timer probe_timer_;
  double probe_interval_s_ = 0;
  size_t probe_slot_ = 0;
};

}  // namespace bandsync::bench
