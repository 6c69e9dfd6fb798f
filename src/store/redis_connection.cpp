#include "store/redis_connection.hpp"

#include <algorithm>
#include <utility>

#include <spdlog/spdlog.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>

#include "store/redis_error.hpp"

namespace bandsync::store {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using boost::system::error_code;

namespace {

constexpr size_t read_chunk = 16 * 1024;

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

std::shared_ptr<redis_connection> redis_connection::create(net::any_io_executor ex,
                                                           redis_connection_options options) {
  return std::shared_ptr<redis_connection>(new redis_connection(std::move(ex), std::move(options)));
}

redis_connection::redis_connection(net::any_io_executor ex, redis_connection_options options)
    : ex_(ex),
      options_(std::move(options)),
      resolver_(ex),
      socket_(ex),
      connect_timer_(ex),
      retry_timer_(ex),
      ping_timer_(ex),
      read_buf_(read_chunk),
      backoff_(options_.backoff_initial),
      down_since_(std::chrono::steady_clock::now()) {}

redis_connection::~redis_connection() = default;

std::string redis_connection::where() const {
  return options_.endpoint.host + ":" + std::to_string(options_.endpoint.port);
}

void redis_connection::start() {
  if (phase_ != phase::idle) return;
  down_since_ = std::chrono::steady_clock::now();
  do_attempt();
}

void redis_connection::stop() {
  if (phase_ == phase::stopped) return;
  phase_ = phase::stopped;
  ++generation_;
  on_state_ = nullptr;
  error_code ignored;
  socket_.close(ignored);
  resolver_.cancel();
  connect_timer_.cancel();
  retry_timer_.cancel();
  ping_timer_.cancel();
  queue_.clear();
  out_.clear();
}

void redis_connection::do_attempt() {
  ++generation_;
  ++stats_.connect_attempts;
  ++attempts_since_ready_;
  phase_ = phase::connecting;
  reader_ = std::make_unique<resp_reader>();
  out_.clear();
  writing_.clear();
  write_active_ = false;
  ping_outstanding_ = false;

  uint64_t gen = generation_;
  std::weak_ptr<redis_connection> weak = weak_from_this();
  // One deadline for resolve + connect + handshake: a server that accepts TCP
  // but never answers (stopped, overloaded) counts as down.
  connect_timer_.expires_after(options_.connect_timeout);
  connect_timer_.async_wait([weak, gen](error_code ec) {
    auto self = weak.lock();
    if (ec || !self || gen != self->generation_ || self->phase_ == phase::ready) return;
    self->fail(
        redis_error::timeout,
        "no answer within " + std::to_string(self->options_.connect_timeout.count()) + " ms");
  });
  resolver_.async_resolve(
      options_.endpoint.host, std::to_string(options_.endpoint.port),
      [self = shared_from_this(), gen](error_code ec, tcp::resolver::results_type results) {
        if (gen != self->generation_) return;
        if (ec) return self->fail(ec, "resolve");
        net::async_connect(self->socket_, results,
                           [self, gen](error_code ec, const tcp::endpoint&) {
                             if (gen != self->generation_) return;
                             if (ec) return self->fail(ec, "connect");
                             self->on_connected();
                           });
      });
}

void redis_connection::on_connected() {
  error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
  socket_.set_option(net::socket_base::keep_alive(true), ignored);
  phase_ = phase::handshaking;
  do_read();
  std::string hello;
  size_t count = 0;
  if (!options_.endpoint.password.empty()) {
    hello += format_command({"AUTH", options_.endpoint.password});
    ++count;
  }
  if (options_.endpoint.db != 0) {
    hello += format_command({"SELECT", std::to_string(options_.endpoint.db)});
    ++count;
  }
  // PING last: its answer proves the server is serving (not LOADING).
  hello += format_command({"PING"});
  ++count;
  uint64_t gen = generation_;
  enqueue(std::move(hello), count,
          [this, gen](const error_code& ec, std::vector<redis_reply>&& replies) {
            // Only called while this object lives: the queue is cleared on stop.
            if (ec || gen != generation_) return;
            on_handshake(std::move(replies));
          });
}

void redis_connection::on_handshake(std::vector<redis_reply>&& replies) {
  for (const auto& r : replies) {
    if (r.is_error()) {
      // The password itself is never logged.
      return fail(redis_error::handshake_failed, r.str);
    }
  }
  phase_ = phase::ready;
  connect_timer_.cancel();
  backoff_ = options_.backoff_initial;
  ++stats_.connects;
  if (!ever_ready_) {
    spdlog::info("redis: connected to {} (db {})", where(), options_.endpoint.db);
  } else {
    spdlog::info("redis: reconnected to {} after {:.1f} s ({} attempts)", where(),
                 seconds_since(down_since_), attempts_since_ready_);
  }
  ever_ready_ = true;
  down_logged_ = false;
  attempts_since_ready_ = 0;
  arm_ping();
  if (on_state_) on_state_(true);
}

void redis_connection::do_read() {
  uint64_t gen = generation_;
  socket_.async_read_some(net::buffer(read_buf_),
                          [self = shared_from_this(), gen](error_code ec, size_t n) {
                            if (gen != self->generation_) return;
                            if (ec) return self->fail(ec, "read");
                            self->on_read(n);
                          });
}

void redis_connection::on_read(size_t n) {
  uint64_t gen = generation_;
  error_code ec;
  if (!reader_->feed(std::string_view(read_buf_.data(), n))) {
    return fail(redis_error::protocol_error, reader_->error_text());
  }
  while (auto reply = reader_->next(ec)) {
    if (on_push_ && reply->type == redis_reply::kind::array && reply->elements.size() == 3 &&
        reply->elements[0].str == "message") {
      on_push_(std::move(reply->elements[1].str), std::move(reply->elements[2].str));
      if (gen != generation_) return;
      continue;
    }
    if (queue_.empty()) return fail(redis_error::protocol_error, "reply without a request");
    auto& front = queue_.front();
    front.replies.push_back(std::move(*reply));
    if (front.replies.size() < front.count) continue;
    request done = std::move(front);
    queue_.pop_front();
    if (reply_handler h = std::move(done.handler)) h({}, std::move(done.replies));
    // The handler may have failed or stopped the connection.
    if (gen != generation_) return;
  }
  if (ec) return fail(ec, reader_->error_text());
  do_read();
}

boost::system::error_code redis_connection::send(std::string commands, size_t count,
                                                 reply_handler handler) {
  if (phase_ != phase::ready) return redis_error::not_connected;
  if (queue_.size() >= options_.max_queued_requests ||
      out_.size() + writing_.size() + commands.size() > options_.max_queued_bytes) {
    return redis_error::queue_full;
  }
  ++stats_.requests;
  enqueue(std::move(commands), count, std::move(handler));
  return {};
}

void redis_connection::enqueue(std::string commands, size_t count, reply_handler handler) {
  stats_.commands += count;
  out_ += commands;
  queue_.push_back(request{count, {}, std::move(handler)});
  queue_.back().replies.reserve(count);
  if (!write_active_) do_write();
}

void redis_connection::do_write() {
  if (out_.empty()) return;
  writing_.swap(out_);
  out_.clear();
  write_active_ = true;
  ++stats_.writes;
  uint64_t gen = generation_;
  net::async_write(socket_, net::buffer(writing_),
                   [self = shared_from_this(), gen](error_code ec, size_t) {
                     if (gen != self->generation_) return;
                     if (ec) return self->fail(ec, "write");
                     self->writing_.clear();
                     self->write_active_ = false;
                     self->do_write();
                   });
}

void redis_connection::arm_ping() {
  uint64_t gen = generation_;
  std::weak_ptr<redis_connection> weak = weak_from_this();
  ping_timer_.expires_after(options_.ping_interval);
  ping_timer_.async_wait([weak, gen](error_code ec) {
    auto self = weak.lock();
    if (ec || !self || gen != self->generation_ || self->phase_ != phase::ready) return;
    if (self->ping_outstanding_) {
      return self->fail(
          redis_error::timeout,
          "no PING reply within " + std::to_string(self->options_.ping_interval.count()) + " ms");
    }
    self->ping_outstanding_ = true;
    self->enqueue(format_command({"PING"}), 1,
                  [raw = self.get(), gen](const error_code& ec, std::vector<redis_reply>&&) {
                    if (!ec && gen == raw->generation_) raw->ping_outstanding_ = false;
                  });
    self->arm_ping();
  });
}

void redis_connection::fail(const error_code& ec, const std::string& what) {
  if (phase_ == phase::stopped || phase_ == phase::waiting_retry) return;
  bool was_ready = phase_ == phase::ready;
  ++generation_;
  phase_ = phase::waiting_retry;
  error_code ignored;
  socket_.close(ignored);
  resolver_.cancel();
  connect_timer_.cancel();
  ping_timer_.cancel();
  reader_.reset();
  out_.clear();
  writing_.clear();
  write_active_ = false;
  auto failed = std::move(queue_);
  queue_.clear();

  std::string reason = what.empty() ? ec.message() : what + ": " + ec.message();
  if (was_ready) {
    down_since_ = std::chrono::steady_clock::now();
    spdlog::warn(
        "redis: connection to {} lost ({}); serving from memory, changes kept for write-back, "
        "reconnecting",
        where(), reason);
    down_logged_ = true;
  } else if (!down_logged_) {
    spdlog::warn("redis: cannot connect to {} ({}); serving from memory, retrying with backoff",
                 where(), reason);
    down_logged_ = true;
  } else {
    spdlog::debug("redis: attempt {} to {} failed ({}); next in {} ms", attempts_since_ready_,
                  where(), reason, backoff_.count());
  }

  uint64_t gen = generation_;
  std::weak_ptr<redis_connection> weak = weak_from_this();
  retry_timer_.expires_after(backoff_);
  retry_timer_.async_wait([weak, gen](error_code ec) {
    auto self = weak.lock();
    if (ec || !self || gen != self->generation_ || self->phase_ != phase::waiting_retry) return;
    self->do_attempt();
  });
  backoff_ = std::min(backoff_ * 2, options_.backoff_max);

  // Report after the state is consistent: handlers may call send(), which
  // now refuses with not_connected.
  if (was_ready && on_state_) on_state_(false);
  for (auto& r : failed) {
    if (phase_ == phase::stopped) break;
    if (r.handler) r.handler(redis_error::connection_lost, {});
  }
}

}  // namespace bandsync::store
