#include "bandsync/setlist_payloads.hpp"

namespace bandsync::domain {

boost::json::object song_view(const song& s) {
  boost::json::object o = store::to_json(static_cast<const store::song_record&>(s));
  boost::json::array sections;
  sections.reserve(s.sections.size());
  for (const auto& sec : s.sections) {
    boost::json::object so{{"name", sec.name}, {"line", sec.line}};
    if (sec.bar) so["bar"] = *sec.bar;
    sections.push_back(std::move(so));
  }
  o["sections"] = std::move(sections);
  return o;
}

boost::json::array setlist_view(const setlist& list) {
  boost::json::array a;
  a.reserve(list.songs().size());
  for (const auto& s : list.songs()) a.push_back(song_view(s));
  return a;
}

void add_setlist_fields(boost::json::object& snapshot, const setlist& list) {
  snapshot["setlist"] = setlist_view(list);
  if (list.current_id()) {
    snapshot["currentSongId"] = *list.current_id();
  } else {
    snapshot["currentSongId"] = nullptr;
  }
}

boost::json::object setlist_changed_payload(std::string_view session_id, const setlist& list,
                                            const setlist_change& change) {
  boost::json::object o;
  o["sessionId"] = session_id;
  add_setlist_fields(o, list);
  boost::json::object c{{"kind", change.kind}};
  if (change.song_id) c["songId"] = *change.song_id;
  if (!change.warnings.empty()) {
    boost::json::array w;
    for (const auto& s : change.warnings) w.push_back(boost::json::string(s));
    c["warnings"] = std::move(w);
  }
  o["change"] = std::move(c);
  return o;
}

boost::json::object cue_payload(std::string_view session_id, const cue& c, std::string_view from,
                                double timestamp_ms) {
  boost::json::object o;
  o["sessionId"] = session_id;
  o["text"] = c.text ? boost::json::value(*c.text) : boost::json::value(nullptr);
  o["section"] = c.section ? boost::json::value(*c.section) : boost::json::value(nullptr);
  o["bar"] = c.bar ? boost::json::value(*c.bar) : boost::json::value(nullptr);
  o["from"] = from;
  o["timestamp"] = timestamp_ms;
  return o;
}

}  // namespace bandsync::domain
