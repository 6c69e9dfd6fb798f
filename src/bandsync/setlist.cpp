#include "bandsync/setlist.hpp"

#include <algorithm>

namespace bandsync::domain {
namespace {

setlist_error error(setlist_errc code, std::string message) {
  return setlist_error{code, std::move(message)};
}

bool transport_differs(const song& a, const song& b) {
  return a.tempo != b.tempo || a.beats_per_bar != b.beats_per_bar;
}

size_t chart_size(const song& s) {
  return s.chart ? s.chart->size() : 0;
}

song to_song(store::song_record r) {
  song s;
  static_cast<store::song_record&>(s) = std::move(r);
  if (s.chart) s.sections = sections_of(*s.chart);
  return s;
}

setlist_error full_songs() {
  return error(setlist_errc::setlist_full, "a setlist holds at most 100 songs");
}

setlist_error full_charts() {
  return error(setlist_errc::setlist_full,
               "the charts of a setlist hold at most 262144 bytes together");
}

setlist_error no_song(std::string_view id) {
  return error(setlist_errc::no_such_song, "no song \"" + std::string(id) + "\" in the setlist");
}

}  // namespace

std::string_view code_name(setlist_errc code) {
  switch (code) {
    case setlist_errc::invalid_payload:
      return "INVALID_PAYLOAD";
    case setlist_errc::setlist_full:
      return "SETLIST_FULL";
    case setlist_errc::no_such_song:
      return "NO_SUCH_SONG";
    case setlist_errc::song_id_taken:
      return "SONG_ID_TAKEN";
    case setlist_errc::end_of_setlist:
      return "END_OF_SETLIST";
    case setlist_errc::no_such_section:
      return "NO_SUCH_SECTION";
  }
  return "INVALID_PAYLOAD";
}

bool valid_song_id(std::string_view id) {
  if (id.empty() || id.size() > max_song_id_length) return false;
  for (char c : id) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::optional<std::string> check_song_fields(const song_input& in) {
  if (in.id && !valid_song_id(*in.id)) return "song id must be 1-64 characters of [A-Za-z0-9_-]";
  if (in.title.empty() || !valid_utf8(in.title) || code_points(in.title) > max_title_length ||
      has_control_chars(in.title)) {
    return "song title must be 1-200 characters without control characters";
  }
  if (in.tempo && !(*in.tempo >= min_song_tempo && *in.tempo <= max_song_tempo)) {
    return "song tempo must be a number from 20 to 300";
  }
  if (in.beats_per_bar &&
      (*in.beats_per_bar < min_beats_per_bar || *in.beats_per_bar > max_beats_per_bar)) {
    return "song beatsPerBar must be a whole number from 1 to 16";
  }
  if (in.key && (in.key->empty() || !valid_utf8(*in.key) || code_points(*in.key) > max_key_length ||
                 has_control_chars(*in.key))) {
    return "song key must be 1-8 characters without control characters";
  }
  if (in.chart && (in.chart->size() > max_chart_bytes || !valid_utf8(*in.chart))) {
    return "song chart must be at most 32768 bytes of UTF-8";
  }
  return std::nullopt;
}

song_state after_select(const song_state& before, const song& selected, bool keep_playing) {
  song_state t;
  t.tempo = selected.tempo;
  t.beats_per_bar = selected.beats_per_bar;
  t.position_us = 0;
  t.playing = before.playing && keep_playing;
  return t;
}

song_state after_update_of_current(const song_state& before, const song& current) {
  song_state t = before;
  t.tempo = current.tempo;
  t.beats_per_bar = current.beats_per_bar;
  return t;
}

// ------------------------------------------------------------------ setlist

setlist setlist::restore(const std::vector<store::song_record>& records,
                         const std::optional<std::string>& current, size_t* skipped) {
  setlist out;
  size_t dropped = 0;
  std::vector<std::string> taken;
  for (const auto& r : records) {
    song_input in{r.id, r.title, r.tempo, r.beats_per_bar, r.key, r.chart};
    if (in.key && in.key->empty()) in.key.reset();
    if (in.chart && in.chart->empty()) in.chart.reset();
    bool ok = !check_song_fields(in) && !out.find(r.id) && out.songs_.size() < max_songs;
    size_t bytes = in.chart ? in.chart->size() : 0;
    if (!ok || out.chart_bytes_ + bytes > max_setlist_chart_bytes) {
      ++dropped;
      continue;
    }
    auto s = out.make_song(std::move(in), taken);
    if (auto* made = std::get_if<song>(&s)) {
      out.chart_bytes_ += bytes;
      out.songs_.push_back(std::move(*made));
    } else {
      ++dropped;
    }
  }
  if (current && out.find(*current)) out.current_ = current;
  if (skipped) *skipped = dropped;
  return out;
}

const song* setlist::current_song() const {
  return current_ ? find(*current_) : nullptr;
}

const song* setlist::find(std::string_view id) const {
  auto i = index_of(id);
  return i ? &songs_[*i] : nullptr;
}

std::optional<size_t> setlist::index_of(std::string_view id) const {
  for (size_t i = 0; i < songs_.size(); ++i) {
    if (songs_[i].id == id) return i;
  }
  return std::nullopt;
}

std::vector<store::song_record> setlist::records() const {
  std::vector<store::song_record> out;
  out.reserve(songs_.size());
  for (const auto& s : songs_) out.push_back(static_cast<const store::song_record&>(s));
  return out;
}

std::string setlist::generate_id(const std::vector<std::string>& taken) const {
  // "s1", "s2", ...: short, readable in logs, and at most max_songs +
  // taken.size() + 1 candidates are tried, since each can collide once.
  for (size_t n = songs_.size() + 1;; ++n) {
    std::string id = "s" + std::to_string(n);
    if (!find(id) && std::find(taken.begin(), taken.end(), id) == taken.end()) return id;
  }
}

setlist_result<song> setlist::make_song(song_input in,
                                        const std::vector<std::string>& taken) const {
  if (in.key && in.key->empty()) in.key.reset();
  if (in.chart && in.chart->empty()) in.chart.reset();
  if (auto problem = check_song_fields(in)) {
    return error(setlist_errc::invalid_payload, std::move(*problem));
  }
  store::song_record r;
  r.id = in.id ? std::move(*in.id) : generate_id(taken);
  r.title = std::move(in.title);
  r.tempo = in.tempo.value_or(120);
  r.beats_per_bar = in.beats_per_bar.value_or(4);
  r.key = std::move(in.key);
  r.chart = std::move(in.chart);
  return to_song(std::move(r));
}

setlist_result<setlist_change> setlist::set(std::vector<song_input> inputs) {
  if (inputs.size() > max_songs) return full_songs();
  // Client ids first, so that generated ids avoid every one of them.
  std::vector<std::string> supplied;
  for (const auto& in : inputs) {
    if (!in.id) continue;
    if (std::find(supplied.begin(), supplied.end(), *in.id) != supplied.end()) {
      return error(setlist_errc::song_id_taken, "song id \"" + *in.id + "\" is used twice");
    }
    supplied.push_back(*in.id);
  }
  setlist next;
  size_t bytes = 0;
  for (auto& in : inputs) {
    auto s = next.make_song(std::move(in), supplied);
    if (auto* e = std::get_if<setlist_error>(&s)) return std::move(*e);
    auto& made = std::get<song>(s);
    bytes += chart_size(made);
    if (bytes > max_setlist_chart_bytes) return full_charts();
    next.songs_.push_back(std::move(made));
  }
  next.chart_bytes_ = bytes;
  setlist_change out{"set", std::nullopt, {}, false};
  if (const song* before = current_song()) {
    if (const song* after = next.find(before->id)) {
      next.current_ = current_;
      out.current_transport_changed = transport_differs(*before, *after);
    }
  }
  *this = std::move(next);
  return out;
}

setlist_result<setlist_change> setlist::add(song_input input, std::optional<size_t> index) {
  if (songs_.size() >= max_songs) return full_songs();
  if (index && *index > songs_.size()) {
    return error(setlist_errc::invalid_payload,
                 "index must be a whole number from 0 to " + std::to_string(songs_.size()));
  }
  if (input.id && find(*input.id)) {
    return error(setlist_errc::song_id_taken, "song id \"" + *input.id + "\" is already used");
  }
  auto s = make_song(std::move(input), {});
  if (auto* e = std::get_if<setlist_error>(&s)) return std::move(*e);
  auto& made = std::get<song>(s);
  if (chart_bytes_ + chart_size(made) > max_setlist_chart_bytes) return full_charts();
  chart_bytes_ += chart_size(made);
  std::string id = made.id;
  songs_.insert(songs_.begin() + static_cast<std::ptrdiff_t>(index.value_or(songs_.size())),
                std::move(made));
  return setlist_change{"add", std::move(id), {}, false};
}

setlist_result<setlist_change> setlist::update(std::string_view id, const song_changes& changes) {
  auto i = index_of(id);
  if (!i) return no_song(id);
  const song& old = songs_[*i];
  song_input in{old.id,
                changes.title.value_or(old.title),
                changes.tempo.value_or(old.tempo),
                changes.beats_per_bar.value_or(old.beats_per_bar),
                changes.key ? *changes.key : old.key,
                changes.chart ? *changes.chart : old.chart};
  auto s = make_song(std::move(in), {});
  if (auto* e = std::get_if<setlist_error>(&s)) return std::move(*e);
  auto& made = std::get<song>(s);
  size_t bytes = chart_bytes_ - chart_size(old) + chart_size(made);
  if (bytes > max_setlist_chart_bytes) return full_charts();
  setlist_change out{"update", old.id, {}, transport_differs(old, made) && current_ == old.id};
  chart_bytes_ = bytes;
  songs_[*i] = std::move(made);
  return out;
}

setlist_result<setlist_change> setlist::remove(std::string_view id) {
  auto i = index_of(id);
  if (!i) return no_song(id);
  chart_bytes_ -= chart_size(songs_[*i]);
  std::string removed = std::move(songs_[*i].id);
  songs_.erase(songs_.begin() + static_cast<std::ptrdiff_t>(*i));
  if (current_ == removed) current_.reset();
  return setlist_change{"remove", std::move(removed), {}, false};
}

setlist_result<setlist_change> setlist::move(std::string_view id, size_t index) {
  auto i = index_of(id);
  if (!i) return no_song(id);
  if (index >= songs_.size()) {
    return error(setlist_errc::invalid_payload,
                 "index must be a whole number from 0 to " + std::to_string(songs_.size() - 1));
  }
  auto from = songs_.begin() + static_cast<std::ptrdiff_t>(*i);
  auto to = songs_.begin() + static_cast<std::ptrdiff_t>(index);
  if (from < to) {
    std::rotate(from, from + 1, to + 1);
  } else {
    std::rotate(to, from, from + 1);
  }
  return setlist_change{"move", std::string(id), {}, false};
}

setlist_result<setlist_change> setlist::select(std::string_view id) {
  if (!find(id)) return no_song(id);
  current_ = std::string(id);
  return setlist_change{"select", current_, {}, false};
}

setlist_result<setlist_change> setlist::next() {
  if (songs_.empty()) return error(setlist_errc::end_of_setlist, "the setlist is empty");
  auto i = current_ ? index_of(*current_) : std::nullopt;
  if (i && *i + 1 >= songs_.size()) {
    return error(setlist_errc::end_of_setlist, "the current song is the last one");
  }
  return select(songs_[i ? *i + 1 : 0].id);
}

setlist_result<setlist_change> setlist::previous() {
  if (songs_.empty()) return error(setlist_errc::end_of_setlist, "the setlist is empty");
  auto i = current_ ? index_of(*current_) : std::nullopt;
  if (i && *i == 0) return error(setlist_errc::end_of_setlist, "the current song is the first one");
  return select(songs_[i ? *i - 1 : songs_.size() - 1].id);
}

setlist_result<setlist_change> setlist::import_chart(std::string_view text,
                                                     std::optional<size_t> index,
                                                     std::optional<std::string> id) {
  auto imported = import_chordpro(text);
  if (auto* e = std::get_if<import_error>(&imported)) {
    return error(setlist_errc::invalid_payload, std::move(e->message));
  }
  auto& got = std::get<imported_song>(imported);
  song_input in;
  in.id = std::move(id);
  in.title = std::move(got.title);
  in.tempo = got.tempo;
  in.beats_per_bar = got.beats_per_bar;
  in.key = std::move(got.key);
  in.chart = std::move(got.chart);
  auto r = add(std::move(in), index);
  if (auto* change = std::get_if<setlist_change>(&r)) {
    change->kind = "import";
    change->warnings = std::move(got.warnings);
  }
  return r;
}

setlist_result<cue> setlist::make_cue(std::optional<std::string> text,
                                      std::optional<std::string> section_name) const {
  cue out;
  out.text = std::move(text);
  if (section_name) {
    const song* current = current_song();
    if (!current) return error(setlist_errc::no_such_section, "no song is current");
    auto it = std::find_if(current->sections.begin(), current->sections.end(),
                           [&](const section& s) { return s.name == *section_name; });
    if (it == current->sections.end()) {
      return error(setlist_errc::no_such_section,
                   "the current song has no section \"" + *section_name + "\"");
    }
    out.section = it->name;
    out.bar = it->bar;
  }
  return out;
}

}  // namespace bandsync::domain
