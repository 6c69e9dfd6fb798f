#pragma once
// One Engine.IO connection as Socket.IO sees it: the sockets it opened (one
// per namespace), the binary packet being reassembled, the connect timeout.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include "engineio/session.hpp"
#include "socketio/packet.hpp"
#include "socketio/socket.hpp"

namespace bandsync::socketio {

class server;
class socket_namespace;

class client : public std::enable_shared_from_this<client> {
 public:
  client(server& srv, engineio::session_ptr session);

  void start();  // arms the connect timeout
  void on_text(std::string_view text);
  void on_binary(std::string_view bytes);
  // The Engine.IO session closed: every socket disconnects with `reason`.
  void on_close(std::string_view reason);
  // Forgets the socket of `nsp` without closing it (a new connection took it over).
  void detach(std::string_view nsp);
  // The Engine.IO connection queued a ping / got its pong (socket::on_ping).
  void on_ping();
  void on_pong();

 private:
  void handle(packet&& p, std::vector<std::shared_ptr<const std::string>>&& attachments);
  void connect(packet&& p);
  void recover(socket_namespace& ns, const socket_ptr& sock,
               const std::vector<const stored_packet*>& replay, boost::json::value auth);
  void send_connect_answer(const socket& sock);
  void arm_connect_timer();
  // Protocol violation: the spec prescribes closing the connection.
  void fail(std::string_view why);

  server& server_;
  engineio::session_ptr session_;
  std::map<std::string, socket_ptr, std::less<>> sockets_;
  // A binary packet waiting for attachments. Allocated only then: every
  // connection pays for what is inline here (idle memory, issue 12).
  std::unique_ptr<packet> partial_;
  std::vector<std::shared_ptr<const std::string>> attachments_;
  size_t attachment_bytes_ = 0;
  // Only while no namespace is joined (a timer is ~120 bytes that a
  // connected client would otherwise keep for its whole life).
  std::unique_ptr<boost::asio::steady_timer> connect_timer_;
};

}  // namespace bandsync::socketio
