#include "engineio/server.hpp"

#include <vector>

#include <boost/url/parse_query.hpp>

#include "util/ids.hpp"

namespace bandsync::engineio {

eio_query parse_eio_query(std::string_view query) {
  eio_query q;
  auto params = boost::urls::parse_query(query);
  if (!params) return q;
  for (auto p : *params) {
    if (!p.has_value) continue;
    if (p.key == "EIO")
      q.eio = p.value;
    else if (p.key == "transport")
      q.transport = p.value;
    else if (p.key == "sid")
      q.sid = p.value;
  }
  return q;
}

server::server(boost::asio::any_io_executor ex, options opts, handler& h)
    : executor_(std::move(ex)), opts_(std::move(opts)), handler_(h) {}

std::optional<http_error> server::verify(const eio_query& q, std::string_view method,
                                         bool websocket_upgrade) const {
  if (q.transport != "polling" && q.transport != "websocket") return http_error::unknown_transport;
  bool wants_ws = q.transport == "websocket";
  if (wants_ws != websocket_upgrade) return http_error::bad_request;
  if (!q.sid.empty()) {
    auto s = find(q.sid);
    if (!s) {
      // A closed session only answers the GET that collects its close packet,
      // and a POST the client sent before it saw that packet (a pong to a
      // ping that crossed the close): refusing that one would end the client
      // with "transport error" instead of the close.
      if (!websocket_upgrade && (method == "GET" || method == "POST") && find_lingering(q.sid))
        return std::nullopt;
      return http_error::unknown_sid;
    }
    if (websocket_upgrade) {
      // A WebSocket for a session that is upgrading or upgraded passes here
      // and is closed right after its handshake (the reference server's
      // behaviour, checked by the official suites); it never attaches.
      if (!opts_.allow_upgrades) return http_error::bad_request;
    } else if (s->transport() != transport_kind::polling || s->upgraded()) {
      return http_error::bad_request;  // polling after the upgrade is refused
    }
    if (!websocket_upgrade && method != "GET" && method != "POST") return http_error::bad_request;
    return std::nullopt;
  }
  if (method != "GET") return http_error::bad_handshake_method;
  if (q.eio != "4") return http_error::unsupported_protocol_version;
  return std::nullopt;
}

session_ptr server::create_session(transport_kind t, std::string remote_address) {
  if (sessions_.size() >= opts_.max_sessions) return nullptr;
  std::string id;
  do id = util::random_id(20);
  while (sessions_.count(id));
  auto s = std::make_shared<session>(*this, executor_, id, t, std::move(remote_address));
  sessions_.emplace(std::move(id), s);
  ++sessions_opened_;
  return s;
}

std::string server::open_packet(const session& s) const {
  std::string out = "0{\"sid\":\"";
  out += s.id();
  out += "\",\"upgrades\":[";
  if (s.transport() == transport_kind::polling && opts_.allow_upgrades) out += "\"websocket\"";
  out += "],\"pingInterval\":";
  out += std::to_string(opts_.ping_interval.count());
  out += ",\"pingTimeout\":";
  out += std::to_string(opts_.ping_timeout.count());
  out += ",\"maxPayload\":";
  out += std::to_string(opts_.max_payload);
  out += "}";
  return out;
}

session_ptr server::find(std::string_view sid) const {
  auto it = sessions_.find(std::string(sid));
  return it == sessions_.end() ? nullptr : it->second;
}

void server::remove(const std::string& sid) {
  sessions_.erase(sid);
}

void server::linger(const session_ptr& s) {
  lingering_[s->id()] = s;
}

session_ptr server::find_lingering(std::string_view sid) const {
  auto it = lingering_.find(std::string(sid));
  return it == lingering_.end() ? nullptr : it->second;
}

void server::forget_lingering(const std::string& sid) {
  lingering_.erase(sid);
}

void server::close_all(std::string_view reason) {
  std::vector<session_ptr> all;
  all.reserve(sessions_.size());
  for (auto& [id, s] : sessions_) all.push_back(s);
  for (auto& s : all) s->close(reason);
}

}  // namespace bandsync::engineio
