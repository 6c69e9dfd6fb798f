#pragma once
// Server→client WebSocket frames written straight on a non-blocking socket
// (RFC 6455 §5.2): a server frame is never masked, so its header depends only
// on the payload's length and type and is built at write time next to the
// shared payload bytes; the frames queued for one connection go out in one
// sendmsg (a gather of header, payload, header, payload, ...).
//
// No Asio, no Beast: the caller owns the socket and the waiting. A write that
// the kernel takes only in part leaves `offset()` bytes of the first frame
// written; the next write continues from there, and nothing else (a control
// frame) may be written on the socket until offset() is 0 again.

#include <cstddef>
#include <cstdint>
#include <span>

#include "engineio/packet.hpp"

namespace bandsync::engineio {

// The largest header: 2 bytes + a 64-bit length.
inline constexpr size_t ws_max_header = 10;

// Writes the header of a final, unmasked text or binary frame of `payload`
// bytes into `out`; returns its length: 2 (≤ 125), 4 (≤ 65,535) or 10.
size_t encode_ws_header(bool binary, size_t payload, uint8_t* out);

class frame_writer {
 public:
  // At most this many frames per sendmsg (two iovecs each, below IOV_MAX).
  static constexpr size_t max_batch = 64;

  struct result {
    size_t frames_done = 0;    // frames at the head of `frames` written whole
    bool would_block = false;  // the socket took less than offered: wait for writability
    int error = 0;             // errno of a failed write (the connection is broken)
  };

  // Writes the head of `frames` (the first max_batch of them), continuing the
  // first one at offset(). Never blocks, never raises SIGPIPE.
  result write(int fd, std::span<const frame* const> frames);

  // Bytes of the first queued frame (header included) already written.
  size_t offset() const { return offset_; }

 private:
  // Payloads up to this size go out alone as one contiguous send (write_small).
  static constexpr size_t small_frame = 512;
  result write_small(int fd, const frame& f);

  size_t offset_ = 0;
};

}  // namespace bandsync::engineio
