#include "cluster/lease.hpp"

#include <algorithm>
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

std::optional<lease_value> parse_lease_value(std::string_view value) {
  auto at = value.rfind('@');
  if (at == std::string_view::npos) return std::nullopt;
  auto epoch = value.substr(at + 1);
  if (epoch.empty() || epoch.size() > 20 ||
      !std::all_of(epoch.begin(), epoch.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  auto parts = parse_token(value.substr(0, at));
  if (!parts) return std::nullopt;
  return lease_value{std::string(value.substr(0, at)), std::string(epoch), std::move(*parts)};
}

void lease_table::on_node_lease(const std::string& epoch, int64_t sent_us) {
  int64_t until = sent_us + (timing_.ttl_ms - timing_.margin_ms) * 1000;
  if (epoch != epoch_) {
    for (auto it = entries_.begin(); it != entries_.end();) {
      it = it->second.ours ? entries_.erase(it) : std::next(it);
    }
    epoch_ = epoch;
    valid_until_us_ = until;
    return;
  }
  // A late reply of an older renewal never shortens the validity.
  valid_until_us_ = std::max(valid_until_us_, until);
}

void lease_table::lose_node() {
  for (auto it = entries_.begin(); it != entries_.end();) {
    it = it->second.ours ? entries_.erase(it) : std::next(it);
  }
  epoch_.clear();
  valid_until_us_ = 0;
}

lease_table::outcome lease_table::on_acquired(const std::string& session, std::string_view value,
                                              int64_t now_us) {
  auto v = parse_lease_value(value);
  if (!v) return outcome::invalid;
  if (v->parts.node == self_) {
    // Ours only under the current epoch (the script never answers with a
    // dead lease, but a reply may cross a re-join).
    if (epoch_.empty() || v->epoch != epoch_) return outcome::invalid;
    auto& e = entries_[session];
    e.ours = true;
    e.value = std::string(value);
    e.owner.clear();
    e.owner_epoch.clear();
    e.version = v->parts.version;
    return outcome::acquired;
  }
  auto& e = entries_[session];
  e.ours = false;
  e.value.clear();
  e.owner = v->parts.node;
  e.owner_epoch = v->epoch;
  e.version = v->parts.version;
  e.heard_us = now_us;
  return outcome::foreign;
}

bool lease_table::owns(const std::string& session, int64_t now_us) const {
  auto it = entries_.find(session);
  return it != entries_.end() && it->second.ours && node_valid(now_us);
}

std::optional<std::string> lease_table::token(const std::string& session) const {
  auto it = entries_.find(session);
  if (it == entries_.end() || !it->second.ours) return std::nullopt;
  return it->second.value;
}

std::optional<uint64_t> lease_table::version(const std::string& session) const {
  auto it = entries_.find(session);
  if (it == entries_.end()) return std::nullopt;
  return it->second.version;
}

std::vector<std::string> lease_table::expired(int64_t now_us) const {
  std::vector<std::string> out;
  if (node_valid(now_us)) return out;
  for (const auto& [id, e] : entries_) {
    if (e.ours) out.push_back(id);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> lease_table::owned() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [id, e] : entries_) {
    if (e.ours) out.emplace_back(id, e.value);
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

std::optional<std::pair<std::string, std::string>> lease_table::last_owner(
    const std::string& session) const {
  auto it = entries_.find(session);
  if (it == entries_.end() || it->second.ours || it->second.owner.empty()) return std::nullopt;
  return std::make_pair(it->second.owner, it->second.owner_epoch);
}

void lease_table::note_owner(const std::string& session, std::string_view node, uint64_t version,
                             int64_t now_us) {
  if (node == self_) return;
  auto& e = entries_[session];
  if (e.ours) return;  // our own lease decides (renewal), not hearsay
  if (!e.owner.empty() && version < e.version) return;
  if (e.owner != node || version != e.version) e.owner_epoch.clear();
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
