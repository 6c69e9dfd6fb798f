#include "store/setlist_record.hpp"

#include "store/json_number.hpp"

namespace bandsync::store {
namespace {

bool fail_setlist_record(std::string* error, std::string reason) {
  if (error) *error = std::move(reason);
  return false;
}

const boost::json::value* present(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && !v->is_null() ? v : nullptr;
}

bool read_optional_string(const boost::json::object& o, std::string_view key,
                          std::optional<std::string>& out, std::string* error) {
  const auto* v = present(o, key);
  if (!v) return true;
  const auto* s = v->if_string();
  if (!s) return fail_setlist_record(error, std::string(key) + " must be a string");
  out = std::string(*s);
  return true;
}

}  // namespace

boost::json::object to_json(const song_record& song) {
  boost::json::object o;
  o["id"] = song.id;
  o["title"] = song.title;
  o["tempo"] = json_number(song.tempo);
  o["beatsPerBar"] = song.beats_per_bar;
  if (song.key) o["key"] = *song.key;
  if (song.chart) o["chart"] = *song.chart;
  return o;
}

std::optional<song_record> song_from_json(const boost::json::value& value, std::string* error) {
  const auto* o = value.if_object();
  if (!o) {
    fail_setlist_record(error, "song must be an object");
    return std::nullopt;
  }
  song_record s;
  const auto* id = present(*o, "id");
  const auto* title = present(*o, "title");
  if (!id || !id->is_string()) {
    fail_setlist_record(error, "song id must be a string");
    return std::nullopt;
  }
  if (!title || !title->is_string()) {
    fail_setlist_record(error, "song title must be a string");
    return std::nullopt;
  }
  s.id = std::string(id->get_string());
  s.title = std::string(title->get_string());
  if (const auto* v = present(*o, "tempo")) {
    auto n = number_of(*v);
    if (!n) {
      fail_setlist_record(error, "song tempo must be a number");
      return std::nullopt;
    }
    s.tempo = *n;
  }
  if (const auto* v = present(*o, "beatsPerBar")) {
    auto n = integer_of(*v);
    if (!n || *n < 0 || *n > 1000) {
      fail_setlist_record(error, "song beatsPerBar must be a whole number");
      return std::nullopt;
    }
    s.beats_per_bar = static_cast<int>(*n);
  }
  if (!read_optional_string(*o, "key", s.key, error) ||
      !read_optional_string(*o, "chart", s.chart, error)) {
    return std::nullopt;
  }
  return s;
}

boost::json::object setlist_to_json(const std::vector<song_record>& songs) {
  boost::json::array a;
  a.reserve(songs.size());
  for (const auto& s : songs) a.push_back(to_json(s));
  return boost::json::object{{"songs", std::move(a)}};
}

std::optional<std::vector<song_record>> setlist_from_json(const boost::json::value& value,
                                                          std::string* error) {
  const auto* o = value.if_object();
  const auto* songs = o ? o->if_contains("songs") : nullptr;
  if (!songs || !songs->is_array()) {
    fail_setlist_record(error, "setlist must be an object with a songs array");
    return std::nullopt;
  }
  std::vector<song_record> out;
  out.reserve(songs->get_array().size());
  for (const auto& v : songs->get_array()) {
    std::string reason;
    auto s = song_from_json(v, &reason);
    if (!s) {
      fail_setlist_record(error, "songs: " + reason);
      return std::nullopt;
    }
    out.push_back(std::move(*s));
  }
  return out;
}

}  // namespace bandsync::store
