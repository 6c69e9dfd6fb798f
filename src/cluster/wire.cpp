#include "cluster/wire.hpp"

#include <array>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace bandsync::cluster {
namespace {

constexpr std::array<std::string_view, 11> kind_names = {
    "fwd", "disc", "emit", "join", "leave", "ack", "bcast", "owner", "attach", "hold", "recover"};

bool fail(std::string* error, std::string reason) {
  if (error) *error = std::move(reason);
  return false;
}

bool read_string(const boost::json::object& o, std::string_view key, std::string& out,
                 std::string* error) {
  const auto* v = o.if_contains(key);
  if (!v) return true;
  const auto* s = v->if_string();
  if (!s) return fail(error, std::string(key) + " must be a string");
  out = std::string(*s);
  return true;
}

bool read_uint(const boost::json::object& o, std::string_view key, std::optional<uint64_t>& out,
               std::string* error) {
  const auto* v = o.if_contains(key);
  if (!v) return true;
  if (const auto* i = v->if_int64(); i && *i >= 0) {
    out = static_cast<uint64_t>(*i);
  } else if (const auto* u = v->if_uint64()) {
    out = *u;
  } else {
    return fail(error, std::string(key) + " must be a whole number >= 0");
  }
  return true;
}

}  // namespace

bool valid_node_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::string node_channel(std::string_view node_id) {
  return "bs:n:" + std::string(node_id);
}

std::string room_channel(std::string_view session_id) {
  return "bs:r:" + std::string(session_id);
}

std::string_view kind_name(wire_kind k) {
  return kind_names[static_cast<size_t>(k)];
}

std::string encode(const wire_message& m) {
  boost::json::object h;
  h["t"] = kind_name(m.kind);
  h["f"] = m.from;
  if (!m.sid.empty()) h["s"] = m.sid;
  if (!m.session.empty()) h["r"] = m.session;
  if (!m.event.empty()) h["e"] = m.event;
  if (m.version != 0) h["v"] = m.version;
  if (m.ack) h["a"] = *m.ack;
  if (!m.address.empty()) h["ip"] = m.address;
  if (m.hops != 0) h["h"] = m.hops;
  std::string out = boost::json::serialize(h);
  out += '\n';
  out += m.body;
  return out;
}

std::optional<wire_message> decode(std::string_view text, std::string* error) {
  auto nl = text.find('\n');
  if (nl == std::string_view::npos) {
    fail(error, "no header line");
    return std::nullopt;
  }
  if (nl > max_header_bytes) {
    fail(error, "header too long");
    return std::nullopt;
  }
  boost::system::error_code ec;
  auto v = boost::json::parse(text.substr(0, nl), ec);
  const auto* o = ec ? nullptr : v.if_object();
  if (!o) {
    fail(error, "header is not a JSON object");
    return std::nullopt;
  }
  wire_message m;
  std::string kind;
  if (!read_string(*o, "t", kind, error)) return std::nullopt;
  size_t k = 0;
  while (k < kind_names.size() && kind_names[k] != kind) ++k;
  if (k == kind_names.size()) {
    fail(error, "unknown kind '" + kind + "'");
    return std::nullopt;
  }
  m.kind = static_cast<wire_kind>(k);
  std::optional<uint64_t> version;
  std::optional<uint64_t> hops;
  if (!read_string(*o, "f", m.from, error) || !read_string(*o, "s", m.sid, error) ||
      !read_string(*o, "r", m.session, error) || !read_string(*o, "e", m.event, error) ||
      !read_uint(*o, "v", version, error) || !read_uint(*o, "a", m.ack, error) ||
      !read_string(*o, "ip", m.address, error) || !read_uint(*o, "h", hops, error)) {
    return std::nullopt;
  }
  m.version = version.value_or(0);
  m.hops = hops.value_or(0);
  if (!valid_node_id(m.from)) {
    fail(error, "invalid node id");
    return std::nullopt;
  }
  bool needs_sid = m.kind == wire_kind::forward || m.kind == wire_kind::disconnect ||
                   m.kind == wire_kind::emit || m.kind == wire_kind::join ||
                   m.kind == wire_kind::leave || m.kind == wire_kind::ack ||
                   m.kind == wire_kind::hold || m.kind == wire_kind::recover;
  bool needs_session = m.kind == wire_kind::forward || m.kind == wire_kind::join ||
                       m.kind == wire_kind::leave || m.kind == wire_kind::broadcast ||
                       m.kind == wire_kind::owner || m.kind == wire_kind::attach;
  if ((needs_sid && m.sid.empty()) || (needs_session && m.session.empty()) ||
      (m.kind == wire_kind::forward && m.event.empty()) || (m.kind == wire_kind::ack && !m.ack)) {
    fail(error, "missing field for " + kind);
    return std::nullopt;
  }
  m.body = std::string(text.substr(nl + 1));
  return m;
}

}  // namespace bandsync::cluster
