#include "socketio/server.hpp"

#include "socketio/client.hpp"

namespace bandsync::socketio {

server::server(boost::asio::any_io_executor ex, options opts)
    : executor_(std::move(ex)), opts_(std::move(opts)) {
  of("/");
}

server::~server() = default;

socket_namespace& server::of(std::string_view name) {
  auto it = namespaces_.find(name);
  if (it == namespaces_.end())
    it = namespaces_
             .emplace(std::string(name),
                      std::make_unique<socket_namespace>(std::string(name), opts_, executor_))
             .first;
  return *it->second;
}

socket_namespace* server::find_namespace(std::string_view name) {
  auto it = namespaces_.find(name);
  return it == namespaces_.end() ? nullptr : it->second.get();
}

std::shared_ptr<client> server::find_client(const std::string& sid) const {
  auto it = clients_.find(sid);
  return it == clients_.end() ? nullptr : it->second;
}

void server::on_open(const engineio::session_ptr& s) {
  auto c = std::make_shared<client>(*this, s);
  clients_.emplace(s->id(), c);
  c->start();
}

void server::on_message(const engineio::session_ptr& s, std::string_view text) {
  auto it = clients_.find(s->id());
  if (it == clients_.end()) return;
  auto c = it->second;
  c->on_text(text);
}

void server::on_binary(const engineio::session_ptr& s, std::string_view bytes) {
  auto it = clients_.find(s->id());
  if (it == clients_.end()) return;
  auto c = it->second;
  c->on_binary(bytes);
}

void server::on_ping(const engineio::session_ptr& s) {
  if (auto c = find_client(s->id())) c->on_ping();
}

void server::on_pong(const engineio::session_ptr& s) {
  if (auto c = find_client(s->id())) c->on_pong();
}

void server::on_close(const engineio::session_ptr& s, std::string_view reason) {
  auto it = clients_.find(s->id());
  if (it == clients_.end()) return;
  auto c = std::move(it->second);
  clients_.erase(it);
  c->on_close(reason);
}

}  // namespace bandsync::socketio
