#pragma once
// One Engine.IO session (spec: "Session"): its id, its outbound queue, the
// server-initiated heartbeat and the transport it is currently bound to
// (HTTP long-polling or WebSocket, with the upgrade between them).
//
// Threading: every member is touched only from the server's io_context
// thread; the server runs one event-loop thread (see docs/DESIGN.md).

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "engineio/frame_queue.hpp"
#include "engineio/handler.hpp"
#include "engineio/packet.hpp"

namespace bandsync::engineio {

class server;

// What a session needs from the WebSocket connection it is bound to.
class ws_link {
 public:
  // What try_write did with a frame offered while the session's queue is empty.
  enum class write_result {
    written,  // the whole frame is on the wire: nothing to queue
    queue,    // nothing was written (a write or close is in progress): queue it and wake()
    waiting,  // part (or none) of it went, the socket is full: queue it as the head;
              // the link continues from its offset once the socket is writable
  };

  virtual ~ws_link() = default;
  virtual void wake() = 0;      // frames are queued: write them
  virtual void shutdown() = 0;  // write what is queued, then close the WebSocket
  // Writes `f` now, without waiting for the end of the loop turn, when
  // nothing else is being written on the socket. The default queues.
  virtual write_result try_write(const frame&) { return write_result::queue; }
};

// How send() hands a frame to a WebSocket: `queued` waits for the end of the
// loop turn, so that every frame of the turn goes out in one sendmsg (a
// join's burst of events); `now` writes it at once when the queue is empty
// (a room's tick: one frame per connection per turn, for which the deferred
// flush only adds bookkeeping and latency).
enum class send_mode { queued, now };

enum class transport_kind { polling, websocket };

enum class send_status { ok, buffer_full, closed };

class session : public std::enable_shared_from_this<session> {
 public:
  session(server& srv, boost::asio::any_io_executor ex, std::string id, transport_kind t,
          std::string remote_address);
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  const std::string& id() const { return id_; }
  transport_kind transport() const { return transport_; }
  const std::string& remote_address() const { return remote_address_; }
  bool is_open() const { return open_; }

  // Queues `f` for the client. A session whose queue would exceed the
  // server's max_buffered_bytes / max_buffered_frames is closed and
  // buffer_full returned; after close, closed.
  send_status send(const frame& f, send_mode mode = send_mode::queued);
  // Prefetches what send() reads next: this session, and the WebSocket it
  // writes to (a room's members are fetched in parallel; issue 12).
  void prefetch() const {
    __builtin_prefetch(this);
    if (ws_) __builtin_prefetch(ws_);
  }

  // Server-initiated close: a close packet is sent when the transport allows.
  void close(std::string_view reason);

  // The next heartbeat ping goes out within `delay` (sooner than the ping
  // interval; nothing changes while a pong is awaited or when the ping is
  // due sooner anyway), so that its pong confirms what was queued before it
  // (handler::on_pong). The heartbeat then resumes its interval.
  void ping_soon(std::chrono::milliseconds delay);

  // ---- transport side (listener) ----

  // Starts the heartbeat; called once the open packet is on its way.
  void start();
  // A packet from the client, on the current transport.
  void on_packet(packet&& p);
  // The transport failed (socket error, bad frame): closes without a close packet.
  void on_transport_error(std::string_view reason);

  // Long-polling: at most one GET waits at a time.
  bool poll_active() const { return poll_active_; }
  void set_poll_active(bool active) { poll_active_ = active; }
  // True while a waiting GET has nothing to return yet.
  bool poll_should_wait() const;
  // Drains the queue into one polling payload (with a noop when an upgrade
  // or a client close released the poll).
  std::string take_poll_payload();
  // Created on first use: a WebSocket session never waits for a GET.
  boost::asio::steady_timer& poll_timer();
  boost::asio::any_io_executor executor() { return ping_timer_.get_executor(); }

  // WebSocket: frames are written from the head of the queue.
  bool has_frames() const { return !queue_.empty(); }
  const frame& front_frame() const { return queue_.front(); }
  size_t frame_count() const { return queue_.size(); }
  const frame& frame_at(size_t i) const { return queue_.at(i); }
  void pop_frame();

  // Upgrade (spec "Upgrade"): probe received on a new WebSocket, then "5".
  bool upgrading() const { return upgrading_; }
  // True once a transport other than the first was bound: no later transport
  // (polling request, WebSocket) may attach to this session again.
  bool upgraded() const { return upgraded_; }
  void begin_upgrade();
  // "2probe" arrived on the new WebSocket: from now until the upgrade ends,
  // every GET is answered at once with a noop, so that the client's pause
  // (which waits for its in-flight GET) completes and it can send "5".
  void probe_received();
  void complete_upgrade(const std::shared_ptr<ws_link>& link);
  void abort_upgrade();
  void bind_websocket(const std::shared_ptr<ws_link>& link);
  // The WebSocket `link` is being destroyed: forget it if it is ours.
  void unbind_websocket(const ws_link* link) {
    if (ws_ == link) ws_ = nullptr;
  }

 private:
  void schedule_ping();
  void on_ping_timer();
  void wake_poll();
  // The one close path. `notify_client` queues a close packet.
  void do_close(std::string_view reason, bool notify_client);

  // What send() reads for a tick first, in the object's first cache line
  // (after enable_shared_from_this): a tick touches thousands of sessions per
  // second, each cold since the last (issue 12).
  bool open_ = true;
  transport_kind transport_;
  // A plain pointer, not a weak_ptr locked per frame: the link unbinds itself
  // when destroyed (unbind_websocket), on the one loop thread.
  ws_link* ws_ = nullptr;
  frame_queue queue_;
  size_t queued_bytes_ = 0;
  server& server_;

  std::string id_;
  std::string remote_address_;
  bool started_ = false;

  bool poll_active_ = false;
  bool poll_noop_ = false;  // release the waiting GET with a noop
  std::unique_ptr<boost::asio::steady_timer> poll_timer_;

  bool upgrading_ = false;
  bool probed_ = false;
  bool upgraded_ = false;

  boost::asio::steady_timer ping_timer_;
  bool awaiting_pong_ = false;
};

}  // namespace bandsync::engineio
