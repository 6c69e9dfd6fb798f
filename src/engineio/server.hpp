#pragma once
// The Engine.IO server state: options, the session table and request
// validation (spec "Handshake", and the reference server's checks, in its
// order). Transport I/O lives in the listener; this class has no Beast.

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <boost/asio/any_io_executor.hpp>

#include "engineio/errors.hpp"
#include "engineio/handler.hpp"
#include "engineio/options.hpp"
#include "engineio/session.hpp"

namespace bandsync::engineio {

// The Engine.IO query parameters of a request.
struct eio_query {
  std::string eio;
  std::string transport;
  std::string sid;
};

// Parses `query` (without '?'); unknown parameters are ignored, a malformed
// query yields empty fields (and so a protocol error later).
eio_query parse_eio_query(std::string_view query);

class server {
 public:
  server(boost::asio::any_io_executor ex, options opts, handler& h);
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  const options& opts() const { return opts_; }
  handler& upper() { return handler_; }
  boost::asio::any_io_executor executor() const { return executor_; }

  // Checks a request on the Engine.IO path. Returns the protocol error to
  // answer with, or nullopt when the request may proceed.
  std::optional<http_error> verify(const eio_query& q, std::string_view method,
                                   bool websocket_upgrade) const;

  // Creates and registers a session; nullopt when max_sessions is reached.
  session_ptr create_session(transport_kind t, std::string remote_address);
  // Text of the open packet for `s` ("0{...}").
  std::string open_packet(const session& s) const;
  session_ptr find(std::string_view sid) const;
  void remove(const std::string& sid);

  // A polling session closed by the server while no GET was waiting still
  // owes its client the close packet: it stays findable here, for GET only,
  // until that packet is polled or its linger time passes. Without this a
  // client between two polls would see "Session ID unknown" instead of a
  // clean close (notably on graceful shutdown).
  void linger(const session_ptr& s);
  session_ptr find_lingering(std::string_view sid) const;
  void forget_lingering(const std::string& sid);
  size_t lingering_count() const { return lingering_.size(); }
  size_t session_count() const { return sessions_.size(); }
  uint64_t sessions_opened() const { return sessions_opened_; }

  // Closes every session (graceful shutdown): each gets a close packet.
  void close_all(std::string_view reason);

 private:
  boost::asio::any_io_executor executor_;
  options opts_;
  handler& handler_;
  std::unordered_map<std::string, session_ptr> sessions_;
  std::unordered_map<std::string, session_ptr> lingering_;
  uint64_t sessions_opened_ = 0;
};

}  // namespace bandsync::engineio
