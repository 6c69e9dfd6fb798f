#pragma once
// The messages nodes exchange over Redis pub/sub (docs/EVENTS.md "Cluster"),
// without I/O. A message is one line of JSON header, a newline, then the body
// as raw text, so that an already-encoded Socket.IO packet travels without
// being escaped or parsed again:
//
//   {"t":"bcast","f":"node-a","r":"S1","v":7}\n42["scroll_tick",{...}]
//
// Channels: `bs:n:<nodeId>` (one node: forwarded events, replies to one
// socket, room joins) and `bs:r:<sessionId>` (one session's broadcasts and
// ownership changes).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bandsync::cluster {

// Node ids: 1-64 characters of [A-Za-z0-9_.-] (they are key and channel
// suffixes and are compared byte-wise).
bool valid_node_id(std::string_view id);

std::string node_channel(std::string_view node_id);
std::string room_channel(std::string_view session_id);

// A header longer than this is refused (bodies are bounded by the socket
// layer's maximum payload on the sending node).
inline constexpr size_t max_header_bytes = 4096;

// A forwarded event reaches its owner in one hop unless ownership moved while
// it travelled; a node that is not the owner passes it on at most this many
// times in all (docs/EVENTS.md "Cluster", hop limit).
inline constexpr uint64_t max_hops = 4;

enum class wire_kind {
  forward,     // origin -> owner: a client event (body: its arguments, a JSON array)
  disconnect,  // origin -> owner: socket `sid` is gone
  emit,        // owner -> origin: one packet (body) for socket `sid`
  join,        // owner -> origin: socket `sid` joins room `session`
  leave,       // owner -> origin: socket `sid` leaves room `session`
  ack,         // owner -> origin: the ack (body: its JSON argument) for ack id `ack`
  broadcast,   // owner -> room channel: one packet (body) for every socket in the room
  owner,       // new owner -> room channel: `from` runs `session` from lease `version` on
  attach,      // node -> owner: its sockets in room `session` (body: JSON array of ids)
  hold,        // origin -> owner: socket `sid` lost its connection and is held (recovery)
  recover,     // origin -> owner: held socket `sid` is back (or was taken over)
};

std::string_view kind_name(wire_kind k);

struct wire_message {
  wire_kind kind = wire_kind::forward;
  std::string from;     // the sending node
  std::string sid;      // socket id: forward, disconnect, emit, join, leave, ack, hold, recover
  std::string session;  // forward, join, leave, broadcast, owner, attach
  // forward; emit and broadcast: the event's name when it is stored for
  // connection state recovery (receivers store it too), else empty.
  std::string event;
  uint64_t version = 0;         // broadcast, owner: the lease's fencing version
  std::optional<uint64_t> ack;  // forward (the client asked for one), ack
  std::string body;
  std::string address;  // forward: the socket's remote address (per-address limits)
  // forward: how many times a node that did not own the session passed the
  // event on (0 from the origin); bounded by max_hops.
  uint64_t hops = 0;

  bool operator==(const wire_message&) const = default;
};

std::string encode(const wire_message& m);

// Returns std::nullopt, with a reason in `*error` when given, for text that is
// not a message (no newline, a header that is not a JSON object, an unknown
// kind, a missing or mistyped field, an invalid node id).
std::optional<wire_message> decode(std::string_view text, std::string* error = nullptr);

}  // namespace bandsync::cluster
