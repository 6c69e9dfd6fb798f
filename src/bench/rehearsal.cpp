#include "bench/rehearsal.hpp"

#include <cmath>
#include <cstdio>
#include <iostream>

#include <boost/asio/co_spawn.hpp>
#include <boost/json/array.hpp>

#include "bench/await.hpp"
#include "bench/band.hpp"
#include "bench/progress.hpp"
#include "bench/report.hpp"
#include "bench/time.hpp"
#include "util/json_text.hpp"

namespace bandsync::bench {
namespace {

namespace net = boost::asio;
using namespace std::chrono_literals;

constexpr double latency_limit_ms = 100;
constexpr double drift_limit_ms = 100;
constexpr double first_tempo = 100;
// Every step waits at most this long for the server's answer.
constexpr auto step_timeout = 5s;

std::string fmt(const char* format, double a, double b = 0, double c = 0) {
  char buf[200];
  std::snprintf(buf, sizeof buf, format, a, b, c);
  return buf;
}

const boost::json::value* field(const boost::json::value& v, std::string_view key) {
  const auto* o = v.if_object();
  return o ? o->if_contains(key) : nullptr;
}

bool field_is(const boost::json::value& v, std::string_view key, std::string_view s) {
  const auto* f = field(v, key);
  return f && f->is_string() && f->get_string() == s;
}

bool field_is(const boost::json::value& v, std::string_view key, double n) {
  const auto* f = field(v, key);
  return f && f->is_number() && f->to_number<double>() == n;
}

class rehearsal_run {
 public:
  rehearsal_run(net::io_context& ioc, const common_options& c, const rehearsal_options& o)
      : ioc_(ioc),
        common_(c),
        opts_(o),
        band_(ioc, c, {"rehearsal-" + band::run_tag()}, o.devices),
        progress_(ioc, "rehearsal", c.progress_interval_s, [this] { return band_.progress(); }),
        report_("rehearsal") {}

  net::awaitable<void> run() {
    if (opts_.devices < 2) {
      std::cerr << "bandsync bench rehearsal: --devices must be at least 2\n";
      exit_code_ = 2;
      co_return;
    }
    if (auto err = band_.prepare()) {
      std::cerr << "bandsync bench rehearsal: " << *err << "\n";
      exit_code_ = 2;
      co_return;
    }
    band_.set_logging(true);
    auto& cfg = report_.section("config");
    cfg["server"] = band_.devices().target_text();
    cfg["session"] = band_.session(0).id;
    cfg["devices"] = opts_.devices;
    cfg["play_s"] = opts_.play_s;
    cfg["tempo_changes"] = opts_.tempo_changes;
    progress_.start();

    co_await join_in_order();
    if (joined_all_) {
      band_.start_probes(opts_.probe_interval_s);
      co_await play();
      co_await change_tempo();
      co_await drop_leader();
    }
    band_.stop_probes();
    progress_.stop();
    judge();
    band_.devices().drop_all();
    co_await sleep_for(100ms);
    ioc_.stop();
  }

  void fail() { exit_code_ = 1; }

  int finish() {
    if (exit_code_ > 1 || (exit_code_ == 1 && criteria_.empty())) return exit_code_;
    report_.print(std::cout);
    bool all = !criteria_.empty();
    for (const auto& c : criteria_) {
      std::cout << (c.pass ? "PASS" : "FAIL") << "  " << c.name << ": " << c.detail << "\n";
      all = all && c.pass;
    }
    std::cout.flush();
    if (!common_.json_file.empty() && !report_.write_json(common_.json_file)) return 1;
    return all && exit_code_ == 0 ? 0 : 1;
  }

 private:
  struct criterion {
    std::string name;
    bool pass;
    std::string detail;
  };

  size_t n() const { return band_.size(); }
  device& dev(size_t i) { return band_.devices().at(i); }
  band::member& mem(size_t i) { return band_.at(i); }
  void note(std::string text) { notes_.push_back(std::move(text)); }

