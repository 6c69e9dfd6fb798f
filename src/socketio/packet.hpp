#pragma once
// Socket.IO v5 packet codec (protocol spec, "Packet encoding"):
//   <type>[<attachments>-][<namespace>,][<ack id>][JSON payload]
// Pure functions, no I/O. Binary attachments travel as separate Engine.IO
// binary messages; the JSON keeps {"_placeholder":true,"num":N} in their place.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

namespace bandsync::socketio {

enum class packet_type : uint8_t {
  connect = 0,
  disconnect,
  event,
  ack,
  connect_error,
  binary_event,
  binary_ack
};

struct packet {
  packet_type type = packet_type::event;
  std::string nsp = "/";
  std::optional<uint64_t> id;  // ack id
  size_t attachments = 0;      // binary_event / binary_ack only
  boost::json::value data;     // null when the packet has no payload

  bool operator==(const packet&) const = default;
};

enum class codec_errc {
  empty_packet = 1,
  unknown_packet_type,
  invalid_attachments,  // missing '-', not a number, or over the limit
  invalid_namespace,    // "/..." without the ',' that ends it, or too long
  invalid_ack_id,       // more digits than fit
  invalid_json,         // payload is not one JSON value
  invalid_payload,      // JSON of the wrong shape for the packet type
};

const boost::system::error_category& codec_category() noexcept;
boost::system::error_code make_error_code(codec_errc e) noexcept;

struct decode_limits {
  size_t max_attachments = 64;
  size_t max_namespace_length = 256;
};

// Decodes one Socket.IO packet from the text of an Engine.IO message packet.
// Checks the payload shape the spec requires per type: CONNECT an object or
// nothing, DISCONNECT nothing, EVENT a non-empty array whose first element is a
// string or number, ACK an array, CONNECT_ERROR an object or string.
boost::system::result<packet> decode(std::string_view text, const decode_limits& limits = {});

// Encodes `p`. The caller prefixes '4' for the Engine.IO message packet.
std::string encode(const packet& p);

// Counts {"_placeholder":true,"num":N} objects in `v`; -1 when one of them has
// a `num` that is not an index below `attachments` or appears twice.
int count_placeholders(const boost::json::value& v, size_t attachments);

}  // namespace bandsync::socketio

namespace boost::system {
template <>
struct is_error_code_enum<bandsync::socketio::codec_errc> : std::true_type {};
}  // namespace boost::system
