#pragma once
// `bandsync bench sync`: clock accuracy (issue 11). For each network shape
// (loopback, delay ± jitter), N times: the Node harness
// tests/integration/lib/sync_harness.mjs starts a fresh `bandsync serve`
// (this executable) on a free loopback port, puts each of the devices behind
// its own delay-and-jitter TCP proxy and lets bandsync-client's estimator
// (the library apps use, client/bandsync-client.js) estimate the server time
// with `time_sync` bursts; at one instant it compares every device's estimate
// with the true server time, read exactly from CLOCK_MONOTONIC plus the
// offset the server logs at start. This command runs the harness as a child
// process per run (bounded by a deadline), pools its per-run JSON reports
// and prints per-device |estimate − server time| p50/p99/max and the spread
// of the devices' positions at the same instant, per shape, with the
// machine's load average at each run.
//
// Why drive Node instead of measuring in C++: what is measured is the JS
// estimator a band's phones and browsers run, and the proxy the integration
// suite tests (jitter_proxy.test.mjs); a C++ re-implementation would measure
// a different estimator. Node is a dependency of every benchmark anyway.

#include <string>
#include <vector>

#include "bench/options.hpp"

namespace bandsync::bench {

struct sync_options {
  // Network shapes, "DELAYxJITTER" in ms, each direction (uniform jitter).
  std::vector<std::string> shapes = {"0x0", "20x10"};
  size_t devices = 8;
  size_t count = 16;        // exchanges per burst
  size_t first_count = 32;  // exchanges in a device's first burst (bandsync-client's)
  size_t bursts = 1;        // bursts per device before the instant compared
  // Seconds from one burst's start to the next (bandsync-client resyncs
  // every 15 s); 0 = back to back.
  double burst_interval_s = 0;
  size_t repeats = 3;  // runs per shape, each with a fresh server and seed
  std::string node = "node";
  std::string harness;  // default: the source tree's sync_harness.mjs
  std::string server;   // default: this executable
  double run_timeout_s = 120;
};

// Exit code: 0 when every run completed, 1 when one failed (no node, the
// harness or server failed, a deadline passed), 2 for bad options.
int run_sync(const common_options& common, const sync_options& opts);

}  // namespace bandsync::bench
