#pragma once
// Validation of the clock requests (docs/EVENTS.md "Clock"): time_sync, and the
// scheduling fields of play, seek and set_tempo, and set_time_signature. Same
// rules as requests.hpp: nothing throws on any input, each failure is an
// invalid_payload naming the field. Times a client sends for `at` are server
// times (epoch ms, fractional); their bounds depend on the server time now,
// which the caller passes in (the parsers stay pure).

#include <optional>
#include <string>

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include "bandsync/requests.hpp"

namespace bandsync::domain {

// `at` may be at most this far ahead of the server time now...
inline constexpr double max_schedule_ahead_ms = 60'000;
// ...and this far behind it: a request sent for "now + a little" that spent
// longer than that in transit still arrives within it. A late `at` takes
// effect at once (the transport raises it to now).
inline constexpr double max_schedule_late_ms = 5'000;

// time_sync { t1 }: t1 is the client's send time, any finite number; it is
// echoed as sent.
struct time_sync_request {
  boost::json::value t1;
};
parse_result<time_sync_request> parse_time_sync(const boost::json::array& args);

// play { sessionId, at?, countIn? }: at a server time within [now - 5000,
// now + 60000]; countIn an integer 0..8 (bars). Absent or null: not given.
struct play_request {
  std::string session_id;
  std::optional<double> at_ms;
  int count_in_bars = 0;
};
parse_result<play_request> parse_play(const boost::json::array& args, double now_server_ms);

// seek { sessionId, position, at? } (position as parse_seek, at as play's).
struct scheduled_seek_request {
  std::string session_id;
  int64_t position_us = 0;
  std::optional<double> at_ms;
};
parse_result<scheduled_seek_request> parse_scheduled_seek(const boost::json::array& args,
                                                          double now_server_ms);

// set_tempo { sessionId, tempo, at? } (tempo as parse_set_tempo, at as play's).
struct scheduled_tempo_request {
  std::string session_id;
  double tempo = 120;
  std::optional<double> at_ms;
};
parse_result<scheduled_tempo_request> parse_scheduled_tempo(const boost::json::array& args,
                                                            double now_server_ms);

// set_time_signature { sessionId, beatsPerBar }: beatsPerBar an integer 1..16.
struct time_signature_request {
  std::string session_id;
  int beats_per_bar = 4;
};
parse_result<time_signature_request> parse_set_time_signature(const boost::json::array& args);

}  // namespace bandsync::domain
