#pragma once
// What a simulated device does with one Engine.IO text packet from the
// server, shared by both device kinds (device.cpp: Beast; wire_device.cpp:
// the epoll loop): it answers the open by joining the main namespace and
// every ping with a pong, and reports the namespace's connect, refusals,
// disconnects and events. A device befriends it and has the members
// phase_, sid_, open_, deadline_, observer_, messages_in_, pings_answered_,
// and send_text(std::string), fail(error_code, std::string_view phase),
// closed_by_server() -> error_code.

#include <string>
#include <string_view>

#include <boost/asio/error.hpp>
#include <boost/json/value.hpp>

#include "engineio/packet.hpp"
#include "socketio/packet.hpp"

namespace bandsync::bench {

template <class Device>
void handle_engineio_text(Device& d, std::string_view text, double recv_ms) {
  namespace net = boost::asio;
  auto eio = engineio::decode_packet(text);
  if (!eio) return d.fail(eio.error(), "engineio decode");
  switch (eio->type) {
    case engineio::packet_type::open:
      // The handshake answer: join the main namespace.
      d.phase_ = "socketio connect";
      d.send_text(engineio::encode_packet(engineio::packet_type::message, "0"));
      return;
    case engineio::packet_type::ping:
      ++d.pings_answered_;
      d.send_text(engineio::encode_packet(engineio::packet_type::pong, eio->data));
      return;
    case engineio::packet_type::close:
      return d.fail(d.closed_by_server(), "engineio close");
    case engineio::packet_type::message:
      break;
    default:
      return;
  }
  auto sio = socketio::decode(eio->data);
  if (!sio) return d.fail(sio.error(), "socketio decode");
  if (sio->nsp != "/") return;
  switch (sio->type) {
    case socketio::packet_type::connect: {
      const auto* obj = sio->data.if_object();
      const auto* sid = obj ? obj->if_contains("sid") : nullptr;
      if (!sid || !sid->is_string())
        return d.fail(net::error::invalid_argument, "socketio connect");
      d.sid_ = std::string(sid->get_string());
      d.open_ = true;
      d.phase_ = "open";
      d.deadline_.cancel();
      d.observer_.on_open(d);
      return;
    }
    case socketio::packet_type::connect_error:
      return d.fail(net::error::connection_refused, "socketio connect_error");
    case socketio::packet_type::disconnect:
      return d.fail(net::error::connection_reset, "socketio disconnect");
    case socketio::packet_type::event: {
      const auto& args = sio->data.get_array();  // the codec checked the shape
      if (!args[0].is_string()) return;
      static const boost::json::value none;
      ++d.messages_in_;
      d.observer_.on_event(d, args[0].get_string(), args.size() > 1 ? args[1] : none, recv_ms);
      return;
    }
    default:
      return;
  }
}

}  // namespace bandsync::bench
