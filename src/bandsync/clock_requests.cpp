#include "bandsync/clock_requests.hpp"

#include <cmath>

#include "bandsync/transport.hpp"
#include "store/json_number.hpp"

namespace bandsync::domain {
namespace {

const std::string bad_t1 = "t1 must be a number";
const std::string bad_at = "at must be a server time from 5000 ms ago to 60000 ms ahead";
const std::string bad_count_in = "countIn must be an integer from 0 to 8";
const std::string bad_beats_per_bar = "beatsPerBar must be an integer from 1 to 16";

// Reads `at` into `out`: absent/null leaves it empty; returns false when
// present but not a server time within the window around `now`.
bool read_at(const boost::json::array& args, double now, std::optional<double>& out) {
  const auto* v = field(*payload_of(args), "at");
  if (!v) return true;
  auto at = store::number_of(*v);
  if (!at || *at < now - max_schedule_late_ms || *at > now + max_schedule_ahead_ms) return false;
  out = *at;
  return true;
}

// An integer-valued JSON number in [lo, hi] (3.0 is accepted, 3.5 is not).
std::optional<int> small_integer(const boost::json::value& v, int lo, int hi) {
  auto n = store::number_of(v);
  if (!n || std::floor(*n) != *n || *n < lo || *n > hi) return std::nullopt;
  return static_cast<int>(*n);
}

}  // namespace

parse_result<time_sync_request> parse_time_sync(const boost::json::array& args) {
  const auto* o = payload_of(args);
  if (!o) return invalid_payload{payload_not_object};
  const auto* v = field(*o, "t1");
  if (!v || !store::number_of(*v)) return invalid_payload{bad_t1};
  return time_sync_request{*v};
}

parse_result<play_request> parse_play(const boost::json::array& args, double now_server_ms) {
  auto base = parse_session_request(args);
  if (auto* e = std::get_if<invalid_payload>(&base)) return *e;
  play_request r;
  r.session_id = std::move(std::get<session_request>(base).session_id);
  if (!read_at(args, now_server_ms, r.at_ms)) return invalid_payload{bad_at};
  if (const auto* v = field(*payload_of(args), "countIn")) {
    auto bars = small_integer(*v, 0, max_count_in_bars);
    if (!bars) return invalid_payload{bad_count_in};
    r.count_in_bars = *bars;
  }
  return r;
}

parse_result<scheduled_seek_request> parse_scheduled_seek(const boost::json::array& args,
                                                          double now_server_ms) {
  auto base = parse_seek(args);
  if (auto* e = std::get_if<invalid_payload>(&base)) return *e;
  auto& seek = std::get<seek_request>(base);
  scheduled_seek_request r{std::move(seek.session_id), seek.position_us, std::nullopt};
  if (!read_at(args, now_server_ms, r.at_ms)) return invalid_payload{bad_at};
  return r;
}

parse_result<scheduled_tempo_request> parse_scheduled_tempo(const boost::json::array& args,
                                                            double now_server_ms) {
  auto base = parse_set_tempo(args);
  if (auto* e = std::get_if<invalid_payload>(&base)) return *e;
  auto& tempo = std::get<tempo_request>(base);
  scheduled_tempo_request r{std::move(tempo.session_id), tempo.tempo, std::nullopt};
  if (!read_at(args, now_server_ms, r.at_ms)) return invalid_payload{bad_at};
  return r;
}

parse_result<time_signature_request> parse_set_time_signature(const boost::json::array& args) {
  auto base = parse_session_request(args);
  if (auto* e = std::get_if<invalid_payload>(&base)) return *e;
  time_signature_request r;
  r.session_id = std::move(std::get<session_request>(base).session_id);
  const auto* v = field(*payload_of(args), "beatsPerBar");
  auto n = v ? small_integer(*v, min_beats_per_bar, max_beats_per_bar) : std::nullopt;
  if (!n) return invalid_payload{bad_beats_per_bar};
  r.beats_per_bar = *n;
  return r;
}

}  // namespace bandsync::domain
