#include "bandsync/session_service.hpp"

#include "bandsync/events.hpp"
#include "bandsync/handlers.hpp"
#include "util/log.hpp"

namespace bandsync::domain {

session_service::session_service(clock& clk, outbox& out, store::session_store& store,
                                 service_options options)
    : core_(clk, out, store, options, event_table().size()) {}

void session_service::on_connect(const std::string& conn_id, const std::string& address) {
  if (!core_.connections.add(conn_id)) {
    spdlog::warn("connect: {} is already connected; ignored", conn_id);
    return;
  }
  core_.connections.find(conn_id)->address = address;
  spdlog::debug("connect: {} ({} active)", conn_id, core_.connections.active());
}

void session_service::on_disconnect(const std::string& conn_id) {
  auto* conn = core_.connections.find(conn_id);
  if (!conn) return;
  if (conn->session_id && !core_.stopping) leave_current(core_, conn_id, *conn, "disconnected");
  core_.connections.remove(conn_id);
  core_.creations.forget_connection(conn_id);
  spdlog::debug("disconnect: {} ({} active)", conn_id, core_.connections.active());
}

void session_service::on_event(const std::string& conn_id, std::string_view event,
                               const boost::json::array& args, const ack_reply& ack) {
  if (core_.stopping) return;
  // Read once, as early as the event is seen: every handler's "now", and
  // time_sync's receive time t2.
  int64_t received_us = core_.clk.steady_us();
  core_.messages.record(received_us);
  auto index = event_index(event);
  ++core_.event_counts[index.value_or(event_table().size())];
  if (!index) {
    spdlog::debug("event: unknown event from {} ignored", conn_id);
    return;
  }
  auto* conn = core_.connections.find(conn_id);
  if (!conn) {
    spdlog::warn("event: {} from unknown connection {} ignored", event, conn_id);
    return;
  }
  const event_spec& spec = event_table()[*index];
  spec.run(core_, conn_id, *conn, spec.name, args, received_us, ack);
}

const session* session_service::find_session(const std::string& session_id) const {
  return core_.sessions.find(session_id);
}

const connection_state* session_service::find_connection(const std::string& conn_id) const {
  return core_.connections.find(conn_id);
}

}  // namespace bandsync::domain
