// libFuzzer target for the WebSocket frame reader (src/engineio/ws_reader.hpp).
//
// Input: a role/limit byte, a read-size byte, then the bytes of one direction
// of a connection. The stream is read twice, in one feed and in reads of the
// given size: both must hand out the same messages and end the same way
// (where a read ends never changes what is read). Every message must respect
// the protocol's bounds (a control frame ≤ 125 bytes, a data message ≤ the
// limit, text and close reasons valid UTF-8, close codes sendable), and the
// reader may keep no more than one frame and one message. Any violation
// aborts, so libFuzzer reports it.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "engineio/ws_reader.hpp"

namespace {

namespace eio = bandsync::engineio;

void check(bool ok) {
  if (!ok) std::abort();
}

struct seen {
  eio::ws_opcode op;
  std::string payload;
  uint16_t code;
  bool operator==(const seen&) const = default;
};

struct run {
  std::vector<seen> messages;
  eio::ws_reader::status status = eio::ws_reader::status::ok;
  eio::ws_error error = eio::ws_error::none;
};

bool valid_utf8(std::string_view s) {
  eio::utf8_checker u;
  return u.feed(s) && u.complete();
}

run read(eio::ws_role role, size_t limit, std::string bytes, size_t chunk) {
  eio::ws_reader r(role, limit);
  run out;
  for (size_t at = 0; at < bytes.size(); at += chunk) {
    size_t n = std::min(chunk, bytes.size() - at);
    out.status = r.feed(bytes.data() + at, n, [&](const eio::ws_message& m) {
      const bool control = static_cast<uint8_t>(m.op) >= 0x8;
      check(m.op == eio::ws_opcode::text || m.op == eio::ws_opcode::binary ||
            m.op == eio::ws_opcode::close || m.op == eio::ws_opcode::ping ||
            m.op == eio::ws_opcode::pong);
      check(control ? m.payload.size() <= 125 : m.payload.size() <= limit);
      if (m.op == eio::ws_opcode::text || m.op == eio::ws_opcode::close)
        check(valid_utf8(m.payload));
      if (m.op == eio::ws_opcode::close)
        check(m.close_code == 0 ? m.payload.empty() : eio::is_valid_close_code(m.close_code));
      else
        check(m.close_code == 0);
      out.messages.push_back({m.op, std::string(m.payload), m.close_code});
      return true;
    });
    // At most one incomplete frame (header + payload) and one message so far.
    check(r.buffered() <= 2 * limit + 14 + 125);
    if (out.status != eio::ws_reader::status::ok) break;
  }
  out.error = r.error();
  check((out.status == eio::ws_reader::status::error) == (out.error != eio::ws_error::none));
  if (out.status == eio::ws_reader::status::error) {
    const uint16_t code = eio::close_code(out.error);
    check(code == 1002 || code == 1007 || code == 1009);
    char more[2] = {'\x81', '\x00'};
    check(r.feed(more, 2, [](const eio::ws_message&) { return true; }) ==
          eio::ws_reader::status::error);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const auto role = (data[0] & 1) ? eio::ws_role::client : eio::ws_role::server;
  const size_t limit = 1 + (data[0] >> 1) * 16;  // 1 .. 2033: the 1009 path is reachable
  const size_t chunk = 1 + data[1];
  std::string bytes(reinterpret_cast<const char*>(data) + 2, size - 2);
  run whole = read(role, limit, bytes, bytes.size() + 1);
  run split = read(role, limit, bytes, chunk);
  check(whole.status == split.status);
  check(whole.error == split.error);
  check(whole.messages == split.messages);
  return 0;
}
