#include "engineio/packet.hpp"

#include "util/base64.hpp"

namespace bandsync::engineio {
namespace {

constexpr char record_separator = '\x1e';

class codec_category_impl : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "engineio.codec"; }
  std::string message(int ev) const override {
    switch (static_cast<codec_errc>(ev)) {
      case codec_errc::empty_packet:
        return "empty packet";
      case codec_errc::unknown_packet_type:
        return "unknown packet type";
      case codec_errc::invalid_base64:
        return "invalid base64 in binary packet";
      case codec_errc::too_many_packets:
        return "too many packets in payload";
    }
    return "unknown engineio codec error";
  }
};

}  // namespace

const boost::system::error_category& codec_category() noexcept {
  static const codec_category_impl instance;
  return instance;
}

boost::system::error_code make_error_code(codec_errc e) noexcept {
  return {static_cast<int>(e), codec_category()};
}

boost::system::result<packet> decode_packet(std::string_view text, bool allow_base64_binary) {
  if (text.empty()) return make_error_code(codec_errc::empty_packet);
  char t = text.front();
  if (allow_base64_binary && t == 'b') {
    auto bytes = util::base64_decode(text.substr(1));
    if (!bytes) return make_error_code(codec_errc::invalid_base64);
    return packet{packet_type::message, true, std::move(*bytes)};
  }
  if (t < '0' || t > '6') return make_error_code(codec_errc::unknown_packet_type);
  return packet{static_cast<packet_type>(t - '0'), false, std::string(text.substr(1))};
}

boost::system::result<std::vector<packet>> decode_payload(std::string_view body,
                                                          size_t max_packets) {
  std::vector<packet> packets;
  size_t start = 0;
  while (true) {
    if (packets.size() == max_packets) return make_error_code(codec_errc::too_many_packets);
    size_t end = body.find(record_separator, start);
    std::string_view segment =
        body.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    auto p = decode_packet(segment, true);
    if (!p) return p.error();
    packets.push_back(std::move(*p));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return packets;
}

std::string encode_packet(packet_type type, std::string_view data) {
  std::string out;
  out.reserve(1 + data.size());
  out += static_cast<char>('0' + static_cast<int>(type));
  out += data;
  return out;
}

void append_to_payload(std::string& out, const frame& f) {
  if (!f.data) return;  // nothing to send: a separator alone would make an empty packet
  if (!out.empty()) out += record_separator;
  if (f.binary) {
    out += 'b';
    out += util::base64_encode(*f.data);
  } else {
    out += *f.data;
  }
}

frame make_text_frame(packet_type type, std::string_view data) {
  return {false, std::make_shared<const std::string>(encode_packet(type, data))};
}

frame make_binary_frame(std::string bytes) {
  return {true, std::make_shared<const std::string>(std::move(bytes))};
}

}  // namespace bandsync::engineio
