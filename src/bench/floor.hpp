#pragma once
// `bandsync bench floor`: what one write per device per tick costs on this
// machine with nothing else around it: N loopback TCP connections, the same
// pre-framed WebSocket text frame (a scroll_tick in its "42[...]" envelope)
// written to each at 10 Hz with plain non-blocking send(), no JSON, no
// framing, no event loop. The writer's CPU time per write is the floor that a
// server's CPU per delivered tick (bench fanout) is compared with in the same
// run (bench/compare.sh).
//
// The reading side is a forked process that drains every connection as the
// devices of `bench fanout` do, so the kernel's loopback receive path costs
// what it costs for real devices while the writer's own CPU (getrusage of the
// writing process only) is what is measured.

#include "bench/options.hpp"

namespace bandsync::bench {

// Exit code: 0 when the run completed, 1 when it could not (connections,
// the reader process), 2 for bad options (more sockets than descriptors).
int run_floor(const common_options& common, const floor_options& opts);

}  // namespace bandsync::bench
