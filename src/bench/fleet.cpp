#include "bench/fleet.hpp"

#include <sys/resource.h>

#include <algorithm>

namespace bandsync::bench {
namespace {

namespace net = boost::asio;

constexpr size_t devices_per_source_address = 5000;
constexpr size_t max_source_addresses = 200;

}  // namespace

size_t raise_open_file_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
  }
  return rl.rlim_cur == RLIM_INFINITY ? SIZE_MAX : static_cast<size_t>(rl.rlim_cur);
}

fleet::fleet(net::io_context& ioc, device_observer& observer, const common_options& opts)
    : ioc_(ioc), observer_(observer), opts_(opts) {}

std::optional<std::string> fleet::prepare(size_t count) {
  std::string host = opts_.host == "localhost" ? "127.0.0.1" : opts_.host;
  boost::system::error_code ec;
  auto addr = net::ip::make_address(host, ec);
  if (ec) return "--host must be a loopback IP address (or localhost), not '" + opts_.host + "'";
  // The benchmark sends load; it must never leave this machine.
  if (!addr.is_loopback()) return "--host " + opts_.host + " is not a loopback address";
  target_.server = net::ip::tcp::endpoint(addr, opts_.port);
  target_.host_header = (addr.is_v6() ? "[" + host + "]" : host) + ":" + std::to_string(opts_.port);
  target_.timeout = std::chrono::milliseconds(static_cast<int64_t>(opts_.connect_timeout_s * 1000));
  targets_ = {target_};
  for (uint16_t port : opts_.node_ports) {
    connect_target t = target_;
    t.server = net::ip::tcp::endpoint(addr, port);
    t.host_header = (addr.is_v6() ? "[" + host + "]" : host) + ":" + std::to_string(port);
    targets_.push_back(std::move(t));
  }

  size_t limit = raise_open_file_limit();
  if (limit < reserved_descriptors || count > limit - reserved_descriptors)
    return std::to_string(count) + " devices need as many descriptors; the open-file limit is " +
           std::to_string(limit);

  // IPv6 has one loopback address: no spreading there.
  if (addr.is_v4()) {
    size_t n = opts_.source_addresses
                   ? opts_.source_addresses
                   : (count + devices_per_source_address - 1) / devices_per_source_address;
    n = std::clamp<size_t>(n, 1, max_source_addresses);
    for (size_t i = 0; i < n; ++i)
      sources_.push_back(net::ip::make_address_v4(
          net::ip::address_v4::uint_type{0x7f000002u + static_cast<uint32_t>(i)}));
  }
  if (opts_.io == device_io::wire && opts_.poll_interval_ms > 0)
    set_wire_poll_interval(
        ioc_, std::chrono::microseconds(static_cast<int64_t>(opts_.poll_interval_ms * 1000)));
  devices_.reserve(count);
  for (size_t i = 0; i < count; ++i)
    devices_.push_back(device::create(ioc_, observer_, i, opts_.io));
  counted_.assign(count, false);
  return std::nullopt;
}

void fleet::launch() {
  launching_ = true;
  pump();
}

size_t fleet::node_of(size_t i) const {
  return node_of_ ? node_of_(i) % targets_.size() : 0;
}

void fleet::launch_one(size_t i) {
  connect_target t = targets_.empty() ? target_ : targets_[node_of(i)];
  if (!sources_.empty()) t.source = sources_[i % sources_.size()];
  devices_[i]->connect(t);
}

void fleet::settled(size_t i) {
  if (i >= counted_.size() || !counted_[i]) return;
  counted_[i] = false;
  --in_flight_;
  // Not from inside this call: settled() runs inside a device's handler.
  if (launching_) net::post(ioc_, [this] { pump(); });
}

void fleet::pump() {
  while (next_ < devices_.size() && in_flight_ < opts_.max_in_flight) {
    size_t i = next_++;
    counted_[i] = true;
    ++in_flight_;
    launch_one(i);
  }
  if (next_ == devices_.size()) launching_ = false;
}

void fleet::drop_all() {
  launching_ = false;
  for (size_t i = 0; i < next_; ++i)
    if (!devices_[i]->is_closed()) devices_[i]->drop();
}

}  // namespace bandsync::bench
