#include "cluster/lease.hpp"

#include <charconv>

#include "cluster/wire.hpp"

namespace bandsync::cluster {

std::string make_token(std::string_view node_id, uint64_t version) {
  return std::string(node_id) + ":" + std::to_string(version);
}

std::optional<token_parts> parse_token(std::string_view token) {
  auto colon = token.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  token_parts p;
  p.node = std::string(token.substr(0, colon));
  auto digits = token.substr(colon + 1);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), p.version);
  if (ec != std::errc{} || end != digits.data() + digits.size() || digits.empty() ||
      p.version == 0 || !valid_node_id(p.node)) {
    return std::nullopt;
  }
  return p;
}

lease_table::outcome lease_table::on_acquired(const std::string& session, std::string_view token,
                                              int64_t sent_us) {
  auto parts = parse_token(token);
  if (!parts) return outcome::invalid;
  auto& e = entries_[session];
  if (parts->node == self_) {
    e.ours = true;
    e.token = std::string(token);
    e.owner.clear();
    e.version = parts->version;
    e.valid_until_us = sent_us + (timing_.ttl_ms - timing_.margin_ms) * 1000;
    return outcome::acquired;
  }
  e.ours = false;
  e.token.clear();
  e.owner = parts->node;
  e.version = parts->version;
  e.heard_us = sent_us;
  return outcome::foreign;
}

bool lease_table::on_renewed(const std::string& session, std::string_view token, bool ok,
                             int64_t sent_us) {
  auto it = entries_.find(session);
  if (it == entries_.end() || !it->second.ours) return false;
  if (it->second.token != token) return true;  // a reply about an older lease
  if (!ok) {
    entries_.erase(it);
    return false;
  }
  it->second.valid_until_us =
      std::max(it->second.valid_until_us, sent_us + (timing_.ttl_ms - timing_.margin_ms) * 1000);
  return true;
}

bool lease_table::owns(const std::string& session, int64_t now_us) const {
  auto it = entries_.find(session);
  return it != entries_.end() && it->second.ours && now_us < it->second.valid_until_us;
}

std::optional<std::string> lease_table::token(const std::string& session) const {
  auto it = entries_.find(session);
  if (it == entries_.end() || !it->second.ours) return std::nullopt;
  return it->second.token;
}

std::optional<uint64_t> lease_table::version(const std::string& session) const {
  auto it = entries_.find(session);
  if (it == entries_.end()) return std::nullopt;
  return it->second.version;
}

std::vector<std::string> lease_table::expired(int64_t now_us) const {
  std::vector<std::string> out;
  for (const auto& [id, e] : entries_) {
    if (e.ours && now_us >= e.valid_until_us) out.push_back(id);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> lease_table::owned() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [id, e] : entries_) {
    if (e.ours) out.emplace_back(id, e.token);
  }
  return out;
}

void lease_table::drop(const std::string& session) {
  entries_.erase(session);
}

std::optional<std::string> lease_table::owner(const std::string& session, int64_t now_us) const {
  auto it = entries_.find(session);
  if (it == entries_.end() || it->second.ours) return std::nullopt;
  if (now_us - it->second.heard_us >= timing_.ttl_ms * 1000) return std::nullopt;
  return it->second.owner;
}

void lease_table::note_owner(const std::string& session, std::string_view node, uint64_t version,
                             int64_t now_us) {
  if (node == self_) return;
  auto& e = entries_[session];
  if (e.ours) return;  // our own lease decides (renewal), not hearsay
  if (!e.owner.empty() && version < e.version) return;
  e.owner = std::string(node);
  e.version = version;
  e.heard_us = now_us;
}

size_t lease_table::owned_count() const {
  size_t n = 0;
  for (const auto& [id, e] : entries_) n += e.ours ? 1 : 0;
  return n;
}

}  // namespace bandsync::cluster
