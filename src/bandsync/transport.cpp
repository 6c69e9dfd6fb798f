#include "bandsync/transport.hpp"

#include <algorithm>
#include <cmath>

namespace bandsync::domain {

namespace {
constexpr double us_per_minute = 60'000'000.0;
}

int64_t bars_duration_us(int bars, int beats_per_bar, double tempo) {
  if (bars <= 0 || tempo <= 0) return 0;
  return std::llround(static_cast<double>(bars) * beats_per_bar * us_per_minute / tempo);
}

int64_t play_start_us(int64_t now_us, int64_t lead_us, std::optional<int64_t> at_us,
                      int count_in_bars, int beats_per_bar, double tempo) {
  int64_t count_in = bars_duration_us(count_in_bars, beats_per_bar, tempo);
  if (at_us) return std::max({*at_us, now_us + count_in, now_us});
  return now_us + std::max({lead_us, count_in, int64_t{0}});
}

double transport::segment::beat_at(int64_t position_us) const {
  return anchor_beat +
         static_cast<double>(position_us - anchor_position_us) * tempo / us_per_minute;
}

void transport::segment::apply(const change& c) {
  // Before a scheduled start the position holds, so a change made then takes
  // effect at the start (the held position is what it changes).
  int64_t t = std::max(c.at_us, clock.anchor_us());
  if (c.what == change::kind::seek) {
    clock.seek(c.position_us, t);
    anchor_position_us = 0;
    anchor_beat = 0;
  } else {
    int64_t p = clock.position_us(t);
    anchor_beat = beat_at(p);
    anchor_position_us = p;
    tempo = c.tempo;
  }
}

transport::transport(int64_t position_us, double tempo, int beats_per_bar)
    : beats_per_bar_(beats_per_bar) {
  current_.clock = scroll_clock(position_us);
  current_.tempo = tempo;
}

transport::segment transport::at(int64_t now_us) const {
  segment s = current_;
  for (const auto& c : pending_) {
    if (c.at_us > now_us) break;
    s.apply(c);
  }
  return s;
}

void transport::settle(int64_t now_us) {
  auto due = std::find_if(pending_.begin(), pending_.end(),
                          [now_us](const change& c) { return c.at_us > now_us; });
  for (auto it = pending_.begin(); it != due; ++it) current_.apply(*it);
  pending_.erase(pending_.begin(), due);
  if (start_us_ && *start_us_ <= now_us) start_us_.reset();
}

int64_t transport::position_us(int64_t now_us) const {
  return at(now_us).clock.position_us(now_us);
}

double transport::tempo(int64_t now_us) const {
  return at(now_us).tempo;
}

double transport::beat(int64_t now_us) const {
  segment s = at(now_us);
  return s.beat_at(s.clock.position_us(now_us));
}

std::optional<int64_t> transport::starts_at_us(int64_t now_us) const {
  if (playing() && start_us_ && *start_us_ > now_us) return start_us_;
  return std::nullopt;
}

std::vector<transport::change> transport::pending(int64_t now_us) const {
  std::vector<change> out;
  for (const auto& c : pending_) {
    if (c.at_us > now_us) out.push_back(c);
  }
  return out;
}

bool transport::play_at(int64_t start_us, int64_t now_us) {
  settle(now_us);
  if (playing()) return false;
  start_us = std::max(start_us, now_us);
  current_.clock.play(start_us);
  if (start_us > now_us) start_us_ = start_us;
  return true;
}

bool transport::pause(int64_t now_us) {
  settle(now_us);
  if (!playing()) return false;
  current_.clock.pause(now_us);
  for (auto c : pending_) {
    c.at_us = now_us;
    current_.apply(c);
  }
  pending_.clear();
  start_us_.reset();
  return true;
}

void transport::stop(int64_t now_us) {
  pause(now_us);
  current_.apply(change{change::kind::seek, now_us, 0, 0});
}

std::optional<int64_t> transport::schedule(change c, int64_t now_us) {
  settle(now_us);
  if (!playing()) {
    c.at_us = now_us;
    current_.apply(c);
    return now_us;
  }
  if (pending_.size() >= max_pending_changes) return std::nullopt;
  c.at_us = std::max(c.at_us, now_us);
  if (!pending_.empty()) c.at_us = std::max(c.at_us, pending_.back().at_us);
  pending_.push_back(c);
  return c.at_us;
}

std::optional<int64_t> transport::seek(int64_t position_us, int64_t at_us, int64_t now_us) {
  return schedule(change{change::kind::seek, at_us, position_us, 0}, now_us);
}

std::optional<int64_t> transport::set_tempo(double tempo, int64_t at_us, int64_t now_us) {
  return schedule(change{change::kind::tempo, at_us, 0, tempo}, now_us);
}

}  // namespace bandsync::domain
