#include "app/conformance.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>
#include <functional>

#include "engineio/listener.hpp"
#include "engineio/server.hpp"
#include "engineio/session.hpp"
#include "socketio/server.hpp"

namespace bandsync::app {
namespace {

// Engine.IO-only mode: every message goes back as it came.
class echo_handler : public engineio::handler {
 public:
  void on_open(const engineio::session_ptr&) override {}
  void on_message(const engineio::session_ptr& s, std::string_view text) override {
    s->send(engineio::make_text_frame(engineio::packet_type::message, text));
  }
  void on_binary(const engineio::session_ptr& s, std::string_view bytes) override {
    s->send(engineio::make_binary_frame(std::string(bytes)));
  }
  void on_close(const engineio::session_ptr&, std::string_view) override {}
};

// What the recovery tests ask about (`recovery-stats`): the namespace's
// recovery callbacks, the last few of each.
struct recovery_log {
  static constexpr size_t keep = 64;
  boost::json::array disconnects, recovers, expires;
  static void push(boost::json::array& a, boost::json::value v) {
    if (a.size() >= keep) a.erase(a.begin());
    a.push_back(std::move(v));
  }
};

void reference_namespace(socketio::socket_namespace& ns, recovery_log& log) {
  ns.on_connection([&ns, &log](const socketio::socket_ptr& s) {
    s->emit("auth", boost::json::array{s->auth()});
    s->on("message", [](const socketio::socket_ptr& s, socketio::message& m, socketio::ack_fn) {
      s->emit("message-back", m);
    });
    s->on("message-with-ack",
          [](const socketio::socket_ptr&, socketio::message& m, socketio::ack_fn ack) {
            if (ack) ack(m);
          });
    // Beyond the protocol suite, for the connection state recovery tests.
    s->on("join", [](const socketio::socket_ptr& s, socketio::message& m, socketio::ack_fn ack) {
      if (!m.args.empty() && m.args[0].is_string()) s->join(std::string(m.args[0].get_string()));
      if (ack) ack({});
    });
    // ["broadcast", room, ...args] → "broadcast-back" (...args) to the room.
    auto broadcast = [&ns](bool is_volatile) {
      return [&ns, is_volatile](const socketio::socket_ptr&, socketio::message& m,
                                socketio::ack_fn ack) {
        if (m.args.empty() || !m.args[0].is_string()) return;
        auto b = ns.to(std::string(m.args[0].get_string()));
        if (is_volatile) b.as_volatile();
        b.emit("broadcast-back",
               socketio::message{boost::json::array(m.args.begin() + 1, m.args.end()), {}});
        if (ack) ack({});
      };
    };
    s->on("broadcast", broadcast(false));
    s->on("broadcast-volatile", broadcast(true));
    s->on("volatile", [](const socketio::socket_ptr& s, socketio::message& m, socketio::ack_fn) {
      s->emit_volatile("volatile-back", m);
    });
    s->on("recovery-stats",
          [&ns, &log](const socketio::socket_ptr& s, socketio::message&, socketio::ack_fn ack) {
            if (!ack) return;
            boost::json::object o{{"id", s->id()},
                                  {"recovered", s->recovered()},
                                  {"held", ns.held_count()},
                                  {"stored", ns.stored_packets()},
                                  {"disconnects", log.disconnects},
                                  {"recovers", log.recovers},
                                  {"expires", log.expires}};
            ack(socketio::message{boost::json::array{std::move(o)}, {}});
          });
  });
  ns.on_disconnect([&log](const socketio::socket_ptr& s, std::string_view reason, bool held) {
    recovery_log::push(log.disconnects,
                       boost::json::object{{"id", s->id()}, {"reason", reason}, {"held", held}});
  });
  ns.on_recover([&log](const socketio::socket_ptr& s) {
    recovery_log::push(log.recovers, boost::json::value(s->id()));
  });
  ns.on_expire([&log](const socketio::socket_ptr& s, std::string_view reason) {
    recovery_log::push(log.expires, boost::json::object{{"id", s->id()}, {"reason", reason}});
  });
}

}  // namespace

int run_conformance(const conformance_options& o) {
  boost::asio::io_context ioc(1);

  engineio::options eo;
  eo.ping_interval = std::chrono::milliseconds(o.ping_interval_ms);
  eo.ping_timeout = std::chrono::milliseconds(o.ping_timeout_ms);
  eo.max_payload = 1000000;
  eo.cors_origins = {"*"};
  eo.path = o.engineio_only ? "/engine.io/" : "/socket.io/";

  echo_handler echo;
  socketio::options so;
  so.connect_timeout = std::chrono::milliseconds(o.connect_timeout_ms);
  so.recovery.window = std::chrono::milliseconds(o.recovery_window_ms);
  socketio::server io(ioc.get_executor(), so);
  recovery_log main_log, custom_log;
  reference_namespace(io.of("/"), main_log);
  reference_namespace(io.of("/custom"), custom_log);

  engineio::handler& h = o.engineio_only ? static_cast<engineio::handler&>(echo) : io;
  engineio::server eio(ioc.get_executor(), eo, h);
  engineio::listener_options lo;
  lo.host = o.host;
  lo.port = o.port;
  engineio::listener listener(ioc, eio, lo);
  if (auto ec = listener.start()) {
    spdlog::critical("cannot listen on [{}]:{}: {}", o.host, o.port, ec.message());
    return 1;
  }
  spdlog::info("conformance server ({}) listening on port {}",
               o.engineio_only ? "Engine.IO echo" : "Socket.IO", listener.port());

  // Refuse new sessions, close every session, and stop accepting and leave
  // once the close packets are out (or after one second).
  boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
  boost::asio::steady_timer drain(ioc);
  auto deadline = std::chrono::steady_clock::now();
  std::function<void()> wait_drained = [&] {
    bool drained = listener.busy_connections() == 0 && eio.lingering_count() == 0;
    if (drained || std::chrono::steady_clock::now() >= deadline) {
      listener.stop();
      return ioc.stop();
    }
    drain.expires_after(std::chrono::milliseconds(20));
    drain.async_wait([&](boost::system::error_code) { wait_drained(); });
  };
  signals.async_wait([&](boost::system::error_code ec, int) {
    if (ec) return;
    listener.drain();  // as serve: polling clients still collect their close packets
    eio.close_all("server shutting down");
    deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    wait_drained();
  });
  ioc.run();
  return 0;
}

}  // namespace bandsync::app
