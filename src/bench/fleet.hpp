#pragma once
// The devices of one benchmark run and how they get connected: the target is
// checked to be a loopback address, the client sockets are spread over
// several loopback source addresses (127.0.0.2, 127.0.0.3, ...) so that tens
// of thousands of connections do not exhaust one address's ephemeral ports,
// and at most `max_in_flight` devices are between connect() and "settled"
// (joined or failed) at once, so the server's accept backlog never overflows.

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "bench/device.hpp"
#include "bench/options.hpp"

namespace bandsync::bench {

// Descriptors a benchmark process keeps for itself beyond its sockets (stdio,
// the JSON file, a listener, pipes, /proc reads).
constexpr size_t reserved_descriptors = 64;

// Raises the soft RLIMIT_NOFILE to the hard limit (one descriptor per device)
// and returns the limit now in force.
size_t raise_open_file_limit();

class fleet {
 public:
  fleet(boost::asio::io_context& ioc, device_observer& observer, const common_options& opts);

  // Resolves the target and creates `count` devices. Returns an error text
  // when the host is not a loopback address or `count` does not fit under the
  // open-file limit.
  std::optional<std::string> prepare(size_t count);

  size_t size() const { return devices_.size(); }
  device& at(size_t i) { return *devices_[i]; }
  const device& at(size_t i) const { return *devices_[i]; }

  // Device i connects to node node_of(i) mod N of the nodes (the first is
  // `port`, then `node_ports`); without it every device goes to node 0.
  void set_node_of(std::function<size_t(size_t)> node_of) { node_of_ = std::move(node_of); }
  size_t node_count() const { return targets_.size(); }
  // The node device i connects to.
  size_t node_of(size_t i) const;

  // Starts connecting devices in index order, keeping at most max_in_flight
  // unsettled. settled(i) (called by the scenario once device i joined or
  // failed) lets the next one start. launch_one(i) connects one device now.
  void launch();
  void settled(size_t i);
  void launch_one(size_t i);

  size_t launched() const { return next_; }
  size_t in_flight() const { return in_flight_; }
  size_t source_address_count() const { return sources_.size(); }
  const std::string& target_text() const { return target_.host_header; }

  // Drops every device still connected (the run is over).
  void drop_all();

 private:
  void pump();

  boost::asio::io_context& ioc_;
  device_observer& observer_;
  common_options opts_;
  connect_target target_;
  std::vector<connect_target> targets_;  // per node; targets_[0] == target_
  std::function<size_t(size_t)> node_of_;
  std::vector<boost::asio::ip::address> sources_;
  std::vector<std::shared_ptr<device>> devices_;
  std::vector<bool> counted_;  // launched and not yet settled
  size_t next_ = 0;
  size_t in_flight_ = 0;
  bool launching_ = false;
};

}  // namespace bandsync::bench
