#pragma once
// `bandsync bench fanout`: S sessions of M devices, every session playing.
// Reports connect success and join time, scroll_tick one-way latency and
// loss, position error and drift against real time, probe round trips,
// messages per second, and (with --server-pid) the server's CPU and RSS.

#include "bench/options.hpp"

namespace bandsync::bench {

// Exit code: 0 when the run completed (whatever it measured), 1 when it
// could not, 2 for bad options.
int run_fanout(const common_options& common, const fanout_options& opts);

}  // namespace bandsync::bench
