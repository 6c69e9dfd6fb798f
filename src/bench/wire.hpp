#pragma once
// The Socket.IO packets the generator's epoll device (wire_device.cpp)
// recognizes without building a JSON value. No I/O here, so it is unit-tested
// on raw bytes (tests/unit/bench/wire_test.cpp). The device's WebSocket
// frames are read by the server's own codec (engineio/ws_reader.hpp, in its
// client role) and written with engineio::append_client_frame.
//
// Why not Beast: the generator must cost a small fraction of what the server
// spends per tick, or on a 2-core machine the two processes fill both cores
// and the capacity row measures the machine (bench/README.md, "Fourth pass").

#include <string_view>

namespace bandsync::bench::wire {

// The fields of a `scroll_tick` the report needs (EVENTS.md); NaN = absent.
struct tick_fields {
  double server_timestamp = 0;
  double position_ms = 0;
  double tempo_bpm = 0;
};

// True when `text` (one Engine.IO packet) is the Socket.IO EVENT
// `42["scroll_tick",{...}]` on "/" without an ack id, its object's top-level
// `serverTimestamp` and `positionMs` are numbers and nothing unusual is in the
// way (an escaped key, a second argument): `out` is filled. False for anything
// else, which the caller then decodes in full, so a false negative costs time,
// never a wrong figure. Only those keys' values are converted; other values
// (strings, nested objects) are skipped over.
bool scan_tick(std::string_view text, tick_fields& out);

}  // namespace bandsync::bench::wire
