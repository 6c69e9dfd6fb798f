#pragma once
// The Socket.IO v5 server: sits on Engine.IO through engineio::handler,
// decodes packets, reassembles binary packets, and routes them to namespaces.

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include <boost/asio/any_io_executor.hpp>

#include "engineio/handler.hpp"
#include "socketio/namespace.hpp"
#include "socketio/packet.hpp"

namespace bandsync::socketio {

struct options {
  // A connection that joins no namespace within this time is closed.
  std::chrono::milliseconds connect_timeout{45000};
  size_t max_pending_acks = 1024;  // per socket
  size_t max_rooms_per_socket = 64;
  decode_limits limits;
  // Connection state recovery, for every namespace of this server (as
  // socket.io's connectionStateRecovery); on by default.
  recovery_options recovery;
};

class client;

class server : public engineio::handler {
 public:
  server(boost::asio::any_io_executor ex, options opts = {});
  ~server() override;

  // The namespace `name` ("/" is the main one), created on first use.
  socket_namespace& of(std::string_view name);
  void on_connection(std::string_view nsp, socket_namespace::connection_handler h) {
    of(nsp).on_connection(std::move(h));
  }
  broadcast to(std::string room) { return of("/").to(std::move(room)); }

  const options& opts() const { return opts_; }
  boost::asio::any_io_executor executor() const { return executor_; }
  size_t client_count() const { return clients_.size(); }

  // engineio::handler
  void on_open(const engineio::session_ptr& s) override;
  void on_message(const engineio::session_ptr& s, std::string_view text) override;
  void on_binary(const engineio::session_ptr& s, std::string_view bytes) override;
  void on_close(const engineio::session_ptr& s, std::string_view reason) override;
  void on_ping(const engineio::session_ptr& s) override;
  void on_pong(const engineio::session_ptr& s) override;

  socket_namespace* find_namespace(std::string_view name);
  // The Socket.IO side of the Engine.IO session `sid`, if it is open.
  std::shared_ptr<client> find_client(const std::string& sid) const;

 private:
  boost::asio::any_io_executor executor_;
  options opts_;
  std::map<std::string, std::unique_ptr<socket_namespace>, std::less<>> namespaces_;
  std::unordered_map<std::string, std::shared_ptr<client>> clients_;
};

}  // namespace bandsync::socketio
