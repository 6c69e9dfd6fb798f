#pragma once
// The one interface through which Engine.IO calls up into the layer above
// (Socket.IO). Engine.IO knows nothing of namespaces or events.

#include <memory>
#include <string_view>

namespace bandsync::engineio {

class session;
using session_ptr = std::shared_ptr<session>;

class handler {
 public:
  virtual ~handler() = default;
  // A session finished its handshake (either transport).
  virtual void on_open(const session_ptr& s) = 0;
  // A message packet arrived: text (without the leading '4') or binary bytes.
  virtual void on_message(const session_ptr& s, std::string_view text) = 0;
  virtual void on_binary(const session_ptr& s, std::string_view bytes) = 0;
  // The session closed; called once, after which the session sends nothing.
  virtual void on_close(const session_ptr& s, std::string_view reason) = 0;
  // A heartbeat ping was queued (after everything queued before it) / the
  // client answered it with a pong: the client has read everything queued
  // before that ping (one queue, in order, one ping outstanding).
  virtual void on_ping(const session_ptr&) {}
  virtual void on_pong(const session_ptr&) {}
};

}  // namespace bandsync::engineio
