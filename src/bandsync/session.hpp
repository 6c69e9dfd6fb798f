#pragma once
// One band session: pure state and rules, no I/O (EVENTS.md "Session state" and
// "Leaving, disconnects and leader election"). The service decides who may do
// what and what to send; this class keeps the invariants:
//   - members are kept in join order and hold at most max_members entries;
//   - there is a leader exactly when there are members, and exactly that member
//     has role "leader";
//   - the position, tempo and beat are derived from a transport (a clock with
//     scheduled changes, docs/EVENTS.md "Clock"), never accumulated.
//   - the setlist keeps its own invariants (setlist.hpp); the session applies
//     what a selection does to its transport (apply()).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bandsync/setlist.hpp"
#include "bandsync/transport.hpp"
#include "store/member_record.hpp"
#include "store/session_record.hpp"

namespace bandsync::domain {

// A member's last link report (EVENTS.md "Link quality"): what its device
// measured of its round trip to the server. Not stored: it is worth nothing
// after a restart (the member's connection is gone).
struct member_link {
  double rtt_ms = 0;
  std::optional<double> jitter_ms;
  int64_t at_us = 0;  // steady time it was received (server time on the wire)
};

// At most one link report per member per second is kept; a device that
// reports more often is refused (RATE_LIMITED) rather than broadcast.
inline constexpr int64_t link_report_interval_us = 1'000'000;

class session {
 public:
  // A new session with the EVENTS.md defaults, created at `now_wall_ms`.
  session(std::string id, int64_t now_wall_ms, size_t max_members);

  // A session read back from the store: message, tempo, position, createdAt and
  // lastActiveAt are kept, and so are beatsPerBar, the setlist
  // (record.setlist, re-checked by setlist::restore; `*skipped_songs` counts
  // the songs it dropped) and the current song; members and leader are cleared (their sockets died
  // with the previous process) and it is paused at the stored position. The
  // first member to join it leads but keeps the stored message (the band finds
  // its session as it left it; the old server, which kept its dead leader,
  // kept the message too).
  static session restore(const store::session_record& record, size_t max_members,
                         size_t* skipped_songs = nullptr);

  // A session taken over from another node (src/cluster): like restore(),
  // but members, leader and message are kept as recorded, and a playing
  // record keeps playing from its clock anchor: the position at `now_us` is
  // position + (now - anchor) for a record whose anchor is `anchor_us`
  // (steady µs on this node). Pending scheduled changes of the old owner are
  // not in the record and are lost; the beat grid restarts from the anchor
  // beat.
  static session adopt(const store::session_record& record, size_t max_members,
                       std::optional<int64_t> anchor_us, int64_t now_us);

  const std::string& id() const { return id_; }
  const std::string& message() const { return message_; }
  // The transport readings at steady time `now_us` (scheduled changes that
  // are due by then applied).
  double tempo(int64_t now_us) const { return transport_.tempo(now_us); }
  bool playing() const { return transport_.playing(); }
  int64_t position_us(int64_t now_us) const { return transport_.position_us(now_us); }
  double beat(int64_t now_us) const { return transport_.beat(now_us); }
  double bar(int64_t now_us) const { return transport_.bar(now_us); }
  int beats_per_bar() const { return transport_.beats_per_bar(); }
  // When the last pending seek/tempo change takes effect, if any is ahead.
  std::optional<int64_t> last_change_at_us(int64_t now_us) const {
    auto pending = transport_.pending(now_us);
    if (pending.empty()) return std::nullopt;
    return pending.back().at_us;
  }
  // The scheduled start while it is ahead of `now_us`.
  std::optional<int64_t> starts_at_us(int64_t now_us) const {
    return transport_.starts_at_us(now_us);
  }
  const domain::setlist& setlist() const { return setlist_; }
  domain::setlist& setlist() { return setlist_; }
  int64_t created_at() const { return created_at_; }
  int64_t last_active_at() const { return last_active_at_; }
  size_t max_members() const { return max_members_; }

