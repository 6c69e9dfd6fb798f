#include "socketio/packet.hpp"
#include "util/json_parse.hpp"
#include "util/json_text.hpp"

#include <charconv>
#include <cmath>
#include <vector>

#include <boost/json/serialize.hpp>

namespace bandsync::socketio {
namespace {

class codec_category_impl : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "socketio.codec"; }
  std::string message(int ev) const override {
    switch (static_cast<codec_errc>(ev)) {
      case codec_errc::empty_packet:
        return "empty packet";
      case codec_errc::unknown_packet_type:
        return "unknown packet type";
      case codec_errc::invalid_attachments:
        return "invalid attachment count";
      case codec_errc::invalid_namespace:
        return "invalid namespace";
      case codec_errc::invalid_ack_id:
        return "invalid ack id";
      case codec_errc::invalid_json:
        return "invalid JSON payload";
      case codec_errc::invalid_payload:
        return "payload has the wrong shape for the packet type";
    }
    return "unknown socketio codec error";
  }
};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Boost.JSON parses an out-of-range number such as 1e999 to an infinite double
// and serializes it as "Infinity", which is not JSON: such a payload would be
// relayed to clients as a packet they cannot parse.
bool all_numbers_finite(const boost::json::value& v) {
  if (v.is_double()) return std::isfinite(v.get_double());
  if (v.is_array()) {
    for (const auto& e : v.get_array())
      if (!all_numbers_finite(e)) return false;
  } else if (v.is_object()) {
    for (const auto& kv : v.get_object())
      if (!all_numbers_finite(kv.value())) return false;
  }
  return true;
}

