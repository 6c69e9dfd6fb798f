#include "store/session_record.hpp"

#include "store/json_number.hpp"

namespace bandsync::store {
namespace {

// A small reader that records the first type error and ignores absent or null
// fields, so the old server's values (which may lack newer fields) still load.
class field_reader {
 public:
  explicit field_reader(const boost::json::object& o) : o_(o) {}

  const boost::json::value* get(std::string_view key) const {
    const auto* v = o_.if_contains(key);
    return v && !v->is_null() ? v : nullptr;
  }

  void string(std::string_view key, std::string& out) {
    if (const auto* v = get(key)) {
      if (const auto* s = v->if_string()) {
        out = std::string(*s);
      } else {
        fail(key, "a string");
      }
    }
  }

  void number(std::string_view key, double& out) {
    if (const auto* v = get(key)) {
      if (auto n = number_of(*v)) {
        out = *n;
      } else {
        fail(key, "a number");
      }
    }
  }

  void integer(std::string_view key, int64_t& out) {
    if (const auto* v = get(key)) {
      if (auto n = integer_of(*v)) {
        out = *n;
      } else {
        fail(key, "a number");
      }
    }
  }

  void boolean(std::string_view key, bool& out) {
    if (const auto* v = get(key)) {
      if (v->is_bool()) {
        out = v->get_bool();
      } else {
        fail(key, "a boolean");
      }
    }
  }

  void fail(std::string_view key, std::string_view what) {
    fail_with(std::string(key) + " must be " + std::string(what));
  }

  void fail_with(std::string reason) {
    if (error_.empty()) error_ = std::move(reason);
  }

  const std::string& error() const { return error_; }

 private:
  const boost::json::object& o_;
  std::string error_;
};

bool read_members(const boost::json::array& members, std::vector<member_record>& out,
                  std::string& error) {
  for (const auto& entry : members) {
    std::optional<member_record> m;
    if (const auto* pair = entry.if_array()) {
      if (pair->size() != 2 || !(*pair)[0].is_string()) {
        error = "members must hold [socketId, member] pairs";
        return false;
      }
      m = member_from_json((*pair)[1], (*pair)[0].get_string(), &error);
    } else {
      m = member_from_json(entry, {}, &error);
    }
    if (!m) {
      error = "members: " + error;
      return false;
    }
    out.push_back(std::move(*m));
  }
  return true;
}

}  // namespace

boost::json::object to_json(const session_record& session) {
  boost::json::object o;
  o["message"] = session.message;
  o["tempo"] = json_number(session.tempo);
  o["position"] = json_number(session.position_ms);
  o["isPlaying"] = session.is_playing;
  if (session.leader_socket_id) {
    o["leaderSocketId"] = *session.leader_socket_id;
  } else {
    o["leaderSocketId"] = nullptr;
  }
  o["tempoBpm"] = json_number(session.tempo);
  boost::json::array members;
  members.reserve(session.members.size());
  for (const auto& m : session.members) {
    members.push_back(boost::json::array{boost::json::value(m.socket_id), to_json(m)});
  }
  o["members"] = std::move(members);
  o["createdAt"] = session.created_at;
  o["lastActiveAt"] = session.last_active_at;
  o["settings"] = boost::json::object{{"maxMembers", session.max_members}};
  o["beatsPerBar"] = session.beats_per_bar;
  if (session.current_song_id) {
    o["currentSongId"] = *session.current_song_id;
  } else {
    o["currentSongId"] = nullptr;
  }
  if (session.anchor_server_ms) {
    o["anchorServerMs"] = *session.anchor_server_ms;
    o["anchorBeat"] = session.anchor_beat;
  }
  return o;
}

std::optional<session_record> session_from_json(std::string id, const boost::json::value& value,
                                                std::string* error) {
  const auto* o = value.if_object();
  if (!o) {
    if (error) *error = "session must be an object";
    return std::nullopt;
  }
  session_record s;
  s.id = std::move(id);
  field_reader r(*o);
  r.string("message", s.message);
  r.number("tempo", s.tempo);
  r.number("tempoBpm", s.tempo);
  r.number("position", s.position_ms);
  r.boolean("isPlaying", s.is_playing);
  if (const auto* v = r.get("leaderSocketId")) {
    if (const auto* str = v->if_string()) {
      s.leader_socket_id = std::string(*str);
    } else {
      r.fail("leaderSocketId", "a string or null");
    }
  }
  r.integer("createdAt", s.created_at);
  r.integer("lastActiveAt", s.last_active_at);
  r.integer("beatsPerBar", s.beats_per_bar);
  if (r.get("anchorServerMs")) {
    double anchor = 0;
    r.number("anchorServerMs", anchor);
    s.anchor_server_ms = anchor;
    r.number("anchorBeat", s.anchor_beat);
  }
  if (const auto* v = r.get("currentSongId")) {
    if (const auto* str = v->if_string()) {
      s.current_song_id = std::string(*str);
    } else {
      r.fail("currentSongId", "a string or null");
    }
  }
  if (const auto* v = r.get("settings")) {
    if (const auto* settings = v->if_object()) {
      field_reader sr(*settings);
      sr.integer("maxMembers", s.max_members);
      if (!sr.error().empty()) r.fail_with("settings." + sr.error());
    } else {
      r.fail("settings", "an object");
    }
  }
  if (const auto* v = r.get("members")) {
    if (const auto* members = v->if_array()) {
      std::string members_error;
      if (!read_members(*members, s.members, members_error)) r.fail_with(members_error);
    } else {
      r.fail("members", "an array");
    }
  }
  if (!r.error().empty()) {
    if (error) *error = r.error();
    return std::nullopt;
  }
  return s;
}

}  // namespace bandsync::store
