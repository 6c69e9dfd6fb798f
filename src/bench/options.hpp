#pragma once
// Options of `bandsync bench` (app/bench.cpp maps the command line onto them).

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace bandsync::bench {

// How the generator's devices talk to the server (bench/device.hpp): `wire`
// reads every socket with one epoll loop and its own frame reader; `beast`
// is the Beast WebSocket client it replaced, kept to measure against.
enum class device_io : uint8_t { wire, beast };

struct common_options {
  std::string host = "127.0.0.1";  // loopback only
  uint16_t port = 3001;
  int server_pid = 0;              // > 0: report the server's CPU and RSS
  std::string json_file;           // non-empty: write the whole report there
  size_t source_addresses = 0;     // loopback source addresses; 0 = one per 5 000 devices
  size_t max_in_flight = 200;      // devices connecting at once
  double connect_timeout_s = 15;   // per device, every handshake included
  double progress_interval_s = 5;  // stderr progress line on long runs; 0 = none
  // Several nodes of one cluster (docs/EVENTS.md "Cluster"): the ports of the
  // nodes after the first (`port`). Member m of every session connects to
  // node m mod N, so each session has devices on every node (fanout).
  std::vector<uint16_t> node_ports;
  uint16_t redis_port = 0;  // > 0: Redis commands per second from its INFO (fanout)
  device_io io = device_io::wire;
  // Wire devices: read every socket every this many ms instead of as soon as
  // one is readable (0). Latency is the kernel's receive stamp either way.
  double poll_interval_ms = 0;
};

struct rehearsal_options {
  size_t devices = 4;         // at least 2 (a leader and someone to elect)
  double play_s = 3;          // ticks collected before the tempo changes
  size_t tempo_changes = 20;  // set_tempo sent back to back
  double probe_interval_s = 0.25;
};

struct fanout_options {
  size_t sessions = 250;
  size_t members = 8;
  double duration_s = 30;  // measured window
  double warmup_s = 2;     // after every session plays, before measuring
  double probe_interval_s = 2.5;
  // Leaders press play at random moments over this many seconds, as
  // independent bands do, so sessions tick at random phases of the period
  // (a server ticking each session from its own play moment sees the load
  // spread); 0 = every session at once.
  double play_spread_s = 2;
};

struct floor_options {
  size_t sockets = 4000;   // loopback connections written to
  double duration_s = 10;  // measured window
  double warmup_s = 1;     // writing before the window
  double rate_hz = 10;     // writes per socket per second (scroll_tick's 100 ms)
  // A period's writes are spread over this many equal slots (1 = one burst
  // per period), as a server with balanced tick phases spreads them.
  size_t slots = 100;
};

struct idle_options {
  size_t devices = 2000;
  size_t members = 8;      // devices per session
  double duration_s = 30;  // hold time once all are joined
  double settle_s = 3;     // wait before the "connected" memory sample
};

}  // namespace bandsync::bench