  // One device at a time, so the join order (and so the election order) is known.
  net::awaitable<void> join_in_order() {
    progress_.set_phase("joining");
    joined_all_ = true;
    for (size_t i = 0; i < n(); ++i) {
      band_.launch_one(i);
      bool ok = co_await wait_until([&] { return mem(i).joined || mem(i).failed; }, step_timeout);
      if (!ok || !mem(i).joined) {
        note("device " + std::to_string(i + 1) + " did not join");
        joined_all_ = false;
        co_return;
      }
    }
    first_leads_ = band_.leader_of(0) == 0;
    if (!first_leads_) note("the first joiner is not the leader");
  }

  net::awaitable<void> play() {
    progress_.set_phase("playing");
    dev(0).emit("play", boost::json::object{{"sessionId", band_.session(0).id}});
    bool ok = co_await wait_until(
        [&] {
          for (size_t i = 0; i < n(); ++i)
            if (!mem(i).sync.has_play) return false;
          return true;
        },
        step_timeout);
    if (!ok) note("play did not reach every device");
    // Measure the ticks of play_s seconds, less a start-up margin.
    double window_ms = std::max(500.0, opts_.play_s * 1000 - 500);
    band_.sync().start_window(wall_ms(), window_ms);
    for (size_t i = 0; i < n(); ++i) band_.sync().enrol(mem(i).sync);
    co_await sleep_for(std::chrono::milliseconds(static_cast<int64_t>(opts_.play_s * 1000)));
  }

  // Tempo changes sent back to back; each device must see the snapshots'
  // tempos in the order they were set, none missing, none swapped.
  net::awaitable<void> change_tempo() {
    progress_.set_phase("changing tempo");
    std::vector<size_t> mark(n());
    for (size_t i = 0; i < n(); ++i) mark[i] = mem(i).log.size();
    double last = first_tempo + static_cast<double>(opts_.tempo_changes) - 1;
    for (size_t k = 0; k < opts_.tempo_changes; ++k)
      dev(0).emit("set_tempo",
                  boost::json::object{{"sessionId", band_.session(0).id},
                                      {"tempo", first_tempo + static_cast<double>(k)}});
    co_await wait_until(
        [&] {
          for (size_t i = 0; i < n(); ++i) {
            bool seen = false;
            for (size_t e = mark[i]; e < mem(i).log.size(); ++e)
              if (mem(i).log[e].first == "snapshot" &&
                  field_is(mem(i).log[e].second, "tempo", last))
                seen = true;
            if (!seen) return false;
          }
          return true;
        },
        step_timeout);
    tempo_in_order_ = 0;
    for (size_t i = 0; i < n(); ++i) {
      std::vector<double> seen;
      for (size_t e = mark[i]; e < mem(i).log.size(); ++e) {
        const auto& [name, payload] = mem(i).log[e];
        const auto* t = field(payload, "tempo");
        if (name == "snapshot" && t && t->is_number()) seen.push_back(t->to_number<double>());
      }
      bool ok = seen.size() == opts_.tempo_changes;
      for (size_t k = 0; ok && k < seen.size(); ++k) ok = seen[k] == first_tempo + k;
      if (ok) {
        ++tempo_in_order_;
      } else {
        std::string got;
        for (double t : seen) got += (got.empty() ? "" : ",") + util::to_json_text(t);
        note("device " + std::to_string(i + 1) + " saw tempos [" + got + "]");
      }
    }
    // The ticks carry the new tempo from now on.
    co_await sleep_for(300ms);
    for (size_t i = 0; i < n(); ++i)
      if (mem(i).sync.last_tempo != last) {
        note("device " + std::to_string(i + 1) + " ticks still at " +
             util::to_json_text(mem(i).sync.last_tempo) + " BPM");
        ticks_follow_tempo_ = false;
      }
  }

