#pragma once
// `bandsync bench idle`: N joined devices (sessions of M) held for D seconds,
// answering Engine.IO pings and BandSync heartbeats and nothing else, to
// measure what a connection costs the server: its RSS before the first
// connect and with all N connected, divided by N (needs --server-pid).

#include "bench/options.hpp"

namespace bandsync::bench {

int run_idle(const common_options& common, const idle_options& opts);

}  // namespace bandsync::bench
