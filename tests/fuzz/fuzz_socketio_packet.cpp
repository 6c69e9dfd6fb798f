// libFuzzer target for the Socket.IO v5 packet codec.
//
// The input is the text of an Engine.IO message packet. Whenever it decodes,
// the packet must respect the decoder's contract, and encode() must produce a
// string that decodes to an equal packet and re-encodes to itself (the server
// relays packets, so what it writes must parse the same way). Any violation
// aborts, so libFuzzer reports it.
//
// One tolerance: Boost.JSON 1.81 does not round decimal numbers correctly (about
// one double in ten comes back one ulp off, see same_json), so doubles may move by
// a few ulps on each trip; every other field and JSON value must be identical.
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "socketio/packet.hpp"

namespace {

namespace sio = bandsync::socketio;

void check(bool ok) {
  if (!ok) std::abort();
}

// Distance in units in the last place between two finite doubles of one sign.
uint64_t ulps_apart(double a, double b) {
  auto ia = std::bit_cast<int64_t>(a), ib = std::bit_cast<int64_t>(b);
  return ia > ib ? uint64_t(ia) - uint64_t(ib) : uint64_t(ib) - uint64_t(ia);
}

bool same_json(const boost::json::value& a, const boost::json::value& b) {
  if (a.is_number() && b.is_number()) {
    // The encoder writes numbers as JSON.stringify does: 2.0 as "2" (read
    // back as an integer), -0 as "0". Compare values, not kinds.
    if (a.kind() != boost::json::kind::double_ && a.kind() == b.kind()) return a == b;
    double x = a.to_number<double>(), y = b.to_number<double>();
    if (!std::isfinite(x) || !std::isfinite(y)) return false;
    if (x == y) return true;  // also +0 == -0
    return std::signbit(x) == std::signbit(y) && ulps_apart(x, y) <= 4;
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case boost::json::kind::array: {
      const auto &x = a.get_array(), &y = b.get_array();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i)
        if (!same_json(x[i], y[i])) return false;
      return true;
    }
    case boost::json::kind::object: {
      const auto &x = a.get_object(), &y = b.get_object();
      if (x.size() != y.size()) return false;
      for (const auto& kv : x) {
        auto other = y.if_contains(kv.key());
        if (!other || !same_json(kv.value(), *other)) return false;
      }
      return true;
    }
    default:
      return a == b;
  }
}

bool same_packet(const sio::packet& a, const sio::packet& b) {
  return a.type == b.type && a.nsp == b.nsp && a.id == b.id && a.attachments == b.attachments &&
         same_json(a.data, b.data);
}

void check_packet(std::string_view text, const sio::decode_limits& limits) {
  auto p = sio::decode(text, limits);
  if (!p) return;

  check(!p->nsp.empty() && p->nsp.front() == '/' && p->nsp.size() <= limits.max_namespace_length);
  check(p->nsp.find(',') == std::string::npos);
  check(p->attachments <= limits.max_attachments);
  bool is_binary =
      p->type == sio::packet_type::binary_event || p->type == sio::packet_type::binary_ack;
  check(is_binary || p->attachments == 0);
  if (p->attachments > 0)
    check(sio::count_placeholders(p->data, p->attachments) == static_cast<int>(p->attachments));
  bool wants_ack = p->type == sio::packet_type::ack || p->type == sio::packet_type::binary_ack;
  check(!wants_ack || p->id.has_value());

  std::string wire = sio::encode(*p);
  auto again = sio::decode(wire, limits);
  check(again.has_value() && same_packet(*again, *p));
  auto third = sio::decode(sio::encode(*again), limits);
  check(third.has_value() && same_packet(*third, *p));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  check_packet(input, {});
  check_packet(input, {.max_attachments = 2, .max_namespace_length = 8});
  return 0;
}
