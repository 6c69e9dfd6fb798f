#pragma once
// The WebSocket frame reader (RFC 6455 §5): a codec without I/O, in the manner
// of uWebSockets' WebSocketProtocol.h. Fed the bytes of one direction of a
// connection as they are read, it hands out, in order, complete data messages
// (text or binary, fragments joined) and control frames (ping, pong, close
// with its status code and reason).
//
// Frames are parsed where they lie: a frame that arrived whole in one read is
// handed out as a view into the caller's buffer (a client frame is unmasked
// there, in place). Only two things are copied: a frame split across reads
// (kept until its last byte arrives) and the payload of a fragmented message.
// Both are bounded by the message limit, which is checked from a frame's
// header before any of its payload is kept.
//
// One reader serves both ends: the server reads masked client frames
// (ws_role::server, ws_connection), the benchmark's client reads unmasked
// server frames (ws_role::client, bench/wire_device). A violation stops the
// reader for good; close_code() gives the status code of the close frame
// that fails the connection (§7.4.1: 1002, 1007 or 1009).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace bandsync::engineio {

enum class ws_opcode : uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA
};

// Which end reads; the frames it gets are the other end's.
enum class ws_role : uint8_t {
  server,  // reads client frames: every one masked (§5.1)
  client,  // reads server frames: none masked
};

// A complete data message or a control frame. For a close frame, `payload` is
// the reason and `close_code` the status code (0 when the frame carried none).
struct ws_message {
  ws_opcode op = ws_opcode::text;
  std::string_view payload;
  uint16_t close_code = 0;
};

// Why a reader stopped for good: the connection must be failed.
enum class ws_error : uint8_t {
  none,
  unmasked_frame,           // a client frame without a mask (§5.1)
  masked_frame,             // a server frame with a mask (§5.1)
  reserved_bits,            // RSV1-3 set: no extension was negotiated (§5.2)
  bad_opcode,               // 0x3-0x7, 0xB-0xF
  bad_length,               // a length not in its shortest form, or above 2^63 (§5.2)
  bad_control_frame,        // fragmented or longer than 125 bytes (§5.5)
  unexpected_continuation,  // a continuation without a message in progress (§5.4)
  interleaved_data,         // a new data frame inside a fragmented message (§5.4)
  bad_close_payload,        // one byte, or a status code no endpoint may send (§7.4)
  message_too_big,          // over the reader's limit
  invalid_utf8,             // a text message or a close reason (§5.6, §8.1)
};

std::string_view to_string(ws_error e);

// The status code of the close frame that fails the connection for `e`:
// 1009 for a message over the limit, 1007 for invalid UTF-8, 1002 otherwise.
uint16_t close_code(ws_error e);

// Whether a close frame may carry `code` (§7.4.1, §7.4.2 and the IANA
// registry): 1000-1003, 1007-1013 and 3000-4999.
bool is_valid_close_code(uint16_t code);

// Incremental UTF-8 validation (RFC 3629: no overlong forms, no surrogates,
// nothing above U+10FFFF); a code point may straddle two calls.
class utf8_checker {
 public:
  // False as soon as `s`, after what was fed before, cannot be valid UTF-8
  // (then the checker is of no further use).
  bool feed(std::string_view s);
  // No code point left open.
  bool complete() const { return need_ == 0; }

 private:
  uint8_t need_ = 0;   // continuation bytes still due
  uint8_t lo_ = 0x80;  // the range of the next one
  uint8_t hi_ = 0xBF;
};

class ws_reader {
 public:
  enum class status : uint8_t { ok, stopped, error };

  // `max_message`: the largest payload accepted, one frame or a fragmented
  // message; larger is an error before any of it is kept.
  ws_reader(ws_role role, size_t max_message) : max_message_(max_message), role_(role) {}

  // Feeds bytes just read (client frames are unmasked in place, so `data`
  // must be writable). Calls `on_message(const ws_message&)` for each complete
  // message, in order; its payload is valid during the call only; returning
  // false stops the reader. Bytes of an incomplete frame are kept for the
  // next feed. Returns `ok` when every byte was used or kept, `stopped` when a
  // callback returned false (the rest is dropped and nothing is kept: the
  // caller is closing; every later feed returns `stopped` too), `error` on a
  // protocol violation (error() says which; every later feed returns `error`).
  template <class OnMessage>
  status feed(char* data, size_t size, OnMessage&& on_message);

  ws_error error() const { return error_; }
  // Bytes held between feeds: an incomplete frame and a fragmented message.
  size_t buffered() const { return carry_.size() + partial_.size(); }
  // A fragmented message is in progress.
  bool in_message() const { return in_message_; }

 private:
  struct input {
    char* data;
    size_t size;
    size_t pos = 0;
  };
  struct header {
    size_t size = 0;  // with the masking key; when incomplete, the bytes to read next
    uint64_t length = 0;
    ws_opcode op = ws_opcode::text;
    bool fin = false;
    bool masked = false;
    uint8_t key[4] = {};
  };
  enum class parse : uint8_t { complete, incomplete, failed };
  enum class step : uint8_t { message, need_more, failed };

  // The next message of `in` into `m`, or why there is none. The message's
  // payload may lie in this reader's own buffers: valid until the next call.
  step next(input& in, ws_message& m);
  // Reads and checks the header at `p` (`avail` bytes), against the state of
  // the message in progress. `failed` sets error_.
  parse read_header(const uint8_t* p, size_t avail, header& h);
  // Takes one whole frame whose payload starts at `payload`: true with `m`
  // filled for a message to hand out, false for a fragment kept or an error
  // (error_ set).
  bool take_frame(const header& h, char* payload, ws_message& m);
  bool fail(ws_error e);
  void stop();
  // Frees what the last message handed out lay in.
  void release_delivered();

  size_t max_message_;
  std::string carry_;    // an incomplete frame, header included
  std::string partial_;  // the payload so far of a fragmented message
  utf8_checker utf8_;    // of the fragmented text message so far
  ws_role role_;
  ws_opcode partial_op_ = ws_opcode::text;
  ws_error error_ = ws_error::none;
  bool in_message_ = false;
  bool stopped_ = false;
  bool release_carry_ = false;    // the last message was a frame held in carry_
  bool release_partial_ = false;  // the last message was partial_
};

// Appends one client frame carrying `payload`: FIN, masked with `mask_key` as
// RFC 6455 §5.3 requires of a client (the benchmark's devices, the tests).
void append_client_frame(std::string& out, ws_opcode op, std::string_view payload,
                         uint32_t mask_key);

// --- implementation -------------------------------------------------------

template <class OnMessage>
ws_reader::status ws_reader::feed(char* data, size_t size, OnMessage&& on_message) {
  if (stopped_) return status::stopped;
  input in{data, size};
  ws_message m;
  for (;;) {
    switch (next(in, m)) {
      case step::need_more:
        return status::ok;
      case step::failed:
        return status::error;
      case step::message:
        if (!on_message(static_cast<const ws_message&>(m))) {
          stop();
          return status::stopped;
        }
        break;
    }
  }
}

}  // namespace bandsync::engineio
