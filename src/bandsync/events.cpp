#include "bandsync/events.hpp"

#include <array>
#include <type_traits>
#include <variant>

#include "bandsync/handlers.hpp"

namespace bandsync::domain {
namespace {

// The prologue every event shares: parse, then (member and leader events)
// find the session and check the sender, then the handler.
template <sender Who, auto Parse, auto Handle>
void run(service_core& core, const std::string& conn_id, connection_state& conn,
         std::string_view name, const boost::json::array& args, int64_t received_us,
         const ack_reply& ack) {
  // The clock requests' parsers bound `at` around the server time now.
  auto parsed = [&] {
    if constexpr (std::is_invocable_v<decltype(Parse), const boost::json::array&, double>) {
      return Parse(args, core.clk.server_ms_at(received_us));
    } else {
      return Parse(args);
    }
  }();
  if (const auto* bad = std::get_if<invalid_payload>(&parsed)) {
    send_error(core, conn_id, name, reply_error::invalid_payload, bad->message);
    return;
  }
  const auto& req = *std::get_if<0>(&parsed);
  if constexpr (Who == sender::anyone) {
    Handle(core, event_call{conn_id, conn, name, received_us, core.clk.wall_ms(), ack}, req);
  } else {
    session* s = authorize(core, conn_id, conn, name, req.session_id, Who == sender::leader);
    if (!s) return;
    Handle(core, event_call{conn_id, conn, name, received_us, core.clk.wall_ms(), ack}, req, *s);
  }
}

template <sender Who, auto Parse, auto Handle>
constexpr event_spec row(std::string_view name) {
  return event_spec{name, Who, &run<Who, Parse, Handle>};
}

using enum sender;

constexpr std::array table = {
    row<anyone, parse_join_session, on_join_session>("join_session"),
    row<member, parse_session_request, on_leave_session>("leave_session"),
    row<member, parse_update_message, on_update_message>("update_message"),
    row<member, parse_set_role, on_set_role>("set_role"),
    row<leader, parse_scheduled_tempo, on_set_tempo>("set_tempo"),
    row<leader, parse_play, on_play>("play"),
    row<leader, parse_session_request, on_pause>("pause"),
    row<leader, parse_session_request, on_stop>("stop"),
    row<leader, parse_scheduled_seek, on_seek>("seek"),
    row<member, parse_session_request, on_sync_request>("sync_request"),
    row<anyone, parse_latency_probe, on_latency_probe>("latency_probe"),
    row<anyone, parse_heartbeat_response, on_heartbeat_response>("heartbeat_response"),
    row<anyone, parse_time_sync, on_time_sync>("time_sync"),
    row<leader, parse_set_time_signature, on_set_time_signature>("set_time_signature"),
};

}  // namespace

std::span<const event_spec> event_table() {
  return table;
}

std::optional<size_t> event_index(std::string_view name) {
  for (size_t i = 0; i < table.size(); ++i) {
    if (table[i].name == name) return i;
  }
  return std::nullopt;
}

}  // namespace bandsync::domain
