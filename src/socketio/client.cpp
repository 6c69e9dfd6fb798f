#include "socketio/client.hpp"

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include "socketio/server.hpp"

namespace bandsync::socketio {

client::client(server& srv, engineio::session_ptr session)
    : server_(srv), session_(std::move(session)) {}

void client::start() {
  arm_connect_timer();
}

void client::arm_connect_timer() {
  if (!connect_timer_)
    connect_timer_ = std::make_unique<boost::asio::steady_timer>(server_.executor());
  connect_timer_->expires_after(server_.opts().connect_timeout);
  connect_timer_->async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    if (ec) return;
    auto self = weak.lock();
    if (!self || !self->sockets_.empty()) return;
    spdlog::debug("socketio: {} joined no namespace in time", self->session_->id());
    self->session_->close("connect timeout");
  });
}

void client::fail(std::string_view why) {
  spdlog::info("socketio: connection {} from {} closed: {}", session_->id(),
               session_->remote_address(), why);
  session_->close("parse error");
}

void client::on_text(std::string_view text) {
  if (partial_) return fail("text packet while binary attachments were expected");
  auto p = decode(text, server_.opts().limits);
  if (!p) return fail(p.error().message());
  if (p->attachments > 0) {
    partial_ = std::make_unique<packet>(std::move(*p));
    attachments_.clear();
    attachment_bytes_ = 0;
    return;
  }
  handle(std::move(*p), {});
}

void client::on_binary(std::string_view bytes) {
  if (!partial_) return fail("unexpected binary attachment");
  attachments_.push_back(std::make_shared<const std::string>(bytes));
  if (attachments_.size() < partial_->attachments) return;
  auto p = std::move(*partial_);
  partial_.reset();
  handle(std::move(p), std::move(attachments_));
  attachments_ = {};
}

void client::handle(packet&& p, std::vector<std::shared_ptr<const std::string>>&& attachments) {
  auto self = shared_from_this();  // a handler may close the connection
  if (p.type == packet_type::connect) return connect(std::move(p));
  if (p.type == packet_type::connect_error) return fail("CONNECT_ERROR from a client");

  auto it = sockets_.find(p.nsp);
  if (it == sockets_.end()) return fail("packet for a namespace not joined");
  auto sock = it->second;
  switch (p.type) {
    case packet_type::disconnect:
      sockets_.erase(it);
      sock->on_closed("client namespace disconnect");
      if (sockets_.empty()) arm_connect_timer();
      break;
    case packet_type::event:
    case packet_type::binary_event: {
      auto& arr = p.data.as_array();  // decode() guarantees a non-empty array
      std::string event =
          arr[0].is_string() ? std::string(arr[0].get_string()) : boost::json::serialize(arr[0]);
      message m;
      m.args.reserve(arr.size() - 1);
      for (size_t i = 1; i < arr.size(); ++i) m.args.push_back(std::move(arr[i]));
      m.attachments = std::move(attachments);
      sock->dispatch_event(event, m, p.id);
      break;
    }
    case packet_type::ack:
    case packet_type::binary_ack: {
      message m{std::move(p.data.as_array()), std::move(attachments)};
      sock->dispatch_ack(*p.id, m);
      break;
    }
    default:
      break;
  }
}

void client::connect(packet&& p) {
  auto* ns = server_.find_namespace(p.nsp);
  if (!ns) {
    packet err;
    err.type = packet_type::connect_error;
    err.nsp = p.nsp;
    err.data = boost::json::object{{"message", "Invalid namespace"}};
    for (const auto& f : encode_plain(err).frames) session_->send(f);
    return;
  }
  // As the reference server: a second CONNECT to a joined namespace is an
  // invalid state, and closes the connection.
  if (sockets_.count(p.nsp)) return fail("CONNECT to a namespace already joined");
  connect_timer_.reset();  // cancels the wait
  auto auth = p.data.is_object() ? std::move(p.data) : boost::json::value(boost::json::object{});

  std::vector<const stored_packet*> replay;
  if (auto sock = ns->find_recoverable(auth, replay))
    return recover(*ns, sock, replay, std::move(auth));

  auto sock = ns->add(session_, std::move(auth));
  sockets_.emplace(p.nsp, sock);
  send_connect_answer(*sock);
  ns->connected(sock);
}

void client::recover(socket_namespace& ns, const socket_ptr& sock,
                     const std::vector<const stored_packet*>& replay, boost::json::value auth) {
  auto self = shared_from_this();
  if (sock->connected()) {
    // The old connection is still open as far as this server knows (a dead
    // link not yet noticed): this one takes over at once instead of failing,
    // and the old transport closes without a disconnect for this socket.
    auto old_session = sock->session();
    if (auto old = server_.find_client(old_session->id())) old->detach(ns.name());
    spdlog::info("socketio: socket {} taken over by connection {} from {}", sock->id(),
                 session_->id(), session_->remote_address());
    sock->resume(session_, std::move(auth));
    old_session->close("taken over");
  } else {
    sock->resume(session_, std::move(auth));
  }
  sockets_.emplace(ns.name(), sock);
  // Missed packets first: the client buffers them and delivers them before
  // its `connect` event (socket.io-client onconnect → emitBuffered).
  for (const auto* p : replay)
    for (const auto& f : p->packet.frames)
      if (session_->send(f) != engineio::send_status::ok) return;
  send_connect_answer(*sock);
  // The replay is confirmed as any stored packet (socket::deliver).
  const auto delay = ns.opts().recovery.confirm_delay;
  if (!replay.empty() && delay.count() > 0) session_->ping_soon(delay);
  spdlog::debug("socketio: socket {} recovered, {} packets replayed", sock->id(), replay.size());
  ns.notify_recover(sock);
}

void client::send_connect_answer(const socket& sock) {
  packet ok;
  ok.type = packet_type::connect;
  ok.nsp = sock.nsp();
  boost::json::object data{{"sid", sock.id()}};
  if (auto pid = sock.pid(); !pid.empty()) data["pid"] = pid;
  ok.data = std::move(data);
  for (const auto& f : encode_plain(ok).frames) session_->send(f);
}

void client::detach(std::string_view nsp) {
  auto it = sockets_.find(nsp);
  if (it == sockets_.end()) return;
  sockets_.erase(it);
}

void client::on_ping() {
  for (auto& [name, sock] : sockets_) sock->on_ping();
}

void client::on_pong() {
  auto self = shared_from_this();
  for (auto& [name, sock] : sockets_) sock->on_pong();
}

void client::on_close(std::string_view reason) {
  connect_timer_.reset();  // cancels the wait
  auto sockets = std::move(sockets_);
  sockets_.clear();
  for (auto& [name, sock] : sockets) sock->on_closed(reason);
}

}  // namespace bandsync::socketio
