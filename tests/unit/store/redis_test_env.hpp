#pragma once
// What the Redis store tests share: one redis-server for the whole test
// executable (started on first use, stopped at exit), an io_context for the
// stores under test, and helpers that run that io_context until a condition
// holds (the store is asynchronous; the tests are not).

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "redis_server.hpp"
#include "store/redis_store.hpp"

namespace bandsync::testing {

class redis_test_env {
 public:
  static redis_test_env& get() {
    static redis_test_env env;
    return env;
  }

  // Non-empty when /usr/bin/redis-server is not installed: the only reason
  // to skip (GTEST_SKIP with this message).
  const std::string& missing() const { return missing_; }
  // Non-empty when the installed server could not be started: a failure.
  const std::string& start_error() const { return start_error_; }
  bool usable() const { return missing_.empty() && start_error_.empty(); }
  redis_server& server() { return *server_; }
  boost::asio::io_context& ioc() { return ioc_; }

  // Store options aimed at `port`, with timings shortened for tests.
  static store::redis_store_options options(uint16_t port) {
    store::redis_store_options o;
    o.connection.endpoint.host = "127.0.0.1";
    o.connection.endpoint.port = port;
    o.connection.connect_timeout = std::chrono::milliseconds(500);
    o.connection.ping_interval = std::chrono::milliseconds(200);
    o.connection.backoff_initial = std::chrono::milliseconds(20);
    o.connection.backoff_max = std::chrono::milliseconds(200);
    o.load_timeout = std::chrono::milliseconds(2000);
    return o;
  }

  // Runs the io_context until `done()` or `timeout`; returns done().
  bool run_until(const std::function<bool()>& done,
                 std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      ioc_.restart();
      ioc_.run_for(std::chrono::milliseconds(5));
    }
    return done();
  }

  // Runs the io_context for `d` whatever happens.
  void run_for(std::chrono::milliseconds d) {
    ioc_.restart();
    ioc_.run_for(d);
  }

  // A started store on the shared server, after FLUSHALL.
  std::unique_ptr<store::redis_store> fresh_store() {
    if (!usable()) {
      return std::make_unique<store::redis_store>(ioc_, options(1));  // never started
    }
    server_->command({"FLUSHALL"});
    run_for(std::chrono::milliseconds(1));  // handlers left by an earlier test's store
    auto s = std::make_unique<store::redis_store>(ioc_, options(server_->port()));
    s->start();
    run_until([&] { return s->connected(); });
    return s;
  }

  // Runs until `s` has nothing buffered or awaiting a reply.
  bool settle(store::redis_store& s) {
    return run_until([&] { return s.connected() && s.idle(); });
  }

 private:
  redis_test_env() {
    if (!redis_server::available()) {
      missing_ = redis_server::skip_reason();
      return;
    }
    server_ = std::make_unique<redis_server>();
    std::string error;
    if (!server_->start(&error)) start_error_ = "could not start redis-server: " + error;
  }

  boost::asio::io_context ioc_{1};
  std::unique_ptr<redis_server> server_;
  std::string missing_;
  std::string start_error_;
};

}  // namespace bandsync::testing
