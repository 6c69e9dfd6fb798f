#pragma once
// One Redis connection on the server's io_context (ARCHITECTURE.md: hiredis for
// RESP, driven by Asio sockets, no blocking call on the I/O thread). Requests
// are pipelined: whatever is queued while a write is in progress goes out in
// the next single write, and replies are matched to requests in order.
//
// The connection keeps itself up: AUTH and SELECT on every connect, a PING
// every ping_interval (an unanswered PING drops the connection), and
// reconnection with capped exponential backoff. Each up/down transition is
// logged once and reported to the state handler; retries log at debug.
//
// Single-threaded: every member must be called on the io_context's thread.
// Create with create(); the object stays alive while its operations are
// outstanding.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "store/redis_options.hpp"
#include "store/resp.hpp"

namespace bandsync::store {

class redis_connection : public std::enable_shared_from_this<redis_connection> {
 public:
  // Called once per request: with the request's replies in order (error
  // replies included: they are Redis's answer, not a transport failure), or
  // with an error code and no replies when the connection closed first.
  using reply_handler =
      std::function<void(const boost::system::error_code&, std::vector<redis_reply>&&)>;
  // Called on every transition between ready and not ready.
  using state_handler = std::function<void(bool ready)>;

  static std::shared_ptr<redis_connection> create(boost::asio::any_io_executor ex,
                                                  redis_connection_options options);
  ~redis_connection();
  redis_connection(const redis_connection&) = delete;
  redis_connection& operator=(const redis_connection&) = delete;

  // Starts connecting; from then on the connection reconnects until stop().
  void start();

  // Closes for good. Queued requests are discarded without calling their
  // handlers (the owner is going away), and the state handler is dropped.
  void stop();

  // Connected, authenticated, database selected.
  bool ready() const { return phase_ == phase::ready; }

  // Queues `count` commands already RESP-encoded back to back in `commands`;
  // `handler` later gets their `count` replies. Returns an error and does not
  // keep the handler when not ready (redis_error::not_connected) or when the
  // queue bounds would be exceeded (redis_error::queue_full).
  boost::system::error_code send(std::string commands, size_t count, reply_handler handler);

  void set_state_handler(state_handler handler) { on_state_ = std::move(handler); }

  // Pub/sub (src/cluster): with a push handler set, a `message` push
  // (["message", channel, payload]) goes to it instead of being matched to a
  // request. SUBSCRIBE's confirmations are ordinary replies (one per
  // channel). Subscriptions do not survive a reconnection: the owner
  // subscribes again from its state handler.
  using push_handler = std::function<void(std::string&& channel, std::string&& payload)>;
  void set_push_handler(push_handler handler) { on_push_ = std::move(handler); }

  // Requests queued or awaiting replies (internal PINGs included).
  size_t pending_requests() const { return queue_.size(); }

  struct counters {
    uint64_t connect_attempts = 0;
    uint64_t connects = 0;  // attempts that reached ready
    uint64_t requests = 0;
    uint64_t commands = 0;
    uint64_t writes = 0;  // socket writes: fewer than requests when pipelined
  };
  const counters& stats() const { return stats_; }

 private:
  enum class phase { idle, connecting, handshaking, ready, waiting_retry, stopped };

  struct request {
    size_t count;
    std::vector<redis_reply> replies;
    reply_handler handler;
  };

  redis_connection(boost::asio::any_io_executor ex, redis_connection_options options);

  void do_attempt();
  void on_connected();
  void on_handshake(std::vector<redis_reply>&& replies);
  void do_read();
  void on_read(size_t n);
  void enqueue(std::string commands, size_t count, reply_handler handler);
  void do_write();
  void arm_ping();
  // The one close path: drops the socket, fails the queued requests, reports
  // the transition and schedules the next attempt.
  void fail(const boost::system::error_code& ec, const std::string& what);
  std::string where() const;

  boost::asio::any_io_executor ex_;
  redis_connection_options options_;
  boost::asio::ip::tcp::resolver resolver_;
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer connect_timer_;
  boost::asio::steady_timer retry_timer_;
  boost::asio::steady_timer ping_timer_;
  phase phase_ = phase::idle;
  uint64_t generation_ = 0;  // handlers of an older attempt see a newer value and do nothing
  std::deque<request> queue_;
  std::string out_;      // encoded requests not yet handed to the socket
  std::string writing_;  // the buffer of the write in progress
  bool write_active_ = false;
  std::vector<char> read_buf_;
  std::unique_ptr<resp_reader> reader_;
  std::chrono::milliseconds backoff_;
  bool ping_outstanding_ = false;
  bool ever_ready_ = false;
  bool down_logged_ = false;  // the current outage (or start-up failure) was logged
  uint64_t attempts_since_ready_ = 0;
  std::chrono::steady_clock::time_point down_since_;
  state_handler on_state_;
  push_handler on_push_;
  counters stats_;
};

}  // namespace bandsync::store