  const std::vector<store::member_record>& members() const { return members_; }
  size_t member_count() const { return members_.size(); }
  bool empty() const { return members_.empty(); }
  bool full() const { return members_.size() >= max_members_; }
  const std::optional<std::string>& leader() const { return leader_; }
  bool is_leader(const std::string& socket_id) const { return leader_ == socket_id; }
  store::member_record* find_member(const std::string& socket_id);
  const store::member_record* find_member(const std::string& socket_id) const;

  // The member's last link report, or null when it sent none since it joined.
  const member_link* link(const std::string& socket_id) const;
  enum class link_result { stored, not_a_member, too_soon };
  // Keeps `link` as the member's report unless its previous one was received
  // less than link_report_interval_us before `link.at_us` (too_soon; nothing
  // changes). One entry per member at most: removed with the member.
  link_result set_link(const std::string& socket_id, const member_link& link);

  // Appends `member` as a follower at the end of the join order; if the session
  // had no leader it leads (message "<displayName> is leading"). Returns false
  // (and changes nothing) when full or already a member.
  bool add_member(store::member_record member);

  // Makes the member `socket_id` the leader, demoting the previous leader to
  // follower; message becomes "<displayName> is leading". Returns the previous
  // leader's socket id, or std::nullopt when there was none or it already led
  // (then nothing changes). Precondition: `socket_id` is a member.
  std::optional<std::string> take_lead(const std::string& socket_id);

  struct departure {
    store::member_record member;            // the member that left
    bool was_leader = false;                // it led when it left
    std::optional<std::string> new_leader;  // set when an election took place
  };

  // Removes the member `socket_id`. If it led and members remain, the member
  // with the earliest joinedAt (ties broken by join order) leads, playback
  // pauses at the exact current position and message becomes "<displayName>
  // is now leading". If nobody remains, the leader is cleared and playback
  // pauses. Returns std::nullopt (nothing changes) when not a member.
  std::optional<departure> remove_member(const std::string& socket_id, int64_t now_us);

  // The leader steps down: the most senior other member (same rule as the
  // election) leads and message becomes "<displayName> is now leading";
  // playback continues. Returns the new leader, or std::nullopt (nothing
  // changes) when the leader is the only member or there is no leader.
  std::optional<std::string> hand_over_lead();

  // Never used by a band: created here and since then no message, tempo,
  // metre, play, seek, stop or song selection (membership and leadership do
  // not count), no song in its setlist, and not restored from the store. Such
  // a session holds nothing a fresh one would not, so the service drops it
  // when its last member leaves.
  bool pristine() const { return pristine_ && setlist_.empty(); }

  void set_message(std::string message) {
    message_ = std::move(message);
    pristine_ = false;
  }
  // Sets tempo/tempoBpm at `at_us` while playing (at once while paused); the
  // position and the beat do not jump. Returns when it takes effect, or
  // std::nullopt (nothing changes) when too many changes are pending.
  std::optional<int64_t> set_tempo(double bpm, int64_t at_us, int64_t now_us) {
    pristine_ = false;
    return transport_.set_tempo(bpm, at_us, now_us);
  }
  // Starts playing at `start_us` (the position holds until then). Returns
  // false (the first schedule kept) when already playing or scheduled.
  bool play_at(int64_t start_us, int64_t now_us) {
    pristine_ = false;
    return transport_.play_at(start_us, now_us);
  }
  void pause(int64_t now_us) { transport_.pause(now_us); }
  // Pauses at position 0, beat 0.
  void stop(int64_t now_us) {
    transport_.stop(now_us);
    pristine_ = false;
  }
  // Jumps to `position_us` at `at_us` while playing (at once while paused); a
  // playing session keeps playing from there. Returns as set_tempo.
  std::optional<int64_t> seek(int64_t position_us, int64_t at_us, int64_t now_us) {
    pristine_ = false;
    return transport_.seek(position_us, at_us, now_us);
  }
  // Precondition: min_beats_per_bar <= n <= max_beats_per_bar.
  void set_beats_per_bar(int n) {
    transport_.set_beats_per_bar(n);
    pristine_ = false;
  }
  void touch(int64_t now_wall_ms) { last_active_at_ = now_wall_ms; }

