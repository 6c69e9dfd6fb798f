#pragma once
// Coroutine helpers for the scenario scripts: the scripts are linear ("connect,
// join, play, wait for ticks, drop the leader, check"), so they read as
// sequences of co_await on one io_context thread.

#include <chrono>
#include <functional>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace bandsync::bench {

inline boost::asio::awaitable<void> sleep_for(std::chrono::steady_clock::duration d) {
  boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, d);
  boost::system::error_code ec;
  co_await t.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
}

// Polls `done` every `poll` until it holds (true) or `timeout` passes (false).
inline boost::asio::awaitable<bool> wait_until(
    std::function<bool()> done, std::chrono::steady_clock::duration timeout,
    std::chrono::steady_clock::duration poll = std::chrono::milliseconds(5)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) co_return false;
    co_await sleep_for(poll);
  }
  co_return true;
}

// Runs a scenario's script on `ioc` to its end. An exception escaping the
// script is reported under `name` and calls `fail` instead of ending the
// process. Defined out of line: inlined into a caller, GCC 12 reports a false
// -Wmismatched-new-delete on the coroutine frame.
void run_scenario(boost::asio::io_context& ioc, boost::asio::awaitable<void> script,
                  const std::function<void()>& fail, std::string_view name);

}  // namespace bandsync::bench
