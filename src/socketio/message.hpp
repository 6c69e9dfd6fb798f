#pragma once
// What an event or an ack carries: its JSON arguments and, for binary
// packets, the attachments that the {"_placeholder":true,"num":N} objects in
// the arguments refer to (spec: "Packet encoding", binary events).

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/json/array.hpp>

#include "engineio/packet.hpp"
#include "socketio/packet.hpp"

namespace bandsync::socketio {

struct message {
  boost::json::array args;
  std::vector<std::shared_ptr<const std::string>> attachments;
};

// Replies to an event that asked for an ack; empty when none was asked.
// Calling it more than once sends one ack only.
using ack_fn = std::function<void(message)>;

// The Engine.IO frames of one packet: the text frame ("4" + packet), then one
// binary frame per attachment. Encoded once, shared by every recipient.
struct encoded_packet {
  std::vector<engineio::frame> frames;
};

// An EVENT (or BINARY_EVENT when `m` has attachments) for `event` on `nsp`.
// A non-empty `offset` is appended as the last argument (connection state
// recovery: the client remembers the last one it received).
encoded_packet encode_event(std::string_view nsp, std::string_view event, const message& m,
                            std::optional<uint64_t> ack_id = std::nullopt,
                            std::string_view offset = {});
// An ACK (or BINARY_ACK).
encoded_packet encode_ack(std::string_view nsp, uint64_t id, const message& m);
// The same bytes as encode_event with one argument, `payload`, serialized
// where it is (no array built around a copy of it: a tick's broadcast).
encoded_packet encode_event(std::string_view nsp, std::string_view event,
                            const boost::json::value& payload);
// The same bytes as encode_event(nsp, event, payload) for a payload that
// `write_payload` appends to the frame's text itself, as JSON text (a tick,
// written straight from the domain's numbers: no JSON value at all). One
// text frame: no attachments.
engineio::frame encode_event_with(std::string_view nsp, std::string_view event,
                                  const std::function<void(std::string&)>& write_payload);
// Any packet without attachments.
encoded_packet encode_plain(const packet& p);

}  // namespace bandsync::socketio