  // The leader's phone loses its network. EVENTS.md "Leaving": the earliest
  // joiner left leads, and the session gets role_changed, snapshot,
  // room_stats, user_left in this order.
  net::awaitable<void> drop_leader() {
    progress_.set_phase("dropping the leader");
    std::vector<size_t> mark(n());
    for (size_t i = 0; i < n(); ++i) mark[i] = mem(i).log.size();
    std::string old_sid = dev(0).sid();
    std::string new_sid = dev(1).sid();  // the earliest joiner after the leader
    size_t remaining = n() - 1;
    dev(0).drop();
    auto after = [&](size_t i, std::string_view name) {
      for (size_t e = mark[i]; e < mem(i).log.size(); ++e)
        if (mem(i).log[e].first == name) return true;
      return false;
    };
    co_await wait_until(
        [&] {
          for (size_t i = 1; i < n(); ++i)
            if (!after(i, "user_left")) return false;
          return true;
        },
        step_timeout);

    election_in_order_ = 0;
    for (size_t i = 1; i < n(); ++i) {
      std::vector<const std::pair<std::string, boost::json::value>*> seq;
      for (size_t e = mark[i]; e < mem(i).log.size(); ++e) {
        const auto& name = mem(i).log[e].first;
        if (name != "latency_response" && name != "heartbeat") seq.push_back(&mem(i).log[e]);
      }
      std::string names;
      for (auto* e : seq) names += (names.empty() ? "" : ",") + e->first;
      bool ok = seq.size() == 4 && seq[0]->first == "role_changed" && seq[1]->first == "snapshot" &&
                seq[2]->first == "room_stats" && seq[3]->first == "user_left";
      if (ok) {
        const auto& rc = seq[0]->second;
        const auto& snap = seq[1]->second;
        const auto& stats = seq[2]->second;
        const auto& left = seq[3]->second;
        const auto* members = field(snap, "members");
        ok = field_is(rc, "socketId", new_sid) && field_is(rc, "role", "leader") &&
             field_is(rc, "reason", "leader_disconnected") &&
             field_is(snap, "leaderSocketId", new_sid) && members && members->is_array() &&
             members->get_array().size() == remaining && field(snap, "isPlaying") &&
             *field(snap, "isPlaying") == false && field_is(stats, "leader", new_sid) &&
             field_is(stats, "memberCount", static_cast<double>(remaining)) &&
             field_is(left, "socketId", old_sid) &&
             field_is(left, "memberCount", static_cast<double>(remaining)) &&
             field_is(left, "newLeader", new_sid);
        if (!ok) note("device " + std::to_string(i + 1) + ": election payloads wrong");
      } else {
        note("device " + std::to_string(i + 1) + " saw [" + names +
             "] after the leader dropped (want role_changed,snapshot,room_stats,user_left)");
      }
      if (ok) ++election_in_order_;
    }

    // The new leader can lead: its play reaches everyone left.
    std::vector<size_t> mark2(n());
    for (size_t i = 0; i < n(); ++i) mark2[i] = mem(i).log.size();
    if (band_.index_of(new_sid) == 1 && band_.leader_of(0) == 1) {
      dev(1).emit("play", boost::json::object{{"sessionId", band_.session(0).id}});
      co_await wait_until(
          [&] {
            for (size_t i = 1; i < n(); ++i) {
              bool seen = false;
              for (size_t e = mark2[i]; e < mem(i).log.size(); ++e)
                seen = seen || mem(i).log[e].first == "play";
              if (!seen) return false;
            }
            return true;
          },
          step_timeout);
    } else {
      note("the earliest joiner (device 2) was not elected");
    }
    new_leader_play_ = 0;
    for (size_t i = 1; i < n(); ++i)
      for (size_t e = mark2[i]; e < mem(i).log.size(); ++e)
        if (mem(i).log[e].first == "play") {
          ++new_leader_play_;
          break;
        }
  }

