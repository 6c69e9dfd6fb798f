#include "bench/await.hpp"

#include <exception>
#include <iostream>

#include <boost/asio/co_spawn.hpp>

namespace bandsync::bench {

void run_scenario(boost::asio::io_context& ioc, boost::asio::awaitable<void> script,
                  const std::function<void()>& fail, std::string_view name) {
  boost::asio::co_spawn(ioc, std::move(script), [&](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      std::cerr << "bandsync bench " << name << ": " << ex.what() << "\n";
    }
    fail();
    ioc.stop();
  });
  ioc.run();
}

}  // namespace bandsync::bench
