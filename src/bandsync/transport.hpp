#pragma once
// The beat-aware, schedulable transport (docs/EVENTS.md "Clock"): the song position of
// scroll_clock plus a tempo, a time signature and a beat grid, with changes
// that take effect at a stated steady time. Pure: no clock is read here; every
// call takes the steady time `now_us`, and all times are steady microseconds
// (the service converts server times with clock::steady_us_at).
//
// Model. The transport is a current segment plus a short list of pending
// changes, each effective at a time `at_us`. A segment is a scroll_clock (the
// position: it holds until its anchor and runs from there, which is how a
// scheduled start is encoded), a tempo and a beat anchor (a position and the
// beat there):  beat(t) = anchor_beat + (position(t) - anchor_position) *
// tempo / 60 000 000.  Readings at `now_us` replay the changes due by then on
// a copy of the segment, so they are exact whenever they are asked; mutations
// first fold the due changes into the segment for good.
//   - A tempo change moves the beat anchor to where it takes effect, so the
//     beat never jumps; the position (real milliseconds) is not affected.
//   - A seek re-grids the beat at the current tempo (beat = position * tempo /
//     60 000): the song is read as being in that tempo from position 0, so
//     position 0 is always beat 0.
//   - Changes take effect in the order they were made: a change is never
//     effective before one already pending (its time is raised to it), so
//     what an event announced when it was sent stays true.
//   - Pausing folds every pending change in at once (they would have applied
//     at once had the transport been paused) and cancels a scheduled start at
//     the held position: a paused transport has nothing pending.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "bandsync/scroll_clock.hpp"
#include "bandsync/metre.hpp"

namespace bandsync::domain {

inline constexpr int default_beats_per_bar = 4;
inline constexpr int max_count_in_bars = 8;
// Pending seek/tempo changes are bounded; one more is refused (nothing
// changes) and the caller answers the client with an error.
inline constexpr size_t max_pending_changes = 16;

// The start time of a play request, all steady µs. Without `at_us`:
// now + max(lead, count-in), where the count-in lasts count_in_bars *
// beats_per_bar beats at `tempo`. With `at_us`: max(at, now + count-in) (the
// client chose the time; the lead is only the default). Never before now.
int64_t play_start_us(int64_t now_us, int64_t lead_us, std::optional<int64_t> at_us,
                      int count_in_bars, int beats_per_bar, double tempo);

// The duration of `bars` bars at `tempo`, rounded to the microsecond.
int64_t bars_duration_us(int bars, int beats_per_bar, double tempo);

class transport {
 public:
  struct change {
    enum class kind { seek, tempo };
    kind what = kind::seek;
    int64_t at_us = 0;
    int64_t position_us = 0;  // kind::seek
    double tempo = 0;         // kind::tempo
  };

  // Paused at `position_us` with the beat grid from position 0 at `tempo`.
  explicit transport(int64_t position_us = 0, double tempo = 120,
                     int beats_per_bar = default_beats_per_bar);

  // Moves the beat grid's anchor: the beat at `position_us` is `beat` (a
  // session taken over from another node keeps its grid). For a paused
  // transport with nothing pending (just constructed).
  void set_beat_anchor(int64_t position_us, double beat) {
    current_.anchor_position_us = position_us;
    current_.anchor_beat = beat;
  }

  // True from an accepted play (also before its start time) until pause/stop.
  bool playing() const { return current_.clock.playing(); }
  int beats_per_bar() const { return beats_per_bar_; }

  // Readings at `now_us`, pending changes applied when their time has come.
  // `now_us` is not earlier than the last mutation's (a monotonic clock).
  int64_t position_us(int64_t now_us) const;
  double tempo(int64_t now_us) const;
  double beat(int64_t now_us) const;  // fractional, 0-based
  double bar(int64_t now_us) const { return beat(now_us) / beats_per_bar_; }
  // The scheduled start while it is still ahead of `now_us`.
  std::optional<int64_t> starts_at_us(int64_t now_us) const;
  // The changes still ahead of `now_us`, in the order they take effect.
  std::vector<change> pending(int64_t now_us) const;

  // Starts at `start_us` (not before now): the position holds until then,
  // then runs. Returns false and changes nothing when already playing or
  // scheduled (a repeated play keeps the first schedule).
  bool play_at(int64_t start_us, int64_t now_us);

  // Freezes at the exact current position, cancelling a scheduled start and
  // folding pending changes in. Returns false when already paused.
  bool pause(int64_t now_us);

  // Paused at position 0, beat 0, nothing pending.
  void stop(int64_t now_us);

  // Jumps to `position_us` / sets `tempo`, effective at `at_us` while playing
  // (raised to now and to the last pending change's time) and at once while
  // paused. Returns the effective time, or std::nullopt (nothing changes) when
  // max_pending_changes are already pending.
  std::optional<int64_t> seek(int64_t position_us, int64_t at_us, int64_t now_us);
  std::optional<int64_t> set_tempo(double tempo, int64_t at_us, int64_t now_us);

  // The time signature; takes effect at once (bar = beat / beats_per_bar, so
  // the bar number is re-read, the beat does not move). Precondition:
  // min_beats_per_bar <= n <= max_beats_per_bar.
  void set_beats_per_bar(int n) { beats_per_bar_ = n; }

 private:
  struct segment {
    scroll_clock clock;
    double tempo = 120;
    int64_t anchor_position_us = 0;
    double anchor_beat = 0;

    double beat_at(int64_t position_us) const;
    void apply(const change& c);
  };

  segment at(int64_t now_us) const;
  void settle(int64_t now_us);
  std::optional<int64_t> schedule(change c, int64_t now_us);

  segment current_;
  std::vector<change> pending_;  // in effect order, non-decreasing at_us
  std::optional<int64_t> start_us_;
  int beats_per_bar_ = default_beats_per_bar;
};

}  // namespace bandsync::domain