  void judge() {
    auto& s = band_.sync();
    for (size_t i = 0; i < n(); ++i) s.collect_final(mem(i).sync);
    auto sync = s.to_json();
    report_.root()["connect"] = band_.connect_json();
    report_.root()["ticks"] = std::move(sync["ticks"]);
    report_.root()["position"] = std::move(sync["position"]);
    report_.root()["probes"] = band_.probes_json();

    size_t per_device = static_cast<size_t>(std::floor(s.window_ms() / sync_stats::tick_period_ms));
    size_t steady = 0;
    for (size_t i = 0; i < n(); ++i)
      if (mem(i).joined && mem(i).sync.in_window + 1 >= per_device) ++steady;
    size_t dropped = band_.closed_after_join();
    criteria_.push_back(
        {std::to_string(n()) + "+ devices stable",
         joined_all_ && first_leads_ && dropped == 0 && steady == n() && per_device > 0,
         std::to_string(band_.joined()) + "/" + std::to_string(n()) + " joined, " +
             std::to_string(dropped) + " lost unexpectedly, " + std::to_string(steady) + "/" +
             std::to_string(n()) + " received their ticks (" + std::to_string(s.received()) + "/" +
             std::to_string(s.expected()) + ")"});

    double tick_p99 = s.latency_us().quantile(0.99) / 1000.0;
    const auto& probes = report_.root().at("probes").as_object();
    const auto& rtt = probes.at("rtt_ms").as_object();
    double rtt_p99 = rtt.at("p99").to_number<double>();
    uint64_t answered = probes.at("answered").to_number<uint64_t>();
    criteria_.push_back(
        {fmt("latency < %.0f ms", latency_limit_ms),
         s.received() > 0 && answered > 0 && tick_p99 < latency_limit_ms &&
             rtt_p99 < latency_limit_ms,
         fmt("tick one-way p99 %.2f ms, probe round trip p99 %.2f ms", tick_p99, rtt_p99) + " (" +
             std::to_string(answered) + " probes)"});

    double max_err = s.max_abs_error_ms();
    uint64_t samples = s.abs_error_us().count();
    criteria_.push_back(
        {fmt("drift < %.0f ms", drift_limit_ms), samples > 0 && max_err < drift_limit_ms,
         fmt("largest position error %.1f ms over %.1f s of play", max_err, s.window_ms() / 1000) +
             " (" + std::to_string(samples) + " ticks)"});

    criteria_.push_back({"tempo changes in order",
                         tempo_in_order_ == n() && ticks_follow_tempo_ && opts_.tempo_changes > 0,
                         std::to_string(opts_.tempo_changes) + " changes arrived in order at " +
                             std::to_string(tempo_in_order_) + "/" + std::to_string(n()) +
                             " devices" + (ticks_follow_tempo_ ? "" : "; ticks lag the tempo")});

    criteria_.push_back(
        {"election works", election_in_order_ == n() - 1 && new_leader_play_ == n() - 1,
         "earliest joiner elected; role_changed, snapshot, room_stats, user_left in order at " +
             std::to_string(election_in_order_) + "/" + std::to_string(n() - 1) +
             "; the new leader's play reached " + std::to_string(new_leader_play_) + "/" +
             std::to_string(n() - 1)});

    boost::json::array crit;
    for (const auto& c : criteria_)
      crit.push_back({{"name", c.name}, {"pass", c.pass}, {"detail", c.detail}});
    report_.root()["criteria"] = std::move(crit);
    if (!notes_.empty()) {
      boost::json::array a;
      for (const auto& t : notes_) a.push_back(boost::json::string(t));
      report_.root()["notes"] = std::move(a);
    }
  }

  net::io_context& ioc_;
  common_options common_;
  rehearsal_options opts_;
  band band_;
  progress progress_;
  report report_;
  std::vector<criterion> criteria_;
  std::vector<std::string> notes_;
  bool joined_all_ = false;
  bool first_leads_ = false;
  bool ticks_follow_tempo_ = true;
  size_t tempo_in_order_ = 0;
  size_t election_in_order_ = 0;
  size_t new_leader_play_ = 0;
  int exit_code_ = 0;
};

}  // namespace

int run_rehearsal(const common_options& common, const rehearsal_options& opts) {
  net::io_context ioc(1);
  rehearsal_run run(ioc, common, opts);
  run_scenario(
      ioc, run.run(), [&] { run.fail(); }, "rehearsal");
  return run.finish();
}

}  // namespace bandsync::bench
