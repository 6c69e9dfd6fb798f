#pragma once
// The time signature's bounds, shared by the transport (set_time_signature)
// and the setlist (a song's beatsPerBar, ChordPro {time:}); header-only and
// free of Boost so that the chart fuzzer's library can use it.

namespace bandsync::domain {

inline constexpr int min_beats_per_bar = 1;
inline constexpr int max_beats_per_bar = 16;

}  // namespace bandsync::domain