  // The transport as a setlist rule sees it (setlist.hpp), and the session
  // made to match one: tempo and metre set, the position moved (a playing
  // session keeps playing from there) and playback paused or kept.
  song_state song_state_at(int64_t now_us) const;
  void apply(const song_state& t, int64_t now_us);

  // The record the store keeps, with the position at `now_us`.
  store::session_record to_record(int64_t now_us) const;

  // ---- Seats (EVENTS.md "Seats"): process state, never in the record ----
  // A member whose connection is held (lost, recoverable) keeps its seat,
  // marked disconnected. A seat may carry the clientId its app joined with.
  bool connected(const std::string& socket_id) const;
  size_t connected_count() const;
  // `held_until_us`: when the hold ends at the latest (steady µs; the
  // recovery window after the drop), for heldUntil on the wire; unknown when
  // absent. A seat already marked keeps its first drop.
  void mark_dropped(const std::string& socket_id, int64_t now_us,
                    std::optional<int64_t> held_until_us = std::nullopt);
  void mark_connected(const std::string& socket_id);
  // When the member's held seat is released at the latest if it does not come
  // back (steady µs), or std::nullopt when connected (or not known).
  std::optional<int64_t> held_until(const std::string& socket_id) const;
  void set_client_id(const std::string& socket_id, std::string client_id);
  // The member whose seat carries `client_id`, or nullptr.
  const store::member_record* find_by_client(std::string_view client_id) const;
  // The disconnected member that dropped first, or std::nullopt.
  std::optional<std::string> longest_dropped() const;
  // Member `old_id` becomes `new_id` (a reclaimed seat): role, joinedAt and
  // clientId kept, leader id moved, connected again. Returns false (nothing
  // changes) when `old_id` is not a member or `new_id` already is.
  bool replace_member(const std::string& old_id, const std::string& new_id);
  // The leader is disconnected and its grace passed: the most senior
  // connected member leads, playback pauses, message "<name> is now leading";
  // the old leader stays as a follower. Returns the new leader, or
  // std::nullopt (nothing changes) when no other member is connected.
  std::optional<std::string> pass_lead(int64_t now_us);

 private:
  // Index of the most senior member other than `except` (earliest joinedAt,
  // ties by join order), connected members first; -1 when there is none.
  // With `connected_only`, -1 when no other member is connected.
  std::ptrdiff_t senior_member(const std::string* except, bool connected_only = false) const;
  void set_role(size_t index, store::member_role role);
  // hand_over_lead / pass_lead without the pause.
  std::optional<std::string> move_lead(bool connected_only);

  std::string id_;
  std::string message_;
  transport transport_;
  domain::setlist setlist_;
  std::optional<std::string> leader_;
  std::vector<store::member_record> members_;
  std::map<std::string, member_link, std::less<>> links_;  // by socket id, members only
  int64_t created_at_ = 0;
  int64_t last_active_at_ = 0;
  size_t max_members_ = 8;
  bool keep_message_ = false;  // restored, and nobody joined since
  bool pristine_ = true;       // see pristine()
  struct seat {
    std::string client_id;                 // empty: joined without one
    std::optional<int64_t> dropped_us;     // set while the connection is held
    std::optional<int64_t> held_until_us;  // with dropped_us, when known
  };
  // By socket id; members only (an entry goes with its member). Bounded by
  // max_members.
  std::unordered_map<std::string, seat> seats_;
};

}  // namespace bandsync::domain