bool payload_valid(packet_type type, const boost::json::value& v) {
  switch (type) {
    case packet_type::connect:
      return v.is_null() || v.is_object();
    case packet_type::disconnect:
      return v.is_null();
    case packet_type::connect_error:
      return v.is_object() || v.is_string();
    case packet_type::event:
    case packet_type::binary_event: {
      if (!v.is_array()) return false;
      const auto& a = v.get_array();
      if (a.empty()) return false;
      if (a[0].is_number()) return true;
      // Names the client library reserves for itself (socket.io-parser's
      // RESERVED_EVENTS) are refused, as the reference decoder does.
      if (!a[0].is_string()) return false;
      static constexpr std::string_view reserved[] = {"connect",     "connect_error",
                                                      "disconnect",  "disconnecting",
                                                      "newListener", "removeListener"};
      for (auto r : reserved)
        if (a[0].get_string() == r) return false;
      return true;
    }
    case packet_type::ack:
    case packet_type::binary_ack:
      return v.is_array();
  }
  return false;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The code unit of the escape "\uXXXX" at text[i], or -1.
int escaped_unit(std::string_view text, size_t i) {
  if (i + 6 > text.size() || text[i] != '\\' || text[i + 1] != 'u') return -1;
  int v = 0;
  for (size_t k = i + 2; k < i + 6; ++k) {
    int h = hex_value(text[k]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

// JavaScript strings are UTF-16 and may hold a lone surrogate, which JSON.stringify
// writes as a valid escape ("\ud83d": an emoji cut in half by .slice); Boost.JSON
// refuses it. Each lone surrogate escape becomes "\ufffd", the replacement
// character that any UTF-16 to UTF-8 conversion (TextEncoder, Buffer) produces,
// so the packet decodes and the domain can answer INVALID_PAYLOAD rather than
// the connection being closed. Only called after a parse failed (Boost.JSON
// reports a lone surrogate as a syntax error), on text holding "\u".
std::string replace_lone_surrogates(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '\\' || i + 1 >= text.size()) {
      out += text[i++];
      continue;
    }
    int unit = escaped_unit(text, i);
    if (unit < 0) {  // another escape ("\\", "\\\"", ...): copied whole
      out.append(text.substr(i, 2));
      i += 2;
      continue;
    }
    if (unit >= 0xD800 && unit <= 0xDBFF) {
      int next = escaped_unit(text, i + 6);
      if (next >= 0xDC00 && next <= 0xDFFF) {  // a well-formed pair
        out.append(text.substr(i, 12));
        i += 12;
        continue;
      }
      out += "\\ufffd";
    } else if (unit >= 0xDC00 && unit <= 0xDFFF) {
      out += "\\ufffd";
    } else {
      out.append(text.substr(i, 6));
    }
    i += 6;
  }
  return out;
}

int count_placeholders_into(const boost::json::value& v, size_t attachments,
                            std::vector<bool>& seen) {
  if (v.is_array()) {
    int n = 0;
    for (const auto& e : v.get_array()) {
      int c = count_placeholders_into(e, attachments, seen);
      if (c < 0) return -1;
      n += c;
    }
    return n;
  }
  if (!v.is_object()) return 0;
  const auto& o = v.get_object();
  auto ph = o.if_contains("_placeholder");
  if (ph && ph->is_bool() && ph->get_bool()) {
    auto num = o.if_contains("num");
    if (!num || !num->is_int64()) return -1;
    auto i = num->get_int64();
    if (i < 0 || static_cast<size_t>(i) >= attachments || seen[static_cast<size_t>(i)]) return -1;
    seen[static_cast<size_t>(i)] = true;
    return 1;
  }
  int n = 0;
  for (const auto& kv : o) {
    int c = count_placeholders_into(kv.value(), attachments, seen);
    if (c < 0) return -1;
    n += c;
  }
  return n;
}

}  // namespace

const boost::system::error_category& codec_category() noexcept {
  static const codec_category_impl instance;
  return instance;
}

boost::system::error_code make_error_code(codec_errc e) noexcept {
  return {static_cast<int>(e), codec_category()};
}

boost::system::result<packet> decode(std::string_view text, const decode_limits& limits) {
  if (text.empty()) return make_error_code(codec_errc::empty_packet);
  packet p;
  char t = text[0];
  if (t < '0' || t > '6') return make_error_code(codec_errc::unknown_packet_type);
  p.type = static_cast<packet_type>(t - '0');
  size_t i = 1;

  if (p.type == packet_type::binary_event || p.type == packet_type::binary_ack) {
    size_t dash = text.find('-', i);
    if (dash == std::string_view::npos || dash == i || dash - i > 6)
      return make_error_code(codec_errc::invalid_attachments);
    size_t n = 0;
    auto [ptr, ec] = std::from_chars(text.data() + i, text.data() + dash, n);
    if (ec != std::errc{} || ptr != text.data() + dash || n > limits.max_attachments)
      return make_error_code(codec_errc::invalid_attachments);
    p.attachments = n;
    i = dash + 1;
  }

  if (i < text.size() && text[i] == '/') {
    // The namespace runs to the first ','; a CONNECT may omit the comma when
    // nothing follows ("40/custom").
    size_t comma = text.find(',', i);
    size_t end = comma == std::string_view::npos ? text.size() : comma;
    if (comma == std::string_view::npos && p.type != packet_type::connect &&
        p.type != packet_type::disconnect)
      return make_error_code(codec_errc::invalid_namespace);
    if (end - i > limits.max_namespace_length)
      return make_error_code(codec_errc::invalid_namespace);
    p.nsp.assign(text.substr(i, end - i));
    i = comma == std::string_view::npos ? end : comma + 1;
  }

  if (i < text.size() && is_digit(text[i])) {
    size_t j = i;
    while (j < text.size() && is_digit(text[j])) ++j;
    uint64_t id = 0;
    auto [ptr, ec] = std::from_chars(text.data() + i, text.data() + j, id);
    if (ec != std::errc{} || ptr != text.data() + j || j - i > 15)  // 2^53: a JS-safe integer
      return make_error_code(codec_errc::invalid_ack_id);
    p.id = id;
    i = j;
  }

  if (i < text.size()) {
    boost::system::error_code ec;
    p.data = util::parse_json(text.substr(i), ec);
    if (ec && text.find("\\u", i) != std::string_view::npos)
      p.data = util::parse_json(replace_lone_surrogates(text.substr(i)), ec);
    if (ec || !all_numbers_finite(p.data)) return make_error_code(codec_errc::invalid_json);
    // A literal "null" is a payload that no packet type accepts ("0null" is not "0").
    if (p.data.is_null()) return make_error_code(codec_errc::invalid_payload);
  }

  if (!payload_valid(p.type, p.data)) return make_error_code(codec_errc::invalid_payload);
  if (p.id && (p.type == packet_type::connect || p.type == packet_type::disconnect ||
               p.type == packet_type::connect_error))
    return make_error_code(codec_errc::invalid_payload);
  if ((p.type == packet_type::ack || p.type == packet_type::binary_ack) && !p.id)
    return make_error_code(codec_errc::invalid_ack_id);
  if (p.attachments > 0 &&
      count_placeholders(p.data, p.attachments) != static_cast<int>(p.attachments))
    return make_error_code(codec_errc::invalid_attachments);
  return p;
}

std::string encode(const packet& p) {
  std::string out;
  out += static_cast<char>('0' + static_cast<int>(p.type));
  if (p.type == packet_type::binary_event || p.type == packet_type::binary_ack) {
    out += std::to_string(p.attachments);
    out += '-';
  }
  if (p.nsp != "/") {
    out += p.nsp;
    out += ',';
  }
  if (p.id) out += std::to_string(*p.id);
  if (!p.data.is_null()) out += util::to_json_text(p.data);
  return out;
}

int count_placeholders(const boost::json::value& v, size_t attachments) {
  std::vector<bool> seen(attachments, false);
  return count_placeholders_into(v, attachments, seen);
}

}  // namespace bandsync::socketio
