#pragma once
// Engine.IO v4 packet and payload codec (protocol spec, "Packet encoding" and
// "Payload encoding" sections). Pure functions over bytes: no I/O, no state,
// so they are unit-tested from raw wire strings and fuzzed.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

namespace bandsync::engineio {

enum class packet_type : uint8_t { open = 0, close, ping, pong, message, upgrade, noop };

// One decoded packet. `binary` is only ever true for `message`: a WebSocket
// binary frame, or a "b<base64>" segment of a polling payload.
struct packet {
  packet_type type = packet_type::message;
  bool binary = false;
  std::string data;

  bool operator==(const packet&) const = default;
};

// An outbound packet, already encoded once and shared by every recipient of a
// broadcast. Text frames hold the whole Engine.IO packet ("42[...]"); binary
// frames hold the raw bytes of a message packet.
struct frame {
  frame() = default;
  frame(bool b, std::shared_ptr<const std::string> d) : binary(b), data(std::move(d)) {}

  bool binary = false;
  // A WebSocket control opcode (0x8 close, 0xA pong) for a frame of the
  // WebSocket's own (ws_connection); 0 for an Engine.IO packet. In the
  // padding after `binary`: a queued frame stays 24 bytes.
  uint8_t control = 0;
  std::shared_ptr<const std::string> data;

  size_t size() const { return data ? data->size() : 0; }
};

enum class codec_errc {
  empty_packet = 1,     // "" where a packet was expected
  unknown_packet_type,  // first character not '0'..'6'
  invalid_base64,       // "b..." segment that is not padded base64
  too_many_packets,     // payload holds more packets than the caller allows
};

const boost::system::error_category& codec_category() noexcept;
boost::system::error_code make_error_code(codec_errc e) noexcept;

// Decodes a text packet: a WebSocket text frame, or one segment of a polling
// payload. With `allow_base64_binary` (polling only) a leading 'b' marks a
// base64 binary message, as the spec prescribes for HTTP long-polling.
boost::system::result<packet> decode_packet(std::string_view text,
                                            bool allow_base64_binary = false);

// Decodes an HTTP long-polling body: packets separated by the record separator
// 0x1e. Fails as a whole when any packet is malformed or when there are more
// than `max_packets` (a cheap bound against a body of a million separators).
boost::system::result<std::vector<packet>> decode_payload(std::string_view body,
                                                          size_t max_packets = 10000);

// "<type><data>" for a text packet.
std::string encode_packet(packet_type type, std::string_view data = {});

// Appends `f` to a polling payload being built, with the 0x1e separator when
// `out` is not empty and base64 for binary frames.
void append_to_payload(std::string& out, const frame& f);

// A shared text frame for `type` + `data`.
frame make_text_frame(packet_type type, std::string_view data = {});
frame make_binary_frame(std::string bytes);

}  // namespace bandsync::engineio

namespace boost::system {
template <>
struct is_error_code_enum<bandsync::engineio::codec_errc> : std::true_type {};
}  // namespace boost::system
