// libFuzzer target for the Engine.IO v4 packet and payload codec.
//
// The input is an HTTP long-polling body (and, separately, a WebSocket text
// frame). Whenever it decodes, re-encoding the packets must give back the very
// same bytes (text packets are opaque and base64 is canonical), and decoding
// that again the same packets. Any violation aborts, so libFuzzer reports it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "engineio/packet.hpp"

namespace {

namespace eio = bandsync::engineio;

void check(bool ok) {
  if (!ok) std::abort();
}

// A WebSocket text frame: one packet, no base64 binary, encodes to itself.
void check_text_frame(std::string_view text) {
  auto p = eio::decode_packet(text);
  if (!p) return;
  check(!p->binary);
  check(static_cast<int>(p->type) <= static_cast<int>(eio::packet_type::noop));
  check(eio::encode_packet(p->type, p->data) == text);
  check(*eio::make_text_frame(p->type, p->data).data == text);
}

void check_payload(std::string_view body, size_t max_packets) {
  auto packets = eio::decode_payload(body, max_packets);
  if (!packets) return;
  check(!packets->empty() && packets->size() <= max_packets);

  std::string out;
  for (const auto& p : *packets) {
    check(!p.binary || p.type == eio::packet_type::message);
    eio::append_to_payload(
        out, p.binary ? eio::make_binary_frame(p.data) : eio::make_text_frame(p.type, p.data));
  }
  check(out == body);

  auto again = eio::decode_payload(out, max_packets);
  check(again.has_value() && *again == *packets);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  check_text_frame(input);
  check_payload(input, 10000);
  check_payload(input, 3);  // exercises the too_many_packets bound
  return 0;
}
