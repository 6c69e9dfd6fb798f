#pragma once
// The table of client events (EVENTS.md "Client -> server"): for each, its
// name, who may send it, and how it runs: parse the payload, check the sender,
// then call its handler. Adding an event is one row in events.cpp, one parser
// in requests.hpp and one handler in handlers.hpp.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <boost/json/array.hpp>

#include "bandsync/service_core.hpp"

namespace bandsync::domain {

// Who may send an event. Checked in this order, after the payload (EVENTS.md
// error codes): INVALID_PAYLOAD, NO_SUCH_SESSION, NOT_A_MEMBER, NOT_LEADER.
enum class sender {
  anyone,  // any connection; the handler does its own checks
  member,  // a member of the session named by the payload's sessionId
  leader,  // the leader of that session
};

struct event_spec {
  std::string_view name;
  sender who;
  // Validates `args`, authorizes the sender, and runs the handler at
  // `received_us` (steady µs, when the event was seen); every refusal is
  // answered with `error` and changes nothing. `ack` is the client's ack
  // callback, empty when it asked for none.
  void (*run)(service_core& core, const std::string& conn_id, connection_state& conn,
              std::string_view name, const boost::json::array& args, int64_t received_us,
              const ack_reply& ack);
};

// Every event, in a fixed order (the index counts events in metrics).
std::span<const event_spec> event_table();

// The index of `name` in event_table(), or std::nullopt for an unknown event.
std::optional<size_t> event_index(std::string_view name);

}  // namespace bandsync::domain
