#include "bandsync/events.hpp"

#include <array>
#include <type_traits>
#include <variant>

#include "bandsync/handlers.hpp"

namespace bandsync::domain {
namespace {

// A parser's refusal as the `error` reply's code: the session events refuse
// with INVALID_PAYLOAD, the setlist events with their own codes too.
reply_error code_of(const invalid_payload&) {
  return reply_error::invalid_payload;
}
reply_error code_of(const setlist_error& e) {
  return to_reply_error(e.code);
}

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
  if (const auto* bad = std::get_if<1>(&parsed)) {
    send_error(core, conn_id, name, code_of(*bad), bad->message);
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
    row<member, parse_link_report, on_link_report>("link_report"),
    row<leader, parse_set_time_signature, on_set_time_signature>("set_time_signature"),
    row<leader, parse_set_setlist, on_set_setlist>("set_setlist"),
    row<leader, parse_add_song, on_add_song>("add_song"),
    row<leader, parse_update_song, on_update_song>("update_song"),
    row<leader, parse_remove_song, on_remove_song>("remove_song"),
    row<leader, parse_move_song, on_move_song>("move_song"),
    row<leader, parse_select_song, on_select_song>("select_song"),
    row<leader, parse_step_song, on_next_song>("next_song"),
    row<leader, parse_step_song, on_previous_song>("previous_song"),
    row<leader, parse_import_chart, on_import_chart>("import_chart"),
    row<leader, parse_cue, on_cue>("cue"),
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
