#include "engineio/polling.hpp"

#include <spdlog/spdlog.h>

#include "engineio/server.hpp"

namespace bandsync::engineio {

namespace {

util::http_response text(std::string body) {
  return {200, "text/plain; charset=UTF-8", std::move(body), {}};
}

}  // namespace

util::http_response error_response(http_error e) {
  return {http_error_status(e), "application/json", http_error_body(e), {}};
}

util::http_response polling::handshake(const util::http_request& req,
                                       address_limits::clock::time_point now,
                                       bool new_sessions_allowed) {
  if (!new_sessions_allowed) return error_response(http_error::server_at_capacity);
  int retry_after = 0;
  if (!limits_.take_handshake(req.remote_address, now, retry_after)) {
    spdlog::debug("engineio: handshake from {} refused: over {} per second (burst {})",
                  req.remote_address, limits_.opts().handshake_rate,
                  limits_.opts().handshake_burst);
    auto r = error_response(http_error::too_many_handshakes);
    r.headers.emplace_back("Retry-After", std::to_string(retry_after));
    return r;
  }
  auto s = eio_.create_session(transport_kind::polling, req.remote_address);
  if (!s) return error_response(http_error::server_at_capacity);
  std::string body = eio_.open_packet(*s);
  s->start();
  eio_.upper().on_open(s);
  return text(std::move(body));
}

poll_step polling::start(const util::http_request& req, address_limits::clock::time_point now,
                         bool new_sessions_allowed) {
  auto q = parse_eio_query(req.query);
  if (auto err = eio_.verify(q, req.method, false)) {
    spdlog::debug("engineio: {} {} from {}: {}", req.method, req.target, req.remote_address,
                  http_error_message(*err));
    return {error_response(*err), nullptr};
  }
  if (q.sid.empty()) return {handshake(req, now, new_sessions_allowed), nullptr};

  auto s = eio_.find(q.sid);
  if (!s) {
    // verify() let it through: the GET that collects a close packet, or a
    // POST sent before the client saw it, accepted and dropped (the session
    // is closed) so that the client ends on the close packet.
    s = eio_.find_lingering(q.sid);
    if (req.method == "POST") return {util::http_response{200, "text/html", "ok", {}}, nullptr};
    eio_.forget_lingering(q.sid);
    return {text(s->take_poll_payload()), nullptr};
  }
  if (req.method == "GET") {
    if (s->poll_active()) {
      // Spec: a second concurrent GET is a protocol error; the session closes
      // (its waiting GET answers with the close packet).
      spdlog::info("engineio: session {} closed: overlapping polls", s->id());
      s->close("multiple polling requests");
      return {error_response(http_error::bad_request), nullptr};
    }
    s->set_poll_active(true);
    return {std::nullopt, s};
  }
  // POST: a payload from the client.
  auto packets = decode_payload(req.body);
  if (!packets) {
    spdlog::info("engineio: session {} closed: bad payload ({})", s->id(),
                 packets.error().message());
    s->on_transport_error("parse error");
    return {error_response(http_error::bad_request), nullptr};
  }
  for (auto& p : *packets) s->on_packet(std::move(p));
  return {util::http_response{200, "text/html", "ok", {}}, nullptr};
}

util::http_response polling::finish_get(session& s) {
  std::string body;
  if (s.transport() == transport_kind::websocket)
    body = encode_packet(packet_type::noop);  // upgraded meanwhile: the queue is the WebSocket's
  else
    body = s.take_poll_payload();
  s.set_poll_active(false);
  return text(std::move(body));
}

}  // namespace bandsync::engineio
