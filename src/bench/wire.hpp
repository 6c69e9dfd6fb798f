#pragma once
// The generator's own WebSocket client codec (RFC 6455) and the Socket.IO
// packets it recognizes without building a JSON value, for the epoll device
// (wire_device.cpp). No I/O here, so it is unit-tested on raw bytes
// (tests/unit/bench/wire_test.cpp).
//
// Why not Beast: the generator must cost a small fraction of what the server
// spends per tick, or on a 2-core machine the two processes fill both cores
// and the capacity row measures the machine (bench/README.md, "Fourth pass").
// Server frames are never masked and a tick is one small text frame, so the
// reader hands out views into the bytes just read, copying only a frame split
// across reads (and the payload of a fragmented message).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace bandsync::bench::wire {

enum class opcode : uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA
};

// A complete data message (fragments joined) or a control frame.
struct message {
  opcode op = opcode::text;
  std::string_view payload;
};

// Why a reader stopped for good: the connection must be closed.
enum class read_error : uint8_t {
  none,
  masked_frame,             // a server must not mask (RFC 6455 5.1)
  reserved_bits,            // no extension was negotiated
  bad_opcode,               // 0x3-0x7, 0xB-0xF
  bad_control_frame,        // fragmented or longer than 125 bytes (5.5)
  unexpected_continuation,  // continuation without a message in progress
  interleaved_data,         // a new data frame while a message is in progress
  message_too_big,          // over the reader's limit
};

std::string_view to_string(read_error e);

class frame_reader {
 public:
  enum class status : uint8_t { ok, stopped, error };

  // `max_message`: the largest payload accepted (one frame or a fragmented
  // message); larger is an error before any of it is buffered.
  explicit frame_reader(size_t max_message = 1 << 20) : max_message_(max_message) {}

  // Feeds bytes just read. Calls `on_message(const message&)` (returning true
  // to go on) for each complete message, in order; its payload views are valid
  // during the call only. Bytes of an incomplete frame are kept for the next
  // feed. Returns `stopped` when a callback returned false (the rest is not
  // parsed and nothing is kept: the caller is closing), `error` on a protocol
  // violation (error() says which; feed nothing more).
  template <class OnMessage>
  status feed(std::string_view in, OnMessage&& on_message);

  read_error error() const { return error_; }
  // Bytes held between feeds (an incomplete frame).
  size_t buffered() const { return carry_.size(); }

 private:
  template <class OnMessage>
  status consume(std::string_view in, size_t& used, OnMessage& on_message);

  size_t max_message_;
  std::string carry_;    // an incomplete frame, header included
  std::string partial_;  // the payload so far of a fragmented message
  opcode partial_op_ = opcode::text;
  bool in_message_ = false;
  read_error error_ = read_error::none;
};

// Appends one client frame (FIN, masked with `mask_key`, as RFC 6455 5.3
// requires of a client) carrying `payload`.
void append_client_frame(std::string& out, opcode op, std::string_view payload, uint32_t mask_key);

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

// --- implementation -------------------------------------------------------

template <class OnMessage>
frame_reader::status frame_reader::feed(std::string_view in, OnMessage&& on_message) {
  if (error_ != read_error::none) return status::error;
  size_t used = 0;
  if (carry_.empty()) {
    status s = consume(in, used, on_message);
    if (s == status::ok) carry_.assign(in.substr(used));
    return s;
  }
  carry_.append(in);
  status s = consume(carry_, used, on_message);
  if (s == status::ok) {
    carry_.erase(0, used);
  } else {
    carry_.clear();
  }
  // A big message once must not pin its buffer for the connection's life.
  if (carry_.empty() && carry_.capacity() > 64 * 1024) std::string().swap(carry_);
  return s;
}

template <class OnMessage>
frame_reader::status frame_reader::consume(std::string_view in, size_t& used,
                                           OnMessage& on_message) {
  auto fail = [&](read_error e) {
    error_ = e;
    return status::error;
  };
  auto byte = [&](size_t i) { return static_cast<uint8_t>(in[i]); };
  size_t pos = 0;
  for (;;) {
    size_t avail = in.size() - pos;
    if (avail < 2) break;
    uint8_t b0 = byte(pos), b1 = byte(pos + 1);
    bool fin = b0 & 0x80;
    auto op = static_cast<opcode>(b0 & 0x0f);
    if (b0 & 0x70) return fail(read_error::reserved_bits);
    if (b1 & 0x80) return fail(read_error::masked_frame);
    size_t header = 2;
    uint64_t length = b1 & 0x7f;
    if (length == 126) {
      if (avail < 4) break;
      header = 4;
      length = (uint64_t{byte(pos + 2)} << 8) | byte(pos + 3);
    } else if (length == 127) {
      if (avail < 10) break;
      header = 10;
      length = 0;
      for (size_t i = 0; i < 8; ++i) length = (length << 8) | byte(pos + 2 + i);
    }
    bool control = (b0 & 0x08) != 0;
    if (control) {
      if (op != opcode::close && op != opcode::ping && op != opcode::pong)
        return fail(read_error::bad_opcode);
      if (!fin || length > 125) return fail(read_error::bad_control_frame);
    } else {
      if (op != opcode::continuation && op != opcode::text && op != opcode::binary)
        return fail(read_error::bad_opcode);
      if (op == opcode::continuation && !in_message_)
        return fail(read_error::unexpected_continuation);
      if (op != opcode::continuation && in_message_) return fail(read_error::interleaved_data);
      uint64_t so_far = op == opcode::continuation ? partial_.size() : 0;
      // Checked before waiting for the payload: nothing over the limit is kept.
      if (length > max_message_ || so_far + length > max_message_)
        return fail(read_error::message_too_big);
    }
    if (avail - header < length) break;
    std::string_view payload = in.substr(pos + header, static_cast<size_t>(length));
    pos += header + static_cast<size_t>(length);
    bool go_on = true;
    if (control || (fin && op != opcode::continuation)) {
      go_on = on_message(message{op, payload});
    } else if (op != opcode::continuation) {  // the first fragment
      partial_.assign(payload);
      partial_op_ = op;
      in_message_ = true;
    } else {
      partial_.append(payload);
      if (fin) {
        in_message_ = false;
        go_on = on_message(message{partial_op_, partial_});
        partial_.clear();
        if (partial_.capacity() > 64 * 1024) std::string().swap(partial_);
      }
    }
    if (!go_on) {
      used = pos;
      return status::stopped;
    }
  }
  used = pos;
  return status::ok;
}

}  // namespace bandsync::bench::wire
