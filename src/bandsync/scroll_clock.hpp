#pragma once
// The song position model (ARCHITECTURE.md "Time"): the position is derived,
// never accumulated. While playing, position = anchor_position +
// (steady_now - anchor_time); every transport change re-anchors exactly, so the
// reported position never drifts from real time however ticks are spaced.
// Positions and times are integer microseconds, so re-anchoring loses nothing.

#include <cstdint>

namespace bandsync::domain {

class scroll_clock {
 public:
  // Paused at `position_us`.
  explicit scroll_clock(int64_t position_us = 0) : anchor_position_us_(position_us) {}

  bool playing() const { return playing_; }

  // The exact position at steady time `now_us`. A `now_us` earlier than the
  // anchor reads as the anchor: playing with an anchor in the future is how a
  // scheduled start is encoded (the position holds until then, then runs).
  int64_t position_us(int64_t now_us) const;

  // The steady time of the anchor (the start time after play(start_us)).
  int64_t anchor_us() const { return anchor_steady_us_; }

  // Starts from the current position at `now_us` (which may be in the future:
  // a scheduled start). Already playing: nothing changes (the anchor is kept,
  // so a repeated play does not jump).
  void play(int64_t now_us);

  // Freezes at the exact current position. Already paused: nothing changes.
  void pause(int64_t now_us);

  // Jumps to `position_us`, keeping the play state.
  void seek(int64_t position_us, int64_t now_us);

  // Moves the anchor to now without changing the position (for a tempo change,
  // so later derivations start from a fresh anchor).
  void reanchor(int64_t now_us);

 private:
  int64_t anchor_position_us_ = 0;
  int64_t anchor_steady_us_ = 0;
  bool playing_ = false;
};

}  // namespace bandsync::domain
