#include "bandsync/setlist_requests.hpp"

#include "bandsync/requests.hpp"
#include "store/json_number.hpp"

namespace bandsync::domain {
namespace {

// Large enough for any setlist index, small enough to fit size_t anywhere.
constexpr int64_t max_index = 1'000'000;

setlist_error invalid(std::string message) {
  return setlist_error{setlist_errc::invalid_payload, std::move(message)};
}

// The payload object and its sessionId, shared by every setlist event.
template <class Request>
setlist_result<Request> with_setlist_session(const boost::json::array& args,
                                             const boost::json::object*& o) {
  o = payload_of(args);
  if (!o) return invalid(payload_not_object);
  const auto* v = field(*o, "sessionId");
  if (!v || !v->is_string() || !valid_session_id(v->get_string())) {
    return invalid("sessionId must be 1-64 characters of [A-Za-z0-9_.-]");
  }
  Request r;
  r.session_id = std::string(v->get_string());
  return r;
}

std::optional<std::string> song_id_of(const boost::json::object& o) {
  const auto* v = field(o, "songId");
  if (!v || !v->is_string() || !valid_song_id(v->get_string())) return std::nullopt;
  return std::string(v->get_string());
}
const char* const bad_song_id = "songId must be 1-64 characters of [A-Za-z0-9_-]";

// Absent/null: std::nullopt in `out`; otherwise a whole number 0..max_index.
bool index_of(const boost::json::object& o, std::optional<size_t>& out) {
  const auto* v = field(o, "index");
  if (!v) return true;
  auto n = store::number_of(*v);
  // The range first: the cast is only defined for values that fit.
  if (!n || *n < 0 || *n > max_index || *n != static_cast<double>(static_cast<int64_t>(*n))) {
    return false;
  }
  out = static_cast<size_t>(*n);
  return true;
}
const char* const bad_index = "index must be a whole number from 0";

bool continue_of(const boost::json::object& o, bool& out) {
  const auto* v = field(o, "continue");
  if (!v) return true;
  if (!v->is_bool()) return false;
  out = v->get_bool();
  return true;
}
const char* const bad_continue = "continue must be a boolean";

// tempo and beatsPerBar: numbers (beatsPerBar whole); the ranges are
// check_song_fields's.
std::optional<std::string> read_numbers(const boost::json::object& o, std::optional<double>& tempo,
                                        std::optional<int>& beats) {
  if (const auto* v = field(o, "tempo")) {
    tempo = store::number_of(*v);
    if (!tempo) return "song tempo must be a number from 20 to 300";
  }
  if (const auto* v = field(o, "beatsPerBar")) {
    auto n = store::number_of(*v);
    if (!n || *n < min_beats_per_bar || *n > max_beats_per_bar ||
        *n != static_cast<double>(static_cast<int>(*n))) {
      return "song beatsPerBar must be a whole number from 1 to 16";
    }
    beats = static_cast<int>(*n);
  }
  return std::nullopt;
}

// key or chart: absent -> untouched; null or "" -> cleared (nullopt inside);
// a string -> set.
bool clearable_string(const boost::json::object& o, std::string_view key,
                      std::optional<std::optional<std::string>>& out) {
  const auto* v = o.if_contains(key);
  if (!v) return true;
  if (v->is_null()) {
    out.emplace(std::nullopt);
    return true;
  }
  const auto* s = v->if_string();
  if (!s) return false;
  out.emplace(s->empty() ? std::nullopt : std::optional<std::string>(std::string(*s)));
  return true;
}

setlist_result<song_input> parse_song(const boost::json::value& value) {
  const auto* o = value.if_object();
  if (!o) return invalid("song must be an object");
  song_input in;
  if (const auto* v = field(*o, "id")) {
    if (!v->is_string()) return invalid("song id must be 1-64 characters of [A-Za-z0-9_-]");
    in.id = std::string(v->get_string());
  }
  const auto* title = field(*o, "title");
  if (!title || !title->is_string()) {
    return invalid("song title must be 1-200 characters without control characters");
  }
  in.title = std::string(title->get_string());
  if (auto problem = read_numbers(*o, in.tempo, in.beats_per_bar)) return invalid(*problem);
  std::optional<std::optional<std::string>> key, chart;
  if (!clearable_string(*o, "key", key)) return invalid("song key must be a string");
  if (!clearable_string(*o, "chart", chart)) return invalid("song chart must be a string");
  if (key) in.key = *key;
  if (chart) in.chart = *chart;
  if (auto problem = check_song_fields(in)) return invalid(*problem);
  return in;
}

}  // namespace

setlist_result<set_setlist_request> parse_set_setlist(const boost::json::array& args) {
  const boost::json::object* o = nullptr;
  auto r = with_setlist_session<set_setlist_request>(args, o);
  auto* req = std::get_if<set_setlist_request>(&r);
  if (!req) return r;
  const auto* v = field(*o, "setlist");
  const auto* list = v ? v->if_array() : nullptr;
  if (!list) return invalid("setlist must be an array of songs");
  if (list->size() > max_songs) {
    return setlist_error{setlist_errc::setlist_full, "a setlist holds at most 100 songs"};
  }
  req->songs.reserve(list->size());
  for (size_t i = 0; i < list->size(); ++i) {
    auto s = parse_song((*list)[i]);
    if (auto* e = std::get_if<setlist_error>(&s)) {
      e->message = "setlist[" + std::to_string(i) + "]: " + e->message;
      return std::move(*e);
    }
    req->songs.push_back(std::move(std::get<song_input>(s)));
  }
  return r;
}

setlist_result<add_song_request> parse_add_song(const boost::json::array& args) {
  const boost::json::object* o = nullptr;
  auto r = with_setlist_session<add_song_request>(args, o);
  auto* req = std::get_if<add_song_request>(&r);
  if (!req) return r;
  const auto* v = field(*o, "song");
  if (!v) return invalid("song must be an object");
  auto s = parse_song(*v);
  if (auto* e = std::get_if<setlist_error>(&s)) return std::move(*e);
  req->song = std::move(std::get<song_input>(s));
  if (!index_of(*o, req->index)) return invalid(bad_index);
  return r;
}

setlist_result<update_song_request> parse_update_song(const boost::json::array& args) {
  const boost::json::object* o = nullptr;
  auto r = with_setlist_session<update_song_request>(args, o);
  auto* req = std::get_if<update_song_request>(&r);
  if (!req) return r;
  auto id = song_id_of(*o);
  if (!id) return invalid(bad_song_id);
  req->song_id = std::move(*id);
  const auto* v = field(*o, "song");
  const auto* changes = v ? v->if_object() : nullptr;
  if (!changes) return invalid("song must be an object of the fields to change");
  auto& c = req->changes;
  if (const auto* t = field(*changes, "title")) {
    if (!t->is_string()) {
      return invalid("song title must be 1-200 characters without control characters");
    }
    c.title = std::string(t->get_string());
  }
  if (auto problem = read_numbers(*changes, c.tempo, c.beats_per_bar)) return invalid(*problem);
  if (!clearable_string(*changes, "key", c.key)) return invalid("song key must be a string");
  if (!clearable_string(*changes, "chart", c.chart)) return invalid("song chart must be a string");
  // The same bounds as a new song's, on the fields that are given.
  song_input check{
      std::nullopt,    c.title.value_or("-"),         c.tempo,
      c.beats_per_bar, c.key ? *c.key : std::nullopt, c.chart ? *c.chart : std::nullopt};
  if (auto problem = check_song_fields(check)) return invalid(*problem);
  return r;
}

setlist_result<song_request> parse_remove_song(const boost::json::array& args) {
  const boost::json::object* o = nullptr;
  auto r = with_setlist_session<song_request>(args, o);
  auto* req = std::get_if<song_request>(&r);
  if (!req) return r;
  auto id = song_id_of(*o);
  if (!id) return invalid(bad_song_id);
  req->song_id = std::move(*id);
  return r;
}

setlist_result<move_song_request> parse_move_song(const boost::json::array& args) {
  const boost::json::object* o = nullptr;
  auto r = with_setlist_session<move_song_request>(args, o);
  auto* req = std::get_if<move_song_request>(&r);
  if (!req) return r;
  auto id = song_id_of(*o);
  if (!id) return invalid(bad_song_id);
  req->song_id = std::move(*id);
  std::optional<size_t> index;
  if (!index_of(*o, index) || !index) return invalid(bad_index);
  req->index = *index;
  return r;
}

setlist_result<select_song_request> parse_select_song(const boost::json::array& args) {
  const boost::json::object* o = nullptr;
  auto r = with_setlist_session<select_song_request>(args, o);
  auto* req = std::get_if<select_song_request>(&r);
  if (!req) return r;
  auto id = song_id_of(*o);
  if (!id) return invalid(bad_song_id);
  req->song_id = std::move(*id);
  if (!continue_of(*o, req->keep_playing)) return invalid(bad_continue);
  return r;
}

setlist_result<step_song_request> parse_step_song(const boost::json::array& args) {
  const boost::json::object* o = nullptr;
  auto r = with_setlist_session<step_song_request>(args, o);
  auto* req = std::get_if<step_song_request>(&r);
  if (!req) return r;
  if (!continue_of(*o, req->keep_playing)) return invalid(bad_continue);
  return r;
}

setlist_result<import_chart_request> parse_import_chart(const boost::json::array& args) {
  const boost::json::object* o = nullptr;
  auto r = with_setlist_session<import_chart_request>(args, o);
  auto* req = std::get_if<import_chart_request>(&r);
  if (!req) return r;
  const auto* v = field(*o, "text");
  const auto* text = v ? v->if_string() : nullptr;
  if (!text || text->empty() || text->size() > max_import_bytes) {
    return invalid("text must be a string of 1 to 65536 bytes");
  }
  req->text = std::string(*text);
  if (!index_of(*o, req->index)) return invalid(bad_index);
  if (const auto* id = field(*o, "id")) {
    if (!id->is_string() || !valid_song_id(id->get_string())) {
      return invalid("id must be 1-64 characters of [A-Za-z0-9_-]");
    }
    req->id = std::string(id->get_string());
  }
  return r;
}

setlist_result<cue_request> parse_cue(const boost::json::array& args) {
  const boost::json::object* o = nullptr;
  auto r = with_setlist_session<cue_request>(args, o);
  auto* req = std::get_if<cue_request>(&r);
  if (!req) return r;
  if (const auto* v = field(*o, "text")) {
    const auto* s = v->if_string();
    if (!s || s->empty() || code_points(*s) > max_cue_text_length || has_control_chars(*s)) {
      return invalid("text must be 1-140 characters without control characters");
    }
    req->text = std::string(*s);
  }
  if (const auto* v = field(*o, "section")) {
    const auto* s = v->if_string();
    if (!s || s->empty() || code_points(*s) > max_section_name) {
      return invalid("section must be a section name of 1-64 characters");
    }
    req->section = std::string(*s);
  }
  if (!req->text && !req->section) return invalid("a cue needs a text, a section or both");
  return r;
}

}  // namespace bandsync::domain
