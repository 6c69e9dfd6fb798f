#include "bandsync/session.hpp"

#include <algorithm>
#include <cmath>

#include "bandsync/requests.hpp"

namespace bandsync::domain {
namespace {

// EVENTS.md: the Unicode ellipsis, not three dots.
constexpr const char* initial_message = "Waiting for members\u2026";

}  // namespace

session::session(std::string id, int64_t now_wall_ms, size_t max_members)
    : id_(std::move(id)),
      message_(initial_message),
      created_at_(now_wall_ms),
      last_active_at_(now_wall_ms),
      max_members_(max_members) {}

session session::restore(const store::session_record& record, size_t max_members,
                         size_t* skipped_songs) {
  session s(record.id, record.created_at, max_members);
  s.message_ = record.message;
  // A record from elsewhere may hold anything; out-of-range values would
  // break the tempo contract, so they fall back to the default.
  double tempo = 120;
  if (std::isfinite(record.tempo) && record.tempo >= min_tempo && record.tempo <= max_tempo) {
    tempo = record.tempo;
  }
  double position_ms =
      std::isfinite(record.position_ms) ? std::clamp(record.position_ms, 0.0, max_position_ms) : 0;
  // Paused, on the beat grid of its tempo from position 0 (docs/EVENTS.md).
  s.transport_ = transport(std::llround(position_ms * 1000), tempo);
  s.last_active_at_ = record.last_active_at;
  if (record.beats_per_bar >= min_beats_per_bar && record.beats_per_bar <= max_beats_per_bar) {
    s.transport_.set_beats_per_bar(static_cast<int>(record.beats_per_bar));
  }
  s.setlist_ = domain::setlist::restore(record.setlist, record.current_song_id, skipped_songs);
  s.keep_message_ = !s.message_.empty();
  s.pristine_ = false;
  return s;
}

session session::adopt(const store::session_record& record, size_t max_members,
                       std::optional<int64_t> anchor_us, int64_t now_us) {
  session s = restore(record, max_members);
  s.keep_message_ = false;
  for (const auto& m : record.members) {
    if (s.members_.size() >= max_members || s.find_member(m.socket_id)) continue;
    s.members_.push_back(m);
  }
  if (record.leader_socket_id && s.find_member(*record.leader_socket_id)) {
    s.leader_ = *record.leader_socket_id;
  } else if (auto i = s.senior_member(nullptr); i >= 0) {
    s.leader_ = s.members_[static_cast<size_t>(i)].socket_id;
  }
  // The invariant "exactly the leader has role leader", whatever was stored.
  for (size_t i = 0; i < s.members_.size(); ++i) {
    s.set_role(i, s.leader_ == s.members_[i].socket_id ? store::member_role::leader
                                                       : store::member_role::follower);
  }
  if (s.members_.empty()) s.leader_.reset();
  double tempo = s.transport_.tempo(now_us);
  int64_t position_us = s.transport_.position_us(now_us);
  double beat = std::isfinite(record.anchor_beat) ? record.anchor_beat : 0;
  bool playing = record.is_playing && anchor_us && !s.members_.empty();
  if (playing) {
    // Real time runs on: the position in ms, the beat at the tempo.
    int64_t elapsed = std::max<int64_t>(0, now_us - *anchor_us);
    position_us = std::min<int64_t>(position_us + elapsed, std::llround(max_position_ms * 1000));
    beat += static_cast<double>(elapsed) * tempo / 60'000'000.0;
  }
  int bpb = s.transport_.beats_per_bar();
  s.transport_ = transport(position_us, tempo, bpb);
  if (record.anchor_server_ms) s.transport_.set_beat_anchor(position_us, beat);
  if (playing) s.transport_.play_at(now_us, now_us);
  return s;
}

store::member_record* session::find_member(const std::string& socket_id) {
  for (auto& m : members_) {
    if (m.socket_id == socket_id) return &m;
  }
  return nullptr;
}

const store::member_record* session::find_member(const std::string& socket_id) const {
  return const_cast<session*>(this)->find_member(socket_id);
}

const member_link* session::link(const std::string& socket_id) const {
  auto it = links_.find(socket_id);
  return it == links_.end() ? nullptr : &it->second;
}

session::link_result session::set_link(const std::string& socket_id, const member_link& link) {
  if (!find_member(socket_id)) return link_result::not_a_member;
  auto [it, inserted] = links_.try_emplace(socket_id, link);
  if (!inserted) {
    if (link.at_us - it->second.at_us < link_report_interval_us) return link_result::too_soon;
    it->second = link;
  }
  return link_result::stored;
}

bool session::add_member(store::member_record member) {
  if (full() || find_member(member.socket_id)) return false;
  member.role = store::member_role::follower;
  members_.push_back(std::move(member));
  if (!leader_) {
    std::string kept = keep_message_ ? message_ : std::string();
    take_lead(members_.back().socket_id);
    if (keep_message_) message_ = std::move(kept);
  }
  keep_message_ = false;
  return true;
}

void session::set_role(size_t index, store::member_role role) {
  members_[index].role = role;
  if (role == store::member_role::leader) leader_ = members_[index].socket_id;
}

std::optional<std::string> session::take_lead(const std::string& socket_id) {
  if (leader_ == socket_id) return std::nullopt;
  std::optional<std::string> previous = leader_;
  for (size_t i = 0; i < members_.size(); ++i) {
    if (members_[i].socket_id == socket_id) {
      set_role(i, store::member_role::leader);
      message_ = members_[i].display_name + " is leading";
    } else if (previous && members_[i].socket_id == *previous) {
      set_role(i, store::member_role::follower);
    }
  }
  return previous;
}

std::ptrdiff_t session::senior_member(const std::string* except, bool connected_only) const {
  // A held seat may be gone for good: a connected member leads first.
  std::ptrdiff_t best = -1;
  bool best_connected = false;
  for (size_t i = 0; i < members_.size(); ++i) {
    if (except && members_[i].socket_id == *except) continue;
    bool c = connected(members_[i].socket_id);
    if (connected_only && !c) continue;
    // Strictly earlier only: on a tie the earlier index (join order) stays.
    if (best < 0 || (c && !best_connected) ||
        (c == best_connected && members_[i].joined_at < members_[best].joined_at)) {
      best = static_cast<std::ptrdiff_t>(i);
      best_connected = c;
    }
  }
  return best;
}

std::optional<session::departure> session::remove_member(const std::string& socket_id,
                                                         int64_t now_us) {
  auto it = std::find_if(members_.begin(), members_.end(),
                         [&](const auto& m) { return m.socket_id == socket_id; });
  if (it == members_.end()) return std::nullopt;
  // Decided before the move: `socket_id` may refer to the member's own field.
  bool was_leader = leader_ == socket_id;
  departure d{std::move(*it), was_leader, std::nullopt};
  members_.erase(it);
  links_.erase(d.member.socket_id);
  seats_.erase(d.member.socket_id);
  if (!d.was_leader) return d;
  leader_.reset();
  // The hand-over pauses: the new leader did not choose to play, and a frozen
  // position is where everybody can see the band stopped.
  transport_.pause(now_us);
  auto next = senior_member(nullptr);
  if (next >= 0) {
    set_role(static_cast<size_t>(next), store::member_role::leader);
    message_ = members_[static_cast<size_t>(next)].display_name + " is now leading";
    d.new_leader = leader_;
  }
  return d;
}

std::optional<std::string> session::hand_over_lead() {
  return move_lead(false);
}

std::optional<std::string> session::move_lead(bool connected_only) {
  if (!leader_) return std::nullopt;
  auto next = senior_member(&*leader_, connected_only);
  if (next < 0) return std::nullopt;
  std::string previous = *leader_;
  for (size_t i = 0; i < members_.size(); ++i) {
    if (members_[i].socket_id == previous) set_role(i, store::member_role::follower);
  }
  set_role(static_cast<size_t>(next), store::member_role::leader);
  message_ = members_[static_cast<size_t>(next)].display_name + " is now leading";
  return leader_;
}

song_state session::song_state_at(int64_t now_us) const {
  return song_state{tempo(now_us), beats_per_bar(), position_us(now_us), playing()};
}

// A selection is immediate: pending timed changes are folded in by the pause
// or overridden by the tempo/seek taken at `now_us`.
void session::apply(const song_state& t, int64_t now_us) {
  pristine_ = false;
  if (!t.playing) transport_.pause(now_us);
  transport_.set_tempo(t.tempo, now_us, now_us);
  transport_.set_beats_per_bar(t.beats_per_bar);
  if (t.position_us != position_us(now_us)) transport_.seek(t.position_us, now_us, now_us);
  if (t.playing && !playing()) transport_.play_at(now_us, now_us);
}

store::session_record session::to_record(int64_t now_us) const {
  store::session_record r;
  r.id = id_;
  r.message = message_;
  r.tempo = tempo(now_us);
  r.position_ms = static_cast<double>(position_us(now_us)) / 1000.0;
  r.is_playing = playing();
  r.leader_socket_id = leader_;
  r.members = members_;
  r.created_at = created_at_;
  r.last_active_at = last_active_at_;
  r.max_members = static_cast<int64_t>(max_members_);
  r.beats_per_bar = beats_per_bar();
  r.current_song_id = setlist_.current_id();
  return r;
}

bool session::connected(const std::string& socket_id) const {
  auto it = seats_.find(socket_id);
  return it == seats_.end() || !it->second.dropped_us;
}

size_t session::connected_count() const {
  size_t n = 0;
  for (const auto& m : members_) n += connected(m.socket_id) ? 1 : 0;
  return n;
}

void session::mark_dropped(const std::string& socket_id, int64_t now_us,
                           std::optional<int64_t> held_until_us) {
  if (!find_member(socket_id)) return;
  auto& seat = seats_[socket_id];
  if (seat.dropped_us) return;
  seat.dropped_us = now_us;
  seat.held_until_us = held_until_us;
}

void session::mark_connected(const std::string& socket_id) {
  if (auto it = seats_.find(socket_id); it != seats_.end()) {
    it->second.dropped_us.reset();
    it->second.held_until_us.reset();
  }
}

std::optional<int64_t> session::held_until(const std::string& socket_id) const {
  auto it = seats_.find(socket_id);
  if (it == seats_.end() || !it->second.dropped_us) return std::nullopt;
  return it->second.held_until_us;
}

void session::set_client_id(const std::string& socket_id, std::string client_id) {
  if (!find_member(socket_id)) return;
  // One seat per clientId: another seat that carried it forgets it.
  for (auto& [id, seat] : seats_) {
    if (id != socket_id && seat.client_id == client_id) seat.client_id.clear();
  }
  seats_[socket_id].client_id = std::move(client_id);
}

const store::member_record* session::find_by_client(std::string_view client_id) const {
  if (client_id.empty()) return nullptr;
  for (const auto& [id, seat] : seats_) {
    if (seat.client_id == client_id) return find_member(id);
  }
  return nullptr;
}

std::optional<std::string> session::longest_dropped() const {
  std::optional<std::string> best;
  int64_t best_us = 0;
  for (const auto& m : members_) {  // join order breaks ties
    auto it = seats_.find(m.socket_id);
    if (it == seats_.end() || !it->second.dropped_us) continue;
    if (!best || *it->second.dropped_us < best_us) {
      best = m.socket_id;
      best_us = *it->second.dropped_us;
    }
  }
  return best;
}

bool session::replace_member(const std::string& old_id, const std::string& new_id) {
  auto* m = find_member(old_id);
  if (!m || find_member(new_id)) return false;
  std::string old = old_id;  // `old_id` may refer to the member's own field
  m->socket_id = new_id;
  if (leader_ == old) leader_ = new_id;
  // The report described the old connection; the device reports the new one
  // when its snapshot shows none (EVENTS.md "Link quality").
  links_.erase(old);
  if (auto it = seats_.find(old); it != seats_.end()) {
    seat s = std::move(it->second);
    seats_.erase(it);
    s.dropped_us.reset();
    s.held_until_us.reset();
    seats_[new_id] = std::move(s);
  }
  return true;
}

std::optional<std::string> session::pass_lead(int64_t now_us) {
  auto next = move_lead(true);
  // As an election: the new leader did not choose to play.
  if (next) transport_.pause(now_us);
  return next;
}

}  // namespace bandsync::domain
