#include "cluster/room_channels.hpp"

namespace bandsync::cluster {

bool room_channels::add(const std::string& session) {
  auto& c = channels_[session];
  if (c.requested) return false;
  c.requested = true;
  return true;
}

bool room_channels::confirm(const std::string& session) {
  auto it = channels_.find(session);
  if (it == channels_.end() || !it->second.requested) return false;
  it->second.confirmed = true;
  return true;
}

bool room_channels::subscribed(const std::string& session) const {
  auto it = channels_.find(session);
  return it != channels_.end() && it->second.confirmed;
}

bool room_channels::contains(const std::string& session) const {
  auto it = channels_.find(session);
  return it != channels_.end() && it->second.requested;
}

void room_channels::unconfirm_all() {
  for (auto& [session, c] : channels_) c.confirmed = false;
}

std::vector<std::string> room_channels::sessions() const {
  std::vector<std::string> out;
  out.reserve(channels_.size());
  for (const auto& [session, c] : channels_) {
    if (c.requested) out.push_back(session);
  }
  return out;
}

void room_channels::used(const std::string& session, int64_t now_us) {
  auto& c = channels_[session];
  c.used_us = now_us;
  c.ever_used = true;
}

std::vector<std::string> room_channels::take_idle(
    int64_t now_us, const std::function<bool(const std::string&)>& needed) {
  std::vector<std::string> out;
  for (auto it = channels_.begin(); it != channels_.end();) {
    const auto& [session, c] = *it;
    bool recently_used = c.ever_used && now_us - c.used_us < quiet_us_;
    if (!c.requested && !recently_used) {
      it = channels_.erase(it);
    } else if (c.confirmed && !recently_used && !needed(session)) {
      out.push_back(session);
      it = channels_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

}  // namespace bandsync::cluster
